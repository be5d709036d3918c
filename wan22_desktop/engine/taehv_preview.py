"""Live previews through a TAEHV tiny decoder (engine/wan/taehv.py): the latents of the running
job become real-looking frames, written as a PNG of the middle frame (what the Queue view shows
first) and a small looping GIF of the clip.

Where it runs: on the latents' own device, so a GPU job previews on its GPU (fp16, streaming one
frame at a time, the last spatial upsampling stages off so the frames stay about 640 px) and a
CPU job on the CPU (fp32). The preview runs between sampling steps, when the DiT's activations
are freed; its working set (``taehv.activation_bytes``, about 0.34 GiB of tensors for a 720p
A14B latent, plus convolution workspace) is far below that activation term of the sampling
estimate, and only its ~20 MB of weights stay resident. Before each GPU decode the free memory is checked; when it is short (an
offloading plan on a small card) the preview is refused with a ``PreviewUnavailable`` and the
worker falls back to the latent-to-RGB colours, so a preview never costs an out-of-memory.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from wan22_desktop.engine.wan.taehv import (
    TAEHVDecoder,
    activation_bytes,
    config_from_state,
    load_decoder,
    load_state,
    preview_space_upscale,
)

PREVIEW_MAX_SIDE = 640  # decoded frames (before the GIF's own downscale)
ANIMATION_MAX_SIDE = 384
ANIMATION_MAX_FRAMES = 41  # every other frame of an 81-frame clip
ANIMATION_FPS = 16.0
# The free-memory check asks for twice the tensor estimate plus slack: convolution workspaces are
# not in ``activation_bytes`` (on the CPU, a 720p A14B preview grew the RSS by 1.30 GiB in fp32
# against an estimate of 0.67 GiB, the rest being im2col buffers; benchmarks/bench_taehv.py
# prints the GPU's measured peak next to the estimate).
FREE_FACTOR = 2.0
FREE_SLACK_BYTES = 256 * 2**20


class PreviewUnavailable(RuntimeError):
    """This preview cannot run here (wrong latent, no room on the GPU): use the colours."""


@dataclass(frozen=True)
class PreviewFiles:
    image: Path
    animation: Path | None


class TAEHVPreviewer:
    """One TAEHV file, loaded once per worker and kept per (device, dtype, upscale choice)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._state = load_state(self.path)  # raises CheckpointError for a damaged file
        config = config_from_state(self._state, self.path.name)
        load_decoder(self._state, name=self.path.name, device="meta")  # keys checked now
        self.latent_channels, self.patch_size = config.latent_channels, config.patch_size
        self._decoders: dict[tuple[str, torch.dtype, tuple[bool, bool, bool]], TAEHVDecoder] = {}
        self._lock = threading.Lock()

    def decoder_for(self, latents: torch.Tensor) -> TAEHVDecoder:
        c, _f, h, w = latents.shape
        if c != self.latent_channels:
            raise PreviewUnavailable(
                f"{self.path.name} decodes {self.latent_channels}-channel latents, this job has {c}"
            )
        upscale = preview_space_upscale((h, w), self.patch_size, PREVIEW_MAX_SIDE)
        cuda = latents.device.type == "cuda"
        dtype = torch.float16 if cuda else torch.float32
        key = (str(latents.device), dtype, upscale)
        with self._lock:
            dec = self._decoders.get(key)
            if dec is None:
                dec = load_decoder(
                    self._state,
                    space_upscale=upscale,
                    name=self.path.name,
                    device=latents.device,
                    dtype=dtype,
                )
                self._decoders = {key: dec}  # one device and size per job; drop older ones
        if cuda:
            need = activation_bytes(dec.config, (h, w), 2) * FREE_FACTOR + FREE_SLACK_BYTES
            free, _total = torch.cuda.mem_get_info(latents.device)
            if free < need:
                raise PreviewUnavailable(
                    f"{free / 2**30:.2f} GiB free on the GPU, the tiny VAE needs about "
                    f"{need / 2**30:.2f} GiB"
                )
        return dec

    @torch.no_grad()
    def frames(self, latents: torch.Tensor) -> np.ndarray:
        """Latents ``[C, F, h, w]`` (normalised, as the sampler holds them) -> uint8 frames
        ``[4F-3, H, W, 3]``, decoded frame by frame."""
        dec = self.decoder_for(latents)
        param = next(dec.parameters())
        z = latents.detach().to(device=param.device, dtype=param.dtype)
        z = z.permute(1, 0, 2, 3).unsqueeze(0)
        out = []
        for frame in dec.stream(z):  # [1, 3, H, W] in [0, 1]
            rgb = (frame[0].float().clamp(0, 1) * 255 + 0.5).to(torch.uint8)
            out.append(rgb.permute(1, 2, 0).cpu().numpy())
        return np.stack(out)


_CACHE: dict[tuple[str, int, int], TAEHVPreviewer] = {}
_CACHE_LOCK = threading.Lock()


def previewer_for(path: str | Path) -> TAEHVPreviewer:
    """The worker's previewer for a file, loaded on first use and kept while the file is
    unchanged (a warm worker previews job after job without reading it again)."""
    p = Path(path)
    st = p.stat()  # FileNotFoundError: the caller falls back to the colours
    key = (str(p), st.st_mtime_ns, st.st_size)
    with _CACHE_LOCK:
        found = _CACHE.get(key)
        if found is None:
            found = TAEHVPreviewer(p)
            _CACHE.clear()
            _CACHE[key] = found
        return found


def _replace_atomically(save, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.part")
    save(tmp)
    tmp.replace(target)


def write_taehv_preview(
    frames: np.ndarray, image: str | Path, *, animate: bool = True
) -> PreviewFiles:
    """The middle frame as a PNG at ``image`` and, with ``animate``, the clip as a looping GIF
    beside it (same name, ``.gif``): at most 41 frames of at most 384 px, about real speed."""
    from PIL import Image

    image = Path(image)
    middle = Image.fromarray(frames[len(frames) // 2])
    _replace_atomically(lambda p: middle.save(p, format="PNG"), image)
    if not animate or len(frames) < 2:
        return PreviewFiles(image, None)
    stride = max(1, -(-len(frames) // ANIMATION_MAX_FRAMES))
    h, w = frames.shape[1:3]
    k = min(1.0, ANIMATION_MAX_SIDE / max(h, w))
    size = (max(1, round(w * k)), max(1, round(h * k)))
    # Fast octree palettes per frame: ~25x quicker than the GIF writer's own median cut (0.12 s
    # instead of 3.3 s for 41 frames of 384 px), so the preview barely pauses sampling.
    pics = [
        Image.fromarray(f)
        .resize(size, Image.Resampling.BILINEAR)
        .quantize(256, method=Image.Quantize.FASTOCTREE)
        for f in frames[::stride]
    ]
    duration = round(1000.0 * stride / ANIMATION_FPS)
    animation = image.with_suffix(".gif")
    _replace_atomically(
        lambda p: pics[0].save(
            p, format="GIF", save_all=True, append_images=pics[1:], duration=duration, loop=0
        ),
        animation,
    )
    return PreviewFiles(image, animation)
