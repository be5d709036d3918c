"""Pure key mapping between the official Wan2.2 DiT state dict and diffusers' ``WanTransformer3DModel``.

Tensors are passed through unchanged (no reshapes are needed); only names change. Note the
LayerNorm swap: the official affine ``norm3`` (before cross-attention) is diffusers' ``norm2``.

Where diffusers' Wan DiT (0.42.1) deviates from the official code (measured in
``tests/engine/test_dit_parity.py``):

1. Timestep sinusoid: fp32 in diffusers, float64 (then cast to fp32) upstream. This is the main
   source of differences and grows with t.
2. RoPE: diffusers multiplies real cos/sin tables (float64) on interleaved pairs; upstream uses
   complex128 ``polar`` tables. Same rotation, rounding differs at ~1e-7 relative.
3. Attention: diffusers uses torch SDPA in the model dtype; upstream always casts q/k/v to bf16
   and uses flash-attn varlen on CUDA (no CPU path).
4. Modulation: diffusers uses a [B, 6, C] modulation for a scalar t and [B, S, 6, C] only for 2-D
   (TI2V) timesteps; upstream always expands t to every token. Same numbers.
5. Padding: diffusers never pads video tokens to ``seq_len`` (no key mask); upstream pads and
   masks the padded keys. Text is zero-padded to 512 in diffusers' *pipeline*, upstream in the
   model; neither masks the text padding.
6. q/k RMSNorm: ``torch.nn.RMSNorm`` in diffusers vs normalise-in-fp32-then-scale upstream;
   identical in fp32, may differ in bf16.
7. fp32 islands in diffusers come from ``_keep_in_fp32_modules`` at load time; upstream relies
   on ``autocast('cuda', float32)`` regions, which also hold for bf16-converted parameters.
8. diffusers has no ``model_type``/``text_len`` config fields, and its ``rope_max_seq_len`` is
   configurable (upstream: fixed 1024).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypeVar

from .dit_config import DiTConfig

T = TypeVar("T")

# (official, diffusers) full-key templates; {i} is a block index, {p} a parameter name.
_RULES: tuple[tuple[str, str], ...] = (
    ("patch_embedding.{p}", "patch_embedding.{p}"),
    ("text_embedding.0.{p}", "condition_embedder.text_embedder.linear_1.{p}"),
    ("text_embedding.2.{p}", "condition_embedder.text_embedder.linear_2.{p}"),
    ("time_embedding.0.{p}", "condition_embedder.time_embedder.linear_1.{p}"),
    ("time_embedding.2.{p}", "condition_embedder.time_embedder.linear_2.{p}"),
    ("time_projection.1.{p}", "condition_embedder.time_proj.{p}"),
    ("head.head.{p}", "proj_out.{p}"),
    ("head.modulation", "scale_shift_table"),
    ("blocks.{i}.modulation", "blocks.{i}.scale_shift_table"),
    ("blocks.{i}.self_attn.q.{p}", "blocks.{i}.attn1.to_q.{p}"),
    ("blocks.{i}.self_attn.k.{p}", "blocks.{i}.attn1.to_k.{p}"),
    ("blocks.{i}.self_attn.v.{p}", "blocks.{i}.attn1.to_v.{p}"),
    ("blocks.{i}.self_attn.o.{p}", "blocks.{i}.attn1.to_out.0.{p}"),
    ("blocks.{i}.self_attn.norm_q.{p}", "blocks.{i}.attn1.norm_q.{p}"),
    ("blocks.{i}.self_attn.norm_k.{p}", "blocks.{i}.attn1.norm_k.{p}"),
    ("blocks.{i}.cross_attn.q.{p}", "blocks.{i}.attn2.to_q.{p}"),
    ("blocks.{i}.cross_attn.k.{p}", "blocks.{i}.attn2.to_k.{p}"),
    ("blocks.{i}.cross_attn.v.{p}", "blocks.{i}.attn2.to_v.{p}"),
    ("blocks.{i}.cross_attn.o.{p}", "blocks.{i}.attn2.to_out.0.{p}"),
    ("blocks.{i}.cross_attn.norm_q.{p}", "blocks.{i}.attn2.norm_q.{p}"),
    ("blocks.{i}.cross_attn.norm_k.{p}", "blocks.{i}.attn2.norm_k.{p}"),
    ("blocks.{i}.norm3.{p}", "blocks.{i}.norm2.{p}"),  # affine LN before cross-attention
    ("blocks.{i}.norm2.{p}", "blocks.{i}.norm3.{p}"),  # no parameters in practice
    ("blocks.{i}.ffn.0.{p}", "blocks.{i}.ffn.net.0.proj.{p}"),
    ("blocks.{i}.ffn.2.{p}", "blocks.{i}.ffn.net.2.{p}"),
)

_PREFIXES = ("model.diffusion_model.",)  # ComfyUI-style single files


def _compile(template: str) -> re.Pattern[str]:
    pattern = re.escape(template).replace(r"\{i\}", r"(?P<i>\d+)").replace(r"\{p\}", r"(?P<p>\w+)")
    return re.compile(pattern + r"\Z")


_FORWARD = tuple((_compile(src), dst) for src, dst in _RULES)
_BACKWARD = tuple((_compile(dst), src) for src, dst in _RULES)


def _rename(key: str, rules: tuple[tuple[re.Pattern[str], str], ...]) -> str:
    for pattern, template in rules:
        match = pattern.match(key)
        if match:
            groups = match.groupdict()
            return template.replace("{i}", groups.get("i") or "").replace(
                "{p}", groups.get("p") or ""
            )
    raise ValueError(f"no DiT key mapping for {key!r}")


def official_key_to_diffusers(key: str) -> str:
    for prefix in _PREFIXES:
        if key.startswith(prefix):
            key = key[len(prefix) :]
    return _rename(key, _FORWARD)


def diffusers_key_to_official(key: str) -> str:
    return _rename(key, _BACKWARD)


def dit_official_to_diffusers(sd: Mapping[str, T]) -> dict[str, T]:
    """Official ``WanModel`` keys → ``WanTransformer3DModel`` keys; values untouched."""
    return _rename_all(sd, official_key_to_diffusers)


def dit_diffusers_to_official(sd: Mapping[str, T]) -> dict[str, T]:
    """``WanTransformer3DModel`` keys → official ``WanModel`` keys; values untouched."""
    return _rename_all(sd, diffusers_key_to_official)


def _rename_all(sd: Mapping[str, T], rename: Any) -> dict[str, T]:
    out: dict[str, T] = {}
    for key, value in sd.items():
        new = rename(key)
        if new in out:
            raise ValueError(f"two keys map to {new!r}")
        out[new] = value
    return out


def diffusers_config(cfg: DiTConfig) -> dict[str, Any]:
    """``WanTransformer3DModel`` constructor arguments equivalent to ``cfg``."""
    return {
        "patch_size": tuple(cfg.patch_size),
        "num_attention_heads": cfg.num_heads,
        "attention_head_dim": cfg.head_dim,
        "in_channels": cfg.in_dim,
        "out_channels": cfg.out_dim,
        "text_dim": cfg.text_dim,
        "freq_dim": cfg.freq_dim,
        "ffn_dim": cfg.ffn_dim,
        "num_layers": cfg.num_layers,
        "cross_attn_norm": cfg.cross_attn_norm,
        "qk_norm": "rms_norm_across_heads" if cfg.qk_norm else None,
        "eps": cfg.eps,
        "rope_max_seq_len": 1024,
    }
