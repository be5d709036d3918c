"""Cheap previews of the latents while sampling: a fixed linear map from latent channels to RGB.

Decoding with the VAE costs seconds to minutes per call; a preview every few steps must cost
milliseconds. So each latent pixel becomes one RGB pixel through a ``[C, 3]`` matrix (C = 16 for
the Wan2.1 VAE used by A14B, 48 for the Wan2.2 VAE of TI2V-5B), then a robust contrast stretch.

How the maps are derived (no trained factors are shipped with the official code):

* The sampled latent is the *normalised* one, ``z = (mu - mean) / std`` (docs/reference.md §4), so every
  channel is roughly zero-mean, unit-variance. We undo the normalisation with the official
  ``mean``/``std`` so channels carry their true relative weight in what the decoder sees.
* Each channel is then given a fixed colour direction: channel ``c`` of ``C`` points at hue
  ``c / C`` on the colour wheel (three cosines 120 degrees apart), scaled by ``1 / sqrt(C)``.
  Channels are therefore spread evenly over hues, and the preview shows structure and motion in
  stable colours; the hues are not the final video's.
* ``fit_projection`` solves the least-squares map from latents to a real decode. With the real
  VAE weights, a fit on one decoded clip gives true colours and can replace the hue map here;
  the tests check the fit on a known linear decoder only (tiny random-weight VAEs decode noise).

Pure numpy: the worker converts the tensor once (``latents.float().cpu().numpy()``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from wan22_desktop.engine.wan.vae_config import (
    WAN21_LATENT_MEAN,
    WAN21_LATENT_STD,
    WAN22_LATENT_MEAN,
    WAN22_LATENT_STD,
)

# The official latent statistics (docs/reference.md §4.2 / §4.3) have one home: the VAE config
# (torch-free). These names are the per-channel-count views the projection uses.
LATENT_MEAN_16, LATENT_STD_16 = WAN21_LATENT_MEAN, WAN21_LATENT_STD
LATENT_MEAN_48, LATENT_STD_48 = WAN22_LATENT_MEAN, WAN22_LATENT_STD

STRETCH_PERCENTILES = (2.0, 98.0)  # ignore outliers so one hot pixel does not grey the frame


def hue_directions(channels: int) -> np.ndarray:
    """``[C, 3]``: channel ``c`` points at hue ``c / C``; rows have norm ``sqrt(1.5 / C)``."""
    angle = 2 * np.pi * np.arange(channels, dtype=np.float64) / channels
    offsets = np.array([0.0, 2 * np.pi / 3, 4 * np.pi / 3])
    return (np.cos(angle[:, None] - offsets[None, :]) / np.sqrt(channels)).astype(np.float32)


def projection_for(channels: int) -> tuple[np.ndarray, np.ndarray]:
    """``(weights [C, 3], bias [3])`` mapping *normalised* latents to (unscaled) RGB."""
    stats = {16: (LATENT_MEAN_16, LATENT_STD_16), 48: (LATENT_MEAN_48, LATENT_STD_48)}
    if channels in stats:
        mean, std = (np.asarray(v, dtype=np.float32) for v in stats[channels])
    else:  # tiny test models: no official statistics, treat the latent as already denormalised
        mean, std = np.zeros(channels, np.float32), np.ones(channels, np.float32)
    directions = hue_directions(channels)
    # rgb = (z * std + mean) @ D  =  z @ (std[:, None] * D)  +  mean @ D
    return std[:, None] * directions, mean @ directions


def latents_to_rgb(latents: np.ndarray, frame: int | None = None) -> np.ndarray:
    """``[C, F, H, W]`` latents -> ``[H, W, 3]`` uint8 image of one latent frame (default: middle)."""
    if latents.ndim != 4:
        raise ValueError(f"expected latents [C, F, H, W], got shape {latents.shape}")
    c, f, _, _ = latents.shape
    weights, bias = projection_for(c)
    x = np.asarray(latents[:, f // 2 if frame is None else frame], dtype=np.float32)  # [C, H, W]
    rgb = np.einsum("chw,ck->hwk", x, weights) + bias
    lo, hi = np.percentile(rgb, STRETCH_PERCENTILES)
    scaled = (rgb - lo) / max(float(hi - lo), 1e-6)
    return (np.clip(scaled, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def fit_projection(
    latents: np.ndarray, video: np.ndarray, latent_stride: tuple[int, int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares ``(weights [C, 3], bias [3])`` from latents ``[C, F, H, W]`` to the decoded
    ``video`` ``[3, F', H', W']``, sampling the video at each latent's position (stride t, h, w)."""
    st, sh, sw = latent_stride
    c, f, h, w = latents.shape
    target = video[:, ::st][:, :f, ::sh, ::sw][:, :, :h, :w]  # [3, F, H, W]
    x = latents[:, : target.shape[1], : target.shape[2], : target.shape[3]]
    a = np.concatenate([x.reshape(c, -1).T, np.ones((x[0].size, 1), np.float32)], axis=1)
    sol, *_ = np.linalg.lstsq(
        a.astype(np.float64), target.reshape(3, -1).T.astype(np.float64), rcond=None
    )
    return sol[:-1].astype(np.float32), sol[-1].astype(np.float32)


def write_preview(
    latents: np.ndarray, path: str | Path, *, scale: int = 4, max_side: int = 384
) -> Path:
    """Save the projected middle frame as a PNG (nearest-neighbour upscaled), atomically."""
    from PIL import Image

    rgb = latents_to_rgb(latents)
    h, w, _ = rgb.shape
    k = max(1, min(scale, max_side // max(h, w, 1)))
    img = Image.fromarray(rgb).resize((w * k, h * k), Image.Resampling.NEAREST)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.part")
    img.save(tmp, format="PNG")
    tmp.replace(target)
    return target
