"""The guided warm-up (the three-phase Lightning schedule, ADR 0025) through the one job path on a
tiny A14B checkpoint with tiny LoRA files.

* A warm-up job equals a manual composition of the same steps: one solver, the high-noise expert
  without its LoRA at the warm-up guidance, then the LoRA merged and guidance 1, then the
  low-noise expert with its LoRA — bit-identical on the CPU.
* A warm-up that changes nothing (no LoRAs, the expert's own guidance) is bit-identical to the
  plain request.
* The LoRA state after a warm-up job is the set the job asked for, so the next job in the same
  warm pipeline (what the worker keeps) equals a fresh load's; offloading gives the same video.
* With offload on (fake) CUDA the mid-job merge parks the expert first, so it lands in the host
  weights the next upload reads.
"""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import numpy as np
import pytest
import torch
from torch import nn

from tests.lora_helpers import lora_tensors, write_lora
from tests.runtime.helpers import cpu_plan
from wan22_desktop import cli
from wan22_desktop.engine.wan.attention import use_backend
from wan22_desktop.engine.wan.checkpoints import read_task_dit_config
from wan22_desktop.engine.wan.lora import ExpertLora, merge_into
from wan22_desktop.engine.wan.pipelines import HIGH_NOISE, LOW_NOISE, WanPipeline
from wan22_desktop.engine.wan.pipelines.job import (
    PipelineCache,
    WanEngine,
    resolved_phases,
    run_job,
    step_experts,
)
from wan22_desktop.engine.wan.pipelines.loop import guided_velocity
from wan22_desktop.engine.wan.solvers import make_solver
from wan22_desktop.lora_library import sha256_file
from wan22_desktop.request import GenerationRequest, LoraRef
from wan22_desktop.runtime.planner import Plan
from wan22_desktop.tasks import DEFAULT_NEGATIVE_PROMPT

pytestmark = pytest.mark.usefixtures("one_torch_thread")
TASK = "t2v-A14B"
# 4 Euler steps at shift 3 (t = 1000, 900, 750, 500): step 0 is the warm-up, the high-noise
# expert runs steps 0-1, the low-noise one 2-3 (the 8-step preset's 1/3/4 split, shortened).
STEPS, SHIFT, SWITCH, WARM, WARM_G = 4, 3.0, 2, 1, 3.5


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("ckpt") / TASK
    assert cli.main(["dev", "make-tiny-checkpoint", "--task", TASK, "--out", str(root)]) == 0
    return root


@pytest.fixture(scope="module")
def loras(ckpt, tmp_path_factory) -> tuple[LoraRef, LoraRef]:
    cfg = read_task_dit_config(ckpt, TASK)
    folder = tmp_path_factory.mktemp("loras")
    high = write_lora(folder / "l_high_noise.safetensors", lora_tensors(cfg, seed=1), "kohya")
    low = write_lora(folder / "l_low_noise.safetensors", lora_tensors(cfg, seed=2), "official_ab")
    return (
        LoraRef(str(high), sha256_file(high), 1.0, 0.0),
        LoraRef(str(low), sha256_file(low), 0.0, 1.0),
    )


def _request(refs=(), **changes) -> GenerationRequest:
    values = dict(
        prompt="a fox",
        size="32*32",
        frame_num=5,
        sample_steps=STEPS,
        sample_shift=SHIFT,
        solver="euler",
        guidance=1.0,
        switch_step=SWITCH,
        seed=5,
        loras=tuple(refs),
        warmup_steps=WARM,
        warmup_guidance=WARM_G,
    )
    values.update(changes)
    return GenerationRequest.for_task(TASK, **values)


def _plan(**changes) -> Plan:
    return Plan.from_dict(cpu_plan(TASK, **changes))


def _final_latent(request, ckpt, out, cache=None, plan=None) -> torch.Tensor:
    seen = []
    run_job(
        request,
        plan or _plan(),
        ckpt,
        out,
        cache=cache,
        on_step=lambda info: seen.append(info.latents.clone()),
    )
    return seen[-1]


def _manual(ckpt: Path, loras, *, lora_in_warmup: bool = False) -> torch.Tensor:
    """The same steps composed by hand from the pipeline's parts."""
    pipe = WanPipeline.from_checkpoint(ckpt, TASK, device="cpu", dtype=torch.float32)
    high, low = pipe.experts[HIGH_NOISE], pipe.experts[LOW_NOISE]
    h_item = ExpertLora(HIGH_NOISE, loras[0].path, 1.0)
    l_item = ExpertLora(LOW_NOISE, loras[1].path, 1.0)
    merge_into(pipe.experts, [l_item] + ([h_item] if lora_in_warmup else []))
    with torch.no_grad(), use_backend("sdpa"):
        context, context_null = pipe._encode_text("a fox", DEFAULT_NEGATIVE_PROMPT)
        latent, cond, _ = pipe._prepare(None, 32, 32, 5, 5, context, context_null)
        solver = make_solver("euler", STEPS, SHIFT)
        solver.prepare(latent.device)
        for i, t in enumerate(solver.timesteps.tolist()):
            if i == WARM and not lora_in_warmup:
                merge_into(pipe.experts, [h_item])
            model = high if i < SWITCH else low
            guide = WARM_G if i < WARM else 1.0
            t_step = solver.timesteps[i : i + 1].to(latent.device)
            v = guided_velocity(model, latent, t_step, cond, guide)
            latent = solver.step(v.unsqueeze(0), t, latent.unsqueeze(0)).squeeze(0)
    return latent


