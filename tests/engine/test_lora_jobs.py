"""LoRAs through the one job path on a tiny A14B checkpoint: ``wan22 generate --lora`` changes the
video, a LoRA for another model is refused with the reason, and switching LoRA sets in one warm
pipeline (what the worker keeps between jobs) gives the same video as a fresh load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.lora_helpers import lora_tensors, write_diff_lora, write_lora
from wan22_desktop import cli
from wan22_desktop.engine.wan.checkpoints import read_task_dit_config
from wan22_desktop.engine.wan.dit_config import tiny_dit_config
from wan22_desktop.engine.wan.pipelines.job import PipelineCache, WanEngine, run_job
from wan22_desktop.lora_library import sha256_file
from wan22_desktop.request import GenerationRequest, LoraRef

pytestmark = pytest.mark.usefixtures("one_torch_thread")
TASK = "t2v-A14B"
SMALL = ["--size", "32*32", "--frame_num", "5", "--sample_steps", "3", "--device", "cpu"]


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("ckpt") / TASK
    assert cli.main(["dev", "make-tiny-checkpoint", "--task", TASK, "--out", str(root)]) == 0
    return root


@pytest.fixture(scope="module")
def loras(ckpt, tmp_path_factory) -> dict[str, Path]:
    cfg = read_task_dit_config(ckpt, TASK)
    folder = tmp_path_factory.mktemp("loras")
    return {
        "high": write_lora(
            folder / "fast_high_noise.safetensors", lora_tensors(cfg, seed=1), "official_ab"
        ),
        "low": write_lora(
            folder / "fast_low_noise.safetensors", lora_tensors(cfg, seed=2), "kohya"
        ),
        "style": write_lora(folder / "style.safetensors", lora_tensors(cfg, seed=3), "diffusers"),
        "five_b": write_lora(
            folder / "five_b.safetensors",
            lora_tensors(tiny_dit_config("ti2v-5B", dim=48, num_heads=2)),
            "official_ab",
        ),
    }


def _generate(ckpt: Path, out: Path, *extra: str) -> int:
    args = ["generate", "--ckpt_dir", str(ckpt), *SMALL, "--base_seed", "5", "--prompt", "a fox"]
    return cli.main([*args, "--save_file", str(out), *extra])


def test_generate_with_a_lora_pair_changes_the_video(ckpt, loras, tmp_path, capsys):
    plain, with_lora = tmp_path / "plain.npy", tmp_path / "lora.npy"
    assert _generate(ckpt, plain) == 0
    assert _generate(ckpt, with_lora, "--lora", str(loras["high"])) == 0, capsys.readouterr().err
    a, b = np.load(plain), np.load(with_lora)
    assert a.shape == b.shape and np.abs(a - b).max() > 1e-3


def test_a_lora_for_another_model_is_refused(ckpt, loras, tmp_path, capsys):
    rc = _generate(ckpt, tmp_path / "x.npy", "--lora", str(loras["five_b"]))
    err = capsys.readouterr().err
    assert rc == 2
    assert "error: the LoRA does not fit t2v-A14B" in err and "hint:" in err
    assert "Traceback" not in err and not (tmp_path / "x.npy").exists()


def _request(*refs: LoraRef) -> GenerationRequest:
    return GenerationRequest.for_task(
        TASK, prompt="a fox", size="32*32", frame_num=5, sample_steps=3, seed=5, loras=refs
    )


def _ref(path: Path, high: float, low: float) -> LoraRef:
    return LoraRef(str(path), sha256_file(path), high, low)


def test_switching_sets_in_a_warm_pipeline_equals_a_fresh_load(ckpt, loras, tmp_path):
    from tests.runtime.helpers import cpu_plan
    from wan22_desktop.runtime.planner import Plan

    plan = Plan.from_dict(cpu_plan(TASK))
    sets = [
        (_ref(loras["high"], 1.0, 0.0), _ref(loras["low"], 0.0, 1.0)),
        (_ref(loras["style"], 0.5, 1.5),),
        (),
        (_ref(loras["style"], 0.5, 1.5), _ref(loras["low"], 0.0, 0.7)),
    ]
    warm = PipelineCache(WanEngine())
    videos = []
    for i, refs in enumerate(sets):
        out = tmp_path / f"warm{i}.npy"
        result = run_job(_request(*refs), plan, ckpt, out, cache=warm)
        assert result.warm == (i > 0)
        videos.append(np.load(out))
    for i, refs in enumerate(sets):
        out = tmp_path / f"fresh{i}.npy"
        run_job(_request(*refs), plan, ckpt, out, cache=PipelineCache(WanEngine()))
        assert np.array_equal(np.load(out), videos[i]), f"set {i}"
    assert not np.array_equal(videos[0], videos[2])


def test_a_diff_file_on_the_low_noise_expert_only(ckpt, tmp_path):
    from tests.runtime.helpers import cpu_plan
    from wan22_desktop.runtime.planner import Plan

    cfg = read_task_dit_config(ckpt, TASK)
    import torch

    delta = {"blocks.0.ffn.0.bias": torch.ones(cfg.ffn_dim), "head.head.bias": torch.ones(64)}
    path = write_diff_lora(tmp_path / "bias.safetensors", delta)
    plan = Plan.from_dict(cpu_plan(TASK))
    cache = PipelineCache(WanEngine())
    run_job(_request(_ref(path, 0.0, 1.0)), plan, ckpt, tmp_path / "a.npy", cache=cache)
    low = cache.pipeline.experts["low_noise_model"]
    assert low.head.head.bias.shape == (64,)
    base = PipelineCache(WanEngine())
    run_job(_request(), plan, ckpt, tmp_path / "b.npy", cache=base)
    plain_low = base.pipeline.experts["low_noise_model"]
    plain_high = base.pipeline.experts["high_noise_model"]
    assert torch.equal(low.head.head.bias, plain_low.head.head.bias + 1)
    assert torch.equal(
        cache.pipeline.experts["high_noise_model"].head.head.bias, plain_high.head.head.bias
    )


@pytest.mark.slow
def test_queue_jobs_switch_lora_sets_in_one_warm_worker(ckpt, loras, tmp_path, monkeypatch):
    """Through the queue and the real worker process: job 2 (another LoRA set, after job 1's
    set was merged) gives the video a fresh ``wan22 generate`` gives, and History records the
    set."""
    import json
    import os

    from wan22_desktop.db import history
    from wan22_desktop.db import queue as q
    from wan22_desktop.db.database import open_app_database
    from wan22_desktop.downloader.installed import register
    from wan22_desktop.paths import app_paths
    from wan22_desktop.runtime.hardware import Hardware
    from wan22_desktop.runtime.runner import QueueRunner, RunnerOptions

    repo = Path(__file__).resolve().parents[2]
    monkeypatch.delenv("WAN22_WORKER_BACKEND", raising=False)
    paths = app_paths(tmp_path / "home").ensure()
    size = sum(f.stat().st_size for f in ckpt.rglob("*") if f.is_file())
    first = (_ref(loras["high"], 1.0, 0.0), _ref(loras["low"], 0.0, 1.0))
    second = (_ref(loras["style"], 0.5, 1.5),)
    with open_app_database(paths) as db:
        db.transact(
            lambda s: register(
                s, "Wan-AI/Wan2.2-T2V-A14B", ckpt, origin="import", tasks=(TASK,), size=size
            )
        )
        ids = []
        for i, refs in enumerate((first, second)):
            req = _request(*refs)
            req = GenerationRequest.from_dict(
                {**req.to_dict(), "save_file": str(tmp_path / f"q{i}.npy"), "output_format": "npy"}
            )
            ids += [j.id for j in q.enqueue(db, req)]
        options = RunnerOptions(
            keep_awake=False,
            poll_s=0.05,
            worker_env={"PYTHONPATH": str(repo) + os.pathsep + os.environ.get("PYTHONPATH", "")},
        )
        summary = QueueRunner(db, paths, options, hardware=Hardware(ram_total_gib=64.0)).run()
        assert summary.done == ids, [q.get_job(db, i).error_message for i in ids]
        gens = [history.get_generation(db, q.get_job(db, i).generation_id) for i in ids]
        assert [r["path"] for r in json.loads(gens[1].request_json)["loras"]] == [
            str(loras["style"])
        ]
    fresh = tmp_path / "fresh.npy"
    assert _generate(ckpt, fresh, "--lora", f"{loras['style']}:high=0.5,low=1.5") == 0
    assert np.array_equal(np.load(tmp_path / "q1.npy"), np.load(fresh))


def test_a_file_replaced_under_the_same_name_is_merged_again(ckpt, tmp_path):
    """The warm set is keyed by hash too: a new file at the same path is not mistaken for the
    merged one."""
    from tests.runtime.helpers import cpu_plan
    from wan22_desktop.runtime.planner import Plan

    cfg = read_task_dit_config(ckpt, TASK)
    plan = Plan.from_dict(cpu_plan(TASK))
    path = tmp_path / "same name.safetensors"
    warm = PipelineCache(WanEngine())
    write_lora(path, lora_tensors(cfg, seed=1), "official_ab")
    run_job(_request(_ref(path, 1.0, 1.0)), plan, ckpt, tmp_path / "a.npy", cache=warm)
    write_lora(path, lora_tensors(cfg, seed=7), "official_ab")
    run_job(_request(_ref(path, 1.0, 1.0)), plan, ckpt, tmp_path / "b.npy", cache=warm)
    run_job(
        _request(_ref(path, 1.0, 1.0)),
        plan,
        ckpt,
        tmp_path / "c.npy",
        cache=PipelineCache(WanEngine()),
    )
    assert np.array_equal(np.load(tmp_path / "b.npy"), np.load(tmp_path / "c.npy"))
    assert not np.array_equal(np.load(tmp_path / "a.npy"), np.load(tmp_path / "b.npy"))


def test_loras_survive_streaming_offload_and_fp8_in_a_warm_pipeline(ckpt, loras, monkeypatch):
    """The savers the planner picks on small cards keep host masters of the weights (streaming,
    offload) or e4m3 bits (FP8). A LoRA set merged between two jobs of a warm pipeline must reach
    the weights the next job computes with: the streamed and offloaded videos equal the resident
    one bit for bit, FP8 streamed equals FP8 resident, and each differs from the run before."""
    import torch

    from tests.engine.test_streaming import Recorder
    from wan22_desktop.engine.wan import streaming
    from wan22_desktop.engine.wan.lora import HIGH, LOW, ExpertLora
    from wan22_desktop.engine.wan.pipelines import MemoryConfig, WanPipeline

    monkeypatch.setattr(streaming, "ops_for", lambda device: Recorder())
    items = [ExpertLora(HIGH, str(loras["high"]), 1.0), ExpertLora(LOW, str(loras["low"]), 0.8)]

    def run(memory: MemoryConfig) -> tuple[np.ndarray, np.ndarray]:
        pipe = WanPipeline.from_checkpoint(
            ckpt, TASK, device="cpu", dtype=torch.float32, memory=memory
        )

        def video() -> np.ndarray:
            return pipe.generate("a fox", size=(32, 32), frame_num=5, sample_steps=3, seed=5).video

        before = video()  # a warm pipeline: the savers have parked and streamed once
        assert pipe.loras.apply(pipe.experts, items, pipe.spec.name)
        return before, video()

    plain, merged = run(MemoryConfig())
    assert not np.array_equal(plain, merged)
    for memory in (
        MemoryConfig(stream_blocks=1),
        MemoryConfig(offload_model=True),
        MemoryConfig(offload_model=True, stream_blocks=2),
    ):
        before, after = run(memory)
        assert np.array_equal(before, plain), memory
        assert np.array_equal(after, merged), memory
    run(MemoryConfig(fp8=True))  # writes the FP8 cache: compare cached loads with each other
    fp8_plain, fp8_merged = run(MemoryConfig(fp8=True))
    fp8_before, fp8_after = run(MemoryConfig(fp8=True, stream_blocks=1))
    assert np.array_equal(fp8_before, fp8_plain) and np.array_equal(fp8_after, fp8_merged)
    assert not np.array_equal(fp8_plain, fp8_merged)
    # quantising the merged weights stays close to the full-precision merge
    gap = np.abs(fp8_merged.astype(float) - merged.astype(float)).mean()
    print(f"FP8 vs full-precision merge: mean |Δ| {gap:.2f} of 255")
    assert gap < 1.0
