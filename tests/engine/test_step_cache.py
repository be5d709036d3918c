"""Step caching (EasyCache, "Turbo") on tiny random-weight A14B and 5B checkpoints, CPU fp32.

Pinned: threshold 0 is bit-identical to no caching (and so is a cache that never fires), a
positive threshold skips steps, per expert, reproducibly, and the skipped steps are reported.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from wan22_desktop.engine.wan.pipelines import HIGH_NOISE, LOW_NOISE, StepInfo, WanPipeline
from wan22_desktop.engine.wan.pipelines.step_cache import WARMUP_STEPS, StepCache
from wan22_desktop.engine.wan.tiny import make_tiny_checkpoint

pytestmark = pytest.mark.usefixtures("one_torch_thread")

STEPS = 12
TASKS = ("t2v-A14B", "ti2v-5B")


@pytest.fixture(scope="module")
def pipes(tmp_path_factory) -> dict[str, WanPipeline]:
    root: Path = tmp_path_factory.mktemp("ckpt")
    return {
        task: WanPipeline.from_checkpoint(
            make_tiny_checkpoint(task, root / task, seed=3), task, device="cpu", dtype=torch.float32
        )
        for task in TASKS
    }


def run(pipe: WanPipeline, threshold: float, seen: list[StepInfo] | None = None) -> np.ndarray:
    result = pipe.generate(
        "a cat",
        size="32*32",
        frame_num=5,
        sample_steps=STEPS,
        seed=1,
        step_cache=threshold,
        callback=None if seen is None else seen.append,
    )
    assert result.video is not None
    return result.video


@pytest.mark.parametrize("task", TASKS)
def test_threshold_zero_is_bit_identical_to_no_caching(pipes, task) -> None:
    pipe = pipes[task]
    plain = pipe.generate("a cat", size="32*32", frame_num=5, sample_steps=STEPS, seed=1).video
    seen: list[StepInfo] = []
    assert np.array_equal(run(pipe, 0.0, seen), plain)
    assert not any(s.skipped for s in seen)


@pytest.mark.parametrize("task", TASKS)
def test_a_cache_that_never_fires_leaves_every_step_untouched(pipes, task) -> None:
    """The bookkeeping (norms, transformation vectors) must not perturb the computed steps."""
    pipe = pipes[task]
    seen: list[StepInfo] = []
    assert np.array_equal(run(pipe, 1e-12, seen), run(pipe, 0.0))
    assert not any(s.skipped for s in seen)


@pytest.mark.parametrize("task", TASKS)
def test_positive_threshold_skips_steps_reproducibly(pipes, task) -> None:
    pipe = pipes[task]
    first: list[StepInfo] = []
    second: list[StepInfo] = []
    a = run(pipe, 1.0, first)
    b = run(pipe, 1.0, second)
    skipped = [s.step - 1 for s in first if s.skipped]
    print(f"{task}: {STEPS} steps at threshold 1.0 skipped {len(skipped)}: {skipped}")
    assert 0 < len(skipped) < STEPS
    assert np.array_equal(a, b)  # deterministic: the same request, the same video
    assert skipped == [s.step - 1 for s in second if s.skipped]
    assert not first[-1].skipped  # the last step always runs the model
    assert not np.array_equal(a, run(pipe, 0.0))  # a skip changes the result (a little)


def test_each_expert_warms_up_its_own_cache(pipes) -> None:
    seen: list[StepInfo] = []
    run(pipes["t2v-A14B"], 1.0, seen)
    experts = [s.expert for s in seen]
    switch = experts.index(LOW_NOISE)
    assert set(experts[:switch]) == {HIGH_NOISE}
    for start in (0, switch):  # the first steps of each expert are computed
        assert not any(s.skipped for s in seen[start : start + WARMUP_STEPS])


def test_a_skipped_step_reuses_the_cached_transformation() -> None:
    cache = StepCache(10.0)
    x0, x1, x2 = (torch.full((2, 3), float(v)) for v in (1.0, 2.0, 2.5))
    assert not cache.can_skip(x0)
    cache.update(x0, x0 * 3)
    assert not cache.can_skip(x1)  # one computed step: no transformation rate yet
    cache.update(x1, x1 * 3)
    assert cache.can_skip(x2)
    assert torch.equal(cache.reuse(x2), x2 + (x1 * 3 - x1))
    cache.reset()
    assert not cache.can_skip(x2)
    with pytest.raises(ValueError):
        StepCache(0.0)
