"""The Wan2.2 video VAE (z 48, 4x16x16), as in official ``wan/modules/vae2_2.py``; used by TI2V-5B.

Differences from Wan2.1: a 2x2 pixel patchify around the network (channel order c, w-offset,
h-offset), residual levels with parameter-free AvgDown3D / DupUp3D shortcuts, nested layer lists
(``encoder.downsamples.L.downsamples.j``), upsample convs that keep the width, and a decoder base
width (256) different from the encoder's (160). Modules and math only.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from .vae_blocks import (
    CausalConv3d,
    FeatureCache,
    LatentVAE,
    Resample,
    ResidualBlock,
    cached_conv,
    make_head,
    make_middle,
    run_head,
    run_middle,
)
from .vae_config import VAEConfig


def patchify(x: Tensor, p: int = 2) -> Tensor:
    """[B, C, T, H, W] -> [B, C*p*p, T, H/p, W/p], channel = c*p*p + w_off*p + h_off (official order)."""
    b, c, t, h, w = x.shape
    if h % p or w % p:
        raise ValueError(f"height {h} and width {w} must be multiples of {p}")
    x = x.view(b, c, t, h // p, p, w // p, p)
    return x.permute(0, 1, 6, 4, 2, 3, 5).reshape(b, c * p * p, t, h // p, w // p)


def unpatchify(x: Tensor, p: int = 2) -> Tensor:
    """Exact inverse of ``patchify``."""
    b, cpp, t, h, w = x.shape
    x = x.view(b, cpp // (p * p), p, p, t, h, w)  # (c, w_off, h_off)
    return x.permute(0, 1, 4, 5, 3, 6, 2).reshape(b, cpp // (p * p), t, h * p, w * p)


class AvgDown3D(nn.Module):
    """Parameter-free shortcut: fold (t, h, w) blocks into channels, then average channel groups."""

    def __init__(
        self, in_channels: int, out_channels: int, factor_t: int, factor_s: int = 1
    ) -> None:
        super().__init__()
        self.out_channels = out_channels
        self.factor_t = factor_t
        self.factor_s = factor_s
        factor = factor_t * factor_s * factor_s
        if in_channels * factor % out_channels:
            raise ValueError(
                f"AvgDown3D: {in_channels}*{factor} is not a multiple of {out_channels}"
            )
        self.group_size = in_channels * factor // out_channels

    def forward(self, x: Tensor) -> Tensor:
        ft, fs = self.factor_t, self.factor_s
        x = F.pad(x, (0, 0, 0, 0, (ft - x.shape[2] % ft) % ft, 0))
        b, c, t, h, w = x.shape
        x = x.view(b, c, t // ft, ft, h // fs, fs, w // fs, fs).permute(0, 1, 3, 5, 7, 2, 4, 6)
        x = x.reshape(b, self.out_channels, self.group_size, t // ft, h // fs, w // fs)
        return x.mean(dim=2)


class DupUp3D(nn.Module):
    """Parameter-free shortcut: repeat channels, unfold them into (t, h, w) blocks."""

    def __init__(
        self, in_channels: int, out_channels: int, factor_t: int, factor_s: int = 1
    ) -> None:
        super().__init__()
        self.out_channels = out_channels
        self.factor_t = factor_t
        self.factor_s = factor_s
        factor = factor_t * factor_s * factor_s
        if out_channels * factor % in_channels:
            raise ValueError(f"DupUp3D: {out_channels}*{factor} is not a multiple of {in_channels}")
        self.repeats = out_channels * factor // in_channels

    def forward(self, x: Tensor, first_chunk: bool = False) -> Tensor:
        ft, fs = self.factor_t, self.factor_s
        b, _, t, h, w = x.shape
        x = x.repeat_interleave(self.repeats, dim=1).view(b, self.out_channels, ft, fs, fs, t, h, w)
        x = x.permute(0, 1, 5, 2, 6, 3, 7, 4).reshape(b, self.out_channels, t * ft, h * fs, w * fs)
        if first_chunk:
            # The first chunk has 1 frame in and 1 out, like the main path's "Rep".
            x = x[:, :, ft - 1 :]
        return x


class Down_ResidualBlock(nn.Module):  # noqa: N801 - official name
    """One encoder level: res blocks (+ resample) plus an AvgDown3D shortcut of the level input."""

    def __init__(
        self, in_dim: int, out_dim: int, mult: int, temperal_downsample: bool, down_flag: bool
    ) -> None:
        super().__init__()
        self.avg_shortcut = AvgDown3D(
            in_dim,
            out_dim,
            factor_t=2 if temperal_downsample else 1,
            factor_s=2 if down_flag else 1,
        )
        layers: list[nn.Module] = []
        for _ in range(mult):
            layers.append(ResidualBlock(in_dim, out_dim))
            in_dim = out_dim
        if down_flag:
            layers.append(
                Resample(out_dim, "downsample3d" if temperal_downsample else "downsample2d")
            )
        self.downsamples = nn.Sequential(*layers)

    def forward(self, x: Tensor, cache: FeatureCache | None = None) -> Tensor:
        shortcut = self.avg_shortcut(x)
        for layer in self.downsamples:
            x = layer(x, cache)
        return x + shortcut


class Up_ResidualBlock(nn.Module):  # noqa: N801 - official name
    """One decoder level: res blocks (+ resample) plus a DupUp3D shortcut when it upsamples."""

    def __init__(
        self, in_dim: int, out_dim: int, mult: int, temperal_upsample: bool, up_flag: bool
    ) -> None:
        super().__init__()
        self.avg_shortcut = (
            DupUp3D(in_dim, out_dim, factor_t=2 if temperal_upsample else 1, factor_s=2)
            if up_flag
            else None
        )
        layers: list[nn.Module] = []
        for _ in range(mult):
            layers.append(ResidualBlock(in_dim, out_dim))
            in_dim = out_dim
        if up_flag:
            mode = "upsample3d" if temperal_upsample else "upsample2d"
            layers.append(Resample(out_dim, mode, upsample_out_dim=out_dim))
        self.upsamples = nn.Sequential(*layers)

    def forward(
        self, x: Tensor, cache: FeatureCache | None = None, first_chunk: bool = False
    ) -> Tensor:
        shortcut = self.avg_shortcut(x, first_chunk) if self.avg_shortcut is not None else None
        for layer in self.upsamples:
            x = layer(x, cache)
        return x if shortcut is None else x + shortcut


class Encoder3d(nn.Module):
    def __init__(self, cfg: VAEConfig) -> None:
        super().__init__()
        dims = [cfg.dim * m for m in (1, *cfg.dim_mult)]
        self.conv1 = CausalConv3d(cfg.io_channels, dims[0], 3, padding=1)
        last = len(cfg.dim_mult) - 1
        self.downsamples = nn.Sequential(
            *(
                Down_ResidualBlock(
                    in_dim,
                    out_dim,
                    cfg.num_res_blocks,
                    temperal_downsample=i != last and cfg.temperal_downsample[i],
                    down_flag=i != last,
                )
                for i, (in_dim, out_dim) in enumerate(zip(dims[:-1], dims[1:]))
            )
        )
        self.middle = make_middle(dims[-1])
        self.head = make_head(dims[-1], cfg.z_dim * 2)

    def forward(self, x: Tensor, cache: FeatureCache | None = None) -> Tensor:
        x = cached_conv(self.conv1, x, cache)
        for level in self.downsamples:
            x = level(x, cache)
        x = run_middle(self.middle, x, cache)
        return run_head(self.head, x, cache)


class Decoder3d(nn.Module):
    def __init__(self, cfg: VAEConfig) -> None:
        super().__init__()
        mult = cfg.dim_mult
        dims = [cfg.dec_dim * m for m in (mult[-1], *mult[::-1])]
        self.conv1 = CausalConv3d(cfg.z_dim, dims[0], 3, padding=1)
        self.middle = make_middle(dims[0])
        last = len(mult) - 1
        self.upsamples = nn.Sequential(
            *(
                Up_ResidualBlock(
                    in_dim,
                    out_dim,
                    cfg.num_res_blocks + 1,
                    temperal_upsample=i != last and cfg.temperal_upsample[i],
                    up_flag=i != last,
                )
                for i, (in_dim, out_dim) in enumerate(zip(dims[:-1], dims[1:]))
            )
        )
        self.head = make_head(dims[-1], cfg.io_channels)

    def forward(
        self, x: Tensor, cache: FeatureCache | None = None, first_chunk: bool = False
    ) -> Tensor:
        x = cached_conv(self.conv1, x, cache)
        x = run_middle(self.middle, x, cache)
        for level in self.upsamples:
            x = level(x, cache, first_chunk)
        return run_head(self.head, x, cache)


class WanVAE22(LatentVAE):
    """Official ``WanVAE_`` of vae2_2: patchify, encoder, ``conv1``, ``conv2``, decoder, unpatchify."""

    version = "2.2"

    def __init__(self, cfg: VAEConfig) -> None:
        super().__init__(cfg, Encoder3d(cfg), Decoder3d(cfg))

    def pixels_in(self, x: Tensor) -> Tensor:
        return patchify(x, self.config.patch_size)

    def pixels_out(self, x: Tensor) -> Tensor:
        return unpatchify(x, self.config.patch_size)
