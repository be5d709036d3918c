"""Build, load and save the Wan video VAEs in the official ``.pth`` format, and the wrapper pipelines use.

Loading builds the model on the ``meta`` device and assigns the mmapped tensors of the file, so peak
host memory stays near the file size instead of twice it.
"""

from __future__ import annotations

import contextlib
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import torch
from torch import Tensor, nn

from wan22_desktop.errors import UserInputError

from .vae2_1 import WanVAE21
from .vae2_2 import WanVAE22
from .vae_config import TINY_VAE_PRESETS, VERSIONS, VAEConfig, vae_config_from_state_dict

WanVAEModel = WanVAE21 | WanVAE22


def build_vae_model(config: VAEConfig) -> WanVAEModel:
    """The bare official-layout module for ``config`` (weights uninitialised unless on a real device)."""
    return WanVAE21(config) if config.version == "2.1" else WanVAE22(config)


@contextlib.contextmanager
def _fp32_islands(device: torch.device) -> Iterator[None]:
    """Turn off any outer autocast: the official wrappers force fp32 for the VAE even inside bf16."""
    with torch.autocast(device_type=device.type, enabled=False):
        yield


VAE_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}


class VideoVAE:
    """What pipelines call, like official ``Wan2_x_VAE``: lists of [3, T, H, W] videos in, latents out.

    Computes in the weights' dtype (fp32 as shipped; bf16 halves the decode's working set)
    whatever autocast is active around the call; returns fp32.

    ``tile`` (latent pixels, 0: off): decode in overlapping spatial tiles of tile x tile latents,
    each over all frames with its own causal cache (the temporal semantics are the untiled
    ones), blended linearly across ``overlap`` latents (default tile // 4). Activations then
    scale with the tile, not the frame. ``channels_last`` (None: on CUDA only) runs the Conv3d
    stack in ``channels_last_3d``, which cuDNN prefers.
    """

    def __init__(
        self,
        model: WanVAEModel,
        *,
        tile: int = 0,
        overlap: int | None = None,
        channels_last: bool | None = None,
    ) -> None:
        self.model = model.eval().requires_grad_(False)
        self.tile = tile
        self.overlap = overlap
        self.channels_last = channels_last

    @property
    def config(self) -> VAEConfig:
        return self.model.config

    @property
    def z_dim(self) -> int:
        return self.config.z_dim

    @property
    def stride(self) -> tuple[int, int, int]:
        return self.config.stride

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        return next(self.model.parameters()).dtype

    def to(self, device: torch.device | str) -> VideoVAE:
        self.model.to(device)
        return self

    @torch.no_grad()
    def encode(self, videos: Sequence[Tensor]) -> list[Tensor]:
        """Videos [3, T, H, W] in [-1, 1] -> normalised latents [z, 1 + (T-1)//4, H/s, W/s], fp32."""
        _check_list(videos, "videos", 4)
        with _fp32_islands(self.device):
            return [
                self.model.encode(v.to(self.device, self.dtype).unsqueeze(0)).float().squeeze(0)
                for v in videos
            ]

    @torch.no_grad()
    def decode(self, latents: Sequence[Tensor]) -> list[Tensor]:
        """Normalised latents [z, T, h, w] -> videos [3, 1 + 4(T-1), h*s, w*s] clamped to [-1, 1], fp32."""
        _check_list(latents, "latents", 4)
        cl3d = self._use_channels_last()
        if cl3d:
            _conv3d_channels_last(self.model)
        with _fp32_islands(self.device):
            return [
                self._decode_one(z.to(self.device, self.dtype).unsqueeze(0), cl3d) for z in latents
            ]

    def _use_channels_last(self) -> bool:
        if self.channels_last is not None:
            return self.channels_last
        return self.device.type == "cuda"

    def _decode_one(self, z: Tensor, cl3d: bool) -> Tensor:
        """[1, z, T, h, w] -> [3, F, H, W] fp32 clamped; tiled when the latent exceeds the tile."""
        z = self.model.denormalize(z)
        h, w = z.shape[-2:]
        if self.tile <= 0 or (h <= self.tile and w <= self.tile):
            return self._raw(z, cl3d).float().clamp_(-1, 1).squeeze(0)
        s = self.stride[1]
        overlap = self.overlap if self.overlap is not None else max(1, self.tile // 4)
        out: Tensor | None = None
        weight = torch.zeros(h * s, w * s, device=z.device, dtype=torch.float32)
        for y0, y1, ry in tile_spans(h, self.tile, overlap):
            for x0, x1, rx in tile_spans(w, self.tile, overlap):
                part = self._raw(z[..., y0:y1, x0:x1], cl3d).float().squeeze(0)
                if out is None:
                    out = torch.zeros(
                        *part.shape[:2], h * s, w * s, device=z.device, dtype=torch.float32
                    )
                ramp = blend_ramp(y1 - y0, s, ry, z.device)[:, None] * blend_ramp(
                    x1 - x0, s, rx, z.device
                )
                out[..., y0 * s : y1 * s, x0 * s : x1 * s] += part * ramp
                weight[y0 * s : y1 * s, x0 * s : x1 * s] += ramp
        assert out is not None
        return out.div_(weight).clamp_(-1, 1)

    def _raw(self, z: Tensor, cl3d: bool) -> Tensor:
        if cl3d:
            z = z.contiguous(memory_format=torch.channels_last_3d)
        return self.model.decode_raw(z)


def _conv3d_channels_last(model: nn.Module) -> None:
    """Conv3d weights to ``channels_last_3d`` (in place, once; the 2D convs keep their layout)."""
    for m in model.modules():
        if isinstance(m, nn.Conv3d) and not m.weight.is_contiguous(
            memory_format=torch.channels_last_3d
        ):
            m.weight.data = m.weight.data.contiguous(memory_format=torch.channels_last_3d)


def tile_spans(size: int, tile: int, overlap: int) -> list[tuple[int, int, tuple[int, int]]]:
    """Tiles along one axis of ``size`` latents: (start, end, (ramp in, ramp out)) with the ramps
    the overlaps shared with the previous / next tile (0 at the borders). The last tile is
    pulled back to end at ``size``, so every tile is full size and overlaps >= ``overlap``."""
    if size <= tile:
        return [(0, size, (0, 0))]
    overlap = min(max(overlap, 1), tile - 1)
    starts = list(range(0, size - tile, tile - overlap)) + [size - tile]
    spans = []
    for i, start in enumerate(starts):
        ramp_in = starts[i - 1] + tile - start if i > 0 else 0
        ramp_out = start + tile - starts[i + 1] if i + 1 < len(starts) else 0
        spans.append((start, start + tile, (ramp_in, ramp_out)))
    return spans


def blend_ramp(length: int, scale: int, ramps: tuple[int, int], device: torch.device) -> Tensor:
    """Weights [length * scale] of one tile along one axis: linear from ~0 to 1 across the shared
    overlaps (in pixels: latents x scale), 1 elsewhere. Neighbours' ramps are complementary."""
    w = torch.ones(length * scale, device=device, dtype=torch.float32)
    ramp_in, ramp_out = ramps[0] * scale, ramps[1] * scale
    if ramp_in:
        w[:ramp_in] = (torch.arange(ramp_in, device=device, dtype=torch.float32) + 0.5) / ramp_in
    if ramp_out:
        w[length * scale - ramp_out :] = torch.minimum(
            w[length * scale - ramp_out :],
            (torch.arange(ramp_out, 0, -1, device=device, dtype=torch.float32) - 0.5) / ramp_out,
        )
    return w


def _check_list(items: Sequence[Tensor], name: str, ndim: int) -> None:
    # The official 2.2 wrapper logs and returns None here; we fail where the mistake is.
    if isinstance(items, Tensor) or not all(
        isinstance(t, Tensor) and t.dim() == ndim for t in items
    ):
        raise TypeError(f"{name} must be a list of {ndim}-D tensors (no batch dim)")


def _randomize_(model: nn.Module, seed: int) -> None:
    """Deterministic random weights, gammas and biases included, independent of torch's default init."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=gen, dtype=torch.float32)
            if name.endswith("gamma"):
                p.copy_(1.0 + 0.1 * noise)
            elif name.endswith("bias"):
                p.copy_(0.05 * noise)
            else:
                fan_in = max(1, p[0].numel())
                p.copy_(noise / fan_in**0.5)


def tiny_vae(version: str, seed: int = 0, config: VAEConfig | None = None) -> WanVAEModel:
    """A small random-weight VAE in the official layout (real z_dim and structure), for tests."""
    if version not in VERSIONS:
        raise ValueError(f"version must be one of {VERSIONS}, got {version!r}")
    cfg = config or TINY_VAE_PRESETS[version]
    model = build_vae_model(cfg)
    _randomize_(model, seed)
    return model.eval().requires_grad_(False)


def save_vae(model: WanVAEModel | VideoVAE, path: Path) -> None:
    """Write a plain fp32 state dict, the format of the official ``Wan2.x_VAE.pth``."""
    module = model.model if isinstance(model, VideoVAE) else model
    sd = {
        k: v.detach().to("cpu", torch.float32).contiguous() for k, v in module.state_dict().items()
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    torch.save(sd, tmp)
    tmp.replace(path)


def _read_state_dict(path: Path) -> Mapping[str, Tensor]:
    hint = "The file is damaged or is not a Wan VAE .pth; download it again."
    if not path.is_file():
        raise UserInputError(
            f"VAE checkpoint not found: {path}", hint="Check the model folder path."
        )
    try:
        # Legacy (non-zip) torch.save files cannot be mmapped; they are read whole, once.
        sd = torch.load(path, map_location="cpu", mmap=zipfile.is_zipfile(path), weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any failure to unpickle an untrusted file means "unreadable"
        reason = f"{type(exc).__name__}: {_one_line(exc)}"
        raise UserInputError(
            f"Cannot read VAE checkpoint {path.name} ({reason})", hint=hint
        ) from exc
    if not isinstance(sd, Mapping) or not sd or not all(isinstance(v, Tensor) for v in sd.values()):
        raise UserInputError(
            f"{path.name} does not hold a VAE state dict (a dict of tensors)", hint=hint
        )
    return sd


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def _mismatch(model: nn.Module, sd: Mapping[str, Tensor]) -> str | None:
    """A one-line account of missing, unexpected and mis-shaped tensors, or None if all match."""
    want = model.state_dict()
    problems = [f"missing {k}" for k in want if k not in sd]
    problems += [f"unexpected {k}" for k in sd if k not in want]
    problems += [
        f"{k} has shape {tuple(sd[k].shape)}, expected {tuple(want[k].shape)}"
        for k in want
        if k in sd and sd[k].shape != want[k].shape
    ]
    if not problems:
        return None
    more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
    return problems[0] + more


def load_vae(
    path: Path,
    version: str,
    *,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
) -> VideoVAE:
    """Load an official-format ``Wan2.1_VAE.pth`` / ``Wan2.2_VAE.pth`` (or a tiny one) strictly.

    The config is read off the tensor shapes; any missing, extra or mis-shaped tensor is a
    ``UserInputError`` naming the file.
    """
    path = Path(path)
    if version not in VERSIONS:
        raise ValueError(f"version must be one of {VERSIONS}, got {version!r}")
    sd = _read_state_dict(path)
    hint = f"Use the Wan{version} VAE file ({'Wan2.1_VAE.pth' if version == '2.1' else 'Wan2.2_VAE.pth'})."
    try:
        config = vae_config_from_state_dict(sd, version)
        with torch.device("meta"):
            model = build_vae_model(config)
        problem = _mismatch(model, sd)
        if problem:
            raise ValueError(problem)
        model.load_state_dict(sd, strict=True, assign=True)
    except (ValueError, RuntimeError, KeyError) as exc:
        raise UserInputError(
            f"{path.name} is not a Wan{version} VAE: {_one_line(exc)}", hint=hint
        ) from exc
    model.to(device=device, dtype=dtype)
    return VideoVAE(model)
