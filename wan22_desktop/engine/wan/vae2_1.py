"""The Wan2.1 video VAE (z 16, 4x8x8), as in official ``wan/modules/vae2_1.py``; used by the A14B models.

Layer lists are flat (``encoder.downsamples.K``, ``decoder.upsamples.K``) like the official file, so the
official ``Wan2.1_VAE.pth`` loads with ``strict=True``. Modules and math only.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .vae_blocks import (
    CausalConv3d,
    FeatureCache,
    Resample,
    ResidualBlock,
    cached_conv,
    decode_in_chunks,
    denormalize_latent,
    encode_in_chunks,
    make_head,
    make_middle,
    normalize_latent,
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

    def forward(self, x: Tensor, cache: FeatureCache | None = None, first_chunk: bool = False) -> Tensor:
        x = cached_conv(self.conv1, x, cache)
        x = run_middle(self.middle, x, cache)
        for layer in self.upsamples:
            x = layer(x, cache)
        return run_head(self.head, x, cache)


class WanVAE21(nn.Module):
    """Official ``WanVAE_`` of vae2_1: encoder, ``conv1`` (2z->2z), ``conv2`` (z->z), decoder."""

    def __init__(self, cfg: VAEConfig) -> None:
        super().__init__()
        if cfg.version != "2.1":
            raise ValueError(f"WanVAE21 needs a 2.1 config, got {cfg.version}")
        self.config = cfg
        self.encoder = Encoder3d(cfg)
        self.conv1 = CausalConv3d(cfg.z_dim * 2, cfg.z_dim * 2, 1)
        self.conv2 = CausalConv3d(cfg.z_dim, cfg.z_dim, 1)
        self.decoder = Decoder3d(cfg)

    def _stats(self, like: Tensor) -> tuple[Tensor, Tensor]:
        # Built per call (not buffers) so the state dict stays exactly the official one; in the
        # compute dtype, as the official wrapper builds them in its ``dtype``.
        kw = {"dtype": like.dtype, "device": like.device}
        return torch.tensor(self.config.latents_mean, **kw), torch.tensor(self.config.latents_std, **kw)

    def encode_raw(self, x: Tensor) -> Tensor:
        """Video [B, 3, T, H, W] in [-1, 1] -> mu before normalisation, [B, z, 1 + (T-1)//4, H/8, W/8]."""
        out = encode_in_chunks(self.encoder, x)
        return self.conv1(out).chunk(2, dim=1)[0]

    def encode(self, x: Tensor) -> Tensor:
        """Video -> normalised latent (mu - mean) / std."""
        return normalize_latent(self.encode_raw(x), *self._stats(x))

    def decode_raw(self, z: Tensor) -> Tensor:
        """Un-normalised latent -> video, not clamped (clamping is the wrapper's job upstream)."""
        return decode_in_chunks(self.decoder, self.conv2(z))

    def decode(self, z: Tensor) -> Tensor:
        """Normalised latent -> video [B, 3, 1 + 4(T-1), 8H, 8W] clamped to [-1, 1]."""
        return self.decode_raw(denormalize_latent(z, *self._stats(z))).clamp_(-1, 1)
