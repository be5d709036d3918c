"""The TAEHV tiny video decoders (``taew2_1`` for the 16-channel Wan2.1 latent of A14B,
``taew2_2`` for the 48-channel Wan2.2 latent of TI2V-5B): near-true live previews for a few
hundred MB of VRAM and a fraction of a second, where the real VAE costs seconds and gigabytes.

Facts from madebyollin/taehv ``taehv.py`` and its README (read, not copied):

* The decoder is one ``nn.Sequential`` (keys ``decoder.<index>...``, 23 entries): Clamp
  (``tanh(x / 3) * 3``), 3x3 conv latent -> n_f[0], ReLU, then three stages of
  ``3 x MemBlock, Upsample(2), TGrow, 3x3 conv (no bias)`` with widths n_f = (256, 128, 64, 64),
  then ReLU and a 3x3 conv to ``3 * patch**2`` channels. A MemBlock sees its input and its own
  input one frame earlier (zeros at the first frame): ``relu(conv(cat[x, past]) + skip(x))``.
  TGrow is a 1x1 conv to ``stride * C`` channels, split into ``stride`` frames.
* Decoder time strides (1, 2, 2): one latent frame gives 4 frames; the first 3 frames are
  trimmed, so T latent frames give ``4T - 3`` frames (Wan's ``4n + 1``). The published files keep
  a stride-2 weight for the first TGrow; its last ``C`` output channels are the stride-1 layer
  (``TAEHV.patch_tgrow_layers``).
* ``taew2_2`` has patch size 2 (``pixel_shuffle`` of the 12 output channels), ``taew2_1`` 1.
  We detect both from the weights, as ComfyUI does (``comfy/sd.py``: latent channels from
  ``decoder.1.weight``, patch from ``decoder.22.bias``).
* Input is the latent the diffusion model works on, without any scale or shift (README: "TAEHV
  does not use any latent scales / shifts"), i.e. our normalised ``(mu - mean) / std``; output
  is RGB in [0, 1].
* Spatial upsampling can be switched off per stage for a cheaper preview (README "How can I make
  TAEHV even faster?"); Upsample has no weights, so any choice loads the same file.

Decoding streams frame by frame in causal order (memory bounded by one frame per block); the
parallel form over all frames gives the same numbers and is used for short clips and tests.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from wan22_desktop.errors import CheckpointError

__all__ = [
    "TAEHVConfig",
    "TAEHVDecoder",
    "config_from_state",
    "load_decoder",
    "load_state",
    "activation_bytes",
    "preview_space_upscale",
]

# Indices of the weighted layers in the published ``decoder`` Sequential.
_IN_CONV, _OUT_CONV = 1, 22
_STAGE_MEMBLOCKS = ((3, 4, 5), (9, 10, 11), (15, 16, 17))
_STAGE_TGROW = (7, 13, 19)
_STAGE_CONV = (8, 14, 20)


@dataclass(frozen=True)
class TAEHVConfig:
    """A decoder's shape. ``widths`` are n_f; the published files use (256, 128, 64, 64)."""

    latent_channels: int = 16
    patch_size: int = 1
    widths: tuple[int, int, int, int] = (256, 128, 64, 64)
    time_upscale: tuple[bool, bool, bool] = (False, True, True)
    space_upscale: tuple[bool, bool, bool] = (True, True, True)

    @property
    def t_upscale(self) -> int:
        return 2 ** sum(self.time_upscale)

    @property
    def frames_to_trim(self) -> int:
        return self.t_upscale - 1

    def frames_for(self, latent_frames: int) -> int:
        """Decoded frames for ``latent_frames`` latent frames (``4T - 3`` by default)."""
        return max(0, latent_frames * self.t_upscale - self.frames_to_trim)

    @property
    def space_scale(self) -> int:
        """Output pixels per latent pixel along one side."""
        return 2 ** sum(self.space_upscale) * self.patch_size


