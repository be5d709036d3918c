"""What a plan says, in the fields ``wan22 plan --json`` prints and the GUI's plan panel shows.

Pure (no torch, no Qt): the CLI and the GUI describe a plan with the same words.
"""

from __future__ import annotations

from typing import Any

from wan22_desktop.runtime.planner import Plan


def plan_fields(p: Plan) -> dict[str, Any]:
    """What ``wan22 plan --json`` prints and the GUI's panel shows."""
    return {
        "task": p.task,
        "size": f"{p.width}*{p.height}",
        "device": p.device,
        "gpus": p.nproc,
        "ulysses_size": p.ulysses_size,
        "placement": placement(p),
        "offload_model": p.offload_model,
        "convert_model_dtype": p.convert_model_dtype,
        "t5_cpu": p.t5_cpu,
        "dit_fsdp": p.dit_fsdp,
        "t5_fsdp": p.t5_fsdp,
        "stream_blocks": p.stream_blocks,
        "fp8": p.fp8,
        "vae_dtype": p.vae_dtype,
        "vae_tile": p.vae_tile,
        "vae_offload": p.vae_offload,
        "attention": p.attention,
        "dtype": p.dtype,
        "vram_gib": p.est_vram_gib,
        "vram_sampling_gib": p.est_vram_sampling_gib,
        "vram_decode_gib": p.est_vram_decode_gib,
        "ram_gib": p.est_ram_gib,
        "reasons": dict(p.reasons),
        "warnings": list(p.warnings),
    }


def placement(p: Plan) -> str:
    """One phrase for where the weights live."""
    return ", ".join(placement_parts(p))


def placement_parts(p: Plan) -> list[str]:
    """``placement`` as its parts (the GUI translates each, then joins them)."""
    if p.device == "cpu":
        return ["CPU"]
    parts = []
    if p.nproc > 1:
        parts.append(f"{p.nproc} GPUs, Ulysses {p.ulysses_size}")
        if p.dit_fsdp:
            parts.append("DiT sharded (FSDP)")
    if p.stream_blocks:
        parts.append(f"DiT streamed, {p.stream_blocks} blocks resident")
    elif p.offload_model:
        parts.append("one DiT on the GPU at a time (offload)")
    else:
        parts.append("whole DiT on the GPU")
    parts.append(t5_place(p))
    return parts


def t5_place(p: Plan) -> str:
    """Where T5 encodes: streamed and offloaded plans bring it to the GPU only to encode."""
    if p.t5_cpu:
        return "T5 on the CPU"
    if p.nproc > 1 and p.t5_fsdp:
        return "T5 sharded across the GPUs"
    if p.stream_blocks:
        return "T5 streamed through the GPU to encode"
    if p.offload_model:
        return "T5 on the GPU only to encode"
    return "T5 on the GPU"


def savers(p: Plan) -> list[str]:
    """The memory savers in use, in words."""
    return p.savers()
