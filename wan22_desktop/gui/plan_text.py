"""The planner's English lines (reasons, refusals, warnings, placement, savers) in the user's
language.

The planner (``runtime/planner.py``, ``runtime/plan_view.py``) is pure and Qt-free, and its
English text is part of ``wan22 plan``, the job's stored plan and the tests; so it stays as it is.
This module holds the catalogue of the templates it formats, marked for ``pyside6-lupdate`` in the
``PlanText`` context, and matches a produced line back to its template and values, translating
nested reasons recursively (ADR 0024). ``tests/gui/test_plan_text.py`` enumerates the
planner's output over a matrix of GPUs and models, so a new or changed planner line without a
template here fails a test instead of showing English in the Chinese UI.

Placeholders: ``{reason…}`` is itself a catalogue line (translated recursively); ``{detail}`` is
free text (an import error) without "; "; any other ``{name}`` is a value kept as it is (a number, a task, a
kernel's name) and never spans a "; ".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication

from wan22_desktop.gui.i18n import QT_TRANSLATE_NOOP

CONTEXT = "PlanText"
Translate = Callable[[str], str]

# Most specific first: a line is given the first template whose every nested reason matches too.
TEMPLATES: tuple[str, ...] = (
    # --- On/off switches and the user's pins ---------------------------------------------------
    QT_TRANSLATE_NOOP("PlanText", "set by you"),
    QT_TRANSLATE_NOOP("PlanText", "on: {reason}"),
    QT_TRANSLATE_NOOP("PlanText", "off: {reason}"),
    QT_TRANSLATE_NOOP("PlanText", "CPU: no CUDA GPU, and this is a tiny test checkpoint"),
    # --- Task and size -----------------------------------------------------------------------
    QT_TRANSLATE_NOOP("PlanText", "{task} as requested"),
    QT_TRANSLATE_NOOP("PlanText", "auto: {task} does not fit ({reason}); TI2V-5B does"),
    QT_TRANSLATE_NOOP("PlanText", "auto: {task} fits this machine"),
    QT_TRANSLATE_NOOP(
        "PlanText", "auto: {task} with block streaming/FP8; TI2V-5B does not fit either"
    ),
    QT_TRANSLATE_NOOP("PlanText", "fits only with block streaming or FP8 weights (slow)"),
    QT_TRANSLATE_NOOP(
        "PlanText",
        "{size}: {task} needs sizes in multiples of {step} px, the nearest preset to {size2}",
    ),
    # --- GPUs ----------------------------------------------------------------------------------
    QT_TRANSLATE_NOOP("PlanText", "1 GPU"),
    QT_TRANSLATE_NOOP("PlanText", "latency mode: all {n} GPUs do not fit ({reason}); {n2} used"),
    QT_TRANSLATE_NOOP("PlanText", "{n} GPUs: split across GPUs with Ulysses sequence parallelism"),
    QT_TRANSLATE_NOOP(
        "PlanText",
        "{n} of {total} GPUs: the sequence-parallel size must divide the {heads} attention heads",
    ),
    QT_TRANSLATE_NOOP(
        "PlanText",
        "1 of {total} GPUs: split across {n} GPUs each one would need more memory than it has; "
        "one GPU runs it with the placement below",
    ),
    # --- Whole-model placements (offload, bf16, T5 on the CPU) ---------------------------------
    QT_TRANSLATE_NOOP("PlanText", "{reason}, with the savers below"),
    QT_TRANSLATE_NOOP(
        "PlanText", "the official recipe for A14B on one GPU (offload + bf16): one expert at a time"
    ),
    QT_TRANSLATE_NOOP("PlanText", "the official recipe for A14B on several GPUs (FSDP + Ulysses)"),
    QT_TRANSLATE_NOOP(
        "PlanText",
        "both experts and T5 stay on the GPU in bf16: no copies between steps (fastest)",
    ),
    QT_TRANSLATE_NOOP(
        "PlanText",
        "both experts stay on the GPU in bf16 (no copy at the expert switch); "
        "T5 runs on the CPU to make room",
    ),
    QT_TRANSLATE_NOOP(
        "PlanText", "VRAM to spare: everything stays on the GPU in full precision (fastest)"
    ),
    QT_TRANSLATE_NOOP("PlanText", "bf16 weights to fit the VRAM; no offloading needed"),
    QT_TRANSLATE_NOOP(
        "PlanText", "bf16 weights and T5 on the CPU to fit the VRAM; no offloading needed"
    ),
    QT_TRANSLATE_NOOP(
        "PlanText", "offload, bf16 weights and T5 on the CPU (the official 24 GB recipe)"
    ),
    QT_TRANSLATE_NOOP(
        "PlanText", "T5 ({gib} GiB) does not fit on the GPU even alone: it encodes on the CPU"
    ),
    QT_TRANSLATE_NOOP("PlanText", "shards the experts across GPUs"),
    QT_TRANSLATE_NOOP("PlanText", "single GPU or small model"),
    # --- Savers below whole-model offload ------------------------------------------------------
    QT_TRANSLATE_NOOP(
        "PlanText",
        "{n} DiT blocks stay on the GPU, the others stream in from pinned RAM while the previous "
        "one computes: the whole DiT does not fit beside the activations",
    ),
    QT_TRANSLATE_NOOP("PlanText", "the DiT fits on the GPU"),
    QT_TRANSLATE_NOOP(
        "PlanText",
        "FP8 weights keep {n} blocks resident instead of {n2} in bf16 "
        "(less streaming; a small accuracy cost)",
    ),
    QT_TRANSLATE_NOOP("PlanText", "bf16 weights fit well enough"),
    QT_TRANSLATE_NOOP(
        "PlanText",
        "{dtype}, tiles of {tile} latent px: the untiled fp32 decode needs about {gib} GiB",
    ),
    QT_TRANSLATE_NOOP("PlanText", "fp32, untiled: the decode fits"),
    QT_TRANSLATE_NOOP("PlanText", "{dtype}, tiles of {tile}: {reason}"),
    QT_TRANSLATE_NOOP("PlanText", "{dtype}, untiled: {reason}"),
    QT_TRANSLATE_NOOP("PlanText", "the VAE waits in RAM while the DiT samples, to make room"),
    QT_TRANSLATE_NOOP("PlanText", "the VAE stays on the GPU"),
    QT_TRANSLATE_NOOP(
        "PlanText",
        "about {gib} GiB while sampling and {gib2} GiB while decoding, of {total} GiB "
        "(several GPUs: arithmetic, not simulated per rank)",
    ),
    QT_TRANSLATE_NOOP(
        "PlanText", "about {gib} GiB while sampling and {gib2} GiB while decoding, of {total} GiB"
    ),
    QT_TRANSLATE_NOOP("PlanText", "planned for {gib} of {total} GiB: {pct} % kept free"),
    # --- Attention -----------------------------------------------------------------------------
    QT_TRANSLATE_NOOP("PlanText", "no CUDA GPU: PyTorch SDPA"),
    QT_TRANSLATE_NOOP("PlanText", "PyTorch SDPA: {reason}; {reason2}"),
    QT_TRANSLATE_NOOP("PlanText", "{kernel}: it imports, and the GPU ({card}) runs it"),
    QT_TRANSLATE_NOOP(
        "PlanText", "{kernel} is not installed (importing {module} failed: {detail})"
    ),
    QT_TRANSLATE_NOOP("PlanText", "{kernel} is not installed"),
    QT_TRANSLATE_NOOP("PlanText", "{kernel} runs on Hopper (sm90) only; this GPU is {card}"),
    QT_TRANSLATE_NOOP(
        "PlanText", "{kernel} needs compute capability {need} or newer; this GPU is {card}"
    ),
    QT_TRANSLATE_NOOP("PlanText", "{kernel} needs a CUDA GPU"),
    # --- Precision and speed -------------------------------------------------------------------
    QT_TRANSLATE_NOOP("PlanText", "fp32 on the CPU"),
    QT_TRANSLATE_NOOP("PlanText", "bf16: the official precision on GPUs"),
    QT_TRANSLATE_NOOP("PlanText", "on the CPU compiling takes longer than it saves"),
    QT_TRANSLATE_NOOP("PlanText", "not used with several GPUs (Ulysses/FSDP)"),
    QT_TRANSLATE_NOOP(
        "PlanText", "not combined with block streaming (its hooks run around each block)"
    ),
    QT_TRANSLATE_NOOP(
        "PlanText",
        "a long job ({steps} steps × {k}k tokens); compiling the blocks (about a minute the "
        "first time, cached after) saves ≈10–20 % per step",
    ),
    QT_TRANSLATE_NOOP(
        "PlanText",
        "a short job ({steps} steps × {k}k tokens); compiling would take longer than it saves",
    ),
    QT_TRANSLATE_NOOP("PlanText", "on the CPU two forwards cost the same as one batch of two"),
    QT_TRANSLATE_NOOP("PlanText", "not used with several GPUs (Ulysses)"),
    QT_TRANSLATE_NOOP("PlanText", "no memory estimate"),
    QT_TRANSLATE_NOOP(
        "PlanText", "the GPU has room for both CFG passes at once (~{gib} of {total} GiB)"
    ),
    QT_TRANSLATE_NOOP(
        "PlanText", "both CFG passes at once would need ~{gib} GiB of the GPU's {total}"
    ),
    # --- Warnings ------------------------------------------------------------------------------
    QT_TRANSLATE_NOOP(
        "PlanText",
        "CFG batching (set by you) needs about {gib} GiB of the GPU's {total}: the job may run "
        "out of GPU memory; turn it off",
    ),
    QT_TRANSLATE_NOOP(
        "PlanText",
        "about {gib} GiB of RAM needed but only {free} GiB is free now: close other programs",
    ),
    QT_TRANSLATE_NOOP(
        "PlanText", "the {task} model is not installed yet: download or import it first"
    ),
    QT_TRANSLATE_NOOP(
        "PlanText", "ran out of GPU memory; retried with {pct} % of the GPU kept free"
    ),
    # --- Refusals (PlanError message and hint) -------------------------------------------------
    QT_TRANSLATE_NOOP(
        "PlanText",
        "{task} at {size}, {frames} frames needs about {gib} GiB per GPU "
        "(sampling {gib2}, decode {gib3}); the GPU has {total} GiB",
    ),
    QT_TRANSLATE_NOOP(
        "PlanText",
        "{task} at {size}, {frames} frames needs about {gib} GiB per GPU; the GPU has {total} GiB",
    ),
    QT_TRANSLATE_NOOP(
        "PlanText",
        "{task} with these settings needs about {gib} GiB of system RAM; this machine has "
        "{total} GiB",
    ),
    QT_TRANSLATE_NOOP("PlanText", "add RAM or swap, use several GPUs, or choose TI2V-5B"),
    QT_TRANSLATE_NOOP("PlanText", "the smallest card that fits this job is {gb} GB; {reason}"),
    QT_TRANSLATE_NOOP("PlanText", "no single card fits this job; {reason}"),
    QT_TRANSLATE_NOOP("PlanText", "choose a smaller size or fewer frames, or TI2V-5B"),
    QT_TRANSLATE_NOOP("PlanText", "choose a smaller size or fewer frames"),
    QT_TRANSLATE_NOOP("PlanText", "no model fits this machine: {reason}"),
    QT_TRANSLATE_NOOP(
        "PlanText", "use a smaller size or fewer frames, or a machine with more GPU memory"
    ),
    QT_TRANSLATE_NOOP(
        "PlanText", "{task} needs an NVIDIA GPU: its checkpoint is far too large for the CPU"
    ),
    QT_TRANSLATE_NOOP(
        "PlanText",
        "run on a machine with a CUDA GPU; the CPU runs only tiny test checkpoints",
    ),
    QT_TRANSLATE_NOOP("PlanText", "no CUDA GPU found: {task} needs an NVIDIA GPU ({detail})"),
    QT_TRANSLATE_NOOP("PlanText", "no CUDA GPU found: {task} needs an NVIDIA GPU"),
    QT_TRANSLATE_NOOP(
        "PlanText",
        "install the NVIDIA driver and a CUDA build of PyTorch, or run on another machine",
    ),
    QT_TRANSLATE_NOOP("PlanText", "{n} GPUs requested but {total} found"),
    QT_TRANSLATE_NOOP("PlanText", "use at most {n} GPUs"),
    QT_TRANSLATE_NOOP("PlanText", "Ulysses size {n} does not divide the model's {heads} heads"),
    QT_TRANSLATE_NOOP("PlanText", "FSDP sharding needs several GPUs; this plan uses one"),
    QT_TRANSLATE_NOOP("PlanText", "turn FSDP off, or use more GPUs"),
    QT_TRANSLATE_NOOP("PlanText", "T5 cannot be sharded across GPUs and kept on the CPU at once"),
    QT_TRANSLATE_NOOP("PlanText", "choose one of 'T5 FSDP' and 'T5 on CPU'"),
    QT_TRANSLATE_NOOP("PlanText", "unknown attention backend {name}"),
    QT_TRANSLATE_NOOP("PlanText", "attention backend {name} cannot run here: {reason}"),
    QT_TRANSLATE_NOOP("PlanText", "unknown task {name}"),
    QT_TRANSLATE_NOOP("PlanText", "unknown precision {name}"),
    QT_TRANSLATE_NOOP("PlanText", "use t2v-A14B, i2v-A14B, ti2v-5B or auto"),
    QT_TRANSLATE_NOOP("PlanText", "use one of {names}"),
    # --- Placement and savers (plan_view) ------------------------------------------------------
    QT_TRANSLATE_NOOP("PlanText", "CPU"),
    QT_TRANSLATE_NOOP("PlanText", "{n} GPUs, Ulysses {size}"),
    QT_TRANSLATE_NOOP("PlanText", "DiT sharded (FSDP)"),
    QT_TRANSLATE_NOOP("PlanText", "DiT streamed, {n} blocks resident"),
    QT_TRANSLATE_NOOP("PlanText", "one DiT on the GPU at a time (offload)"),
    QT_TRANSLATE_NOOP("PlanText", "whole DiT on the GPU"),
    QT_TRANSLATE_NOOP("PlanText", "T5 on the CPU"),
    QT_TRANSLATE_NOOP("PlanText", "T5 sharded across the GPUs"),
    QT_TRANSLATE_NOOP("PlanText", "T5 streamed through the GPU to encode"),
    QT_TRANSLATE_NOOP("PlanText", "T5 on the GPU only to encode"),
    QT_TRANSLATE_NOOP("PlanText", "T5 on the GPU"),
    QT_TRANSLATE_NOOP("PlanText", "offload"),
    QT_TRANSLATE_NOOP("PlanText", "bf16 weights"),
    QT_TRANSLATE_NOOP("PlanText", "T5 on CPU"),
    QT_TRANSLATE_NOOP("PlanText", "FSDP"),
    QT_TRANSLATE_NOOP("PlanText", "streaming ({n} blocks resident)"),
    QT_TRANSLATE_NOOP("PlanText", "FP8 weights"),
    QT_TRANSLATE_NOOP("PlanText", "{dtype} VAE"),
    QT_TRANSLATE_NOOP("PlanText", "tiled VAE ({tile})"),
    QT_TRANSLATE_NOOP("PlanText", "VAE off the GPU while sampling"),
    # --- Generic shapes last: a pinned value, a task's own refusal inside Auto's ---------------
    QT_TRANSLATE_NOOP("PlanText", "{value}: set by you"),
    QT_TRANSLATE_NOOP("PlanText", "{task}: {reason}"),
    QT_TRANSLATE_NOOP("PlanText", "{reason}; {reason2}"),
)
# How parts of a list (placement, savers) and clauses of a line are joined in the user's language.
LIST_SEPARATOR = QT_TRANSLATE_NOOP("PlanText", ", ")
CLAUSE_SEPARATOR = QT_TRANSLATE_NOOP("PlanText", "; ")
SEPARATORS = (LIST_SEPARATOR, CLAUSE_SEPARATOR)

_FIELD = re.compile(r"\{(\w+)\}")
_TASK = re.compile(r"(t2v-A14B|i2v-A14B|ti2v-5B)")


@dataclass(frozen=True)
class _Template:
    source: str
    literals: tuple[str, ...]  # one more than names: the text around the placeholders
    names: tuple[str, ...]


def _compile(source: str) -> _Template:
    parts = _FIELD.split(source)
    return _Template(source, tuple(parts[0::2]), tuple(parts[1::2]))


_COMPILED = tuple(_compile(s) for s in TEMPLATES)


def _value_ok(name: str, value: str) -> bool:
    if not value:
        return False
    if name.startswith("reason"):
        return True
    if name == "task":
        return _TASK.fullmatch(value) is not None
    if name == "detail":
        return "; " not in value
    return "; " not in value and ": " not in value


def _splits(text: str, tpl: _Template) -> Iterator[dict[str, str]]:
    """Every way ``text`` fills ``tpl``'s placeholders (backtracking over the literals)."""
    first, *rest = tpl.literals
    if not text.startswith(first):
        return

    def walk(pos: int, i: int, got: dict[str, str]) -> Iterator[dict[str, str]]:
        if i == len(tpl.names):
            if pos == len(text):
                yield got
            return
        name, lit = tpl.names[i], rest[i]
        if i == len(tpl.names) - 1:  # the last literal ends the text
            end = len(text) - len(lit)
            if end > pos and text.endswith(lit) and _value_ok(name, text[pos:end]):
                yield {**got, name: text[pos:end]}
            return
        at = text.find(lit, pos + 1)
        while at >= 0:
            if _value_ok(name, text[pos:at]):
                yield from walk(at + len(lit), i + 1, {**got, name: text[pos:at]})
            at = text.find(lit, at + 1)

    yield from walk(len(first), 0, {})


def translate(text: str, tr: Translate) -> str | None:
    """``text`` (one planner line) in the language of ``tr`` (a template → translation lookup);
    ``None`` when no template covers it, or a nested reason is not covered."""
    for tpl in _COMPILED:
        for values in _splits(text, tpl):
            out: dict[str, str] = {}
            for name, value in values.items():
                if name.startswith("reason"):
                    inner = translate(value, tr)
                    if inner is None:
                        break
                    out[name] = inner
                else:
                    out[name] = value
            else:
                result = tr(tpl.source)
                for name, value in out.items():
                    result = result.replace("{" + name + "}", value)
                return result
    return None


def qt_tr(source: str) -> str:
    return QCoreApplication.translate(CONTEXT, source)


def tr_plan(text: str) -> str:
    """A planner line (or one of ``SEPARATORS``) as the GUI shows it: translated where the
    catalogue covers it, else as it is."""
    if text in SEPARATORS:
        return qt_tr(text)
    return translate(text, qt_tr) or text


def tr_join(parts: list[str]) -> str:
    """Planner phrases translated and joined with the language's list separator."""
    return qt_tr(LIST_SEPARATOR).join(tr_plan(p) for p in parts)
