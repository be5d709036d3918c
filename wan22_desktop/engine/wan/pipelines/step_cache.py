"""Step caching ("Turbo"): skip a DiT evaluation when the prediction would barely change.

Method: EasyCache (Zhou et al., "Less is Enough: Training-Free Video Diffusion Acceleration via
Runtime-Adaptive Caching", arXiv:2507.02860; github.com/H-EmbodVis/EasyCache). Chosen over
TeaCache and MagCache because it needs no calibration data: TeaCache fits a polynomial per model
(published for Wan2.1 only; WanVideoWrapper reuses the 14B coefficients for 2.2) and MagCache
needs per-model magnitude ratios (maxdiffusion PR #433 calibrated them for Wan2.2 on TPU, 1.82x
T2V / 1.75x I2V), while EasyCache measures everything at run time, so it works for both A14B
experts and TI2V-5B alike. Published: 2.1-3.3x on Wan2.1/HunyuanVideo with PSNR ~ 30 dB;
ComfyUI ships it natively (``comfy_extras/nodes_easycache.py``), WanVideoWrapper as a cache
option (threshold 0.015, start step 10).

At every fully computed step it records the transformation rate ``k = |v_i - v_j| / |x_i - x_j|``
(mean absolute change of the guided velocity over that of the latent, between the last two
computed steps) and the transformation vector ``v - x``. Before the next step it estimates the
relative change of the prediction as ``k * |x - x_prev| / |v_prev|`` and accumulates it; while the
sum stays under the threshold the step reuses ``x + (v - x)_cached`` instead of running the DiT
(both CFG forwards). A computed step resets the sum.

Ours: the state is per expert (``reset`` at the A14B switch, so the low-noise expert never reuses
a high-noise prediction), the first two steps of each expert and the last step of the run are
always computed. Deterministic: plain tensor reductions, no randomness, so the same request gives
the same video. Threshold 0 means no cache object at all (the loop's normal path, bit-identical).
"""

from __future__ import annotations

import torch

WARMUP_STEPS = 2  # computed steps per expert before any skip: k needs two of them


def _mean_abs(t: torch.Tensor) -> float:
    return float(t.float().abs().mean())


class StepCache:
    """EasyCache state for one run; ask ``can_skip`` before a step, then ``reuse`` or ``update``."""

    def __init__(self, threshold: float) -> None:
        if not threshold > 0:
            raise ValueError("a step cache needs a positive threshold")
        self.threshold = float(threshold)
        self.reset()

    def reset(self) -> None:
        """Forget everything (a new run, or the other expert takes over)."""
        self._computed = 0
        self._k: float | None = None
        self._accumulated = 0.0
        self._x_prev: torch.Tensor | None = None  # latent of the previous step (any kind)
        self._v_prev: torch.Tensor | None = None  # velocity used at the previous step
        self._x_comp: torch.Tensor | None = None  # latent of the last computed step
        self._v_comp: torch.Tensor | None = None
        self._delta: torch.Tensor | None = None  # v - x of the last computed step

    def can_skip(self, x: torch.Tensor) -> bool:
        """Whether the step at latent ``x`` may reuse the cached transformation."""
        if self._computed < WARMUP_STEPS or self._k is None:
            return False
        assert self._x_prev is not None and self._v_prev is not None
        scale = _mean_abs(self._v_prev)
        if scale == 0.0:
            return False
        estimate = self._k * _mean_abs(x - self._x_prev) / scale
        self._accumulated += estimate
        return self._accumulated < self.threshold

    def reuse(self, x: torch.Tensor) -> torch.Tensor:
        """The velocity for a skipped step: ``x`` plus the cached transformation vector."""
        assert self._delta is not None
        v = x.float() + self._delta
        self._x_prev, self._v_prev = x, v
        return v

    def update(self, x: torch.Tensor, v: torch.Tensor) -> None:
        """Record a computed step's latent ``x`` and guided velocity ``v``."""
        v = v.float()
        if self._x_comp is not None and self._v_comp is not None:
            dx = _mean_abs(x - self._x_comp)
            self._k = _mean_abs(v - self._v_comp) / dx if dx > 0 else None
        self._x_comp, self._v_comp = x, v
        self._x_prev, self._v_prev = x, v
        self._delta = v - x.float()
        self._accumulated = 0.0
        self._computed += 1
