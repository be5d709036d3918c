""" "How it was made": a finished generation's stored request, plan and sampling record as
labelled lines (model and placement, steps per expert, warm-up phases, Turbo skips, LoRAs,
attention and its fallback, seed, time per phase, peak memory).

Pure and Qt-free: ``wan22 history show`` prints the lines in English and the History view's detail
pane translates them. Every text is a ``Phrase``: an English template from ``TEMPLATES`` with
``{name}`` values (numbers, file names, kernel names: never translated), a planner line (the GUI
translates it with ``gui/plan_text``) or free text. ``gui/history_actions.py`` marks every template
for ``pyside6-lupdate``; a test keeps the two lists equal.

Steps are shown 1-based, as the progress bar counts them ("step 3/8"); the stored record is
0-based. Old rows without a sampling record, and malformed JSON, give "not recorded" lines or
none: ``how_made`` never raises.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wan22_desktop.errors import UserInputError
from wan22_desktop.runtime.planner import Plan
from wan22_desktop.tasks import get_task
from wan22_desktop.units import format_bytes

log = logging.getLogger(__name__)

# Labels.
MODEL = "Model"
PLACEMENT = "Placement"
MEMORY_SAVERS = "Memory savers"
PRECISION = "Precision"
STEPS = "Steps"
EXPERTS = "Steps by expert"
PHASE = "Phase {n}"
TURBO = "Turbo (step caching)"
GUIDANCE = "Guidance"
LORA = "LoRA"
ATTENTION = "Attention"
SEED = "Seed"
TIME = "Time"
PEAK = "Peak memory"
PLANNED = "Planned memory"

# Values.
NOT_RECORDED = "not recorded"
NONE = "none"
N_STEPS = "{n} steps"
SOLVER = "solver {solver}"
SHIFT = "shift {shift}"
EXPERT_STEPS = {
    "high_noise_model": "high-noise {steps}",
    "low_noise_model": "low-noise {steps}",
    "model": "one model {steps}",
}
OTHER_EXPERT_STEPS = "{expert} {steps}"
PHASE_STEPS = "steps {steps}"
EXPERT_NAME = {
    "high_noise_model": "high-noise",
    "low_noise_model": "low-noise",
    "model": "one model",
}
GUIDANCE_IS = "guidance {g}"
LORAS_ON = "LoRAs on"
LORAS_OFF = "LoRAs off"
SKIPPED = "skipped {n} of {total} steps: {steps}"
NONE_SKIPPED = "on (threshold {t}), no step skipped"
HIGH_G = "high-noise {g}"
LOW_G = "low-noise {g}"
WARMUP = "warm-up: {n} steps at {g}"
WARMUP_STEPS = "warm-up: {n} steps"
STRENGTH_HIGH = "high-noise {s}"
STRENGTH_LOW = "low-noise {s}"
STRENGTH = "strength {s}"
FELL_BACK = "fell back to PyTorch SDPA: {why}"
PHASE_TIMES = {
    "loading": "loading {s} s",
    "prompt_extension": "prompt extension {s} s",
    "text_encoding": "text encoding {s} s",
    "sampling": "sampling {s} s",
    "decoding": "decoding {s} s",
    "saving": "saving {s} s",
    "total": "total {s} s",
}
OTHER_TIME = "{phase} {s} s"
PER_STEP = "{s} s per step"
PLANNED_IS = "about {vram} GiB VRAM per GPU, {ram} GiB RAM"

TEMPLATES: tuple[str, ...] = (
    MODEL,
    PLACEMENT,
    MEMORY_SAVERS,
    PRECISION,
    STEPS,
    EXPERTS,
    PHASE,
    TURBO,
    GUIDANCE,
    LORA,
    ATTENTION,
    SEED,
    TIME,
    PEAK,
    PLANNED,
    NOT_RECORDED,
    NONE,
    N_STEPS,
    SOLVER,
    SHIFT,
    *EXPERT_STEPS.values(),
    OTHER_EXPERT_STEPS,
    PHASE_STEPS,
    *EXPERT_NAME.values(),
    GUIDANCE_IS,
    LORAS_ON,
    LORAS_OFF,
    SKIPPED,
    NONE_SKIPPED,
    HIGH_G,
    LOW_G,
    WARMUP,
    WARMUP_STEPS,
    STRENGTH_HIGH,
    STRENGTH_LOW,
    STRENGTH,
    FELL_BACK,
    *PHASE_TIMES.values(),
    OTHER_TIME,
    PER_STEP,
    PLANNED_IS,
)

FALLBACK_NOTE = ("attention: ", "; this job ran on PyTorch SDPA from then on")


@dataclass(frozen=True)
class Phrase:
    """One piece of a line. ``kind``: "template" (``text`` is in ``TEMPLATES``, filled with
    ``values``), "plan" (a planner line) or "raw" (shown as it is: a name, a number)."""

    text: str
    values: tuple[tuple[str, str], ...] = ()
    kind: str = "template"

    def render(
        self, tr: Callable[[str], str] | None = None, tr_plan: Callable[[str], str] | None = None
    ) -> str:
        if self.kind == "raw":
            return self.text
        if self.kind == "plan":
            return tr_plan(self.text) if tr_plan else self.text
        out = tr(self.text) if tr else self.text
        for name, value in self.values:
            out = out.replace("{" + name + "}", value)
        return out


@dataclass(frozen=True)
class Line:
    """A labelled line; its phrases are joined with the language's list separator."""

    label: Phrase
    phrases: tuple[Phrase, ...]

    def english(self) -> str:
        return f"{self.label.render()}: {', '.join(p.render() for p in self.phrases)}"


