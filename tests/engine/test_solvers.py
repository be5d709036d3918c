"""Flow solvers against the official Wan2.2 classes (recorded data) and diffusers' schedulers (live)."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
import torch

from wan22_desktop.engine.wan.solvers import (
    OFFICIAL_SOLVER_NAMES,
    SOLVER_NAMES,
    FlowDPMPP,
    FlowSolver,
    FlowUniPC,
    dpm_sigmas,
    make_solver,
    unipc_sigmas,
)
from wan22_desktop.errors import UserInputError

ToyModel = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

TOY_SHAPE = (
    1,
    3,
    2,
    2,
    4,
)  # batch 1 like the official pipelines (upstream UniPC's einsum needs it)


def toy_problem(seed: int) -> tuple[torch.Tensor, ToyModel]:
    """Initial noise and a deterministic velocity "network" v(x, t), both drawn from ``seed``.

    v = a*x + d*x*x + b*(t/1000) + c, elementwise: non-linear and t-dependent so the multistep
    history matters, and made only of + and * so every CPU computes it bit for bit. The reference
    data in data/official_schedules.json was generated with exactly this function.
    """
    g = torch.Generator().manual_seed(seed)
    noise = torch.randn(TOY_SHAPE, generator=g)
    a = torch.rand(TOY_SHAPE, generator=g) - 1.5
    b = torch.randn(TOY_SHAPE, generator=g)
    c = 0.5 * torch.randn(TOY_SHAPE, generator=g)
    d = 0.05 * torch.randn(TOY_SHAPE, generator=g)

    def velocity(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        s = float(t) / 1000.0
        return a * x + d * x * x + b * s + c

    return noise, velocity


# ---- Helpers --------------------------------------------------------------------------------

DATA = Path(__file__).parent / "data" / "official_schedules.json"


@lru_cache(maxsize=1)
def official() -> dict:
    return json.loads(DATA.read_text())


def official_entries(section: str) -> list[dict]:
    return official()[section]


def official_schedule(name: str, steps: int, shift: float) -> dict:
    key = (name, steps, shift)
    return next(
        e for e in official_entries("schedules") if (e["solver"], e["steps"], e["shift"]) == key
    )


def entry_id(e: dict) -> str:
    return f"{e['solver']}-{e['steps']}-{e['shift']:g}"


def sample(solver: FlowSolver, seed: int) -> list[torch.Tensor]:
    """Run the toy problem through ``solver``; return every intermediate latent."""
    x, velocity = toy_problem(seed)
    out = []
    for t in solver.timesteps:
        x = solver.step(velocity(x, t), t, x)
        out.append(x)
    return out


def as_latent(values: list[float]) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float32).reshape(TOY_SHAPE)


# ---- 1. Schedules equal the official ones ---------------------------------------------------


def test_reference_data_covers_required_grid() -> None:
    have = {(e["solver"], e["steps"], e["shift"]) for e in official_entries("schedules")}
    need = {
        (s, n, k) for s in OFFICIAL_SOLVER_NAMES for n in (3, 20, 40, 50) for k in (1.0, 5.0, 12.0)
    }
    assert need <= have
    assert official()["official_commit"] == "42bf4cfaa384bc21833865abc2f9e6c0e67233dc"


@pytest.mark.parametrize("ref", official_entries("schedules"), ids=entry_id)
def test_schedule_matches_official(ref: dict) -> None:
    solver = make_solver(ref["solver"], ref["steps"], ref["shift"])
    assert solver.timesteps.dtype == torch.int64
    assert solver.sigmas.dtype == torch.float32
    assert solver.timesteps.tolist() == ref["timesteps"]
    assert torch.equal(solver.sigmas, torch.tensor(ref["sigmas"], dtype=torch.float32))


def test_timesteps_truncate_float64_sigmas_like_official() -> None:
    # dpm++ 5 steps, shift 1: sigma 0.4 and 0.2 are just below in float64, so upstream gets
    # 399 and 199; truncating the float32 sigmas instead would give 400 and 200.
    assert make_solver("dpm++", 5, 1.0).timesteps.tolist() == [1000, 800, 600, 399, 199]
    assert official_schedule("dpm++", 5, 1.0)["timesteps"] == [1000, 800, 600, 399, 199]


def test_schedule_start_points() -> None:
    # UniPC starts below 1 (at shift(0.999)), DPM++ at exactly 1; both end at 0.
    unipc, dpm = make_solver("unipc", 40, 5.0), make_solver("dpm++", 40, 5.0)
    assert unipc.sigmas[0].item() == pytest.approx(0.99980, abs=1e-5)
    assert unipc.timesteps[0].item() == 999
    assert dpm.sigmas[0].item() == 1.0 and dpm.timesteps[0].item() == 1000
    assert unipc.sigmas[-1].item() == 0.0 == dpm.sigmas[-1].item()
    assert np.array_equal(unipc_sigmas(40, 5.0).astype(np.float32), unipc.sigmas[:-1].numpy())
    assert np.array_equal(dpm_sigmas(40, 5.0).astype(np.float32), dpm.sigmas[:-1].numpy())


# The lists from docs/wan22-reference.md section 6.4 (computed there with the upstream classes).
T2V_40_12 = [
    999,
    997,
    995,
    993,
    990,
    988,
    985,
    982,
    979,
    976,
    972,
    969,
    965,
    961,
    956,
    952,
    947,
    941,
    936,
    929,
    922,
    915,
    907,
    898,
    888,
    877,
    865,
    852,
    837,
    819,
    799,
    776,
    749,
    717,
    678,
    631,
    571,
    492,
    386,
    235,
]


def test_reference_doc_default_lists() -> None:
    t2v = make_solver("unipc", 40, 12.0)
    assert t2v.timesteps.tolist() == T2V_40_12
    assert t2v.sigmas[0].item() == pytest.approx(0.99992, abs=1e-5)
    assert int((t2v.timesteps >= 875).sum()) == 26
    i2v = make_solver("unipc", 40, 5.0).timesteps.tolist()
    assert i2v[:18] == [
        999,
        994,
        989,
        983,
        978,
        972,
        965,
        959,
        952,
        944,
        937,
        929,
        920,
        911,
        902,
        892,
        882,
        870,
    ]
    assert i2v[-2:] == [208, 113]
    assert sum(t >= 900 for t in i2v) == 15
    ti2v = make_solver("unipc", 50, 5.0).timesteps.tolist()
    assert ti2v[:3] == [999, 995, 991] and ti2v[-3:] == [241, 172, 92]
    dpm_t2v = make_solver("dpm++", 40, 12.0).timesteps
    assert dpm_t2v[:2].tolist() == [1000, 997]
    assert int((dpm_t2v >= 875).sum()) == 26
    assert int((make_solver("dpm++", 40, 5.0).timesteps >= 900).sum()) == 15


# ---- 3. Latents equal the official classes' recorded ones -----------------------------------


@pytest.mark.parametrize("ref", official_entries("final_latents"), ids=entry_id)
def test_final_latent_matches_official(ref: dict) -> None:
    final = sample(make_solver(ref["solver"], ref["steps"], ref["shift"]), official()["toy_seed"])[
        -1
    ]
    expected = as_latent(ref["latent"])
    assert final.dtype == torch.float32
    assert (final - expected).abs().max().item() <= 1e-6


@pytest.mark.parametrize("ref", official_entries("trajectories"), ids=entry_id)
def test_every_step_matches_official(ref: dict) -> None:
    ours = sample(make_solver(ref["solver"], ref["steps"], ref["shift"]), official()["toy_seed"])
    assert len(ours) == len(ref["latents"])
    for i, (x, values) in enumerate(zip(ours, ref["latents"])):
        diff = (x - as_latent(values)).abs().max().item()
        assert diff <= 1e-6, f"step {i}: max abs diff {diff}"


# ---- 2. Every step against diffusers' schedulers given the official sigmas ------------------


def diffusers_unipc(solver: FlowSolver):  # -> diffusers.UniPCMultistepScheduler
    from diffusers import UniPCMultistepScheduler

    sched = UniPCMultistepScheduler(
        num_train_timesteps=1000,
        solver_order=2,
        prediction_type="flow_prediction",
        use_flow_sigmas=True,
        flow_shift=1.0,
        predict_x0=True,
        solver_type="bh2",
        lower_order_final=True,
        disable_corrector=[],
        final_sigmas_type="zero",
        thresholding=False,
    )
    # flow_shift=1 leaves the (already shifted) official float64 sigmas as they are (oracle 4.2 item 7).
    sched.set_timesteps(sigmas=unipc_sigmas(solver.steps, solver.shift))
    return sched


def diffusers_dpm(solver: FlowSolver):  # -> diffusers.DPMSolverMultistepScheduler
    from diffusers import DPMSolverMultistepScheduler

    sched = DPMSolverMultistepScheduler(
        num_train_timesteps=1000,
        solver_order=2,
        prediction_type="flow_prediction",
        algorithm_type="dpmsolver++",
        solver_type="midpoint",
        lower_order_final=True,
        euler_at_final=False,
        final_sigmas_type="zero",
        use_flow_sigmas=True,
        flow_shift=1.0,
        thresholding=False,
    )
    # Its set_timesteps takes no sigmas (diffusers 0.42) and would start at shift(0.999), not 1:
    # put the recorded official schedule on the object instead.
    sched.set_timesteps(solver.steps)
    ref = official_schedule("dpm++", solver.steps, solver.shift)
    sched.sigmas = torch.tensor(ref["sigmas"], dtype=torch.float32)
    sched.timesteps = torch.tensor(ref["timesteps"], dtype=torch.int64)
    return sched


DIFFUSERS_CASES = [
    (name, steps, shift)
    for name in OFFICIAL_SOLVER_NAMES
    for steps in (1, 2, 3, 20, 40)
    for shift in (1.0, 5.0, 12.0)
]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize(("name", "steps", "shift"), DIFFUSERS_CASES, ids=lambda v: f"{v}")
def test_every_step_matches_diffusers(name: str, steps: int, shift: float) -> None:
    pytest.importorskip("diffusers")
    ours = make_solver(name, steps, shift)
    theirs = diffusers_unipc(ours) if name == "unipc" else diffusers_dpm(ours)
    ref = official_schedule(name, steps, shift)
    assert theirs.timesteps.tolist() == ref["timesteps"]
    assert torch.equal(theirs.sigmas, torch.tensor(ref["sigmas"], dtype=torch.float32))
    x_ours, velocity = toy_problem(7)
    x_theirs = x_ours.clone()
    for i, t in enumerate(ours.timesteps):
        x_ours = ours.step(velocity(x_ours, t), t, x_ours)
        x_theirs = theirs.step(velocity(x_theirs, t), t, x_theirs, return_dict=False)[0]
        assert torch.equal(x_ours, x_theirs), (
            f"step {i}: max abs diff {(x_ours - x_theirs).abs().max()}"
        )


# ---- Behaviour --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SOLVER_NAMES)
def test_reset_reproduces_run_and_state_carries_across_callers(name: str) -> None:
    solver = make_solver(name, 6, 5.0)
    first = sample(solver, 3)
    assert solver.step_index == 6
    solver.reset()
    assert solver.step_index == 0
    assert all(torch.equal(a, b) for a, b in zip(first, sample(solver, 3)))
    # An MoE pipeline changes the velocity function mid-run; the solver just keeps its history.
    solver.reset()
    x, high = toy_problem(3)
    _, low = toy_problem(4)
    for t in solver.timesteps:
        x = solver.step((high if t >= 900 else low)(x, t), t, x)
    fresh = make_solver(name, 6, 5.0)
    y, _ = toy_problem(3)
    for t in fresh.timesteps:
        y = fresh.step((high if t >= 900 else low)(y, t), t, y)
    assert torch.equal(x, y)


@pytest.mark.parametrize("name", SOLVER_NAMES)
def test_step_checks_timestep_and_count(name: str) -> None:
    solver = make_solver(name, 2, 5.0)
    x, velocity = toy_problem(0)
    t0, t1 = solver.timesteps
    with pytest.raises(ValueError, match="expects timestep"):
        solver.step(velocity(x, t1), t1, x)
    assert solver.step_index == 0
    x = solver.step(velocity(x, t0), int(t0), x)  # a plain int or a 1-element tensor both work
    x = solver.step(velocity(x, t1), t1.reshape(1), x)
    with pytest.raises(RuntimeError, match="already taken"):
        solver.step(velocity(x, t1), None, x)


@pytest.mark.parametrize("name", SOLVER_NAMES)
def test_counting_survives_duplicate_timesteps(name: str) -> None:
    # 1000 steps at shift 16 repeat integer timesteps (upstream's first-call lookup would start at
    # index 1 and run off the end); counting calls takes every step once.
    solver = make_solver(name, 1000, 16.0)
    assert len(set(solver.timesteps.tolist())) < 1000
    x, velocity = toy_problem(0)
    for t in solver.timesteps:
        x = solver.step(velocity(x, t), t, x)
    assert solver.step_index == 1000 and torch.isfinite(x).all()


@pytest.mark.parametrize("name", SOLVER_NAMES)
def test_low_precision_inputs_are_updated_in_float32(name: str) -> None:
    solver, ref = make_solver(name, 3, 5.0), make_solver(name, 3, 5.0)
    x, velocity = toy_problem(5)
    x16 = x.to(torch.bfloat16)
    x32 = x16.float()
    for t in solver.timesteps:
        v = velocity(x16.float(), t).to(torch.bfloat16)
        x16 = solver.step(v, t, x16)
        assert x16.dtype == torch.float32
        x32 = ref.step(v.float(), t, x32)
        assert torch.equal(x16, x32)
        x16 = x16.to(torch.bfloat16)
        x32 = x32.to(torch.bfloat16).float()


def test_inputs_are_not_modified() -> None:
    for name in SOLVER_NAMES:
        solver = make_solver(name, 3, 5.0)
        x, velocity = toy_problem(1)
        for t in solver.timesteps:
            v = velocity(x, t)
            x_before, v_before = x.clone(), v.clone()
            new = solver.step(v, t, x)
            assert torch.equal(x, x_before) and torch.equal(v, v_before)
            x = new


def test_make_solver_types_and_errors() -> None:
    assert isinstance(make_solver("unipc", 4, 5.0), FlowUniPC)
    assert isinstance(make_solver("dpm++", 4, 5), FlowDPMPP)
    bad_args = [
        ("heun", 4, 5.0),
        ("unipc", 0, 5.0),
        ("unipc", 2.5, 5.0),
        ("dpm++", 4, 0.0),
        ("dpm++", 4, float("nan")),
    ]
    for bad in bad_args:
        with pytest.raises(UserInputError) as err:
            make_solver(*bad)  # type: ignore[arg-type]
        assert err.value.hint
