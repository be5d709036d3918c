"""Start-image preparation exactly as the official pipelines do it (no torchvision needed).

* I2V-A14B (``wan/image2video.py``): the whole image, ``to_tensor`` then [-1, 1], resized straight
  to the output (H, W) with ``F.interpolate(mode='bicubic')`` on the CPU in fp32, no antialias, no
  crop (the rounding of the size distorts the aspect ratio very slightly, as official).
* TI2V-5B (``wan/textimage2video.py``): scale by max(ow/iw, oh/ih) with PIL LANCZOS to rounded
  sizes, centre-crop to (ow, oh), then ``to_tensor`` and [-1, 1].
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, UnidentifiedImageError

from wan22_desktop.errors import UserInputError
from wan22_desktop.sizes import best_output_size

MIN_IMAGE_SIDE = 32  # smaller images carry too little to condition on (request.IMAGE_MIN_SIDE)


def load_image(path: str | Path) -> Image.Image:
    """Open an image as RGB; a missing, unreadable or tiny file is a UserInputError."""
    path = Path(path)
    if not path.is_file():
        raise UserInputError(f"image not found: {path}", "check the path")
    try:
        with Image.open(path) as img:
            img.load()
            rgb = img.convert("RGB")
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as exc:
        raise UserInputError(
            f"cannot read image {path.name}: {exc}", "use a PNG, JPEG or WebP file"
        ) from None
    if min(rgb.size) < MIN_IMAGE_SIDE:
        raise UserInputError(
            f"image {path.name} is too small ({rgb.width}x{rgb.height})",
            f"use at least {MIN_IMAGE_SIDE} px per side",
        )
    return rgb


def to_signed_tensor(img: Image.Image) -> torch.Tensor:
    """PIL RGB -> float32 [3, H, W] in [-1, 1]: torchvision ``to_tensor`` (x/255), then (x-0.5)/0.5."""
    arr = np.asarray(img.convert("RGB"), dtype=np.uint8)
    x = torch.from_numpy(arr.copy()).permute(2, 0, 1).contiguous().to(torch.float32).div(255)
    return x.sub_(0.5).div_(0.5)


def i2v_image(img: Image.Image, width: int, height: int) -> torch.Tensor:
    """I2V-A14B conditioning frame: [3, height, width] in [-1, 1] (bicubic, not clamped)."""
    x = to_signed_tensor(img)[None]
    return F.interpolate(x, size=(height, width), mode="bicubic")[0]


def ti2v_image(img: Image.Image, max_area: int, granularity: int = 32) -> torch.Tensor:
    """TI2V-5B first frame: [3, oh, ow] in [-1, 1], (ow, oh) = ``best_output_size`` of the image."""
    iw, ih = img.size
    ow, oh = best_output_size(iw, ih, max_area, granularity, granularity)
    scale = max(ow / iw, oh / ih)
    resized = img.resize((round(iw * scale), round(ih * scale)), Image.Resampling.LANCZOS)
    x1 = (resized.width - ow) // 2
    y1 = (resized.height - oh) // 2
    cropped = resized.crop((x1, y1, x1 + ow, y1 + oh))
    return to_signed_tensor(cropped)
