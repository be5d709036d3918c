"""Configuration of the umT5 encoder: one frozen dataclass, the official preset, and shape inference."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class T5Config:
    """Shape of an encoder-only umT5 with a relative-position table in every layer (shared_pos=False)."""

    vocab_size: int
    dim: int
    dim_attn: int
    dim_ffn: int
    num_heads: int
    num_layers: int
    num_buckets: int = 32
    max_distance: int = 128
    eps: float = 1e-6

    def __post_init__(self) -> None:
        for name in (
            "vocab_size",
            "dim",
            "dim_attn",
            "dim_ffn",
            "num_heads",
            "num_layers",
            "num_buckets",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"T5Config.{name} must be a positive int, got {value!r}")
        if self.dim_attn % self.num_heads:
            raise ValueError(
                f"T5Config.dim_attn ({self.dim_attn}) must be divisible by num_heads ({self.num_heads})"
            )
        # Bidirectional buckets are split in two halves, each half into exact and log-spaced buckets.
        if self.num_buckets < 4 or self.num_buckets % 2:
            raise ValueError(
                f"T5Config.num_buckets must be an even int >= 4, got {self.num_buckets}"
            )
        if self.max_distance <= self.num_buckets // 4:
            raise ValueError(
                f"T5Config.max_distance ({self.max_distance}) must exceed num_buckets/4 ({self.num_buckets // 4})"
            )
        if not self.eps > 0:
            raise ValueError(f"T5Config.eps must be positive, got {self.eps!r}")

    @property
    def head_dim(self) -> int:
        return self.dim_attn // self.num_heads


# The text encoder of every Wan2.2 task (`models_t5_umt5-xxl-enc-bf16.pth`, 5,680,910,336 params).
UMT5_XXL = T5Config(
    vocab_size=256384,
    dim=4096,
    dim_attn=4096,
    dim_ffn=10240,
    num_heads=64,
    num_layers=24,
    num_buckets=32,
)


def t5_num_params(cfg: T5Config) -> int:
    """Parameter count, for memory planning (umt5-xxl: 5,680,910,336)."""
    attn = 4 * cfg.dim * cfg.dim_attn
    ffn = 3 * cfg.dim * cfg.dim_ffn
    per_layer = attn + ffn + 2 * cfg.dim + cfg.num_buckets * cfg.num_heads
    return cfg.vocab_size * cfg.dim + cfg.num_layers * per_layer + cfg.dim


T5_PRESETS: dict[str, T5Config] = {"umt5-xxl": UMT5_XXL}


def t5_preset(name: str) -> T5Config:
    """Resolve a preset by name; unknown names fail with the list of known ones."""
    try:
        return T5_PRESETS[name]
    except KeyError:
        raise ValueError(
            f"unknown T5 preset {name!r}; known: {', '.join(sorted(T5_PRESETS))}"
        ) from None


_BLOCK_KEY = re.compile(r"^blocks\.(\d+)\.")


def _shape(sd: Mapping[str, torch.Tensor], key: str, ndim: int) -> tuple[int, ...]:
    if key not in sd:
        raise ValueError(f"missing tensor {key!r}")
    shape = tuple(sd[key].shape)
    if len(shape) != ndim:
        raise ValueError(f"tensor {key!r} has shape {list(shape)}, expected {ndim} dims")
    return shape


def t5_config_from_state_dict(sd: Mapping[str, torch.Tensor]) -> T5Config:
    """Derive the config from tensor shapes (works on meta or mmapped tensors: nothing is read).

    num_heads is not visible in any Linear weight; it is the second dim of the per-layer
    relative-position table [num_buckets, num_heads]. Raises ValueError on foreign state dicts.
    """
    vocab_size, dim = _shape(sd, "token_embedding.weight", 2)
    layer_ids = {int(m.group(1)) for key in sd if (m := _BLOCK_KEY.match(key))}
    if not layer_ids:
        raise ValueError("no 'blocks.N.*' tensors")
    num_layers = max(layer_ids) + 1
    if layer_ids != set(range(num_layers)):
        missing = sorted(set(range(num_layers)) - layer_ids)
        raise ValueError(f"blocks {missing} are missing")
    dim_attn, q_in = _shape(sd, "blocks.0.attn.q.weight", 2)
    dim_ffn, fc1_in = _shape(sd, "blocks.0.ffn.fc1.weight", 2)
    num_buckets, num_heads = _shape(sd, "blocks.0.pos_embedding.embedding.weight", 2)
    if q_in != dim or fc1_in != dim:
        raise ValueError(
            f"layer input widths ({q_in}, {fc1_in}) do not match the embedding width {dim}"
        )
    return T5Config(
        vocab_size=vocab_size,
        dim=dim,
        dim_attn=dim_attn,
        dim_ffn=dim_ffn,
        num_heads=num_heads,
        num_layers=num_layers,
        num_buckets=num_buckets,
    )
