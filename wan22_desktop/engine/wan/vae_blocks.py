"""Building blocks shared by the Wan2.1 and Wan2.2 video VAEs, with the official causal feature cache.

Module and parameter names follow the official ``wan/modules/vae2_{1,2}.py`` exactly (``residual.0``,
``resample.1``, ``time_conv``, ``gamma`` ...), so official ``.pth`` files load with ``strict=True``.
The VAEs run causally in time chunks; every causal conv keeps the last ``CACHE_T`` frames of its
input from the previous chunk in a ``FeatureCache`` slot, in call order. The chunk-boundary quirks
(``downsample3d`` first chunk, ``upsample3d`` "Rep") are copied on purpose: a cleaner scheme would not
reproduce the official outputs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, cast

import torch
import torch.nn.functional as F
from torch import Tensor, nn

if TYPE_CHECKING:
    from .vae_config import VAEConfig

CACHE_T = 2


class _Rep:
    """Marker the official code stores as the string "Rep": upsample3d saw its first chunk."""

    def __repr__(self) -> str:
        return "Rep"


REP = _Rep()
Slot = None | Tensor | _Rep


class FeatureCache:
    """One slot per causal conv (and per resample time_conv), addressed in call order per chunk."""

    def __init__(self) -> None:
        self.slots: list[Slot] = []
        self.index = 0

    def start_chunk(self) -> None:
        self.index = 0

    def next_slot(self) -> int:
        """Claim the next slot in call order, growing the list on the first chunk."""
        idx = self.index
        if idx == len(self.slots):
            self.slots.append(None)
        self.index += 1
        return idx


def _tail_frames(x: Tensor, previous: Slot) -> Tensor:
    """The frames a conv must see in front of the next chunk: the last 2 of this input.

    A 1-frame input takes the last frame of the previous cache in front of it.
    """
    tail = x[:, :, -CACHE_T:].clone()
    if tail.shape[2] < CACHE_T and isinstance(previous, Tensor):
        tail = torch.cat([previous[:, :, -1:].to(tail.device), tail], dim=2)
    return tail


class CausalConv3d(nn.Conv3d):
    """Conv3d padded 2*p_t frames in front (none behind); a cache of previous frames replaces the pad."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        pt, ph, pw = cast(tuple[int, int, int], self.padding)
        self._causal_padding: tuple[int, ...] = (pw, pw, ph, ph, 2 * pt, 0)
        self.padding = (0, 0, 0)

    def forward(self, x: Tensor, cache_x: Tensor | None = None) -> Tensor:
        pw, _, ph, _, pt, _ = self._causal_padding
        if not (pw or ph or pt):
            return super().forward(x)
        cached = cache_x.shape[2] if cache_x is not None and pt > 0 else 0
        # One zero-filled buffer instead of cat + pad: same conv input, one copy fewer.
        b, c, t, h, w = x.shape
        buf = x.new_zeros(b, c, max(pt, cached) + t, h + 2 * ph, w + 2 * pw)
        front = max(pt - cached, 0)
        if cached and cache_x is not None:
            buf[:, :, front : front + cached, ph : ph + h, pw : pw + w] = cache_x
        buf[:, :, front + cached :, ph : ph + h, pw : pw + w] = x
        return super().forward(buf)


def cached_conv(conv: nn.Module, x: Tensor, cache: FeatureCache | None) -> Tensor:
    """Run ``conv`` on one chunk, feeding it the frames cached from the previous chunk."""
    if cache is None:
        return conv(x)
    idx = cache.next_slot()
    previous = cache.slots[idx]
    cache.slots[idx] = _tail_frames(x, previous)
    return conv(x, previous if isinstance(previous, Tensor) else None)