class Clamp(nn.Module):
    """Soft clamp of the latent to about [-3, 3]."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(x / 3) * 3


def _conv(n_in: int, n_out: int, *, bias: bool = True) -> nn.Conv2d:
    return nn.Conv2d(n_in, n_out, 3, padding=1, bias=bias)


class MemBlock(nn.Module):
    """A residual block that also sees its input one frame earlier (``past``)."""

    def __init__(self, n_in: int, n_out: int) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            _conv(n_in * 2, n_out), nn.ReLU(), _conv(n_out, n_out), nn.ReLU(), _conv(n_out, n_out)
        )
        self.skip: nn.Module = (
            nn.Conv2d(n_in, n_out, 1, bias=False) if n_in != n_out else nn.Identity()
        )
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor, past: torch.Tensor) -> torch.Tensor:
        return self.act(self.conv(torch.cat([x, past], 1)) + self.skip(x))


class TGrow(nn.Module):
    """One frame -> ``stride`` frames through a 1x1 conv: ``[N, C, H, W] -> [N*stride, C, H, W]``
    (frame ``n * stride + s`` is channel chunk ``s``)."""

    def __init__(self, n_f: int, stride: int) -> None:
        super().__init__()
        self.stride = stride
        self.conv = nn.Conv2d(n_f, n_f * stride, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _n, c, h, w = x.shape
        return self.conv(x).reshape(-1, c, h, w)


class TAEHVDecoder(nn.Module):
    """The TAEHV decoder alone (the published files also hold an encoder, which we ignore)."""

    def __init__(self, config: TAEHVConfig) -> None:
        super().__init__()
        self.config = config
        n_f = config.widths
        layers: list[nn.Module] = [Clamp(), _conv(config.latent_channels, n_f[0]), nn.ReLU()]
        for stage in range(3):
            c = n_f[stage]
            layers += [MemBlock(c, c), MemBlock(c, c), MemBlock(c, c)]
            layers.append(nn.Upsample(scale_factor=2 if config.space_upscale[stage] else 1))
            layers.append(TGrow(c, 2 if config.time_upscale[stage] else 1))
            layers.append(_conv(c, n_f[stage + 1], bias=False))
        layers += [nn.ReLU(), _conv(n_f[3], 3 * config.patch_size**2)]
        self.decoder = nn.Sequential(*layers)

    def _finish(self, x: torch.Tensor) -> torch.Tensor:
        if self.config.patch_size > 1:
            x = F.pixel_shuffle(x, self.config.patch_size)
        return x.clamp(0, 1)

    def _check(self, z: torch.Tensor) -> None:
        if z.ndim != 5 or z.shape[2] != self.config.latent_channels:
            raise ValueError(
                f"expected latents [N, T, {self.config.latent_channels}, H, W], "
                f"got {tuple(z.shape)}"
            )

    @torch.no_grad()
    def decode_video(self, z: torch.Tensor) -> torch.Tensor:
        """All frames at once: ``[N, T, C, h, w]`` -> ``[N, 4T-3, 3, H, W]`` in [0, 1].
        Memory grows with T; ``stream`` is the bounded form."""
        self._check(z)
        n, t = z.shape[:2]
        x = z.reshape(n * t, *z.shape[2:])
        for block in self.decoder:
            if isinstance(block, MemBlock):
                frames = x.reshape(n, -1, *x.shape[1:])
                past = F.pad(frames, (0, 0, 0, 0, 0, 0, 1, 0))[:, : frames.shape[1]]
                x = block(x, past.reshape(x.shape))
            else:
                x = block(x)
        x = self._finish(x)
        x = x.reshape(n, -1, *x.shape[1:])
        return x[:, self.config.frames_to_trim :]

    @torch.no_grad()
    def stream(self, z: torch.Tensor) -> Iterator[torch.Tensor]:
        """Frame by frame, in order: yields ``[N, 3, H, W]`` frames in [0, 1] (``4T - 3`` of
        them). Each MemBlock keeps one frame of memory, so the peak does not grow with T."""
        self._check(z)
        memory: list[torch.Tensor | None] = [None] * len(self.decoder)
        produced = 0
        for zt in z.unbind(1):
            for frame in self._from(zt, 0, memory):
                produced += 1
                if produced > self.config.frames_to_trim:
                    yield self._finish(frame)

    def _from(
        self, x: torch.Tensor, start: int, memory: list[torch.Tensor | None]
    ) -> Iterator[torch.Tensor]:
        """Run one frame from block ``start`` to the end; a TGrow splits it and each part goes
        on, in time order, before the next input frame (the causal order MemBlocks need)."""
        for i in range(start, len(self.decoder)):
            block = self.decoder[i]
            if isinstance(block, MemBlock):
                past = memory[i]
                memory[i] = x
                x = block(x, torch.zeros_like(x) if past is None else past)
            elif isinstance(block, TGrow):
                grown = block(x)
                for part in grown.reshape(x.shape[0], block.stride, *grown.shape[1:]).unbind(1):
                    yield from self._from(part, i + 1, memory)
                return
            else:
                x = block(x)
        yield x

    @torch.no_grad()
    def decode_latents(self, latents: torch.Tensor, *, parallel: bool = False) -> torch.Tensor:
        """Our layout: latents ``[C, F, h, w]`` -> frames ``[4F-3, 3, H, W]`` in [0, 1]."""
        z = latents.permute(1, 0, 2, 3).unsqueeze(0)
        if parallel:
            return self.decode_video(z)[0]
        return torch.cat(list(self.stream(z)), 0)


# ---- loading the published files ---------------------------------------------------------------


def load_state(path: str | Path) -> dict[str, torch.Tensor]:
    """Read a published ``.pth`` (``torch.load(weights_only=True)``) or ``.safetensors`` file."""
    path = Path(path)
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            return dict(load_file(str(path), device="cpu"))
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(
            f"tiny VAE file {path} is missing", "download it again (Models view)"
        ) from None
    except Exception as exc:  # noqa: BLE001 - any unreadable file is one clear error
        raise CheckpointError(
            f"cannot read tiny VAE file {path.name}: {str(exc).splitlines()[0][:200]}",
            "the file is damaged or not a TAEHV file; download it again",
        ) from None
    if not isinstance(state, Mapping) or not all(
        isinstance(v, torch.Tensor) for v in state.values()
    ):
        raise CheckpointError(
            f"{path.name} is not a TAEHV weight file (no flat tensor dictionary)",
            "use taew2_1 / taew2_2 from madebyollin/taehv",
        )
    return dict(state)


def _shape(state: Mapping[str, torch.Tensor], key: str, name: str) -> torch.Size:
    if key not in state:
        raise CheckpointError(
            f"{name} is not a TAEHV decoder: key {key} is missing",
            "use taew2_1 / taew2_2 from madebyollin/taehv",
        )
    return state[key].shape


def config_from_state(
    state: Mapping[str, torch.Tensor],
    name: str = "tiny VAE file",
    *,
    space_upscale: tuple[bool, bool, bool] = (True, True, True),
) -> TAEHVConfig:
    """The decoder's shape, read from its weights (latent channels, patch size, widths)."""
    first = _shape(state, f"decoder.{_IN_CONV}.weight", name)
    out_ch = _shape(state, f"decoder.{_OUT_CONV}.bias", name)[0]
    patch = math.isqrt(out_ch // 3)
    if len(first) != 4 or patch < 1 or 3 * patch * patch != out_ch:
        raise CheckpointError(
            f"{name} is not a TAEHV decoder (output layer has {out_ch} channels)",
            "use taew2_1 / taew2_2 from madebyollin/taehv",
        )
    widths = (
        int(first[0]),
        *(int(_shape(state, f"decoder.{i}.weight", name)[0]) for i in _STAGE_CONV),
    )
    return TAEHVConfig(
        latent_channels=int(first[1]),
        patch_size=patch,
        widths=widths,  # type: ignore[arg-type]
        space_upscale=space_upscale,
    )


def load_decoder(
    path_or_state: str | Path | Mapping[str, torch.Tensor],
    *,
    space_upscale: tuple[bool, bool, bool] = (True, True, True),
    name: str | None = None,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
) -> TAEHVDecoder:
    """A decoder with the file's weights, built straight on ``device`` in ``dtype`` (no random
    init, no copy). Keys are checked: every ``decoder.*`` key of the model must be there with its
    shape, nothing else but the ``encoder.*`` half may be in the file; otherwise a
    CheckpointError names the missing / unexpected keys."""
    if isinstance(path_or_state, (str, Path)):
        label = name or Path(path_or_state).name
        state = load_state(path_or_state)
    else:
        label = name or "tiny VAE weights"
        state = dict(path_or_state)
    config = config_from_state(state, label, space_upscale=space_upscale)
    with torch.device("meta"):
        model = TAEHVDecoder(config)
    wanted = model.state_dict()
    ours = {k: v for k, v in state.items() if k.startswith("decoder.")}
    missing = sorted(set(wanted) - set(ours))
    unexpected = sorted(k for k in state if k not in wanted and not k.startswith("encoder."))
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing[:5])}" + (" …" if len(missing) > 5 else ""))
        if unexpected:
            more = " …" if len(unexpected) > 5 else ""
            parts.append(f"unexpected {', '.join(unexpected[:5])}{more}")
        raise CheckpointError(
            f"{label} does not match the TAEHV decoder layout: {'; '.join(parts)}",
            "use taew2_1 / taew2_2 from madebyollin/taehv, unchanged",
        )
    for i in _STAGE_TGROW:  # the published stride-2 weight of a stride-1 TGrow: last C outputs
        key = f"decoder.{i}.conv.weight"
        if ours[key].shape[0] > wanted[key].shape[0]:
            ours[key] = ours[key][-wanted[key].shape[0] :]
    bad = [k for k in wanted if ours[k].shape != wanted[k].shape]
    if bad:
        k = bad[0]
        raise CheckpointError(
            f"{label}: {k} has shape {tuple(ours[k].shape)}, expected {tuple(wanted[k].shape)}",
            "use taew2_1 / taew2_2 from madebyollin/taehv, unchanged",
        )
    weights = {k: ours[k].to(device=device, dtype=dtype) for k in wanted}
    model.load_state_dict(weights, assign=True)
    return model.eval().requires_grad_(False)


