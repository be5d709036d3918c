"""A rough render-time range for the plan preview, scaled from the official timing table.

The official README ("Computational Efficiency", docs/reference.md §11) gives total seconds for the
default jobs (A14B: 40 steps, 81 frames at 480P/720P; TI2V-5B: 50 steps, 121 frames at 720P) on
a few GPUs with 1, 4 and 8 cards. We scale the matching row linearly in steps and by a power of
the DiT token count (attention makes time grow faster than tokens; the exponent is fitted to the
480P->720P pair of the same GPU), and interpolate the speed-up for GPU counts in between.

This is an estimate, shown as a range, never a promise: other GPUs are placed by an assumed speed
relative to the H100, and model loading is not included (the table is after warm-up). Pure
Python, no Qt: tested with tables of cases. Shared by the Generate view's plan panel and the
queue's finish estimate (``services.queue_eta``, its fallback before this machine has finished a
comparable job), hence outside gui/.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from wan22_desktop.request import GenerationRequest
from wan22_desktop.runtime.planner import dit_tokens

# (gpu class, model, resolution) -> seconds for 1, 4, 8 GPUs (official table, T2V rows).
OFFICIAL_SECONDS: dict[tuple[str, str, str], tuple[float, float, float]] = {
    ("RTX 4090", "5B", "720P"): (534.7, 231.3, 157.2),
    ("H20", "A14B", "480P"): (1133.9, 306.6, 170.5),
    ("H20", "A14B", "720P"): (4048.7, 1067.8, 564.7),
    ("A100", "A14B", "480P"): (785.7, 215.2, 119.9),
    ("A100", "A14B", "720P"): (2735.7, 725.3, 386.7),
    ("H100", "A14B", "480P"): (326.9, 91.7, 51.5),
    ("H100", "A14B", "720P"): (1041.5, 288.7, 155.1),
}
REFERENCE_JOB = {  # model -> (width, height, frames, steps) of the table's rows per resolution
    ("A14B", "480P"): (832, 480, 81, 40),
    ("A14B", "720P"): (1280, 720, 81, 40),
    ("5B", "720P"): (1280, 704, 121, 50),
}
GPU_COUNTS = (1, 4, 8)
# Time relative to an H100 for the same job. H20 and A100 follow from the A14B 720P rows; the
# RTX 4090 figure is an assumption (no common row), so its ranges are wider.
RELATIVE_TIME = {"H100": 1.0, "A100": 2735.7 / 1041.5, "H20": 4048.7 / 1041.5, "RTX 4090": 2.6}
DEFAULT_EXPONENT = 1.4  # tokens -> time, when only one resolution is measured
SPREAD = (0.8, 1.3)  # range around the estimate for a GPU in the table
UNKNOWN_SPREAD = (0.7, 2.0)  # ...and for a GPU we could only place by assumption


@dataclass(frozen=True)
class EtaEstimate:
    low_s: float
    high_s: float
    basis: str  # which official row it was scaled from, for the tooltip

    def text(self, units: tuple[str, str, str] = ("s", "min", "h")) -> str:
        return f"{format_duration(self.low_s, units)} – {format_duration(self.high_s, units)}"


def gpu_class(name: str) -> str | None:
    """Map a CUDA device name to a row of the table (None: not one we know)."""
    n = name.upper().replace(" ", "")
    for needle, cls in (
        ("H200", "H100"),
        ("H100", "H100"),
        ("H800", "H100"),
        ("H20", "H20"),
        ("A100", "A100"),
        ("A800", "A100"),
        ("4090", "RTX 4090"),
    ):
        if needle in n:
            return cls
    return None


def estimate(
    task: str,
    width: int,
    height: int,
    frames: int,
    steps: int,
    gpus: int,
    gpu_name: str,
    *,
    forwards_per_step: float = 2.0,
) -> EtaEstimate | None:
    """Seconds to render (after loading) on ``gpus`` x ``gpu_name``; None for the CPU.

    The official rows use guidance, two DiT forwards per step; ``forwards_per_step`` below 2
    (guidance 1 skips the unconditional pass) scales the time down in proportion."""
    if gpus < 1 or not gpu_name:
        return None
    model = "5B" if task.startswith("ti2v") else "A14B"
    cls = gpu_class(gpu_name)
    known = cls is not None and any(k[0] == cls and k[1] == model for k in OFFICIAL_SECONDS)
    source = cls if known and cls is not None else _reference_class(model)
    tokens = dit_tokens(model, width, height, frames)
    rows = sorted(
        (res, secs) for (g, m, res), secs in OFFICIAL_SECONDS.items() if g == source and m == model
    )
    # Nearest measured resolution by token count, and the exponent from two rows when we have them.
    measured = [
        (dit_tokens(model, *REFERENCE_JOB[(model, res)][:3]), secs, res) for res, secs in rows
    ]
    ref_tokens, ref_secs, ref_res = min(measured, key=lambda r: abs(math.log(tokens / r[0])))
    exponent = DEFAULT_EXPONENT
    if len(measured) >= 2:
        (t1, s1, _), (t2, s2, _) = sorted(measured)[:2]
        exponent = math.log(s2[0] / s1[0]) / math.log(t2 / t1)
    ref_steps = REFERENCE_JOB[(model, ref_res)][3]
    one_gpu_secs = _at_gpu_count(ref_secs, gpus)
    secs = one_gpu_secs * (steps / ref_steps) * (tokens / ref_tokens) ** exponent
    secs *= forwards_per_step / 2.0
    if not known:
        secs *= RELATIVE_TIME.get(cls or "", 1.0) / RELATIVE_TIME[source]
    lo, hi = SPREAD if known and cls is not None else UNKNOWN_SPREAD
    if cls is None:  # unknown GPU: anything from H100 speed to much slower
        lo, hi = UNKNOWN_SPREAD[0], UNKNOWN_SPREAD[1] * RELATIVE_TIME["H20"]
    basis = (
        f"scaled from the official {source} timing ({model}, {ref_res}, "
        f"{ref_steps} steps, {', '.join(str(c) for c in GPU_COUNTS)} GPUs)"
    )
    return EtaEstimate(secs * lo, secs * hi, basis)


def forwards_per_step(request: GenerationRequest) -> float:
    """DiT forwards per step on average: guidance 1 skips the unconditional pass (one forward
    instead of two). For A14B the experts may differ; without a switch step half the steps are
    counted on each (the official boundary depends on the shift). The guided warm-up's steps
    count at their own guidance (two forwards for the three-phase preset's phase 1)."""

    def passes(g: float) -> int:
        return 1 if g == 1.0 else 2

    n = request.sample_steps
    warm = min(max(request.warmup_steps, 0), n)
    low, high = passes(request.guidance.low), passes(request.guidance.high)
    if not request.spec.is_moe or low == high:
        total = float(low * n)
    else:
        n_high = request.switch_step if request.switch_step is not None else n / 2
        total = n_high * high + (n - n_high) * low
    if warm and request.warmup_guidance is not None:
        # the warm-up is the first steps, on the high-noise expert while they come before the
        # switch (the rest of it on the low-noise one)
        n_high = request.switch_step if request.switch_step is not None else n / 2
        on_high = min(warm, n_high)
        before = on_high * high + (warm - on_high) * low
        total += warm * passes(request.warmup_guidance) - before
    return total / max(n, 1)


def _reference_class(model: str) -> str:
    return "RTX 4090" if model == "5B" else "H100"


def _at_gpu_count(secs: tuple[float, float, float], n: int) -> float:
    """Time on ``n`` GPUs: the speed-up interpolated linearly between 1, 4 and 8 GPUs."""
    speedups = [secs[0] / s for s in secs]
    points = list(zip(GPU_COUNTS, speedups))
    for (n1, s1), (n2, s2) in zip(points, points[1:]):
        if n <= n2:
            return secs[0] / (s1 + (s2 - s1) * (n - n1) / (n2 - n1))
    (n1, s1), (n2, s2) = points[-2], points[-1]
    return secs[0] / (s2 + (s2 - s1) * (n - n2) / (n2 - n1))


def format_duration(seconds: float, units: tuple[str, str, str] = ("s", "min", "h")) -> str:
    """ "5 s", "1 min 15 s", "15 min", "1 h 07 min"; ``units`` may be translated."""
    s_, m_, h_ = units
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} {s_}"
    minutes, s = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} {m_}" if minutes >= 10 else f"{minutes} {m_} {s:02d} {s_}"
    hours, m = divmod(minutes, 60)
    return f"{hours} {h_} {m:02d} {m_}"
