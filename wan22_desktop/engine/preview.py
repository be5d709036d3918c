"""Cheap previews of the latents while sampling: a fixed linear map from latent channels to RGB.

Decoding with the VAE costs seconds to minutes per call; a preview every few steps must cost
milliseconds. So each latent pixel becomes one RGB pixel through a ``[C, 3]`` matrix and a bias
(C = 16 for the Wan2.1 VAE used by A14B, 48 for the Wan2.2 VAE of TI2V-5B).

The matrices are the published latent-to-RGB factors of ComfyUI (``comfy/latent_formats.py``,
classes ``Wan21`` and ``Wan22``: ``latent_rgb_factors`` and ``latent_rgb_factors_bias``),
fitted there against real decodes, so the preview shows the video's own colours, only at 1/8
(A14B) or 1/16 (5B) of its resolution. They apply, as in ComfyUI's ``Latent2RGBPreviewer``
(``comfy/latent_preview.py``), to the *normalised* latent the sampler works on,
``z = (mu - mean) / std`` (docs/reference.md §4; ComfyUI's ``process_in`` is the same), and give
RGB in about [-1, 1], shown as ``(rgb + 1) / 2`` clipped to [0, 1].

Latents of another channel count (tiny test models) get a fallback: channel ``c`` points at hue
``c / C`` with a robust contrast stretch, which shows structure and motion in stable but
arbitrary colours. ``fit_projection`` fits such a map to a real decode (least squares).

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
# (torch-free). These names are the per-channel-count views (kept for the preview's callers).
LATENT_MEAN_16, LATENT_STD_16 = WAN21_LATENT_MEAN, WAN21_LATENT_STD
LATENT_MEAN_48, LATENT_STD_48 = WAN22_LATENT_MEAN, WAN22_LATENT_STD

STRETCH_PERCENTILES = (2.0, 98.0)  # fallback map: one hot pixel must not grey the frame

# Source: ComfyUI comfy/latent_formats.py, class Wan21 (R, G, B per latent channel).
WAN21_RGB_FACTORS = (
    (-0.1299, -0.1692, 0.2932),
    (0.0671, 0.0406, 0.0442),
    (0.3568, 0.2548, 0.1747),
    (0.0372, 0.2344, 0.1420),
    (0.0313, 0.0189, -0.0328),
    (0.0296, -0.0956, -0.0665),
    (-0.3477, -0.4059, -0.2925),
    (0.0166, 0.1902, 0.1975),
    (-0.0412, 0.0267, -0.1364),
    (-0.1293, 0.0740, 0.1636),
    (0.0680, 0.3019, 0.1128),
    (0.0032, 0.0581, 0.0639),
    (-0.1251, 0.0927, 0.1699),
    (0.0060, -0.0633, 0.0005),
    (0.3477, 0.2275, 0.2950),
    (0.1984, 0.0913, 0.1861),
)
WAN21_RGB_BIAS = (-0.1835, -0.0868, -0.3360)

# Source: ComfyUI comfy/latent_formats.py, class Wan22 (the 48-channel Wan2.2 VAE).
WAN22_RGB_FACTORS = (
    (0.0119, 0.0103, 0.0046),
    (-0.1062, -0.0504, 0.0165),
    (0.0140, 0.0409, 0.0491),
    (-0.0813, -0.0677, 0.0607),
    (0.0656, 0.0851, 0.0808),
    (0.0264, 0.0463, 0.0912),
    (0.0295, 0.0326, 0.0590),
    (-0.0244, -0.0270, 0.0025),
    (0.0443, -0.0102, 0.0288),
    (-0.0465, -0.0090, -0.0205),
    (0.0359, 0.0236, 0.0082),
    (-0.0776, 0.0854, 0.1048),
    (0.0564, 0.0264, 0.0561),
    (0.0006, 0.0594, 0.0418),
    (-0.0319, -0.0542, -0.0637),
    (-0.0268, 0.0024, 0.0260),
    (0.0539, 0.0265, 0.0358),
    (-0.0359, -0.0312, -0.0287),
    (-0.0285, -0.1032, -0.1237),
    (0.1041, 0.0537, 0.0622),
    (-0.0086, -0.0374, -0.0051),
    (0.0390, 0.0670, 0.2863),
    (0.0069, 0.0144, 0.0082),
    (0.0006, -0.0167, 0.0079),
    (0.0313, -0.0574, -0.0232),
    (-0.1454, -0.0902, -0.0481),
    (0.0714, 0.0827, 0.0447),
    (-0.0304, -0.0574, -0.0196),
    (0.0401, 0.0384, 0.0204),
    (-0.0758, -0.0297, -0.0014),
    (0.0568, 0.1307, 0.1372),
    (-0.0055, -0.0310, -0.0380),
    (0.0239, -0.0305, 0.0325),
    (-0.0663, -0.0673, -0.0140),
    (-0.0416, -0.0047, -0.0023),
    (0.0166, 0.0112, -0.0093),
    (-0.0211, 0.0011, 0.0331),
    (0.1833, 0.1466, 0.2250),
    (-0.0368, 0.0370, 0.0295),
    (-0.3441, -0.3543, -0.2008),
    (-0.0479, -0.0489, -0.0420),
    (-0.0660, -0.0153, 0.0800),
    (-0.0101, 0.0068, 0.0156),
    (-0.0690, -0.0452, -0.0927),
    (-0.0145, 0.0041, 0.0015),
    (0.0421, 0.0451, 0.0373),
    (0.0504, -0.0483, -0.0356),
    (-0.0837, 0.0168, 0.0055),
)
WAN22_RGB_BIAS = (0.0317, -0.0878, -0.1388)

PUBLISHED: dict[int, tuple[tuple[tuple[float, ...], ...], tuple[float, ...]]] = {
    16: (WAN21_RGB_FACTORS, WAN21_RGB_BIAS),
    48: (WAN22_RGB_FACTORS, WAN22_RGB_BIAS),
}


def hue_directions(channels: int) -> np.ndarray:
    """``[C, 3]``: channel ``c`` points at hue ``c / C``; rows have norm ``sqrt(1.5 / C)``."""
    angle = 2 * np.pi * np.arange(channels, dtype=np.float64) / channels
    offsets = np.array([0.0, 2 * np.pi / 3, 4 * np.pi / 3])
    return (np.cos(angle[:, None] - offsets[None, :]) / np.sqrt(channels)).astype(np.float32)


def projection_for(channels: int) -> tuple[np.ndarray, np.ndarray]:
    """``(weights [C, 3], bias [3])`` mapping *normalised* latents to RGB: the published factors
    for 16 and 48 channels (RGB in about [-1, 1]), the hue fallback otherwise (unscaled)."""
    if channels in PUBLISHED:
        factors, bias = PUBLISHED[channels]
        return np.asarray(factors, np.float32), np.asarray(bias, np.float32)
    return hue_directions(channels), np.zeros(3, np.float32)


def latents_to_rgb(latents: np.ndarray, frame: int | None = None) -> np.ndarray:
    """``[C, F, H, W]`` latents -> ``[H, W, 3]`` uint8 image of one latent frame (default: middle)."""
    if latents.ndim != 4:
        raise ValueError(f"expected latents [C, F, H, W], got shape {latents.shape}")
    c, f, _, _ = latents.shape
    weights, bias = projection_for(c)
    x = np.asarray(latents[:, f // 2 if frame is None else frame], dtype=np.float32)  # [C, H, W]
    rgb = np.einsum("chw,ck->hwk", x, weights) + bias
    if c in PUBLISHED:
        scaled = (rgb + 1.0) / 2.0  # true colours: the decoder's [-1, 1] range
    else:
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
