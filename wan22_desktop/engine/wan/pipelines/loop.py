"""The denoising loop shared by all three tasks: CFG, the MoE expert switch, step callback, cancel.

Follows the official loops (``wan/text2video.py``, ``image2video.py``, ``textimage2video.py``):
for each solver timestep t, pick the expert (high-noise while ``t >= boundary * 1000``), run the
conditional then the unconditional forward, mix ``uncond + g * (cond - uncond)`` in fp32, and step
the solver (whose multistep history carries across the switch). TI2V with an image re-imposes the
clean first latent frame after every step. Guidance 1.0 skips the unconditional forward (the mix
would return the conditional prediction anyway).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import torch
from torch import nn

from wan22_desktop.engine.wan.solvers import NUM_TRAIN_TIMESTEPS, FlowSolver
from wan22_desktop.errors import Cancelled  # raised between two steps; no output is written

from .step_cache import StepCache

__all__ = ["Cancelled", "HIGH_NOISE", "LOW_NOISE", "SINGLE", "STOP", "StepInfo", "sample"]

HIGH_NOISE: Final = "high_noise_model"
LOW_NOISE: Final = "low_noise_model"
SINGLE: Final = "model"


# A step callback may return STOP (or raise Cancelled) to cancel the run.
STOP: Final = "stop"


@dataclass(frozen=True)
class StepInfo:
    """What the callback sees after each sampling step.

    ``step`` counts finished steps (1..total); ``timestep`` is the step's integer t; ``expert`` the
    network that ran (``high_noise_model``, ``low_noise_model`` or ``model``); ``latents`` the
    current latent [C, F, h, w] (fp32; do not modify — copy it for a preview)."""

    step: int
    total: int
    timestep: int
    expert: str
    latents: torch.Tensor
    skipped: bool = False  # step caching reused the last prediction instead of running the DiT


StepCallback = Callable[[StepInfo], Any]


def expert_for_timestep(t: int, boundary: float | None) -> str:
    """Official switch: the high-noise expert while ``t >= boundary * 1000``; one model otherwise."""
    if boundary is None:
        return SINGLE
    return HIGH_NOISE if t >= boundary * NUM_TRAIN_TIMESTEPS else LOW_NOISE


def expert_for_step(i: int, t: int, boundary: float | None, switch_step: int | None) -> str:
    """The expert of step ``i``: by step count when ``switch_step`` is given (the high-noise
    expert for steps ``0..switch_step-1``, as ComfyUI's Lightning template and LightX2V's
    ``boundary_step_index``), else the official boundary on the timestep."""
    if boundary is None or switch_step is None:
        return expert_for_timestep(t, boundary)
    return HIGH_NOISE if i < switch_step else LOW_NOISE


def expert_schedule(
    timesteps: Sequence[int], boundary: float | None, switch_step: int | None = None
) -> list[str]:
    """The expert of every step, in order (pure; used by tests and progress displays)."""
    return [expert_for_step(i, int(t), boundary, switch_step) for i, t in enumerate(timesteps)]


@dataclass(frozen=True)
class Conditioning:
    """Per-run inputs of the DiT besides the latent: text contexts, i2v ``y``, token count."""

    context: list[torch.Tensor]
    context_null: list[torch.Tensor]
    seq_len: int
    y: list[torch.Tensor] | None = None
    # TI2V: mask [C, F, h, w] (0 on frames kept clean) and the clean latent z to re-impose.
    keep_mask: torch.Tensor | None = None
    keep_latent: torch.Tensor | None = None
    per_token_t: bool = False
    patch_hw: tuple[int, int] = (2, 2)


def model_timestep(t: torch.Tensor, cond: Conditioning) -> torch.Tensor:
    """What the DiT gets for step timestep ``t`` (int64 [1]): [1] for A14B; for TI2V the official
    per-token vector [1, seq_len] = mask[0][:, ::ph, ::pw] * t flattened, padding tokens at t."""
    if not cond.per_token_t:
        return t
    ph, pw = cond.patch_hw
    mask = cond.keep_mask if cond.keep_mask is not None else None
    if mask is None:
        raise ValueError("per-token timesteps need the keep mask")
    tokens = (mask[0][:, ::ph, ::pw] * t).flatten()
    pad = tokens.new_ones(cond.seq_len - tokens.numel()) * t
    return torch.cat([tokens, pad]).unsqueeze(0)


def clean_prefix(cond: Conditioning) -> int | None:
    """TI2V: how many leading tokens the keep mask holds clean (t = 0), read once before the loop,
    so each step passes t [1] + ``clean_tokens`` to the DiT instead of a per-token vector whose
    distinct values the DiT would have to look up on the host. 0 without per-token t; None when
    the mask is not such a prefix (then the per-token vector is passed, as before)."""
    if not cond.per_token_t:
        return 0
    if cond.keep_mask is None:
        return None
    ph, pw = cond.patch_hw
    tokens = cond.keep_mask[0][:, ::ph, ::pw].flatten().cpu()
    n = int((tokens == 0).sum())
    if bool((tokens[:n] == 0).all()) and bool((tokens[n:] == 1).all()):
        return n
    return None


def guided_velocity(
    model: nn.Module,
    latent: torch.Tensor,
    t: torch.Tensor,
    cond: Conditioning,
    guide: float,
    *,
    clean_tokens: int = 0,
    cfg_batch: bool = False,
) -> torch.Tensor:
    """Classifier-free guidance, two batch-1 forwards, conditional first (official order); with
    ``cfg_batch`` one batch-2 forward (conditional, unconditional) with the same result up to
    rounding, at twice the activations."""
    kw: dict[str, Any] = {"seq_len": cond.seq_len, "clean_tokens": clean_tokens}
    if guide != 1.0 and cfg_batch:
        y = None if cond.y is None else cond.y + cond.y
        both = model(
            [latent, latent],
            t=t.expand(2, *t.shape[1:]),
            context=cond.context + cond.context_null,
            y=y,
            **kw,
        )
        v_cond, v_uncond = both[0].float(), both[1].float()
        return v_uncond + guide * (v_cond - v_uncond)
    v_cond = model([latent], t=t, context=cond.context, y=cond.y, **kw)[0]
    if guide == 1.0:
        return v_cond.float()
    v_uncond = model([latent], t=t, context=cond.context_null, y=cond.y, **kw)[0]
    return v_uncond.float() + guide * (v_cond.float() - v_uncond.float())


def sample(
    *,
    latent: torch.Tensor,
    solver: FlowSolver,
    cond: Conditioning,
    activate: Callable[[str], nn.Module],
    guidance: tuple[float, float],
    boundary: float | None,
    callback: StepCallback | None = None,
    cfg_batch: bool = False,
    switch_step: int | None = None,
    step_cache: float = 0.0,
    warmup_steps: int = 0,
    warmup_guidance: float | None = None,
    after_warmup: Callable[[], None] | None = None,
) -> torch.Tensor:
    """Run every solver step from the initial ``latent`` [C, F, h, w]; returns the final latent.

    ``activate(name)`` returns the expert to use, placed on the device (see ``offload``);
    ``guidance`` is (low-noise, high-noise) as in the official configs. A callback returning
    ``STOP`` (or raising ``Cancelled``) ends the run with ``Cancelled`` before the next step.
    ``cfg_batch``: the plan's choice to run CFG's two forwards as one batch of two.
    ``switch_step``: the A14B expert switch by step count (None: ``boundary``). ``step_cache``:
    the step-caching threshold (0: off; see ``step_cache.StepCache``), per expert.
    ``warmup_steps``: the guided warm-up (ADR 0025): steps ``0..warmup_steps-1`` use
    ``warmup_guidance`` (None: the expert's own) and ``after_warmup()`` runs once before step
    ``warmup_steps`` (the job merges the LoRAs there; the solver state carries on unchanged).
    Everything that depends only on the schedule is on the device before the first step, so the
    steps themselves make no host synchronisation (step caching reads one number per step to
    decide whether to skip: its price).
    """
    device = latent.device
    total = solver.steps
    low, high = guidance
    solver.prepare(device)
    timesteps = solver.timesteps.to(device)
    clean = clean_prefix(cond)
    cache = StepCache(step_cache) if step_cache > 0 else None
    previous: str | None = None
    for i, t in enumerate(solver.timesteps.tolist()):
        name = expert_for_step(i, t, boundary, switch_step)
        if i == warmup_steps > 0 and after_warmup is not None:
            after_warmup()  # the network changes (LoRAs merged): cached predictions are stale
            previous = None
        if cache is not None and name != previous:
            cache.reset()  # each expert caches its own predictions
        previous = name
        skip = cache is not None and i < total - 1 and cache.can_skip(latent)
        if skip:
            assert cache is not None
            velocity = cache.reuse(latent)
        else:
            model = activate(name)
            guide = low if name == LOW_NOISE else high
            if i < warmup_steps and warmup_guidance is not None:
                guide = warmup_guidance
            t_step = timesteps[i : i + 1]
            t_model = t_step if clean is not None else model_timestep(t_step, cond)
            velocity = guided_velocity(
                model, latent, t_model, cond, guide, clean_tokens=clean or 0, cfg_batch=cfg_batch
            )
            if cache is not None:
                cache.update(latent, velocity)
        latent = solver.step(velocity.unsqueeze(0), t, latent.unsqueeze(0)).squeeze(0)
        if cond.keep_mask is not None and cond.keep_latent is not None:
            latent = (1.0 - cond.keep_mask) * cond.keep_latent + cond.keep_mask * latent
        info = StepInfo(i + 1, total, t, name, latent, skipped=skip)
        if callback is not None and callback(info) == STOP:
            raise Cancelled(f"cancelled after step {i + 1} of {total}")
    return latent