def preview_space_upscale(
    latent_hw: tuple[int, int], patch_size: int, max_side: int = 640
) -> tuple[bool, bool, bool]:
    """Spatial upsampling per stage for a preview: the earlier stages stay on; the last ones are
    switched off while the output would be larger than ``max_side`` (a preview is shown at a
    few hundred pixels; each stage off quarters that stage's work and memory)."""
    side = max(latent_hw) * patch_size
    flags = [True, True, True]
    for stage in (2, 1):
        if side * 2 ** sum(flags) > max_side:
            flags[stage] = False
    return flags[0], flags[1], flags[2]


def activation_bytes(config: TAEHVConfig, latent_hw: tuple[int, int], dtype_bytes: int) -> int:
    """The streaming decode's tensor working set: the one-frame memories of all nine MemBlocks,
    plus the largest transient (a MemBlock's input, concatenation and two conv outputs, or a
    stage change's upsampled, grown and projected frames). Convolution workspaces (im2col on
    the CPU, cuDNN's on a GPU) come on top; callers keep a factor for them."""
    c = config.widths
    px = [latent_hw[0] * latent_hw[1]]
    for stage in range(3):
        px.append(px[-1] * (4 if config.space_upscale[stage] else 1))
    memories = sum(3 * c[s] * px[s] for s in range(3))
    blocks = max(5 * c[s] * px[s] for s in range(3))
    changes = max((3 * c[s] + c[s + 1]) * px[s + 1] for s in range(3))
    final = (c[3] + 3 * config.patch_size**2) * px[3] * 2
    return (memories + max(blocks, changes, final)) * dtype_bytes
