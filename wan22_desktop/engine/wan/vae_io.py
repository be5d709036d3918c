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


class VideoVAE:
    """What pipelines call, like official ``Wan2_x_VAE``: lists of [3, T, H, W] videos in, latents out.

    Computes in the weights' dtype (fp32 as shipped) whatever autocast is active around the call;
    returns fp32.
    """

    def __init__(self, model: WanVAEModel) -> None:
        self.model = model.eval().requires_grad_(False)

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
        with _fp32_islands(self.device):
            return [
                self.model.decode(z.to(self.device, self.dtype).unsqueeze(0))
                .float()
                .clamp_(-1, 1)
                .squeeze(0)
                for z in latents
            ]


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
