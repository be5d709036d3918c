"""Flow-matching multistep solvers used by Wan2.2 sampling: UniPC (bh2) and DPM-Solver++ (2M).

These are our own implementations of what the official ``FlowUniPCMultistepScheduler``
(``wan/utils/fm_solvers_unipc.py``) and ``FlowDPMSolverMultistepScheduler`` with
``get_sampling_sigmas`` (``wan/utils/fm_solvers.py``) do for the settings Wan2.2 uses, reduced to
those settings and written to be bit-identical with them (verified in ``tests/engine/test_solvers*``).

Parameterisation (rectified flow): ``x_t = (1 - sigma) * x0 + sigma * noise``; the network predicts
the velocity ``v``, so the data prediction is ``x0 = x_t - sigma * v``. With ``alpha = 1 - sigma``
and ``lambda = log(alpha) - log(sigma)`` both solvers are exponential integrators in ``lambda``.

- UniPC: Zhao et al., "UniPC: A Unified Predictor-Corrector Framework for Fast Sampling of
  Diffusion Models" (arXiv:2302.04867); B(h) = expm1(-h) ("bh2"), order 2, data prediction,
  lower order at the last step, corrector on every step after the first.
- DPM-Solver++(2M): Lu et al., "DPM-Solver++: Fast Solver for Guided Sampling of Diffusion
  Probabilistic Models" (arXiv:2211.01095), midpoint variant, first order at the first and last step.

Official quirks kept on purpose (they change the numbers):
- UniPC's schedule starts at shift(0.999) (its training sigmas end at 0.999, taken through float32),
  DPM++'s at exactly shift(1.0) = 1.0.
- Schedules are built in float64 (numpy), the timesteps are ``int64(sigma * 1000)`` of those float64
  values (truncation), and only then are the sigmas cast to float32 with a final 0 appended.
- Every solver coefficient is a float32 0-dim CPU tensor computed op by op as upstream does (not
  precomputed over all sigmas at once, so a vectorised kernel can't round differently from theirs).
  UniC's weights (a 2x2 solve on the sample's device) are solved the same way, step by step, but
  once per run before the loop (``prepare``), so no step waits on the host.
- The UniC correction uses the data prediction made from the *uncorrected* sample.
- At DPM++'s first steps sigma = 1 gives lambda = -inf; the infinities cancel the way upstream's do
  (step 0 becomes ``sigma_1 * x + alpha_1 * x0``, and step 1's second-order term vanishes).

Deliberate differences: the update always runs in float32 (model output and sample are upcast, the
result is float32; upstream UniPC would compute in the sample's dtype, but Wan pipelines pass float32
anyway), and the step index comes from counting calls, checked against the ``t`` passed in (see
``FlowSolver.step``). Nothing here is random, so there is no ``generator``.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import torch

from wan22_desktop.errors import UserInputError
from wan22_desktop.request import SOLVERS

__all__ = [
    "NUM_TRAIN_TIMESTEPS",
    "SOLVER_NAMES",
    "FlowSolver",
    "FlowUniPC",
    "FlowDPMPP",
    "FlowEuler",
    "OFFICIAL_SOLVER_NAMES",
    "make_solver",
    "shift_sigmas",
    "unipc_sigmas",
    "dpm_sigmas",
    "timesteps_from_sigmas",
]

NUM_TRAIN_TIMESTEPS: Final = 1000
SOLVER_NAMES: Final = SOLVERS  # one home: the request validates the same names
# The solvers of the official generate.py (``--sample_solver``); Euler is ours (Lightning presets).
OFFICIAL_SOLVER_NAMES: Final = ("unipc", "dpm++")

# Upstream UniPC's training sigmas are 1 - reverse(linspace(1, 1/1000, 1000)) stored in float32;
# set_timesteps then spaces the schedule between their first and last entries (0.999 and 0).
_UNIPC_SIGMA_MAX: Final = float(np.float32(1.0 - 1.0 / NUM_TRAIN_TIMESTEPS))
_UNIPC_SIGMA_MIN: Final = 0.0


# ---- Schedules (pure functions) -------------------------------------------------------------


def shift_sigmas(sigmas: np.ndarray, shift: float) -> np.ndarray:
    """Resolution shift ``s*sigma / (1 + (s-1)*sigma)`` in float64, the same expression upstream."""
    return shift * sigmas / (1 + (shift - 1) * sigmas)


def unipc_sigmas(steps: int, shift: float) -> np.ndarray:
    """UniPC's N float64 sigmas: ``linspace(0.999, 0, N+1)[:N]`` shifted (first one below 1)."""
    base = np.linspace(_UNIPC_SIGMA_MAX, _UNIPC_SIGMA_MIN, steps + 1).copy()[:-1]
    return shift_sigmas(base, shift)


