"""Output-size rules of the official pipelines, as pure functions (no torch: the GUI uses them too).

T2V uses the requested size as it is. I2V-A14B keeps the requested *area* and follows the image's
aspect ratio, rounding down to an even latent (multiples of 16 px). TI2V-5B with an image picks the
32-px-aligned size whose aspect ratio is closest to the image's.
"""

from __future__ import annotations

import math


def i2v_output_size(
    image_w: int, image_h: int, max_area: int, vae_stride: int = 8, patch: int = 2
) -> tuple[int, int]:
    """Official I2V-A14B rule: lat = floor(floor(sqrt(area*ar) / stride) / patch) * patch.

    Returns (width, height). A 16:9 image with area 832*480 gives 832x464, as official.
    """
    ar = image_h / image_w
    lat_h = round(math.floor(math.sqrt(max_area * ar) / vae_stride) // patch * patch)
    lat_w = round(math.floor(math.sqrt(max_area / ar) / vae_stride) // patch * patch)
    return lat_w * vae_stride, lat_h * vae_stride


def best_output_size(
    image_w: int, image_h: int, max_area: int, dw: int = 32, dh: int = 32
) -> tuple[int, int]:
    """Official TI2V-5B rule: two 32-px-aligned candidates of at most ``max_area``; keep the one
    whose aspect ratio is closest to the image's (ties go to the height-first candidate).

    Returns (width, height); 1280x720 at area 1280*704 gives 1248x704, as official.
    """
    ratio = image_w / image_h
    ow1 = (math.sqrt(max_area * ratio) // dw) * dw
    oh2 = (math.sqrt(max_area / ratio) // dh) * dh
    if ow1 == 0 or oh2 == 0:  # the official code divides by zero here
        raise ValueError(f"an area of {max_area} px is too small for a {image_w}x{image_h} image")
    oh1 = (max_area / ow1 // dh) * dh
    ow2 = (max_area / oh2 // dw) * dw
    if oh1 == 0 and ow2 == 0:
        raise ValueError(f"an area of {max_area} px is too small for a {image_w}x{image_h} image")

    def distortion(w: float, h: float) -> float:
        return max(ratio * h / w, w / (ratio * h)) if w and h else math.inf

    if distortion(ow1, oh1) < distortion(ow2, oh2):
        return int(ow1), int(oh1)
    return int(ow2), int(oh2)


def latent_frames(frame_num: int, temporal_stride: int = 4) -> int:
    """Latent frames for ``frame_num`` video frames: (F - 1) // 4 + 1."""
    return (frame_num - 1) // temporal_stride + 1


def sequence_length(
    lat_f: int, lat_h: int, lat_w: int, patch_h: int = 2, patch_w: int = 2, sp_size: int = 1
) -> int:
    """DiT tokens for a latent, padded up to a multiple of the sequence-parallel size (official)."""
    tokens = lat_f * (lat_h // patch_h) * (lat_w // patch_w)
    return math.ceil(tokens / sp_size) * sp_size
