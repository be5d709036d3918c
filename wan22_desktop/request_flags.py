"""The flags that describe one generation: one parser for ``wan22 generate``, ``wan22 queue add``
and ``wan22 queue edit``, so a line that one accepts the others accept, with the same meaning.

Flag names, meanings and defaults are the official ``generate.py`` ones, plus ours:
``--negative_prompt``, ``--prompt_extend_required``, ``--device`` and ``--dtype``. Every flag
defaults to "not given" (``None``): ``request_from_args`` fills in the task's official defaults,
``request_changes`` returns only what was given (what ``queue edit`` changes).

Pure: argparse and the request model only; checking the values is ``GenerationRequest.validate``'s
job (one rule set), the argparse types here only turn text into numbers and refuse text that is
not valid UTF-8 (an undecodable argv), naming the flag.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable
from dataclasses import fields, replace
from typing import Any

from wan22_desktop.errors import UserInputError
from wan22_desktop.request import (
    ATTENTION,
    DTYPES,
    EXTEND_METHODS,
    SAVE_SUFFIXES,
    SOLVERS,
    TARGET_LANGS,
    GenerationRequest,
    Guidance,
    MemoryOptions,
    ParallelOptions,
    PromptExtendOptions,
)
from wan22_desktop.tasks import TASKS, get_task

DEFAULT_TASK = "t2v-A14B"  # official default
# Official tasks this app does not run: refused by name instead of "unknown task".
OFFICIAL_ONLY_TASKS = ("animate-14B", "s2v-14B")


# ---- argparse types: text to values (ranges are checked by the request's rules)


def text(value: str) -> str:
    """A string flag: refuse undecodable bytes (surrogate escapes) with a readable reason."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise argparse.ArgumentTypeError(
            "the value is not valid UTF-8 text (check the terminal's encoding or the file name)"
        ) from None
    return value


