"""The Wan2.1 video VAE (z 16, 4x8x8), as in official ``wan/modules/vae2_1.py``; used by the A14B models.

Layer lists are flat (``encoder.downsamples.K``, ``decoder.upsamples.K``) like the official file, so the
official ``Wan2.1_VAE.pth`` loads with ``strict=True``. Modules and math only.
"""

from __future__ import annotations

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


class Encoder3d(nn.Module):
    def __init__(self, cfg: VAEConfig) -> None:
        super().__init__()
        dims = [cfg.dim * m for m in (1, *cfg.dim_mult)]
        self.conv1 = CausalConv3d(cfg.io_channels, dims[0], 3, padding=1)
        layers: list[nn.Module] = []
        last = len(cfg.dim_mult) - 1
        for i, (in_dim, out_dim) in enumerate(zip(dims[:-1], dims[1:])):
            for _ in range(cfg.num_res_blocks):
                layers.append(ResidualBlock(in_dim, out_dim))
                in_dim = out_dim
            if i != last:
                mode = "downsample3d" if cfg.temperal_downsample[i] else "downsample2d"
                layers.append(Resample(out_dim, mode))
        self.downsamples = nn.Sequential(*layers)
        self.middle = make_middle(dims[-1])
        self.head = make_head(dims[-1], cfg.z_dim * 2)

    def forward(self, x: Tensor, cache: FeatureCache | None = None) -> Tensor:
        x = cached_conv(self.conv1, x, cache)
        for layer in self.downsamples:
            x = layer(x, cache)
        x = run_middle(self.middle, x, cache)
        return run_head(self.head, x, cache)


class Decoder3d(nn.Module):
    def __init__(self, cfg: VAEConfig) -> None:
        super().__init__()
        mult = cfg.dim_mult
        dims = [cfg.dec_dim * m for m in (mult[-1], *mult[::-1])]
        self.conv1 = CausalConv3d(cfg.z_dim, dims[0], 3, padding=1)
        self.middle = make_middle(dims[0])
        layers: list[nn.Module] = []
        last = len(mult) - 1
        for i, (in_dim, out_dim) in enumerate(zip(dims[:-1], dims[1:])):
            if i > 0:
                in_dim //= 2  # the previous level's upsample conv halved the width
            for _ in range(cfg.num_res_blocks + 1):
                layers.append(ResidualBlock(in_dim, out_dim))
                in_dim = out_dim
            if i != last:
                mode = "upsample3d" if cfg.temperal_upsample[i] else "upsample2d"
                layers.append(Resample(out_dim, mode))
        self.upsamples = nn.Sequential(*layers)
        self.head = make_head(dims[-1], cfg.io_channels)

    def forward(
        self, x: Tensor, cache: FeatureCache | None = None, first_chunk: bool = False
    ) -> Tensor:
        x = cached_conv(self.conv1, x, cache)
        x = run_middle(self.middle, x, cache)
        for layer in self.upsamples:
            x = layer(x, cache)
        return run_head(self.head, x, cache)


class WanVAE21(LatentVAE):
    """Official ``WanVAE_`` of vae2_1: encoder, ``conv1`` (2z->2z), ``conv2`` (z->z), decoder."""

    version = "2.1"

    def __init__(self, cfg: VAEConfig) -> None:
        super().__init__(cfg, Encoder3d(cfg), Decoder3d(cfg))