def test_a_warmup_job_equals_the_manual_composition(ckpt, loras, tmp_path):
    job = _final_latent(_request(loras), ckpt, tmp_path / "a.npy")
    manual = _manual(ckpt, loras)
    wrong = _manual(ckpt, loras, lora_in_warmup=True)
    print(f"warm-up job vs manual: max |d| = {(job - manual).abs().max().item()}")
    assert torch.equal(job, manual)
    assert not torch.equal(job, wrong)  # the LoRA really is off in the warm-up step


def test_a_warmup_that_changes_nothing_is_the_plain_request(ckpt, tmp_path):
    plain = _request(warmup_steps=0, warmup_guidance=None, guidance=(1.0, 4.0))
    same_g = _request(warmup_steps=2, warmup_guidance=4.0, guidance=(1.0, 4.0))
    own_g = _request(warmup_steps=3, warmup_guidance=None, guidance=(1.0, 4.0))
    videos = []
    for i, req in enumerate((plain, same_g, own_g)):
        run_job(req, _plan(), ckpt, tmp_path / f"{i}.npy")
        videos.append(np.load(tmp_path / f"{i}.npy"))
    assert np.array_equal(videos[0], videos[1]) and np.array_equal(videos[0], videos[2])
    other = _request(warmup_steps=1, warmup_guidance=2.0, guidance=(1.0, 4.0))
    run_job(other, _plan(), ckpt, tmp_path / "x.npy")
    assert not np.array_equal(videos[0], np.load(tmp_path / "x.npy"))


def test_loras_after_a_warmup_job_are_the_next_jobs_set(ckpt, loras, tmp_path):
    """Warm pipeline: warm-up job, plain job, warm-up job again, LoRA-only job; each equals a
    fresh load's video (the worker switches sets between jobs the same way)."""
    jobs = [
        _request(loras),
        _request(warmup_steps=0, warmup_guidance=None),
        _request(loras),
        _request(loras, warmup_steps=0, warmup_guidance=None),
    ]
    warm = PipelineCache(WanEngine())
    for i, req in enumerate(jobs):
        run_job(req, _plan(), ckpt, tmp_path / f"w{i}.npy", cache=warm)
        run_job(req, _plan(), ckpt, tmp_path / f"f{i}.npy", cache=PipelineCache(WanEngine()))
        assert np.array_equal(np.load(tmp_path / f"w{i}.npy"), np.load(tmp_path / f"f{i}.npy")), i
    # After the last job, the merged set is the full pair (no warm-up left it half-merged).
    assert {(x.expert, Path(x.path).name) for x in warm.pipeline.loras.applied} == {
        (HIGH_NOISE, "l_high_noise.safetensors"),
        (LOW_NOISE, "l_low_noise.safetensors"),
    }
    a, b = (np.load(tmp_path / f"w{i}.npy") for i in (0, 3))
    assert not np.array_equal(a, b)  # the warm-up changes the video


def test_offloaded_and_streamed_experts_give_the_same_warmup_video(ckpt, loras, tmp_path):
    base = _final_latent(_request(loras), ckpt, tmp_path / "a.npy")
    for changes in ({"offload_model": True}, {"offload_model": True, "stream_blocks": 1}):
        cache = PipelineCache(WanEngine())
        got = _final_latent(_request(loras), ckpt, tmp_path / "b.npy", cache, _plan(**changes))
        assert torch.equal(got, base), changes
        moves = cache.pipeline.placer.moves
        # The high-noise expert is parked for the merge, uploaded again for step 1 and parked at
        # the switch (before: the first upload when streaming; loaded in place otherwise).
        high = [where for name, where in moves if name == HIGH_NOISE]
        assert high[-3:] == ["cpu", "device", "cpu"], moves


def test_the_job_records_the_resolved_phases(ckpt, loras, tmp_path):
    req = _request(loras)
    result = run_job(req, _plan(), ckpt, tmp_path / "a.npy")
    assert result.sampling["experts"] == [HIGH_NOISE, HIGH_NOISE, LOW_NOISE, LOW_NOISE]
    assert result.sampling["phases"] == [
        {"steps": [0, 1], "expert": HIGH_NOISE, "guidance": 3.5, "loras": False},
        {"steps": [1, 2], "expert": HIGH_NOISE, "guidance": 1.0, "loras": True},
        {"steps": [2, 4], "expert": LOW_NOISE, "guidance": 1.0, "loras": True},
    ]
    plain = run_job(_request(warmup_steps=0, warmup_guidance=None), _plan(), ckpt, tmp_path / "b")
    assert "phases" not in plain.sampling