def _t(text: str, **values: Any) -> Phrase:
    return Phrase(text, tuple((k, str(v)) for k, v in values.items()))


def _raw(text: Any) -> Phrase:
    return Phrase(str(text), kind="raw")


def _line(label: str | Phrase, *phrases: Phrase) -> Line:
    return Line(label if isinstance(label, Phrase) else _t(label), tuple(phrases))


def _num(value: Any) -> str:
    """A number as people write it: 5, 3.5, 0.05 (no trailing zeros)."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _seconds(value: Any) -> str:
    s = float(value)
    return f"{s:.0f}" if s >= 100 else f"{s:.1f}"


def compact_ranges(steps: Iterable[int], *, base: int = 1) -> str:
    """0-based step indices as 1-based runs: [0, 1, 2, 3, 6] -> "1–4, 7" (an en dash)."""
    out: list[str] = []
    values = sorted(set(int(s) for s in steps))
    i = 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and values[j + 1] == values[j] + 1:
            j += 1
        a, b = values[i] + base, values[j] + base
        out.append(str(a) if a == b else f"{a}–{b}")
        i = j + 1
    return ", ".join(out)


# ---- the lines


def how_made(generation: Mapping[str, Any], *, finished: bool = True) -> list[Line]:
    """The lines for one generation (``db.views.generation_to_dict``): what the user asked, what
    the planner chose and what the sampler did. Missing or malformed parts give "not recorded"
    lines or none; never raises. ``finished=False`` (a failed or cancelled job, same keys): only
    what was asked and planned, no "not recorded" lines for what a finished run records."""
    if not isinstance(generation, Mapping):
        return []
    request = _mapping(generation.get("request"))
    plan = _mapping(generation.get("plan"))
    sampling = _mapping(plan.get("sampling"))
    builders: list[Callable[[], list[Line]]] = [
        lambda: _model(generation, plan),
        lambda: _placement(plan),
        lambda: _steps(request, sampling),
    ]
    if finished:
        builders += [lambda: _experts(sampling), lambda: _phases(sampling)]
        builders += [lambda: _turbo(request, sampling)]
    builders += [
        lambda: _guidance(request),
        lambda: _loras(request),
        lambda: _attention(plan),
        lambda: _seed(generation),
    ]
    if finished:
        builders += [lambda: _time(generation, sampling, request)]
    builders += [lambda: _memory(generation, plan, measured=finished)]
    out: list[Line] = []
    for build in builders:
        try:
            out += build()
        except Exception:  # noqa: BLE001 - a malformed stored field drops its line, not the pane
            log.info("how-it-was-made line skipped for record %r", generation.get("id"))
    return out


def english_lines(generation: Mapping[str, Any]) -> list[str]:
    """``how_made`` as plain English lines (``wan22 history show``)."""
    return [line.english() for line in how_made(generation)]


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def _model(gen: Mapping[str, Any], plan: Mapping[str, Any]) -> list[Line]:
    task = plan.get("task") or gen.get("task")
    if not task:
        return []
    phrases = [_raw(task)]
    why = _mapping(plan.get("reasons")).get("task")
    if isinstance(why, str) and why and why != f"{task} as requested":
        phrases.append(Phrase(why, kind="plan"))
    return [_line(MODEL, *phrases)]


def _plan_object(plan: Mapping[str, Any]) -> Plan | None:
    try:
        return Plan.from_dict(plan)
    except (TypeError, ValueError, KeyError):
        return None


def _placement(plan: Mapping[str, Any]) -> list[Line]:
    if not plan:
        return []
    out: list[Line] = []
    reasons = _mapping(plan.get("reasons"))
    where = [
        Phrase(reasons[k], kind="plan")
        for k in ("device", "gpus")
        if isinstance(reasons.get(k), str) and reasons[k]
    ]
    if not where and plan.get("device"):
        where = [_raw(str(plan["device"]).upper())]
    if where:
        out.append(_line(PLACEMENT, *where))
    p = _plan_object(plan)
    if p is not None:
        savers = p.savers()
        out.append(_line(MEMORY_SAVERS, *[Phrase(s, kind="plan") for s in savers] or [_t(NONE)]))
        why = reasons.get("precision")  # the planner's line names the precision
        out.append(_line(PRECISION, Phrase(str(why), kind="plan") if _text(why) else _raw(p.dtype)))
    return out


def _steps(request: Mapping[str, Any], sampling: Mapping[str, Any]) -> list[Line]:
    experts = sampling.get("experts")
    n = len(experts) if isinstance(experts, list) and experts else request.get("sample_steps")
    if not isinstance(n, int) or isinstance(n, bool):
        return []
    phrases = [_t(N_STEPS, n=n)]
    if request.get("solver"):
        phrases.append(_t(SOLVER, solver=request["solver"]))
    if isinstance(request.get("sample_shift"), (int, float)):
        phrases.append(_t(SHIFT, shift=_num(request["sample_shift"])))
    return [_line(STEPS, *phrases)]


def _experts(sampling: Mapping[str, Any]) -> list[Line]:
    experts = sampling.get("experts")
    if not isinstance(experts, list) or not experts:
        return [_line(EXPERTS, _t(NOT_RECORDED))]
    order: dict[str, list[int]] = {}
    for i, name in enumerate(experts):
        order.setdefault(str(name), []).append(i)
    return [
        _line(
            EXPERTS,
            *[
                _t(EXPERT_STEPS[name], steps=compact_ranges(steps))
                if name in EXPERT_STEPS
                else _t(OTHER_EXPERT_STEPS, expert=name, steps=compact_ranges(steps))
                for name, steps in order.items()
            ],
        )
    ]


def _phases(sampling: Mapping[str, Any]) -> list[Line]:
    phases = sampling.get("phases")
    if not isinstance(phases, list):
        return []
    out: list[Line] = []
    for n, ph in enumerate(phases, 1):
        if not isinstance(ph, Mapping):
            continue
        first, end = (int(x) for x in ph["steps"])
        phrases = [_t(PHASE_STEPS, steps=compact_ranges(range(first, end)))]
        name = str(ph.get("expert", ""))
        if name:
            phrases.append(_t(EXPERT_NAME[name]) if name in EXPERT_NAME else _raw(name))
        if isinstance(ph.get("guidance"), (int, float)):
            phrases.append(_t(GUIDANCE_IS, g=_num(ph["guidance"])))
        if "loras" in ph:
            phrases.append(_t(LORAS_ON if ph["loras"] else LORAS_OFF))
        out.append(_line(_t(PHASE, n=n), *phrases))
    return out


def _turbo(request: Mapping[str, Any], sampling: Mapping[str, Any]) -> list[Line]:
    skipped = sampling.get("skipped_steps")
    experts = sampling.get("experts")
    threshold = request.get("step_cache")
    if isinstance(skipped, list) and skipped:
        total = len(experts) if isinstance(experts, list) else request.get("sample_steps", "?")
        return [
            _line(
                TURBO,
                _t(SKIPPED, n=len(skipped), total=total, steps=compact_ranges(skipped)),
            )
        ]
    if isinstance(threshold, (int, float)) and threshold > 0:
        if isinstance(skipped, list):
            return [_line(TURBO, _t(NONE_SKIPPED, t=_num(threshold)))]
        return [_line(TURBO, _t(NOT_RECORDED))]
    return []


def _guidance(request: Mapping[str, Any]) -> list[Line]:
    g = _mapping(request.get("guidance"))
    if not g:
        return []
    low, high = g.get("low"), g.get("high")
    phrases = (
        [_t(HIGH_G, g=_num(high)), _t(LOW_G, g=_num(low))]
        if high != low and high is not None
        else [_raw(_num(low))]
    )
    warm = request.get("warmup_steps")
    if isinstance(warm, int) and warm > 0:
        wg = request.get("warmup_guidance")
        phrases.append(
            _t(WARMUP, n=warm, g=_num(wg)) if wg is not None else _t(WARMUP_STEPS, n=warm)
        )
    return [_line(GUIDANCE, *phrases)]


def _loras(request: Mapping[str, Any]) -> list[Line]:
    loras = request.get("loras")
    if not isinstance(loras, Sequence) or isinstance(loras, str):
        return []
    one_model = _one_model(request.get("task"))
    out: list[Line] = []
    for x in loras:
        if not isinstance(x, Mapping):
            continue
        high = _num(x.get("strength_high", 1.0))
        strengths = (
            [_t(STRENGTH, s=high)]  # one model, one strength (both fields equal)
            if one_model
            else [_t(STRENGTH_HIGH, s=high), _t(STRENGTH_LOW, s=_num(x.get("strength_low", 1.0)))]
        )
        out.append(_line(LORA, _raw(Path(str(x.get("path", ""))).name), *strengths))
    return out


def _one_model(task: Any) -> bool:
    try:
        return not get_task(str(task)).is_moe
    except UserInputError:
        return False


def _attention(plan: Mapping[str, Any]) -> list[Line]:
    backend = plan.get("attention")
    if not backend:
        return []
    why = _mapping(plan.get("reasons")).get("attention")  # the planner's line names the kernel
    phrases = [Phrase(str(why), kind="plan") if _text(why) else _raw(backend)]
    warnings = plan.get("warnings")
    for w in warnings if isinstance(warnings, list) else ():
        if isinstance(w, str) and w.startswith(FALLBACK_NOTE[0]):
            why_fb = w[len(FALLBACK_NOTE[0]) :].removesuffix(FALLBACK_NOTE[1])
            phrases.append(_t(FELL_BACK, why=why_fb))
    return [_line(ATTENTION, *phrases)]


def _seed(gen: Mapping[str, Any]) -> list[Line]:
    seed = gen.get("seed")  # a queued job's -1: picked when it ran
    return [_line(SEED, _raw(seed))] if isinstance(seed, int) and seed >= 0 else []


def _time(
    gen: Mapping[str, Any], sampling: Mapping[str, Any], request: Mapping[str, Any]
) -> list[Line]:
    timings = _mapping(gen.get("timings"))
    numbers = {k: v for k, v in timings.items() if isinstance(v, (int, float))}
    if not numbers:
        return [_line(TIME, _t(NOT_RECORDED))]
    keys = [k for k in PHASE_TIMES if k in numbers and k != "total"]
    keys += sorted(k for k in numbers if k not in PHASE_TIMES and k != "claim_to_first_step")
    phrases = [
        _t(PHASE_TIMES[k], s=_seconds(numbers[k]))
        if k in PHASE_TIMES
        else _t(OTHER_TIME, phase=k.replace("_", " "), s=_seconds(numbers[k]))
        for k in keys
    ]
    experts = sampling.get("experts")
    n = len(experts) if isinstance(experts, list) and experts else request.get("sample_steps")
    if "sampling" in numbers and isinstance(n, int) and n > 0:
        phrases.append(_t(PER_STEP, s=f"{numbers['sampling'] / n:.2f}"))
    if "total" in numbers:
        phrases.append(_t(PHASE_TIMES["total"], s=_seconds(numbers["total"])))
    return [_line(TIME, *phrases)]


def _memory(gen: Mapping[str, Any], plan: Mapping[str, Any], *, measured: bool) -> list[Line]:
    peak = gen.get("peak_memory_bytes")
    out: list[Line] = []
    if measured:
        out.append(
            _line(
                PEAK,
                _raw(format_bytes(peak, binary=True))
                if isinstance(peak, (int, float)) and peak > 0
                else _t(NOT_RECORDED),
            )
        )
    vram, ram = plan.get("est_vram_gib"), plan.get("est_ram_gib")
    if isinstance(vram, (int, float)) and isinstance(ram, (int, float)):
        out.append(_line(PLANNED, _t(PLANNED_IS, vram=f"{vram:.1f}", ram=f"{ram:.1f}")))
    return out