def whole_number(value: str) -> int:
    try:
        return int(text(value).strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {_shown(value)}") from None


def bounded(low: int, high: int, what: str = "a whole number") -> Callable[[str], int]:
    """An argparse type for whole numbers in ``low..high``, saying the range when refused
    (record ids, counts, pages: SQLite integers end at 2**63-1)."""

    def parse(value: str) -> int:
        n = whole_number(value)
        if not low <= n <= high:
            raise argparse.ArgumentTypeError(f"expected {what} from {low} to {high}, got {n}")
        return n

    parse.__name__ = what.replace(" ", "_")  # argparse names the type in some messages
    return parse


RECORD_ID = bounded(1, 2**63 - 1, "an id")


def number(value: str) -> float:
    try:
        out = float(text(value).strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {_shown(value)}") from None
    if not math.isfinite(out):  # NaN/inf parse as floats; say so here, once, for every flag
        raise argparse.ArgumentTypeError(f"expected a finite number, got {_shown(value)}")
    return out


def str2bool(value: str) -> bool:
    """The official ``str2bool``: yes/true/t/y/1 and no/false/f/n/0 (and on/off)."""
    v = text(value).strip().lower()
    if v in ("yes", "true", "t", "y", "1", "on"):
        return True
    if v in ("no", "false", "f", "n", "0", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {_shown(value)}")


def _shown(value: str) -> str:
    from wan22_desktop.terminal_text import escape_control

    return repr(escape_control(value[:40] + ("…" if len(value) > 40 else "")))


# ---- the flags


def add_request_flags(parser: argparse.ArgumentParser, *, edit: bool = False) -> None:
    """Every request flag. ``edit``: ``--task`` has no default (absent means "keep")."""
    parser.add_argument(
        "--task",
        type=text,
        default=None,
        help="t2v-A14B, i2v-A14B or ti2v-5B" + ("" if edit else f" (default: {DEFAULT_TASK})"),
    )
    parser.add_argument(
        "--size",
        type=text,
        help="W*H; t2v uses it as the size, i2v/ti2v with an image use its area "
        "(default: the task's, 1280*720 or 1280*704)",
    )
    parser.add_argument(
        "--frame_num", type=whole_number, help="frames, 4n+1 (default: 81, or 121 for ti2v-5B)"
    )
    parser.add_argument(
        "--ckpt_dir", type=text, help="the checkpoint folder (default: the installed model)"
    )
    parser.add_argument(
        "--offload_model",
        type=str2bool,
        metavar="true|false",
        help="offload models to the CPU between uses (default: decided for the hardware)",
    )
    parser.add_argument(
        "--vram_headroom",
        type=whole_number,
        metavar="PCT",
        help="queued jobs and `wan22 plan`: plan for (100-PCT) %% of the GPU memory, 0..60 "
        "(default 0; raised after out of memory)",
    )
    parser.add_argument(
        "--ulysses_size", type=whole_number, help="sequence-parallel size (multi-GPU, default 1)"
    )
    parser.add_argument(
        "--t5_fsdp", action="store_true", default=None, help="shard T5 with FSDP (multi-GPU)"
    )
    parser.add_argument(
        "--t5_cpu", action="store_true", default=None, help="keep the T5 text encoder on the CPU"
    )
    parser.add_argument(
        "--dit_fsdp", action="store_true", default=None, help="shard the DiT with FSDP (multi-GPU)"
    )
    parser.add_argument(
        "--save_file",
        type=text,
        help="output: .mp4, .npy (raw float video) or a folder name (PNG frames); "
        "default: an official-style name in the app's outputs folder",
    )
    parser.add_argument("--prompt", type=text, help="the prompt (default: the task's example)")
    add_prompt_extend_flags(parser, defaults=False)
    parser.add_argument("--base_seed", type=whole_number, help="seed (default -1: random)")
    parser.add_argument(
        "--image", type=text, help="start image (i2v-A14B: required; ti2v-5B: optional)"
    )
    parser.add_argument(
        "--sample_solver",
        choices=SOLVERS,
        help="unipc (default), dpm++, or euler (what the 4-step Lightning presets use)",
    )
    parser.add_argument(
        "--sample_steps", type=whole_number, help="steps (default: 40, or 50 for ti2v)"
    )
    parser.add_argument("--sample_shift", type=number, help="noise schedule shift")
    parser.add_argument(
        "--sample_guide_scale",
        type=text,
        help="guidance for every expert, or low,high for the A14B experts "
        "(default: the task's, e.g. 3.0,4.0 for t2v-A14B)",
    )
    parser.add_argument(
        "--convert_model_dtype",
        action="store_true",
        default=None,
        help="cast the DiT weights to the compute dtype (bf16)",
    )
    parser.add_argument(
        "--negative_prompt", type=text, help="negative prompt (default: the official one)"
    )
    parser.add_argument(
        "--device", type=text, help="auto, cuda, cuda:N or cpu (default auto: cuda if present)"
    )
    parser.add_argument(
        "--dtype",
        choices=DTYPES,
        help="compute precision (default auto: bf16 on a GPU, fp32 on the CPU)",
    )
    parser.add_argument(
        "--attention",
        choices=ATTENTION,
        help="attention kernel (default auto: FlashAttention 3 or 2 if installed and the GPU "
        "supports it, else PyTorch SDPA; sage: SageAttention, 8-bit)",
    )
    parser.add_argument(
        "--lora",
        type=text,
        action="append",
        metavar="PATH[:S|:high=S,low=T]",
        help="merge a LoRA (.safetensors; repeatable). S: strength for both experts (default 1); "
        "high=/low=: per A14B expert. A *high_noise* file takes its *low_noise* partner along. "
        + ("'none' removes the job's LoRAs" if edit else "See `wan22 loras list`"),
    )
    add_speed_flags(parser)


def add_speed_flags(parser: argparse.ArgumentParser) -> None:
    """Ours (issue 14): presets, the A14B switch step and step caching; none has a default."""
    g = parser.add_argument_group("speed")
    g.add_argument(
        "--preset",
        type=text,
        help="start from a preset's settings, e.g. lightning-t2v (wan22 presets list); "
        "flags given as well win",
    )
    g.add_argument(
        "--switch_step",
        type=whole_number,
        help="A14B: run the high-noise expert for the first N steps (default: the official "
        "boundary on the noise level)",
    )
    g.add_argument(
        "--turbo",
        type=number,
        metavar="THRESHOLD",
        help="step caching: reuse the last step's prediction while the estimated change stays "
        "under THRESHOLD (0.02-0.05; default 0: off)",
    )
    g.add_argument(
        "--warmup_steps",
        type=whole_number,
        metavar="N",
        help="A14B guided warm-up: run the first N steps with the LoRAs off (and the guidance of "
        "--warmup_guidance), then merge them (default 0: off; the 3-phase Lightning preset: 1)",
    )
    g.add_argument(
        "--warmup_guidance",
        type=number,
        metavar="G",
        help="guidance during the warm-up steps (default: each expert's own guidance)",
    )


def add_prompt_extend_flags(parser: argparse.ArgumentParser, *, defaults: bool = True) -> None:
    """The official prompt-extension flags, plus ``--prompt_extend_required`` (fail the job
    instead of falling back to the original prompt). ``defaults``: fill the official defaults
    in (False: leave them unset, so an edit can tell what was given)."""
    base = PromptExtendOptions()
    g = parser.add_argument_group("prompt extension")
    g.add_argument(
        "--use_prompt_extend",
        action="store_true",
        default=False if defaults else None,
        help="rewrite the prompt with a language model before generating",
    )
    g.add_argument(
        "--prompt_extend_method",
        choices=EXTEND_METHODS,
        default=base.method if defaults else None,
        help="dashscope (API key needed) or local_qwen (default)",
    )
    g.add_argument(
        "--prompt_extend_model",
        type=text,
        default=None,
        help="model name, alias (Qwen2.5_7B, QwenVL2.5_7B, ...) or local folder",
    )
    g.add_argument(
        "--prompt_extend_target_lang",
        choices=TARGET_LANGS,
        default=base.target_lang if defaults else None,
        help="language of the extended prompt (default: zh)",
    )
    g.add_argument(
        "--prompt_extend_required",
        action="store_true",
        default=False if defaults else None,
        help="fail the job if extension fails (default: use the original prompt)",
    )


def prompt_extend_fields(args: argparse.Namespace) -> dict[str, object]:
    """``PromptExtendOptions`` keyword arguments from the flags (official defaults filled in)."""
    given = _prompt_extend_given(args)
    return {
        f.name: given.get(f.name, getattr(PromptExtendOptions(), f.name))
        for f in fields(PromptExtendOptions)
    }


# ---- flags -> request


def request_from_args(args: argparse.Namespace) -> GenerationRequest:
    """The request the flags describe, with the task's official defaults for what is not given
    (the prompt too: the task's example prompt, as the official script). Not validated: call
    ``validate()`` (``generate`` and ``queue add`` both do, with the same rules)."""
    changes = request_changes(args)
    task = changes.pop("task", None) or DEFAULT_TASK  # the flag's, the preset's or the default
    check_task_available(task)
    spec = get_task(task)
    changes.setdefault("prompt", spec.example_prompt)
    return GenerationRequest.for_task(spec.name, **changes)


def request_changes(
    args: argparse.Namespace, base: GenerationRequest | None = None
) -> dict[str, Any]:
    """The request fields given on the command line, by ``GenerationRequest`` field name.

    Grouped fields (memory, prompt extension, parallel) are merged into ``base``'s (the request
    being edited) so one switch does not reset the others. Paths are made absolute: a queued job
    may run in another working directory.
    """
    out: dict[str, Any] = {}
    for flag, name in (
        ("task", "task"),
        ("prompt", "prompt"),
        ("negative_prompt", "negative_prompt"),
        ("image", "image"),
        ("size", "size"),
        ("frame_num", "frame_num"),
        ("base_seed", "seed"),
        ("sample_steps", "sample_steps"),
        ("sample_shift", "sample_shift"),
        ("sample_solver", "solver"),
        ("ckpt_dir", "ckpt_dir"),
        ("save_file", "save_file"),
        ("device", "device"),
        ("dtype", "dtype"),
        ("attention", "attention"),
        ("switch_step", "switch_step"),
        ("turbo", "step_cache"),
        ("warmup_steps", "warmup_steps"),
        ("warmup_guidance", "warmup_guidance"),
    ):
        value = getattr(args, flag, None)
        if value is not None:
            out[name] = value
    if out.get("task") in OFFICIAL_ONLY_TASKS:
        check_task_available(out["task"])
    if out.get("warmup_steps") == 0 and "warmup_guidance" not in out:
        out["warmup_guidance"] = None  # turning the warm-up off drops its guidance too
    for name in ("image", "ckpt_dir", "save_file"):
        if out.get(name):
            out[name] = os.path.abspath(os.path.expanduser(out[name]))
    if out.get("save_file"):
        suffix = os.path.splitext(out["save_file"])[1].lower()
        if suffix in SAVE_SUFFIXES:  # an unknown suffix is the request rules' to explain
            out["output_format"] = SAVE_SUFFIXES[suffix]
    if args.sample_guide_scale is not None:
        out["guidance"] = Guidance.parse(args.sample_guide_scale)

    memory: dict[str, Any] = {}
    if args.offload_model is not None:
        memory["offload_model"] = "on" if args.offload_model else "off"
    if args.convert_model_dtype:
        memory["convert_model_dtype"] = "on"
    if args.t5_cpu:
        memory["t5_cpu"] = "on"
    if getattr(args, "vram_headroom", None) is not None:
        memory["vram_headroom"] = args.vram_headroom
    if memory:
        out["memory"] = replace(base.memory if base else MemoryOptions(), **memory)

    extend = _prompt_extend_given(args)
    if extend:
        out["prompt_extend"] = replace(
            base.prompt_extend if base else PromptExtendOptions(), **extend
        )

    parallel: dict[str, Any] = {}
    if args.ulysses_size is not None:
        parallel["ulysses_size"] = args.ulysses_size
    if args.dit_fsdp:
        parallel["dit_fsdp"] = True
    if args.t5_fsdp:
        parallel["t5_fsdp"] = True
    if parallel:
        out["parallel"] = replace(base.parallel if base else ParallelOptions(), **parallel)
    if getattr(args, "preset", None) is not None:
        out = _with_preset(args, out)
    if getattr(args, "lora", None):
        task = out.get("task") or (base.task if base else args.task or DEFAULT_TASK)
        given = lora_entries(args.lora, task)
        # a preset's LoRAs (Lightning) stay, the ones given join them; ``none`` clears both
        kept = out.get("loras", []) if given and getattr(args, "preset", None) else []
        out["loras"] = kept + [e for e in given if all(k["path"] != e["path"] for k in kept)]
    return out


def lora_entries(values: list[str], task: str) -> list[dict[str, Any]]:
    """The request's ``loras`` from ``--lora`` values (each file hashed now); ``none`` alone
    clears them. A file named twice keeps its first entry."""
    from wan22_desktop.lora_library import refs_for_flag

    if [v.strip().lower() for v in values] == ["none"]:
        return []
    try:
        experts = get_task(task).boundary is not None
    except UserInputError:
        experts = True  # an unknown task is the request rules' to explain
    out: list[dict[str, Any]] = []
    for value in values:
        for entry in refs_for_flag(value, experts):
            if all(e["path"] != entry["path"] for e in out):
                out.append(entry)
    return out


def _with_preset(args: argparse.Namespace, given: dict[str, Any]) -> dict[str, Any]:
    """The preset's fields under the ones given explicitly (which win)."""
    from wan22_desktop.presets import default_lora_dir, get_preset, preset_fields

    preset = get_preset(args.preset)
    task = given.get("task")
    if task is not None and task != preset.task:
        raise UserInputError(
            f"the preset {preset.name} is for {preset.task}, not {task}",
            f"drop --task, or choose a preset for {task} (wan22 presets list)",
            field="preset",
        )
    lora_dir = default_lora_dir(getattr(args, "home", None)) if preset.loras else None
    return {**preset_fields(preset, lora_dir=lora_dir), **given}


def check_task_available(task: str) -> None:
    """Tasks of the official script this app does not run: refuse them by name."""
    if task in OFFICIAL_ONLY_TASKS:
        raise UserInputError(
            f"task {task} is not available in Wan22 Desktop",
            f"use one of: {', '.join(TASKS)}",
            field="task",
        )


def _prompt_extend_given(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for flag, name in (
        ("use_prompt_extend", "enabled"),
        ("prompt_extend_method", "method"),
        ("prompt_extend_model", "model"),
        ("prompt_extend_target_lang", "target_lang"),
        ("prompt_extend_required", "required"),
    ):
        value = getattr(args, flag, None)
        if value is not None:
            out[name] = bool(value) if name in ("enabled", "required") else value
    return out


def flag_names(parser: argparse.ArgumentParser) -> set[str]:
    """Every option string a parser takes (for the tests that compare parsers)."""
    return {s for a in parser._actions for s in a.option_strings}
