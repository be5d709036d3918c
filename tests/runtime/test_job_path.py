"""The one job path (``job.run_job``) and what crosses the process boundary: the typed Plan,
typed failures, the order of the phases, the outputs folder checked when a job is claimed."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from tests.engine import attention_stubs
from tests.engine.attention_stubs import NAN_OUTPUT
from tests.runtime.helpers import TASK, cpu_plan, make_home
from wan22_desktop.engine.wan import attention as attn
from wan22_desktop.engine.wan.pipelines import PhaseClock, PipelineCache, StepInfo, run_job
from wan22_desktop.errors import Cancelled, CheckpointError, DiskFull, OutOfMemory
from wan22_desktop.request import GenerationRequest
from wan22_desktop.runtime.hardware import GPU, Hardware
from wan22_desktop.runtime.planner import InstalledModel, JobShape, Plan, PlanOverrides, plan
from wan22_desktop.runtime.runner import QueueRunner, RunnerOptions

NO_GPU = Hardware(ram_total_gib=64.0, ram_available_gib=32.0, cpu_count=2)

kernel_stubs = attention_stubs.kernel_stubs  # the fixture: stub kernels on sys.path


# ---- the typed plan --------------------------------------------------------------------------


def _real_plans() -> list[Plan]:
    h100 = GPU(0, "H100", 80.0, 79.0, (9, 0))
    gpus = Hardware(gpus=(h100,) * 4, ram_total_gib=512.0, flash_attn="fa3")
    tiny = {TASK: InstalledModel(TASK, "/m/tiny", 1000)}
    return [
        plan(JobShape(TASK, 128, 128, 5), NO_GPU, tiny),
        plan(JobShape("t2v-A14B", 1280, 720, 81), gpus),
        plan(JobShape("ti2v-5B", 1280, 704, 121), gpus, overrides=PlanOverrides(gpus=1)),
        plan(JobShape("auto", 1280, 720, 81), gpus, overrides=PlanOverrides(dtype="fp16")),
    ]


@pytest.mark.parametrize("p", _real_plans(), ids=lambda p: f"{p.task}-{p.nproc}-{p.dtype}")
def test_plan_round_trips_with_its_nested_types(p):
    import json

    back = Plan.from_dict(json.loads(json.dumps(p.to_dict())))  # as the worker receives it
    assert back == p
    assert isinstance(back.warnings, tuple) and isinstance(back.reasons, dict)
    assert back.reasons["precision"] and back.reasons["attention"]


def test_plan_chooses_dtype_and_attention_with_reasons():
    cpu, multi, one, fp16 = _real_plans()
    assert (cpu.dtype, cpu.attention) == ("fp32", "sdpa")
    assert (multi.dtype, multi.attention) == ("bf16", "flash3")
    assert "Hopper" in multi.reasons["attention"] and "bf16" in multi.reasons["precision"]
    assert fp16.dtype == "fp16" and fp16.reasons["precision"] == "fp16: set by you"


@pytest.mark.parametrize(
    "change, message",
    [
        ({"nproc": "2"}, "nproc must be int"),
        ({"offload_model": 1}, "offload_model must be bool"),
        ({"reasons": ["a"]}, "reasons must map"),
        ({"warnings": "oops"}, "warnings must be a list"),
        ({"dtype": "fp8"}, "dtype"),
    ],
)
def test_a_bad_plan_fails_where_it_is_read(change, message):
    with pytest.raises(ValueError, match=message):
        Plan.from_dict({**cpu_plan(), **change})
    d = cpu_plan()
    del d["attention"]
    with pytest.raises(ValueError, match="attention"):
        Plan.from_dict(d)


def test_a_plan_from_an_older_app_still_reads():
    d = cpu_plan()
    del d["dtype"]
    assert Plan.from_dict({**d, "from_the_future": 1}).dtype == "bf16"


# ---- run_job: order, warm cache, typed failures ---------------------------------------------------


class RecordingEngine:
    """A ``job.Engine`` that records what happens, in order."""

    def __init__(self, log: list[str], fail: BaseException | None = None) -> None:
        self.log, self.fail = log, fail

    def load(self, checkpoint: str, plan: Plan) -> str:
        self.log.append(f"load {checkpoint} {plan.dtype} {plan.attention}")
        return checkpoint

    def generate(self, pipeline: Any, request: Any, prompt: str, job: Any) -> np.ndarray:
        self.log.append(f"generate {prompt} seed={request.seed}")
        job.phase("sampling")
        job.step(StepInfo(1, 1, 999, "model", torch.zeros(1)))
        if self.fail is not None:
            raise self.fail
        job.phase("decoding")
        return np.zeros((3, 5, 16, 16), np.float32)

    def release(self, pipeline: Any) -> None:
        self.log.append(f"release {pipeline}")


@pytest.fixture
def extended(monkeypatch):
    """Prompt extension that records when it ran (as the local Qwen would need the GPU)."""
    from wan22_desktop.engine import prompt_extend

    log: list[str] = []

    def fake(options, prompt, **kw):
        log.append(f"extend {prompt}")
        return prompt_extend.ExtendResult(
            True, f"long {prompt}", prompt, "local_qwen", "fake", None, 0.0, kw["seed"]
        )

    monkeypatch.setattr(prompt_extend, "extend_with_options", fake)
    return log


def _request(prompt: str = "a cat", seed: int = -1, extend: bool = True) -> GenerationRequest:
    return GenerationRequest.for_task(
        TASK,
        prompt=prompt,
        size="128*128",
        frame_num=5,
        sample_steps=1,
        seed=seed,
        prompt_extend={"enabled": extend, "method": "local_qwen"},
    )


def test_extension_runs_before_loading_and_after_releasing_another_pipeline(tmp_path, extended):
    log = extended
    cache = PipelineCache(RecordingEngine(log))
    phases: list[str] = []
    plan = Plan.from_dict(cpu_plan())
    first = run_job(
        _request(seed=3),
        plan,
        "/a",
        tmp_path / "1.npy",
        cache=cache,
        clock=PhaseClock(phases.append),
    )
    assert phases == ["prompt_extension", "loading", "sampling", "decoding", "saving"]
    assert log == ["extend a cat", "load /a fp32 sdpa", "generate long a cat seed=3"]
    assert first.prompt == "long a cat" and first.original_prompt == "a cat"
    assert list(first.timings) == phases and not first.warm

    # Same checkpoint and plan: the warm pipeline stays (extension runs without a reload).
    log.clear()
    again = run_job(_request("a dog", seed=4), plan, "/a", tmp_path / "2.npy", cache=cache)
    assert log == ["extend a dog", "generate long a dog seed=4"] and again.warm

    # Another checkpoint: the old pipeline is released BEFORE the extension, then the new loaded.
    log.clear()
    run_job(_request("a cow", seed=5), plan, "/b", tmp_path / "3.npy", cache=cache)
    assert log == ["release /a", "extend a cow", "load /b fp32 sdpa", "generate long a cow seed=5"]


def test_the_seed_is_resolved_once_and_reported(tmp_path, extended):
    log = extended
    result = run_job(
        _request(seed=-1, extend=False),
        Plan.from_dict(cpu_plan()),
        "/a",
        tmp_path / "v.npy",
        engine=RecordingEngine(log),
    )
    assert result.seed >= 0 and log[-1] == f"generate a cat seed={result.seed}"
    assert np.load(tmp_path / "v.npy").shape == (3, 5, 16, 16)


def test_out_of_memory_is_typed_and_frees_the_pipeline(tmp_path, extended):
    log = extended
    cache = PipelineCache(RecordingEngine(log, fail=torch.OutOfMemoryError("CUDA out of memory")))
    with pytest.raises(OutOfMemory) as err:
        run_job(
            _request(extend=False),
            Plan.from_dict(cpu_plan()),
            "/a",
            tmp_path / "v.npy",
            cache=cache,
        )
    assert "while sampling" in err.value.message and "retry-safer" in err.value.hint
    assert log[-1] == "release /a" and cache.key is None
    assert not (tmp_path / "v.npy").exists()


def test_cancel_is_the_one_cancelled_type(tmp_path, extended):
    cache = PipelineCache(RecordingEngine(extended, fail=Cancelled("stop")))
    with pytest.raises(Cancelled):
        run_job(
            _request(extend=False),
            Plan.from_dict(cpu_plan()),
            "/a",
            tmp_path / "v.npy",
            cache=cache,
        )
    assert cache.key is not None  # a cancel keeps the warm pipeline


def test_a_folder_that_cannot_be_loaded_is_a_checkpoint_error(tmp_path):
    from wan22_desktop.engine.wan.pipelines import WanEngine

    with pytest.raises(CheckpointError):
        run_job(
            _request(extend=False),
            Plan.from_dict(cpu_plan()),
            tmp_path / "nowhere",
            tmp_path / "v.npy",
            engine=WanEngine(),
        )


# ---- the engine does what the plan says ------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_ti2v(tmp_path_factory) -> Path:
    from wan22_desktop.engine.wan.tiny import make_tiny_checkpoint

    return Path(make_tiny_checkpoint(TASK, tmp_path_factory.mktemp("ckpt") / "tiny"))


@pytest.mark.usefixtures("one_torch_thread")
def test_the_plans_dtype_and_attention_reach_the_engine(tiny_ti2v, tmp_path, monkeypatch):
    from wan22_desktop.engine.wan.pipelines import WanEngine

    seen: list[str | None] = []
    real = attn.attention

    def spy(q, k, v, k_lens=None, **kw):
        guard = attn._GUARD
        seen.append(guard.active if guard is not None else None)
        return real(q, k, v, k_lens, **kw)

    def no_own_choice(*a, **kw):
        raise AssertionError("the dispatch chose a backend although the plan named one")

    monkeypatch.setattr(attn, "select_backend", no_own_choice)
    monkeypatch.setattr("wan22_desktop.engine.wan.dit.attention", spy)
    cache = PipelineCache(WanEngine())
    plan = Plan.from_dict(cpu_plan())
    req = dataclasses.replace(_request(extend=False, seed=1), size="64*64")
    run_job(req, plan, tiny_ti2v, tmp_path / "v.npy", cache=cache)
    assert cache.pipeline.dtype == torch.float32 and cache.pipeline.attention == "sdpa"
    assert seen and set(seen) == {"sdpa"}


@pytest.mark.usefixtures("one_torch_thread")
def test_a_kernel_that_returns_nan_falls_back_and_the_job_says_so(
    tiny_ti2v, tmp_path, kernel_stubs
):
    """The plan names FlashAttention 2; the installed one returns NaN: the job finishes on SDPA
    with the same video as an SDPA plan, and its result carries the note (never a crash)."""
    from wan22_desktop.engine.wan.pipelines import WanEngine

    kernel_stubs({"flash2": NAN_OUTPUT})
    req = dataclasses.replace(_request(extend=False, seed=3), size="64*64")
    videos, notes = [], []
    for backend in ("sdpa", "flash2"):
        plan = Plan.from_dict(cpu_plan(attention=backend))
        cache = PipelineCache(WanEngine())
        result = run_job(req, plan, tiny_ti2v, tmp_path / f"{backend}.npy", cache=cache)
        videos.append(result.video)
        notes.append(result.notes)
    assert notes[0] == [] and len(notes[1]) == 1
    assert "FlashAttention 2 returned NaN/inf" in notes[1][0]
    assert np.array_equal(videos[0], videos[1])


def test_use_backend_refuses_an_unknown_name():
    with pytest.raises(ValueError, match="unknown attention backend"):
        with attn.use_backend("xformers"):
            pass


# ---- the runner: the outputs folder is checked when the job is claimed ----------------------------


def test_an_unwritable_outputs_folder_fails_the_job_before_any_render(tmp_path, worker_env):
    home = make_home(tmp_path / "home")
    try:
        blocker = tmp_path / "a_file"
        blocker.write_text("not a folder")  # root can write anywhere, but not below a file
        paths = dataclasses.replace(home.paths, outputs=blocker / "outputs")
        [job_id] = home.enqueue()
        events: list[Any] = []
        options = RunnerOptions(keep_awake=False, poll_s=0.05)
        summary = QueueRunner(
            home.db, paths, options, hardware=NO_GPU, on_event=events.append
        ).run()
        job = home.job(job_id)
        assert summary.failed == [job_id] and job.status == "failed"
        assert job.error_kind == "bad_input" and str(blocker / "outputs") in job.error_message
        assert "\n" not in job.error_message and job.error_hint
        # Found at claim time: no worker was started, nothing was rendered.
        assert [e.kind for e in events if e.kind in ("worker", "planned", "progress")] == []
    finally:
        home.db.close()


def test_the_planners_head_counts_are_the_engines():
    """The planner may not import the engine (the GUI imports the planner), so it keeps the
    head counts Ulysses must divide; they must be the DiT presets' (the engine's home)."""
    from wan22_desktop.engine.wan.dit_config import PRESETS
    from wan22_desktop.runtime.planner import HEADS, model_of
    from wan22_desktop.tasks import TASKS

    assert {model_of(t): PRESETS[t].num_heads for t in TASKS} == HEADS


@pytest.mark.usefixtures("one_torch_thread")
def test_wan22_generate_takes_the_same_path(tiny_ti2v, tmp_path, capsys, monkeypatch):
    """``wan22 generate`` runs ``run_job`` too: extension before loading, one clock, the plan's
    precision (fp32 on the CPU, the planner's rule)."""
    import json

    from wan22_desktop import cli

    monkeypatch.delenv("DASH_API_KEY", raising=False)
    monkeypatch.setattr("wan22_desktop.secrets.get_dashscope_key", lambda *a, **k: None)
    out = tmp_path / "v.npy"
    argv = ["--json", "generate", "--task", TASK, "--ckpt_dir", str(tiny_ti2v), "--size", "64*64"]
    argv += ["--frame_num", "5", "--sample_steps", "1", "--device", "cpu", "--base_seed", "2"]
    argv += ["--use_prompt_extend", "--prompt_extend_method", "dashscope", "--save_file", str(out)]
    assert cli.main(argv) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert list(summary["timings"]) == [
        "prompt_extension",
        "loading",
        "text_encoding",
        "sampling",
        "decoding",
        "saving",
    ]
    assert summary["seed"] == 2 and np.load(out).dtype == np.float32


def test_a_full_disk_is_found_before_extension_or_loading(tmp_path, extended, monkeypatch):
    from wan22_desktop.engine import video_io

    log = extended
    monkeypatch.setattr(video_io, "free_bytes", lambda folder: 1024)  # 1 KiB left
    with pytest.raises(DiskFull) as err:
        run_job(
            _request(),
            Plan.from_dict(cpu_plan()),
            "/a",
            tmp_path / "v.mp4",
            cache=PipelineCache(RecordingEngine(log)),
        )
    assert str(tmp_path) in err.value.message and "1.0 KB free" in err.value.message
    assert log == []  # nothing extended, nothing loaded
    assert list(tmp_path.iterdir()) == []
