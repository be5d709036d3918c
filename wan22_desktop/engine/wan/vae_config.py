"""Frozen configs for the Wan2.1 / Wan2.2 video VAEs, official presets, and inference from a state dict.

The per-channel latent mean/std are not stored in the official ``.pth`` files; the official wrappers
(``Wan2_1_VAE`` / ``Wan2_2_VAE``) hard-code them, so they live here as data.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

VAEVersion = Literal["2.1", "2.2"]
VERSIONS: tuple[str, ...] = ("2.1", "2.2")

WAN21_LATENT_MEAN: tuple[float, ...] = (
    -0.7571, -0.7089, -0.9113, 0.1075, -0.1745, 0.9653, -0.1517, 1.5508,
    0.4134, -0.0715, 0.5517, -0.3632, -0.1922, -0.9497, 0.2503, -0.2921,
)  # fmt: skip
WAN21_LATENT_STD: tuple[float, ...] = (
    2.8184, 1.4541, 2.3275, 2.6558, 1.2196, 1.7708, 2.6052, 2.0743,
    3.2687, 2.1526, 2.8652, 1.5579, 1.6382, 1.1253, 2.8251, 1.9160,
)  # fmt: skip
WAN22_LATENT_MEAN: tuple[float, ...] = (
    -0.2289, -0.0052, -0.1323, -0.2339, -0.2799, 0.0174, 0.1838, 0.1557,
    -0.1382, 0.0542, 0.2813, 0.0891, 0.1570, -0.0098, 0.0375, -0.1825,
    -0.2246, -0.1207, -0.0698, 0.5109, 0.2665, -0.2108, -0.2158, 0.2502,
    -0.2055, -0.0322, 0.1109, 0.1567, -0.0729, 0.0899, -0.2799, -0.1230,
    -0.0313, -0.1649, 0.0117, 0.0723, -0.2839, -0.2083, -0.0520, 0.3748,
    0.0152, 0.1957, 0.1433, -0.2944, 0.3573, -0.0548, -0.1681, -0.0667,
)  # fmt: skip
WAN22_LATENT_STD: tuple[float, ...] = (
    0.4765, 1.0364, 0.4514, 1.1677, 0.5313, 0.4990, 0.4818, 0.5013,
    0.8158, 1.0344, 0.5894, 1.0901, 0.6885, 0.6165, 0.8454, 0.4978,
    0.5759, 0.3523, 0.7135, 0.6804, 0.5833, 1.4146, 0.8986, 0.5659,
    0.7069, 0.5338, 0.4889, 0.4917, 0.4069, 0.4999, 0.6866, 0.4093,
    0.5709, 0.6065, 0.6415, 0.4944, 0.5726, 1.2042, 0.5458, 1.6887,
    0.3971, 1.0600, 0.3943, 0.5537, 0.5444, 0.4089, 0.7468, 0.7744,
)  # fmt: skip

_OFFICIAL_STATS: dict[tuple[str, int], tuple[tuple[float, ...], tuple[float, ...]]] = {
    ("2.1", 16): (WAN21_LATENT_MEAN, WAN21_LATENT_STD),
    ("2.2", 48): (WAN22_LATENT_MEAN, WAN22_LATENT_STD),
}


def default_latent_stats(version: str, z_dim: int) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Official mean/std when the latent width matches the real VAE, else the identity (0, 1)."""
    stats = _OFFICIAL_STATS.get((version, z_dim))
    if stats is not None:
        return stats
    return (0.0,) * z_dim, (1.0,) * z_dim


