"""A stored request as a ``wan22 generate`` command line (History's "copy as command").

Uses the official ``generate.py`` flag names so the line also reads right to someone who knows the
upstream script, plus ``--negative_prompt`` and ``--prompt_extend_required``, which are ours (the
official script always uses its default negative prompt). Pure: no Qt, no I/O.

Some request fields have no official flag; ``unexpressed_fields`` names them so the GUI can say
what the copied line leaves out instead of silently dropping it:

* ``memory.convert_model_dtype`` / ``memory.t5_cpu`` set to ``"off"``: the official flags are
  switches, so only "on" can be written (left out, they mean "auto" to us).
* ``gpus`` (upstream: ``torchrun --nproc_per_node``) and ``fps`` (upstream: fixed per task).
* ``output_format`` when it is not mp4 and no ``save_file`` carries it (upstream: the
  ``--save_file`` suffix).

The line parses back to the same request through both ``wan22 generate`` and ``wan22 queue add``
(one parser, ``request_flags.py``), ``--ckpt_dir``, ``--save_file``, ``--device``, ``--dtype``
and the multi-GPU flags included.

``--sample_guide_scale`` is one number for every expert (as upstream) or ``low,high`` (ours, for a
pair that is not the task's default); the task's default pair is written by leaving the flag out.
"""

from __future__ import annotations

import shlex

from wan22_desktop.request import (
    GenerationRequest,
    MemoryOptions,
    ParallelOptions,
    PromptExtendOptions,
)


def _num(value: float) -> str:
    """Shortest text that parses back to the same float (``5.0`` -> ``5``, ``0.1`` stays)."""
    return repr(float(value)).removesuffix(".0")


def request_to_argv(request: GenerationRequest, *, program: str = "wan22") -> list[str]:
    """The argument list of ``wan22 generate`` that recreates ``request`` (see module docstring)."""
    r = request
    g = r.guidance
    argv = [
        program,
        "generate",
        "--task",
        r.task,
        "--size",
        r.size,
        "--frame_num",
        str(r.frame_num),
        "--sample_steps",
        str(r.sample_steps),
        "--sample_shift",
        _num(r.sample_shift),
    ]
    if (g.low, g.high) != r.spec.guidance:
        scale = _num(g.low) if g.low == g.high else f"{_num(g.low)},{_num(g.high)}"
        argv += ["--sample_guide_scale", scale]
    argv += ["--sample_solver", r.solver, "--base_seed", str(r.seed), "--prompt", r.prompt]
    if r.negative_prompt is not None:
        argv += ["--negative_prompt", r.negative_prompt]
    if r.image:
        argv += ["--image", r.image]
    argv += _prompt_extend_flags(r.prompt_extend)
    argv += _memory_flags(r.memory)
    argv += _parallel_flags(r.parallel)
    if r.device != "auto":
        argv += ["--device", r.device]
    if r.dtype != "auto":
        argv += ["--dtype", r.dtype]
    if r.attention != "auto":
        argv += ["--attention", r.attention]
    if r.ckpt_dir is not None:
        argv += ["--ckpt_dir", r.ckpt_dir]
    if r.save_file is not None:
        argv += ["--save_file", r.save_file]
    for lora in r.loras:  # explicit per-expert strengths: parses back to the same entry
        from wan22_desktop.lora_library import lora_flag_value

        argv += ["--lora", lora_flag_value(lora.path, lora.strength_high, lora.strength_low)]
    if r.switch_step is not None:
        argv += ["--switch_step", str(r.switch_step)]
    if r.step_cache:
        argv += ["--turbo", _num(r.step_cache)]
    if r.warmup_steps:
        argv += ["--warmup_steps", str(r.warmup_steps)]
    if r.warmup_guidance is not None:
        argv += ["--warmup_guidance", _num(r.warmup_guidance)]
    return argv


def request_to_cli(request: GenerationRequest, *, program: str = "wan22") -> str:
    """One shell-quoted line (POSIX quoting, ``shlex.join``)."""
    return shlex.join(request_to_argv(request, program=program))


def unexpressed_fields(request: GenerationRequest) -> list[str]:
    """Request fields whose value the command line cannot carry (empty: it round-trips)."""
    lost = [
        f"memory.{name}"
        for name in ("convert_model_dtype", "t5_cpu")
        if getattr(request.memory, name) == "off"
    ]
    if request.gpus is not None:
        lost.append("gpus")
    if request.fps is not None:
        lost.append("fps")
    if request.output_format != "mp4" and request.save_file is None:
        lost.append("output_format")
    if request.preset is not None:  # the line carries the preset's values, not its name
        lost.append("preset")
    return lost


def _prompt_extend_flags(p: PromptExtendOptions) -> list[str]:
    if not p.enabled:
        return []
    out = [
        "--use_prompt_extend",
        "--prompt_extend_method",
        p.method,
        "--prompt_extend_target_lang",
        p.target_lang,
    ]
    if p.model is not None:
        out += ["--prompt_extend_model", p.model]
    if p.required:
        out.append("--prompt_extend_required")
    return out


def _memory_flags(m: MemoryOptions) -> list[str]:
    out: list[str] = []
    if m.offload_model != "auto":
        out += ["--offload_model", "true" if m.offload_model == "on" else "false"]
    if m.convert_model_dtype == "on":
        out.append("--convert_model_dtype")
    if m.t5_cpu == "on":
        out.append("--t5_cpu")
    if m.vram_headroom:
        out += ["--vram_headroom", str(m.vram_headroom)]
    return out


def _parallel_flags(p: ParallelOptions) -> list[str]:
    out: list[str] = []
    if p.ulysses_size != 1:
        out += ["--ulysses_size", str(p.ulysses_size)]
    if p.dit_fsdp:
        out.append("--dit_fsdp")
    if p.t5_fsdp:
        out.append("--t5_fsdp")
    return out
