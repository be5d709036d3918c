"""The plan's speed switches (torch.compile of the DiT blocks, CFG as one batch of two): the
planner's rules with their reasons, and the engine applying them when it loads."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.runtime.helpers import TASK, cpu_plan
from wan22_desktop.runtime.hardware import GPU, Hardware
from wan22_desktop.runtime.planner import (
    COMPILE_MIN_KTOKEN_STEPS,
    InstalledModel,
    JobShape,
    Plan,
    PlanOverrides,
    choose_cfg_batch,
    choose_compile,
    plan,
)

GB = 1024**3
FULL = {
    t: InstalledModel(t, f"/models/{t}", b * GB)
    for t, b in (("t2v-A14B", 114), ("i2v-A14B", 114), ("ti2v-5B", 20))
}


def _hw(n: int, vram: float) -> Hardware:
    gpu = GPU(0, "card", vram, vram - 0.5, (9, 0))
    return Hardware(gpus=(gpu,) * n, ram_total_gib=512.0, ram_available_gib=400.0)


H100 = _hw(1, 79.2)


def test_compile_is_on_for_long_single_gpu_jobs_and_says_why() -> None:
    p = plan(JobShape("ti2v-5B", 1280, 704, 121), H100, FULL)
    assert p.compile and p.reasons["compile"].startswith("on: a long job (50 steps × 27.3k")
    a14b = plan(JobShape("t2v-A14B", 1280, 720, 81), H100, FULL)
    assert a14b.compile


def test_compile_is_off_for_short_jobs_the_cpu_and_several_gpus() -> None:
    short = plan(JobShape("ti2v-5B", 1280, 704, 121, steps=4), H100, FULL)
    assert not short.compile and short.reasons["compile"].startswith("off: a short job (4 steps")
    tiny = {TASK: InstalledModel(TASK, "/m/tiny", 1000)}
    cpu = plan(JobShape(TASK, 128, 128, 5), Hardware(ram_total_gib=64.0), tiny)
    assert not cpu.compile and "CPU" in cpu.reasons["compile"]
    multi = plan(JobShape("t2v-A14B", 1280, 720, 81), _hw(4, 79.2), FULL)
    assert multi.nproc == 4 and not multi.compile and not multi.cfg_batch


def test_a_pinned_choice_wins() -> None:
    shape = JobShape("ti2v-5B", 1280, 704, 121, steps=4)
    on = plan(shape, H100, FULL, PlanOverrides(compile=True, cfg_batch=False))
    assert on.compile and on.reasons["compile"] == "on: set by you"
    assert not on.cfg_batch and on.reasons["cfg_batch"] == "off: set by you"
    assert choose_compile("cpu", 1, 1.0, 1, pinned=True) == (True, "on: set by you")


def test_compile_threshold_is_steps_times_tokens() -> None:
    k = COMPILE_MIN_KTOKEN_STEPS
    assert choose_compile("cuda", 1, k / 40, 40)[0]
    assert not choose_compile("cuda", 1, k / 40 - 0.1, 40)[0]


def test_compile_stays_off_with_block_streaming() -> None:
    on, why = choose_compile("cuda", 1, 75.6, 40, stream_blocks=4)
    assert not on and "streaming" in why


def test_cfg_batch_needs_room_for_a_second_forwards_activations() -> None:
    # A14B on one 80 GB card keeps both experts resident (the memory plan comes first), which
    # leaves no room for a second forward's activations; a 141 GB card has it. 5B 720p fits both.
    big = plan(JobShape("t2v-A14B", 1280, 720, 81), H100, FULL)
    assert not big.cfg_batch and big.reasons["cfg_batch"].startswith("off: both CFG passes")
    small = plan(JobShape("t2v-A14B", 832, 480, 81), H100, FULL)
    assert not small.cfg_batch
    h200 = plan(JobShape("t2v-A14B", 832, 480, 81), _hw(1, 139.8), FULL)
    assert h200.cfg_batch and h200.reasons["cfg_batch"].startswith("on: the GPU has room")
    # the plan's sampling estimate holds the second forward's activations
    alone = plan(
        JobShape("t2v-A14B", 832, 480, 81), _hw(1, 139.8), FULL, PlanOverrides(cfg_batch=False)
    )
    assert h200.est_vram_sampling_gib > alone.est_vram_sampling_gib + 1.0
    five = plan(JobShape("ti2v-5B", 1280, 704, 121), H100, FULL)
    assert five.cfg_batch
    on_16 = plan(JobShape("ti2v-5B", 1280, 704, 121), _hw(1, 15.6), FULL)
    assert not on_16.cfg_batch
    assert choose_cfg_batch("cpu", 1, None, 0.0) == (
        False,
        "off: on the CPU two forwards cost the same as one batch of two",
    )


def test_speed_switches_survive_the_plan_round_trip() -> None:
    p = plan(JobShape("ti2v-5B", 1280, 704, 121), H100, FULL)
    assert Plan.from_dict(p.to_dict()) == p


@pytest.mark.usefixtures("one_torch_thread")
def test_the_engine_compiles_the_blocks_and_batches_cfg_as_planned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``WanEngine.load`` compiles every block in place (state-dict keys unchanged) with its
    kernel cache under the app's cache folder, and hands the CFG choice to the pipeline."""
    from wan22_desktop.engine.wan.compile import CACHE_ENV, is_compiled
    from wan22_desktop.engine.wan.pipelines import WanEngine
    from wan22_desktop.engine.wan.tiny import make_tiny_checkpoint

    monkeypatch.setenv("WAN22_HOME", str(tmp_path / "home"))
    for name in CACHE_ENV:  # restored after the test, whatever load sets
        monkeypatch.setenv(name, "unset")
        monkeypatch.delenv(name)
    ckpt = make_tiny_checkpoint(TASK, tmp_path / "tiny")
    engine = WanEngine()
    plain = engine.load(str(ckpt), Plan.from_dict(cpu_plan()))
    assert not plain.cfg_batch and not any(is_compiled(b) for b in plain.experts["model"].blocks)
    keys = set(plain.experts["model"].state_dict())
    fast = engine.load(str(ckpt), Plan.from_dict(cpu_plan(compile=True, cfg_batch=True)))
    dit = fast.experts["model"]
    assert fast.cfg_batch and all(is_compiled(b) for b in dit.blocks)
    assert set(dit.state_dict()) == keys
    cache = Path(os.environ[CACHE_ENV[0]])
    assert cache == tmp_path / "home" / "cache" / "torch-compile" and cache.is_dir()