@dataclass(frozen=True)
class VAEConfig:
    """Shape of a Wan video VAE. ``dec_dim`` differs from ``dim`` only in Wan2.2 (256 vs 160)."""

    version: VAEVersion
    dim: int
    z_dim: int
    dec_dim: int = 0  # 0 means "same as dim"
    dim_mult: tuple[int, ...] = (1, 2, 4, 4)
    num_res_blocks: int = 2
    temperal_downsample: tuple[bool, ...] = (False, True, True)  # official spelling
    latents_mean: tuple[float, ...] = ()  # () means "official if z matches, else zeros"
    latents_std: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if self.version not in VERSIONS:
            raise ValueError(f"version must be one of {VERSIONS}, got {self.version!r}")
        for name in ("dim", "z_dim", "num_res_blocks"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.dec_dim == 0:
            object.__setattr__(self, "dec_dim", self.dim)
        if self.dec_dim < 1:
            raise ValueError(f"dec_dim must be >= 1, got {self.dec_dim}")
        if self.version == "2.1" and self.dec_dim != self.dim:
            raise ValueError("dec_dim must equal dim for the Wan2.1 VAE")
        object.__setattr__(self, "dim_mult", tuple(int(m) for m in self.dim_mult))
        object.__setattr__(
            self, "temperal_downsample", tuple(bool(t) for t in self.temperal_downsample)
        )
        if not 2 <= len(self.dim_mult) <= 4 or min(self.dim_mult) < 1:
            # The official Wan2.1 decoder halves the input width of levels 1..3 only.
            raise ValueError(f"dim_mult must hold 2 to 4 positive ints, got {self.dim_mult}")
        if len(self.temperal_downsample) != len(self.dim_mult) - 1:
            raise ValueError("temperal_downsample must have len(dim_mult) - 1 entries")
        if not self.latents_mean and not self.latents_std:
            mean, std = default_latent_stats(self.version, self.z_dim)
            object.__setattr__(self, "latents_mean", mean)
            object.__setattr__(self, "latents_std", std)
        object.__setattr__(self, "latents_mean", tuple(float(v) for v in self.latents_mean))
        object.__setattr__(self, "latents_std", tuple(float(v) for v in self.latents_std))
        if len(self.latents_mean) != self.z_dim or len(self.latents_std) != self.z_dim:
            raise ValueError(f"latents_mean/latents_std must have z_dim={self.z_dim} entries")
        if min(self.latents_std) <= 0:
            raise ValueError("latents_std must be positive")

    @property
    def patch_size(self) -> int:
        """Wan2.2 folds 2x2 pixels into channels before the encoder."""
        return 2 if self.version == "2.2" else 1

    @property
    def io_channels(self) -> int:
        """Channels the encoder reads and the decoder head writes (12 = 3 * 2 * 2 for Wan2.2)."""
        return 3 * self.patch_size * self.patch_size

    @property
    def temperal_upsample(self) -> tuple[bool, ...]:
        return self.temperal_downsample[::-1]

    @property
    def stride(self) -> tuple[int, int, int]:
        """(t, h, w) compression: (4, 8, 8) for Wan2.1, (4, 16, 16) for Wan2.2."""
        t = 2 ** sum(self.temperal_downsample)
        s = 2 ** (len(self.dim_mult) - 1) * self.patch_size
        return (t, s, s)


WAN21_VAE = VAEConfig(version="2.1", dim=96, z_dim=16)
WAN22_VAE = VAEConfig(version="2.2", dim=160, dec_dim=256, z_dim=48)
VAE_PRESETS: dict[str, VAEConfig] = {"2.1": WAN21_VAE, "2.2": WAN22_VAE}

# Tiny shapes for tests and the tiny-checkpoint command: real structure (4 levels, 2 res blocks,
# real z_dim) at a few channels; Wan2.2 keeps dec_dim != dim so that path is exercised.
TINY_VAE_PRESETS: dict[str, VAEConfig] = {
    "2.1": VAEConfig(version="2.1", dim=8, z_dim=16),
    "2.2": VAEConfig(version="2.2", dim=8, dec_dim=12, z_dim=48),
}

_ENC21 = re.compile(r"encoder\.downsamples\.(\d+)\.")
_ENC22 = re.compile(r"encoder\.downsamples\.(\d+)\.downsamples\.(\d+)\.")


def _shape(sd: Mapping[str, Any], key: str) -> tuple[int, ...]:
    if key not in sd:
        raise ValueError(f"missing tensor {key!r}")
    return tuple(sd[key].shape)


def _encoder_levels(sd: Mapping[str, Any], version: str) -> list[tuple[list[int], bool, bool]]:
    """Per encoder level: output widths of its res blocks, has a resample, resample is temporal."""
    levels: list[tuple[list[int], bool, bool]] = []
    if version == "2.1":
        n = 1 + max((int(m.group(1)) for k in sd if (m := _ENC21.match(k))), default=-1)
        widths: list[int] = []
        for k in range(n):
            prefix = f"encoder.downsamples.{k}."
            if prefix + "residual.2.weight" in sd:
                widths.append(_shape(sd, prefix + "residual.2.weight")[0])
            elif prefix + "resample.1.weight" in sd:
                levels.append((widths, True, prefix + "time_conv.weight" in sd))
                widths = []
            else:
                raise ValueError(f"unknown encoder layer {prefix!r}")
        levels.append((widths, False, False))
        return levels
    pairs = {(int(m.group(1)), int(m.group(2))) for k in sd if (m := _ENC22.match(k))}
    for lvl in range(1 + max((p[0] for p in pairs), default=-1)):
        prefix = f"encoder.downsamples.{lvl}.downsamples."
        widths = []
        has_resample = temporal = False
        for j in sorted(j for (i, j) in pairs if i == lvl):
            if f"{prefix}{j}.residual.2.weight" in sd:
                widths.append(_shape(sd, f"{prefix}{j}.residual.2.weight")[0])
            elif f"{prefix}{j}.resample.1.weight" in sd:
                has_resample, temporal = True, f"{prefix}{j}.time_conv.weight" in sd
            else:
                raise ValueError(f"unknown encoder layer {prefix}{j}")
        levels.append((widths, has_resample, temporal))
    return levels


def vae_config_from_state_dict(sd: Mapping[str, Any], version: str) -> VAEConfig:
    """Read the VAE shape off official-format tensor shapes, so tiny and real files share one path.

    Raises ValueError when the keys or shapes do not look like a Wan ``version`` VAE; the final
    word is ``load_state_dict(strict=True)`` on the model built from the result.
    """
    if version not in VERSIONS:
        raise ValueError(f"version must be one of {VERSIONS}, got {version!r}")
    dim, in_ch = _shape(sd, "encoder.conv1.weight")[:2]
    expected_in = 12 if version == "2.2" else 3
    if in_ch != expected_in:
        raise ValueError(
            f"encoder input has {in_ch} channels, a Wan{version} VAE has {expected_in}"
        )
    z_dim = _shape(sd, "conv2.weight")[0]
    levels = _encoder_levels(sd, version)
    if len(levels) < 2 or any(not widths for widths, _, _ in levels):
        raise ValueError("encoder levels could not be read")
    num_res_blocks = len(levels[0][0])
    if any(len(widths) != num_res_blocks for widths, _, _ in levels):
        raise ValueError("encoder levels have different numbers of residual blocks")
    if any(not has for _, has, _ in levels[:-1]) or levels[-1][1]:
        raise ValueError("every encoder level but the last must end in a resample")
    dim_mult: list[int] = []
    for widths, _, _ in levels:
        if widths[-1] % dim:
            raise ValueError(f"encoder width {widths[-1]} is not a multiple of dim {dim}")
        dim_mult.append(widths[-1] // dim)
    dec_top = _shape(sd, "decoder.conv1.weight")[0]
    if dec_top % dim_mult[-1]:
        raise ValueError(f"decoder width {dec_top} is not a multiple of {dim_mult[-1]}")
    return VAEConfig(
        version=version,  # type: ignore[arg-type]
        dim=dim,
        z_dim=z_dim,
        dec_dim=dec_top // dim_mult[-1],
        dim_mult=tuple(dim_mult),
        num_res_blocks=num_res_blocks,
        temperal_downsample=tuple(t for _, _, t in levels[:-1]),
    )