class RMS_norm(nn.Module):  # noqa: N801 - official name
    """L2-normalise over channels, times sqrt(C) and gamma (official ``RMS_norm``, no bias)."""

    def __init__(self, dim: int, images: bool = True) -> None:
        super().__init__()
        shape = (dim, 1, 1) if images else (dim, 1, 1, 1)
        self.scale = dim**0.5
        self.gamma = nn.Parameter(torch.ones(shape))

    def forward(self, x: Tensor) -> Tensor:
        # Same operations and order as official ((x / |x|) * scale) * gamma, without temporaries.
        return F.normalize(x, dim=1).mul_(self.scale).mul_(self.gamma)


class Upsample(nn.Module):
    """Nearest-exact 2x spatial upsample, computed in fp32 as the official code does for bf16."""

    def forward(self, x: Tensor) -> Tensor:
        return F.interpolate(x.float(), scale_factor=(2.0, 2.0), mode="nearest-exact").type_as(x)


def _per_frame_2d(module: Callable[[Tensor], Tensor], x: Tensor) -> Tensor:
    """Apply a 2D module to every frame: [b, c, t, h, w] -> (b t) c h w -> back."""
    b, c, t, h, w = x.shape
    y = module(x.permute(0, 2, 1, 3, 4).reshape(b * t, c, h, w))
    return y.view(b, t, *y.shape[1:]).permute(0, 2, 1, 3, 4)


class Resample(nn.Module):
    """Spatial 2x up/down per frame, plus the temporal 2x of the ``*3d`` modes with their cache quirks.

    ``upsample_out_dim`` is dim // 2 in Wan2.1 and dim in Wan2.2.
    """

    def __init__(self, dim: int, mode: str, upsample_out_dim: int | None = None) -> None:
        super().__init__()
        if mode not in ("upsample2d", "upsample3d", "downsample2d", "downsample3d"):
            raise ValueError(f"unknown resample mode {mode!r}")
        self.dim = dim
        self.mode = mode
        out = dim // 2 if upsample_out_dim is None else upsample_out_dim
        if mode.startswith("upsample"):
            self.resample = nn.Sequential(Upsample(), nn.Conv2d(dim, out, 3, padding=1))
        else:
            self.resample = nn.Sequential(
                nn.ZeroPad2d((0, 1, 0, 1)), nn.Conv2d(dim, dim, 3, stride=(2, 2))
            )
        if mode == "upsample3d":
            self.time_conv = CausalConv3d(dim, dim * 2, (3, 1, 1), padding=(1, 0, 0))
        elif mode == "downsample3d":
            self.time_conv = CausalConv3d(dim, dim, (3, 1, 1), stride=(2, 1, 1), padding=(0, 0, 0))

    def _time_upsample(self, x: Tensor, cache: FeatureCache) -> Tensor:
        idx = cache.next_slot()
        previous = cache.slots[idx]
        if previous is None:
            # First chunk: no temporal upsampling, 1 frame in, 1 out.
            cache.slots[idx] = REP
            return x
        tail = x[:, :, -CACHE_T:].clone()
        if tail.shape[2] < CACHE_T:
            front = previous[:, :, -1:] if isinstance(previous, Tensor) else torch.zeros_like(tail)
            tail = torch.cat([front.to(tail.device), tail], dim=2)
        # After "Rep" the time conv uses its own zero padding: the first frame is not context.
        y = self.time_conv(x, previous if isinstance(previous, Tensor) else None)
        cache.slots[idx] = tail
        b, c, t, h, w = x.shape
        # Channels [0:C] become the even output frames, [C:2C] the odd ones.
        return y.view(b, 2, c, t, h, w).permute(0, 2, 3, 1, 4, 5).reshape(b, c, 2 * t, h, w)

    def _time_downsample(self, x: Tensor, cache: FeatureCache) -> Tensor:
        idx = cache.next_slot()
        previous = cache.slots[idx]
        if not isinstance(previous, Tensor):
            # First chunk: no time conv; the slot keeps the (spatially downsampled) frame.
            cache.slots[idx] = x.clone()
            return x
        cache.slots[idx] = x[:, :, -1:].clone()
        return self.time_conv(torch.cat([previous[:, :, -1:], x], dim=2))

    def forward(self, x: Tensor, cache: FeatureCache | None = None) -> Tensor:
        if self.mode == "upsample3d" and cache is not None:
            x = self._time_upsample(x, cache)
        x = _per_frame_2d(self.resample, x)
        if self.mode == "downsample3d" and cache is not None:
            x = self._time_downsample(x, cache)
        return x


