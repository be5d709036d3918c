"""The flow-matching Euler solver against diffusers' ``FlowMatchEulerDiscreteScheduler``."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.engine.test_solvers import toy_problem
from wan22_desktop.engine.wan.solvers import FlowEuler, dpm_sigmas, make_solver

CASES = [(steps, shift) for steps in (1, 2, 4, 8, 20, 40) for shift in (1.0, 3.0, 5.0, 12.0)]


def diffusers_euler(steps: int, shift: float):  # -> diffusers.FlowMatchEulerDiscreteScheduler
    from diffusers import FlowMatchEulerDiscreteScheduler

    sched = FlowMatchEulerDiscreteScheduler(num_train_timesteps=1000, shift=shift)
    # The unshifted sigmas; the scheduler applies the same shift (in float32, ours in float64).
    sched.set_timesteps(sigmas=list(np.linspace(1, 0, steps + 1)[:steps]))
    return sched


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize(("steps", "shift"), CASES, ids=lambda v: f"{v}")
def test_schedule_matches_diffusers_shift(steps: int, shift: float) -> None:
    pytest.importorskip("diffusers")
    ours = make_solver("euler", steps, shift)
    theirs = diffusers_euler(steps, shift)
    assert theirs.sigmas.shape == ours.sigmas.shape
    # float64 vs float32 shifting: at most a couple of float32 ulps apart.
    assert (theirs.sigmas - ours.sigmas).abs().max().item() <= 2e-7
    assert ours.sigmas[0] == 1.0 and ours.sigmas[-1] == 0.0


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize(("steps", "shift"), CASES, ids=lambda v: f"{v}")
def test_every_step_matches_diffusers_given_the_same_sigmas(steps: int, shift: float) -> None:
    pytest.importorskip("diffusers")
    ours = make_solver("euler", steps, shift)
    theirs = diffusers_euler(steps, shift)
    theirs.sigmas = ours.sigmas.clone()  # the same sigmas: the update itself is compared
    theirs.timesteps = ours.sigmas[:-1] * 1000
    x_ours, velocity = toy_problem(11)
    x_theirs = x_ours.clone()
    for i, t in enumerate(ours.timesteps):
        v_ours, v_theirs = velocity(x_ours, t), velocity(x_theirs, t)
        x_ours = ours.step(v_ours, t, x_ours)
        x_theirs = theirs.step(v_theirs, theirs.timesteps[i], x_theirs, return_dict=False)[0]
        assert torch.equal(x_ours, x_theirs), f"step {i}: max |d| {(x_ours - x_theirs).abs().max()}"


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_whole_run_with_diffusers_own_schedule_is_within_round_off() -> None:
    """Lightning's 4 steps at shift 5, diffusers building its own schedule: max |d| is round-off."""
    pytest.importorskip("diffusers")
    ours = make_solver("euler", 4, 5.0)
    theirs = diffusers_euler(4, 5.0)
    x_ours, velocity = toy_problem(2)
    x_theirs = x_ours.clone()
    worst = 0.0
    for i, t in enumerate(ours.timesteps):
        x_ours = ours.step(velocity(x_ours, t), t, x_ours)
        x_theirs = theirs.step(
            velocity(x_theirs, t), theirs.timesteps[i], x_theirs, return_dict=False
        )[0]
        worst = max(worst, (x_ours - x_theirs).abs().max().item())
    print(f"euler 4 steps shift 5 vs diffusers' own schedule: max |d| = {worst:.3g}")
    assert worst < 1e-5


def test_lightning_schedule_and_exact_data_prediction() -> None:
    solver = make_solver("euler", 4, 5.0)
    assert isinstance(solver, FlowEuler)
    # ComfyUI simple / LightX2V [1000, 750, 500, 250] shifted by 5.
    assert solver.timesteps.tolist() == [1000, 937, 833, 625]
    np.testing.assert_allclose(solver.sigmas[:-1].numpy(), dpm_sigmas(4, 5.0), rtol=1e-7)
    # A constant velocity v = noise - x0 (a straight flow) lands exactly on x0.
    x0 = torch.randn(1, 2, 1, 3, 3)
    noise = torch.randn_like(x0)
    x = noise.clone()
    for t in solver.timesteps:
        x = solver.step(noise - x0, t, x)
    assert (x - x0).abs().max() < 1e-6