def test_the_eight_step_preset_resolves_to_wan2gp_phases() -> None:
    """Wan2GP's thresholds (a phase starts at the first t <= 965, then <= 800) on our 8-step
    shift-3 Euler schedule give the preset's warm-up 1 and switch 4: phases of 1, 3 and 4 steps."""
    from wan22_desktop.presets import preset_request

    for name in ("lightning-t2v-8step-3phase", "lightning-i2v-8step-3phase"):
        req = preset_request(name, strip_loras=True, prompt="a cat")
        t = make_solver(req.solver, req.sample_steps, req.sample_shift).timesteps.tolist()
        assert next(i for i, x in enumerate(t) if x <= 965) == req.warmup_steps == 1
        assert next(i for i, x in enumerate(t) if x <= 800) == req.switch_step == 4
        experts = step_experts(req)
        phases = resolved_phases(replace_loras(req), experts)
        assert [(p["steps"], p["expert"], p["guidance"], p["loras"]) for p in phases] == [
            ([0, 1], HIGH_NOISE, 3.5, False),
            ([1, 4], HIGH_NOISE, 1.0, True),
            ([4, 8], LOW_NOISE, 1.0, True),
        ]


def replace_loras(req: GenerationRequest) -> GenerationRequest:
    """The request as if its LoRAs were there (resolving phases reads only whether any are)."""
    from dataclasses import replace

    return replace(req, loras=(LoraRef("/x/a.safetensors", "0" * 64),))


def test_park_resident_puts_offloaded_experts_back_on_their_host_weights(monkeypatch):
    """offload on (fake) CUDA: after ``park_resident`` the expert's parameters are its host
    masters again, so a LoRA merged then changes what the next upload copies."""
    from torch._subclasses.fake_tensor import FakeTensorMode

    from tests.engine.test_streaming import FakeCudaOps
    from wan22_desktop.engine.wan import streaming
    from wan22_desktop.engine.wan.offload import ExpertPlacer

    ops = FakeCudaOps()
    monkeypatch.setattr(streaming, "ops_for", lambda device: ops)
    with (
        mock.patch("torch.cuda.is_available", return_value=True),
        FakeTensorMode(allow_non_fake_inputs=True),
    ):
        experts = {n: nn.Linear(5120, 5120) for n in (HIGH_NOISE, LOW_NOISE)}
        host = {n: list(m.parameters()) for n, m in experts.items()}
        placer = ExpertPlacer(experts, torch.device("cuda:0"), offload=True)
        placer.activate(HIGH_NOISE)
        assert experts[HIGH_NOISE].weight.device.type == "cuda"
        placer.park_resident()
        assert list(experts[HIGH_NOISE].parameters()) == host[HIGH_NOISE]
        assert placer.resident == set()
        placer.activate(HIGH_NOISE)  # uploads again from the (changed) host weights
        assert experts[HIGH_NOISE].weight.device.type == "cuda"
    assert all(m.copied_back == 0 for m in placer.masters.values())
    assert sum(1 for e in ops.log if e[0] == "h2d") == 4  # two uploads of two tensors


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"offload_model": True, "stream_blocks": 1},
        {"fp8": True},
        {"fp8": True, "stream_blocks": 1},
    ],
)
def test_the_mid_job_merge_leaves_the_weights_of_a_between_job_merge(
    ckpt, loras, tmp_path, changes
):
    """After a warm-up job both experts hold exactly the weights a job that merged the same set
    before its first step leaves (FP8: quantised once from the source weights + ΔW)."""
    plan = _plan(**changes)
    if changes.get("fp8"):  # the first FP8 load writes the quantised cache; compare cached loads
        run_job(_request(warmup_steps=0, warmup_guidance=None), plan, ckpt, tmp_path / "p.npy")
    mid, start = PipelineCache(WanEngine()), PipelineCache(WanEngine())
    run_job(_request(loras), plan, ckpt, tmp_path / "a.npy", cache=mid)
    run_job(
        _request(loras, warmup_steps=0, warmup_guidance=None),
        plan,
        ckpt,
        tmp_path / "b.npy",
        cache=start,
    )
    for name in (HIGH_NOISE, LOW_NOISE):
        got = mid.pipeline.experts[name].state_dict()
        want = start.pipeline.experts[name].state_dict()
        assert all(torch.equal(got[k], want[k]) for k in want), (name, changes)
    assert mid.pipeline.loras.applied == start.pipeline.loras.applied
    if changes.get("fp8"):
        from wan22_desktop.engine.wan.fp8 import FP8Linear

        assert any(isinstance(m, FP8Linear) for m in mid.pipeline.experts[HIGH_NOISE].modules())