class ResidualBlock(nn.Module):
    """(RMS, SiLU, conv3, RMS, SiLU, dropout, conv3) + shortcut; keys ``residual.0/2/3/6``, ``shortcut``."""

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__()
        self.in_dim = in_dim
        self.out_dim = out_dim
        self.residual = nn.Sequential(
            RMS_norm(in_dim, images=False),
            nn.SiLU(),
            CausalConv3d(in_dim, out_dim, 3, padding=1),
            RMS_norm(out_dim, images=False),
            nn.SiLU(),
            nn.Dropout(0.0),
            CausalConv3d(out_dim, out_dim, 3, padding=1),
        )
        self.shortcut: nn.Module = (
            CausalConv3d(in_dim, out_dim, 1) if in_dim != out_dim else nn.Identity()
        )

    def forward(self, x: Tensor, cache: FeatureCache | None = None) -> Tensor:
        h = self.shortcut(x)
        r = self.residual
        # In-place SiLU/add only touch fresh tensors; Dropout(0) is skipped: same numbers, less memory.
        x = cached_conv(r[2], F.silu(r[0](x), inplace=True), cache)
        x = cached_conv(r[6], F.silu(r[3](x), inplace=True), cache)
        return x.add_(h)


class AttentionBlock(nn.Module):
    """Single-head self-attention over the pixels of each frame (middle blocks only)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim
        self.norm = RMS_norm(dim)
        self.to_qkv = nn.Conv2d(dim, dim * 3, 1)
        self.proj = nn.Conv2d(dim, dim, 1)

    def _attend(self, x: Tensor) -> Tensor:
        n, c, h, w = x.shape
        qkv = self.to_qkv(self.norm(x)).reshape(n, 1, c * 3, h * w).permute(0, 1, 3, 2).contiguous()
        q, k, v = qkv.chunk(3, dim=-1)
        y = F.scaled_dot_product_attention(q, k, v)
        return self.proj(y.squeeze(1).permute(0, 2, 1).reshape(n, c, h, w))

    def forward(self, x: Tensor) -> Tensor:
        return _per_frame_2d(self._attend, x) + x


def run_middle(middle: nn.Sequential, x: Tensor, cache: FeatureCache | None) -> Tensor:
    """The middle stack: ResidualBlock, AttentionBlock, ResidualBlock."""
    x = middle[0](x, cache)
    x = middle[1](x)
    return middle[2](x, cache)


def make_middle(dim: int) -> nn.Sequential:
    return nn.Sequential(ResidualBlock(dim, dim), AttentionBlock(dim), ResidualBlock(dim, dim))


def make_head(in_dim: int, out_dim: int) -> nn.Sequential:
    """RMS, SiLU, conv3 (keys ``head.0.gamma``, ``head.2.*``)."""
    return nn.Sequential(
        RMS_norm(in_dim, images=False), nn.SiLU(), CausalConv3d(in_dim, out_dim, 3, padding=1)
    )


def run_head(head: nn.Sequential, x: Tensor, cache: FeatureCache | None) -> Tensor:
    return cached_conv(head[2], F.silu(head[0](x), inplace=True), cache)


def encode_in_chunks(encoder: nn.Module, x: Tensor) -> Tensor:
    """Encode frames [0], [1:5], [5:9], ...; each chunk gives one latent frame; a remainder is dropped."""
    cache = FeatureCache()
    outs = []
    for i in range(1 + (x.shape[2] - 1) // 4):
        cache.start_chunk()
        chunk = x[:, :, :1] if i == 0 else x[:, :, 1 + 4 * (i - 1) : 1 + 4 * i]
        outs.append(encoder(chunk, cache))
    return torch.cat(outs, dim=2)


def decode_in_chunks(decoder: nn.Module, x: Tensor) -> Tensor:
    """Decode one latent frame at a time: 1 frame from the first, 4 from each later one."""
    cache = FeatureCache()
    outs = []
    for i in range(x.shape[2]):
        cache.start_chunk()
        outs.append(decoder(x[:, :, i : i + 1], cache, first_chunk=i == 0))
    return torch.cat(outs, dim=2)


def normalize_latent(mu: Tensor, mean: Tensor, std: Tensor) -> Tensor:
    """(mu - mean) * (1 / std), per channel, in the official order of operations."""
    shape = (1, -1, 1, 1, 1)
    return (mu - mean.view(shape)) * (1.0 / std).view(shape)


def denormalize_latent(z: Tensor, mean: Tensor, std: Tensor) -> Tensor:
    """z / (1 / std) + mean: the official arithmetic (not z * std), for bit-equal results."""
    shape = (1, -1, 1, 1, 1)
    return z / (1.0 / std).view(shape) + mean.view(shape)


class LatentVAE(nn.Module):
    """What both official ``WanVAE_`` classes share: encoder, ``conv1`` (2z->2z), ``conv2`` (z->z),
    decoder, the latent normalisation and the clamp. Subclasses set the networks and may map the
    pixels in and out (Wan2.2 patchifies); the attribute names are the official state-dict ones."""

    version = ""

    def __init__(self, cfg: VAEConfig, encoder: nn.Module, decoder: nn.Module) -> None:
        super().__init__()
        if cfg.version != self.version:
            raise ValueError(
                f"{type(self).__name__} needs a {self.version} config, got {cfg.version}"
            )
        self.config = cfg
        self.encoder = encoder
        self.conv1 = CausalConv3d(cfg.z_dim * 2, cfg.z_dim * 2, 1)
        self.conv2 = CausalConv3d(cfg.z_dim, cfg.z_dim, 1)
        self.decoder = decoder

    def pixels_in(self, x: Tensor) -> Tensor:
        return x

    def pixels_out(self, x: Tensor) -> Tensor:
        return x

    def _stats(self, like: Tensor) -> tuple[Tensor, Tensor]:
        # Built per call (not buffers) so the state dict stays exactly the official one; in the
        # compute dtype, as the official wrapper builds them in its ``dtype``.
        mean = torch.tensor(self.config.latents_mean, dtype=like.dtype, device=like.device)
        std = torch.tensor(self.config.latents_std, dtype=like.dtype, device=like.device)
        return mean, std

    def encode_raw(self, x: Tensor) -> Tensor:
        """Video [B, 3, T, H, W] in [-1, 1] -> mu before normalisation, [B, z, 1 + (T-1)//4, h, w]."""
        out = encode_in_chunks(self.encoder, self.pixels_in(x))
        return self.conv1(out).chunk(2, dim=1)[0]

    def encode(self, x: Tensor) -> Tensor:
        """Video -> normalised latent (mu - mean) / std."""
        return normalize_latent(self.encode_raw(x), *self._stats(x))

    def decode_raw(self, z: Tensor) -> Tensor:
        """Un-normalised latent -> video, not clamped (clamping is the wrapper's job upstream)."""
        return self.pixels_out(decode_in_chunks(self.decoder, self.conv2(z)))

    def decode(self, z: Tensor) -> Tensor:
        """Normalised latent -> video [B, 3, 1 + 4(T-1), H, W] clamped to [-1, 1]."""
        return self.decode_raw(denormalize_latent(z, *self._stats(z))).clamp_(-1, 1)

    def denormalize(self, z: Tensor) -> Tensor:
        """Normalised latent -> the latent ``decode_raw`` takes (per channel, so tiles may cut it)."""
        return denormalize_latent(z, *self._stats(z))
