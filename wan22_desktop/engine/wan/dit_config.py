"""Frozen configuration of the Wan2.2 DiT, its official presets, and the config.json mapping.

The official ``config.json`` (diffusers ``save_config`` of ``WanModel``) stores only
``dim, eps, ffn_dim, freq_dim, in_dim, model_type, num_heads, num_layers, out_dim, text_len``;
``patch_size, text_dim, window_size, qk_norm, cross_attn_norm`` are fixed by the constructor
defaults. Deviation (ours): tiny test checkpoints need e.g. a small ``text_dim``, so any of those
five fields that differs from the official value is written as an extra key and read back.
Official files never carry these keys, so they load unchanged.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MODEL_TYPES = ("t2v", "i2v", "ti2v", "s2v")
OFFICIAL_CLASS_NAME = "WanModel"
OFFICIAL_DIFFUSERS_VERSION = "0.33.0"

# Keys the official config.json always has (besides _class_name/_diffusers_version).
_OFFICIAL_KEYS = (
    "dim",
    "eps",
    "ffn_dim",
    "freq_dim",
    "in_dim",
    "model_type",
    "num_heads",
    "num_layers",
    "out_dim",
    "text_len",
)
# Constructor-only fields; written to config.json by us only when not the official default.
_EXTRA_KEYS = ("patch_size", "text_dim", "window_size", "qk_norm", "cross_attn_norm")


@dataclass(frozen=True)
class DiTConfig:
    """Hyper-parameters of one ``WanModel`` (defaults are the official constructor defaults)."""

    model_type: str = "t2v"
    patch_size: tuple[int, int, int] = (1, 2, 2)
    text_len: int = 512
    in_dim: int = 16
    dim: int = 2048
    ffn_dim: int = 8192
    freq_dim: int = 256
    text_dim: int = 4096
    out_dim: int = 16
    num_heads: int = 16
    num_layers: int = 32
    window_size: tuple[int, int] = (-1, -1)
    qk_norm: bool = True
    cross_attn_norm: bool = True
    eps: float = 1e-6

    def __post_init__(self) -> None:
        # Normalise sequences (JSON gives lists) so equality and hashing work.
        object.__setattr__(self, "patch_size", tuple(int(p) for p in self.patch_size))
        object.__setattr__(self, "window_size", tuple(int(w) for w in self.window_size))
        if self.model_type not in MODEL_TYPES:
            raise ValueError(f"model_type must be one of {MODEL_TYPES}, got {self.model_type!r}")
        if len(self.patch_size) != 3 or min(self.patch_size) < 1:
            raise ValueError(f"patch_size must be three positive ints, got {self.patch_size}")
        for name in (
            "text_len",
            "in_dim",
            "dim",
            "ffn_dim",
            "freq_dim",
            "text_dim",
            "out_dim",
            "num_heads",
            "num_layers",
        ):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.dim % self.num_heads != 0:
            raise ValueError(f"dim ({self.dim}) must be divisible by num_heads ({self.num_heads})")
        if self.head_dim % 2 != 0 or self.head_dim < 6:
            raise ValueError(f"head_dim (dim/num_heads = {self.head_dim}) must be even and >= 6")
        if self.freq_dim % 2 != 0:
            raise ValueError(f"freq_dim must be even, got {self.freq_dim}")
        if not self.eps > 0:
            raise ValueError(f"eps must be positive, got {self.eps}")

    @property
    def head_dim(self) -> int:
        return self.dim // self.num_heads

    @property
    def patch_volume(self) -> int:
        p_t, p_h, p_w = self.patch_size
        return p_t * p_h * p_w

    def replace(self, **changes: Any) -> DiTConfig:
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_config_json(cls, data: Mapping[str, Any]) -> DiTConfig:
        """Build from an official (or our extended) config.json dict; unknown keys are ignored
        like diffusers does, missing official keys are an error."""
        missing = [k for k in _OFFICIAL_KEYS if k not in data and k != "eps"]
        if missing:
            raise ValueError(f"config.json lacks required keys: {', '.join(missing)}")
        fields = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: data[k] for k in (*_OFFICIAL_KEYS, *_EXTRA_KEYS) if k in data and k in fields}
        return cls(**kwargs)

    def to_config_json(self, diffusers_version: str = OFFICIAL_DIFFUSERS_VERSION) -> dict[str, Any]:
        """The dict the official checkpoints store (plus our extra keys where we deviate)."""
        out: dict[str, Any] = {
            "_class_name": OFFICIAL_CLASS_NAME,
            "_diffusers_version": diffusers_version,
        }
        for key in _OFFICIAL_KEYS:
            out[key] = getattr(self, key)
        default = DiTConfig()
        for key in _EXTRA_KEYS:
            value = getattr(self, key)
            if value != getattr(default, key):
                out[key] = list(value) if isinstance(value, tuple) else value
        return out


PRESETS: dict[str, DiTConfig] = {
    "t2v-A14B": DiTConfig(
        model_type="t2v",
        in_dim=16,
        out_dim=16,
        dim=5120,
        ffn_dim=13824,
        freq_dim=256,
        num_heads=40,
        num_layers=40,
        text_len=512,
        eps=1e-6,
    ),
    "i2v-A14B": DiTConfig(
        model_type="i2v",
        in_dim=36,
        out_dim=16,
        dim=5120,
        ffn_dim=13824,
        freq_dim=256,
        num_heads=40,
        num_layers=40,
        text_len=512,
        eps=1e-6,
    ),
    "ti2v-5B": DiTConfig(
        model_type="ti2v",
        in_dim=48,
        out_dim=48,
        dim=3072,
        ffn_dim=14336,
        freq_dim=256,
        num_heads=24,
        num_layers=30,
        text_len=512,
        eps=1e-6,
    ),
}


def preset(task: str) -> DiTConfig:
    """The official DiT config for a task name (``t2v-A14B``, ``i2v-A14B``, ``ti2v-5B``)."""
    try:
        return PRESETS[task]
    except KeyError:
        raise ValueError(f"unknown task {task!r}; known: {', '.join(PRESETS)}") from None


def seq_len_for(
    latent_shape: tuple[int, int, int],
    patch_size: tuple[int, int, int] = (1, 2, 2),
    sp_size: int = 1,
) -> int:
    """DiT token count for a latent [F, H, W], rounded up to a multiple of the Ulysses size
    (upstream: ceil(H·W/(p_h·p_w) · F / sp) · sp; 1280×720×81 frames → 75,600)."""
    f, h, w = latent_shape
    p_t, p_h, p_w = patch_size
    tokens = (f // p_t) * (h // p_h) * (w // p_w)
    return -(-tokens // sp_size) * sp_size


def tiny_dit_config(task: str, **overrides: Any) -> DiTConfig:
    """A few-kB DiT with the task's channel layout, for generated test checkpoints.

    in/out channels stay the task's (they are tied to the VAE latent channels); the width is
    tiny. head_dim 16 exercises the uneven RoPE split (8/4/4)."""
    base = preset(task)
    tiny = base.replace(dim=32, ffn_dim=64, freq_dim=64, num_heads=2, num_layers=2, text_dim=32)
    return tiny.replace(**overrides) if overrides else tiny


def forward_flops(cfg: DiTConfig, tokens: int) -> float:
    """Matmul FLOPs of one DiT forward over ``tokens`` video tokens (2 per multiply-add;
    element-wise work ignored): the benchmarks' MFU denominator."""
    c, s, l_txt = cfg.dim, tokens, cfg.text_len
    per_block = (
        2 * s * c * c * 4  # self-attn q, k, v, o
        + 2 * 2 * s * s * c  # q·kᵀ and p·v
        + 2 * s * c * c * 2
        + 2 * l_txt * c * c * 2  # cross-attn q, o and k, v over text
        + 2 * 2 * s * l_txt * c
        + 2 * s * c * cfg.ffn_dim * 2  # FFN
    )
    embed = 2 * s * cfg.in_dim * cfg.patch_volume * c + 2 * l_txt * (cfg.text_dim * c + c * c)
    head = 2 * s * c * cfg.patch_volume * cfg.out_dim
    return cfg.num_layers * per_block + embed + head
