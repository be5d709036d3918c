"""Latent shapes, initial noise and image conditioning of the three tasks, as the official code.

Pure tensor functions (no models): the pipeline calls the VAE and passes the results in.
"""

from __future__ import annotations

import torch

from wan22_desktop.sizes import latent_frames


def latent_shape(
    z_dim: int, frame_num: int, width: int, height: int, stride: tuple[int, int, int]
) -> tuple[int, int, int, int]:
    """(C, (F-1)//4+1, H//s, W//s): the official ``target_shape``."""
    st, sh, sw = stride
    return (z_dim, latent_frames(frame_num, st), height // sh, width // sw)


def initial_noise(shape: tuple[int, ...], seed: int, device: torch.device) -> torch.Tensor:
    """One float32 ``torch.randn`` of the official shape from a generator seeded with ``seed`` on
    the sampling device, so a seed gives the official noise on the same device."""
    gen = torch.Generator(device=device)
    gen.manual_seed(seed)
    return torch.randn(shape, dtype=torch.float32, device=device, generator=gen)


def i2v_first_frame_mask(
    frame_num: int, lat_h: int, lat_w: int, device: torch.device | str = "cpu"
) -> torch.Tensor:
    """I2V-A14B's 4-channel mask [4, lat_f, lat_h, lat_w]: pixel frame 0 is known (1), the rest 0;
    frame 0 is repeated 4 times, then every 4 pixel frames fold into the 4 channels."""
    msk = torch.ones(1, frame_num, lat_h, lat_w, device=device)
    msk[:, 1:] = 0
    msk = torch.cat([torch.repeat_interleave(msk[:, 0:1], repeats=4, dim=1), msk[:, 1:]], dim=1)
    msk = msk.view(1, msk.shape[1] // 4, 4, lat_h, lat_w)
    return msk.transpose(1, 2)[0]


def i2v_condition_video(image: torch.Tensor, frame_num: int) -> torch.Tensor:
    """The video the I2V VAE encodes: the image [3, H, W] followed by F-1 zero frames, [3, F, H, W]."""
    _, h, w = image.shape
    return torch.cat(
        [image[:, None], torch.zeros(3, frame_num - 1, h, w, dtype=image.dtype)], dim=1
    )


def ti2v_keep_mask(
    shape: tuple[int, ...], keep_first: bool, device: torch.device | str = "cpu"
) -> torch.Tensor:
    """TI2V's ``mask2``: ones of the latent shape, latent frame 0 zeroed when an image is given."""
    mask = torch.ones(shape, dtype=torch.float32, device=device)
    if keep_first:
        mask[:, 0] = 0
    return mask