def dpm_sigmas(steps: int, shift: float) -> np.ndarray:
    """DPM++'s N float64 sigmas (upstream ``get_sampling_sigmas``): ``linspace(1, 0, N+1)[:N]``, shifted."""
    base = np.linspace(1, 0, steps + 1)[:steps]
    return shift_sigmas(base, shift)


def timesteps_from_sigmas(sigmas: np.ndarray) -> torch.Tensor:
    """Integer model timesteps: ``int64(sigma * 1000)`` of the float64 sigmas, truncated like upstream."""
    return torch.from_numpy(sigmas * NUM_TRAIN_TIMESTEPS).to(torch.int64)


def _float32_with_final_zero(sigmas: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.concatenate([sigmas, [0.0]]).astype(np.float32))


# ---- Shared solver machinery ----------------------------------------------------------------


def _alpha(sigma: torch.Tensor) -> torch.Tensor:
    return 1 - sigma


def _lambda(sigma: torch.Tensor) -> torch.Tensor:
    """Half log-SNR ``log(alpha) - log(sigma)`` of one 0-dim float32 sigma (+inf at 0, -inf at 1)."""
    return torch.log(_alpha(sigma)) - torch.log(sigma)


class FlowSolver:
    """A multistep flow-matching solver for one sampling run of ``steps`` steps.

    ``timesteps`` (int64 [N]) are what the network is given; ``sigmas`` (float32 [N+1], last 0) are
    the noise levels. Call ``step`` once per timestep, in order, with the guided velocity; the
    multistep history lives in the object, so it carries across an MoE expert switch untouched.
    ``reset()`` starts a new run with the same schedule.
    """

    name: str = ""

    def __init__(self, sigmas64: np.ndarray, steps: int, shift: float) -> None:
        self.steps = steps
        self.shift = shift
        self.timesteps = timesteps_from_sigmas(sigmas64)
        self.sigmas = _float32_with_final_zero(sigmas64)
        self.reset()

    @property
    def step_index(self) -> int:
        """Index of the next step to take (0 before the first, ``steps`` when done)."""
        return self._index

    def reset(self) -> None:
        """Forget the history so the next ``step`` is step 0 again."""
        self._index = 0

    def step(
        self, model_output: torch.Tensor, t: int | torch.Tensor | None, sample: torch.Tensor
    ) -> torch.Tensor:
        """Advance ``sample`` from ``sigmas[i]`` to ``sigmas[i+1]`` given the velocity at step i.

        The step index is the number of calls so far, not a search for ``t`` in ``timesteps``
        (upstream's way at the first call): counting stays right when a long, strongly shifted
        schedule repeats an integer timestep. ``t`` is only checked against ``timesteps[i]`` so a
        pipeline that skips or repeats a step fails loudly; pass ``None`` to skip the check. ``t`` is
        the scalar step timestep (an int or a one-element tensor), as upstream passes it even when the
        network gets per-token timesteps (TI2V image-to-video).
        Returns a new float32 tensor; the inputs are not modified.
        """
        i = self._index
        if i >= self.steps:
            raise RuntimeError(f"{self.name}: all {self.steps} steps already taken; call reset()")
        if t is not None:
            given = int(t.item()) if isinstance(t, torch.Tensor) else int(t)
            expected = int(self.timesteps[i])
            if given != expected:
                raise ValueError(f"{self.name}: step {i} expects timestep {expected}, got {given}")
        out = self._update(i, model_output.float(), sample.float())
        self._index = i + 1
        return out

    def prepare(self, device: torch.device) -> None:
        """Compute on ``device`` what depends only on the schedule, before the first step (the
        loop calls it, so the steps make no host→device copies)."""

    def _update(self, i: int, v: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _data_prediction(self, i: int, v: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return x - self.sigmas[i] * v


# ---- UniPC ----------------------------------------------------------------------------------


class FlowUniPC(FlowSolver):
    """UniPC-2 with B(h) = expm1(-h), data prediction: the official default ``--sample_solver unipc``."""

    name = "unipc"
    order = 2

    def __init__(self, steps: int, shift: float) -> None:
        # UniC's order-2 weights per step and device, solved once (they depend only on the
        # schedule): the loop then makes no host→device copy and no linalg.solve per step.
        self._rhos: dict[torch.device, torch.Tensor] = {}
        super().__init__(unipc_sigmas(steps, shift), steps, shift)

    def reset(self) -> None:
        super().reset()
        self._outputs: list[torch.Tensor] = []  # data predictions of the last steps, oldest first
        self._last_sample: torch.Tensor | None = None  # x_{i-1} as used by its predictor
        self._last_order = 0

    def _update(self, i: int, v: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        m = self._data_prediction(i, v, x)  # from the uncorrected sample, like upstream
        if i > 0 and self._last_sample is not None:
            x = self._corrector(i, m, x)
        self._outputs = (self._outputs + [m])[-self.order :]
        # Lower order at the end (lower_order_final) and while the history warms up.
        order = min(self.order, self.steps - i, len(self._outputs))
        self._last_sample = x
        self._last_order = order
        return self._predictor(i, x, order)

    def _predictor(self, i: int, x: torch.Tensor, order: int) -> torch.Tensor:
        """UniP: x_{i+1} from x_i, m_i and (order 2) m_{i-1}."""
        m0 = self._outputs[-1]
        sigma_t, sigma_s0 = self.sigmas[i + 1], self.sigmas[i]
        alpha_t = _alpha(sigma_t)
        lambda_s0 = _lambda(sigma_s0)
        h = _lambda(sigma_t) - lambda_s0
        hh = -h
        h_phi_1 = torch.expm1(hh)
        b_h = torch.expm1(hh)
        x_next = sigma_t / sigma_s0 * x - alpha_t * h_phi_1 * m0
        if order == 2:
            rk = (_lambda(self.sigmas[i - 1]) - lambda_s0) / h
            d1 = (self._outputs[-2] - m0) / rk
            # With two points upstream fixes rho_p = 0.5 instead of solving for it.
            x_next = x_next - alpha_t * b_h * (0.5 * d1)
        return x_next

    def _corrector(self, i: int, m: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """UniC: re-derive x_i from x_{i-1} using the new data prediction m_i (same order as before)."""
        assert self._last_sample is not None
        order = self._last_order
        m0 = self._outputs[-1]
        sigma_t, sigma_s0 = self.sigmas[i], self.sigmas[i - 1]
        alpha_t = _alpha(sigma_t)
        lambda_s0 = _lambda(sigma_s0)
        h = _lambda(sigma_t) - lambda_s0
        hh = -h
        h_phi_1 = torch.expm1(hh)
        b_h = torch.expm1(hh)
        x_corr = sigma_t / sigma_s0 * self._last_sample - alpha_t * h_phi_1 * m0
        d1_t = m - m0
        if order == 1:
            return x_corr - alpha_t * b_h * (0.5 * d1_t)
        rk = (_lambda(self.sigmas[i - 2]) - lambda_s0) / h
        d1 = (self._outputs[-2] - m0) / rk
        rho = self.unic_rhos(x.device)[i]
        return x_corr - alpha_t * b_h * (rho[0] * d1 + rho[1] * d1_t)

    def prepare(self, device: torch.device) -> None:
        self.unic_rhos(device)

    def unic_rhos(self, device: torch.device) -> torch.Tensor:
        """[steps, 2]: row i holds the order-2 UniC weights of step i's corrector (rows 0 and 1,
        which never use them, are NaN). Each row is solved on ``device`` by ``_unic_rhos`` with
        the same scalar operations as a per-step solve, so the weights are bit-identical."""
        rhos = self._rhos.get(device)
        if rhos is None:
            rows = [torch.full((2,), float("nan"), device=device)] * min(2, self.steps)
            for i in range(2, self.steps):
                sigma_t, sigma_s0 = self.sigmas[i], self.sigmas[i - 1]
                lambda_s0 = _lambda(sigma_s0)
                h = _lambda(sigma_t) - lambda_s0
                rk = (_lambda(self.sigmas[i - 2]) - lambda_s0) / h
                hh = -h
                rows.append(_unic_rhos(rk, hh, torch.expm1(hh), device=device))
            rhos = torch.stack(rows)
            self._rhos[device] = rhos
        return rhos


def _unic_rhos(
    rk: torch.Tensor, hh: torch.Tensor, b_h: torch.Tensor, device: torch.device
) -> torch.Tensor:
    """Order-2 UniC weights: solve R rho = b, R = [[1, 1], [r, 1]], b from phi_k(h)/B(h) (UniPC eq. 8).

    Built and solved on the sample's device with ``torch.linalg.solve`` as upstream does, so the
    weights carry the same rounding there. Called once per step at set-up (``unic_rhos``).
    """
    h_phi_k = torch.expm1(hh) / hh - 1
    b1 = h_phi_k / b_h
    h_phi_k = h_phi_k / hh - 0.5
    b2 = h_phi_k * 2 / b_h
    rks = torch.tensor([rk, 1.0], device=device)
    r = torch.stack([torch.pow(rks, 0), rks])
    b = torch.tensor([b1, b2], device=device)
    return torch.linalg.solve(r, b)


# ---- DPM-Solver++ ---------------------------------------------------------------------------


class FlowDPMPP(FlowSolver):
    """DPM-Solver++(2M), midpoint, data prediction: the official ``--sample_solver dpm++``."""

    name = "dpm++"

    def __init__(self, steps: int, shift: float) -> None:
        super().__init__(dpm_sigmas(steps, shift), steps, shift)

    def reset(self) -> None:
        super().reset()
        self._prev_output: torch.Tensor | None = None

    def _update(self, i: int, v: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        m0 = self._data_prediction(i, v, x)
        m1, self._prev_output = self._prev_output, m0
        sigma_t, sigma_s0 = self.sigmas[i + 1], self.sigmas[i]
        alpha_t = _alpha(sigma_t)
        lambda_s0 = _lambda(sigma_s0)
        h = _lambda(sigma_t) - lambda_s0
        coeff = alpha_t * (torch.exp(-h) - 1.0)
        # First order at step 0 (no history) and at the last step (final sigma is zero).
        if m1 is None or i == self.steps - 1:
            return (sigma_t / sigma_s0) * x - coeff * m0
        r0 = (lambda_s0 - _lambda(self.sigmas[i - 1])) / h
        d1 = (1.0 / r0) * (m0 - m1)
        return (sigma_t / sigma_s0) * x - coeff * m0 - 0.5 * coeff * d1


# ---- Euler ----------------------------------------------------------------------------------


class FlowEuler(FlowSolver):
    """First-order flow-matching Euler: ``x_{i+1} = x_i + (sigma_{i+1} - sigma_i) * v_i``.

    Not an official Wan2.2 solver: it is what the step-distilled Lightning (lightx2v) LoRAs are
    run with (ComfyUI's Wan2.2 template: ``euler``/``simple``; LightX2V's distill configs:
    ``denoising_step_list`` [1000, 750, 500, 250] with shift 5), and diffusers'
    ``FlowMatchEulerDiscreteScheduler``. The schedule is DPM++'s, ``shift(linspace(1, 0, N+1)[:N])``
    (ComfyUI's ``simple`` schedule of a shifted flow model gives the same sigmas), so 4 steps at
    shift 5 run at t = 1000, 937, 833, 625. The update is diffusers' exactly (float32, the step
    ``sigma_next - sigma`` as one 0-dim tensor), so it matches that scheduler bit for bit.
    """

    name = "euler"

    def __init__(self, steps: int, shift: float) -> None:
        super().__init__(dpm_sigmas(steps, shift), steps, shift)

    def _update(self, i: int, v: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        dt = self.sigmas[i + 1] - self.sigmas[i]
        return x + dt * v


# ---- Factory --------------------------------------------------------------------------------


def make_solver(name: str, steps: int, shift: float) -> FlowSolver:
    """Build a fresh solver for one run: ``name`` is ``"unipc"``, ``"dpm++"`` or ``"euler"``."""
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise UserInputError(
            f"sampling steps must be a positive integer, got {steps!r}",
            hint="use e.g. 40 (A14B) or 50 (TI2V-5B)",
        )
    if not np.isfinite(shift) or shift <= 0:
        raise UserInputError(
            f"sample shift must be a positive number, got {shift!r}",
            hint="use e.g. 12 (t2v-A14B) or 5 (i2v-A14B, ti2v-5B)",
        )
    if name == "unipc":
        return FlowUniPC(steps, shift)
    if name == "dpm++":
        return FlowDPMPP(steps, shift)
    if name == "euler":
        return FlowEuler(steps, shift)
    raise UserInputError(
        f"unknown sample solver {name!r}", hint="choose one of: " + ", ".join(SOLVER_NAMES)
    )
