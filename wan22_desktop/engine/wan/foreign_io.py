"""Loading the networks of an adopted model set (``foreign_layout.ModelSet``: a diffusers-format
repo), renaming the keys while reading, so the weights stay where the user has them.

The key maps are the ones our parity tests use against diffusers and transformers
(``convert_diffusers.py``, ``convert_diffusers_vae.py``, ``convert_hf_t5.py``): names change,
tensors do not, so the same weights give the same networks as the official files (bit-identical;
``tests/engine/test_foreign_layouts.py``). Every load is strict: a missing, extra or mis-shaped
tensor is a ``UserInputError`` naming the file.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path

import torch
from safetensors import safe_open

from wan22_desktop.errors import UserInputError
from wan22_desktop.foreign_layout import (
    FP8_IGNORED,
    FP8_SCALE,
    FP8_SKIPPED,
    MODEL_SET_FILE,
    ModelSet,
    diffusers_model_set,
    dit_shape_config,
    is_diffusers_folder,
    is_model_set_folder,
    read_model_set,
)
from wan22_desktop.tasks import get_task

from .convert_diffusers import diffusers_key_to_official
from .convert_diffusers_vae import diffusers_to_official_vae
from .convert_hf_t5 import hf_to_official_state_dict
from .dit import WanDiT
from .dit_config import DiTConfig
from .t5 import T5Encoder
from .t5_io import t5_encoder_from_state_dict
from .vae_config import vae_config_from_state_dict
from .vae_io import VideoVAE, build_vae_model

_HINT = "the adopted model's files do not fit together; check the folder or download it again"
_COMFY_PREFIX = "model.diffusion_model."
_FLOAT8 = tuple(
    getattr(torch, name) for name in ("float8_e4m3fn", "float8_e5m2") if hasattr(torch, name)
)


def model_set_for(root: Path, task: str) -> ModelSet | None:
    """The adopted model set at ``root`` (None: an official folder, loaded as before)."""
    if is_diffusers_folder(Path(root)):
        return diffusers_model_set(Path(root), task)
    if is_model_set_folder(Path(root)):
        ms = read_model_set(Path(root))
        if ms is None:
            raise UserInputError(f"unreadable model set {Path(root) / MODEL_SET_FILE}", _HINT)
        return ms
    return None


def _where(ms: ModelSet, files: Iterable[Path]) -> str:
    first = next(iter(files))
    try:
        return first.parent.relative_to(ms.root).as_posix() or first.name
    except ValueError:
        return str(first)


# ---------------------------------------------------------------------------- DiT


def dit_configs(ms: ModelSet) -> list[DiTConfig]:
    """One config per expert, from diffusers' ``WanTransformer3DModel`` config.json."""
    spec = get_task(ms.task)
    if ms.dit_config is None:  # single files: the sizes are in the tensor shapes
        try:
            return [
                DiTConfig(model_type=spec.model_type, **dit_shape_config(files[0]))  # type: ignore[arg-type]
                for files in ms.dits
            ]
        except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
            raise UserInputError(f"unusable DiT file {ms.dits[0][0]}: {exc}", _HINT) from exc
    out = []
    folders = [files[0].parent for files in ms.dits]
    for folder in folders:
        path = folder / "config.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            heads, head_dim = int(data["num_attention_heads"]), int(data["attention_head_dim"])
            out.append(
                DiTConfig(
                    model_type=spec.model_type,
                    patch_size=tuple(data.get("patch_size", (1, 2, 2))),
                    in_dim=int(data["in_channels"]),
                    dim=heads * head_dim,
                    ffn_dim=int(data["ffn_dim"]),
                    freq_dim=int(data["freq_dim"]),
                    text_dim=int(data["text_dim"]),
                    out_dim=int(data["out_channels"]),
                    num_heads=heads,
                    num_layers=int(data["num_layers"]),
                    qk_norm=data.get("qk_norm") is not None,
                    cross_attn_norm=bool(data.get("cross_attn_norm", True)),
                    eps=float(data.get("eps", 1e-6)),
                )
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise UserInputError(f"unusable transformer config {path}: {exc}", _HINT) from exc
    return out


def _dit_key(ms: ModelSet) -> Callable[[str], str]:
    if ms.dit_keys == "diffusers":
        return diffusers_key_to_official
    return lambda key: key[len(_COMFY_PREFIX) :] if key.startswith(_COMFY_PREFIX) else key


def load_dit(
    ms: ModelSet,
    expert: int,
    cfg: DiTConfig,
    *,
    device: torch.device | str = "cpu",
    dtype: torch.dtype | None = None,
) -> WanDiT:
    """Expert ``expert`` (0: high-noise / the only one) with its keys renamed while read.

    ``dtype`` None gives fp32, the dtype of the official files (what the engine expects when it
    does not convert): fp16/bf16/fp8 files are cast while read, one tensor at a time."""
    files = ms.dits[expert]
    where = _where(ms, files)
    with torch.device("meta"):
        model = WanDiT(cfg)
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    dev = torch.device(device)
    rename = _dit_key(ms)
    state = _read(files, rename, where, expected=expected, device=dev, dtype=dtype or torch.float32)
    _strict(state, expected, where)
    model.load_state_dict(state, strict=True, assign=True)
    return model.eval().requires_grad_(False)


# ---------------------------------------------------------------------------- VAE


def load_vae(
    ms: ModelSet,
    version: str,
    *,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
) -> VideoVAE:
    where = _where(ms, ms.vae)
    sd = _read(ms.vae, lambda k: k, where)
    try:
        if ms.vae_keys == "diffusers":
            sd = diffusers_to_official_vae(sd, version)
        config = vae_config_from_state_dict(sd, version)
    except (ValueError, KeyError) as exc:
        raise UserInputError(f"{where} is not a Wan{version} VAE: {exc}", _HINT) from exc
    with torch.device("meta"):
        model = build_vae_model(config)
    _strict(sd, {k: tuple(v.shape) for k, v in model.state_dict().items()}, where)
    model.load_state_dict(sd, strict=True, assign=True)
    model.to(device=device, dtype=dtype)
    return VideoVAE(model)


# ---------------------------------------------------------------------------- umT5


def read_t5(ms: ModelSet) -> dict[str, torch.Tensor]:
    """The umT5 encoder's tensors under the official names."""
    where = _where(ms, ms.t5)
    sd = _read(ms.t5, lambda k: k, where)
    sd.pop("spiece_model", None)  # ComfyUI keeps the tokenizer's model bytes in the file
    if ms.t5_keys != "hf":
        return sd
    try:
        return hf_to_official_state_dict(sd)
    except (KeyError, ValueError) as exc:
        raise UserInputError(f"{where} is not a umT5 encoder: {exc}", _HINT) from exc


def t5_encoder(ms: ModelSet) -> T5Encoder:
    return t5_encoder_from_state_dict(read_t5(ms), source=_where(ms, ms.t5))


# ---------------------------------------------------------------------------- helpers


def _read(
    files: Iterable[Path],
    rename: Callable[[str], str],
    where: str,
    *,
    expected: dict[str, tuple[int, ...]] | None = None,
    device: torch.device | None = None,
    dtype: torch.dtype | None = None,
) -> dict[str, torch.Tensor]:
    """Every tensor of ``files`` (mmapped), renamed; shapes checked against ``expected``."""
    dev = device or torch.device("cpu")
    open_device = str(dev) if dev.type in ("cpu", "cuda") else "cpu"
    state: dict[str, torch.Tensor] = {}
    for path in files:
        if not path.is_file():
            raise UserInputError(f"missing weights file {path}", _HINT)
        with safe_open(str(path), framework="pt", device=open_device) as f:
            keys = list(f.keys())
            scales = {  # ComfyUI's fp8_scaled files: X.weight (float8) times X.scale_weight
                k[: -len(FP8_SCALE)] + ".weight": f.get_tensor(k)
                for k in keys
                if k.endswith(FP8_SCALE)
            }
            for key in keys:
                if key in FP8_SKIPPED or key.endswith((FP8_SCALE, *FP8_IGNORED)):
                    continue
                try:
                    name = rename(key)
                except (KeyError, ValueError) as exc:
                    raise UserInputError(
                        f"{where}: unexpected tensor {key} ({exc})", _HINT
                    ) from exc
                tensor = f.get_tensor(key)
                if tensor.dtype in _FLOAT8:  # dequantised in fp32, then cast as asked
                    tensor = tensor.to(torch.float32)
                    if key in scales:
                        tensor = tensor * scales[key].to(device=tensor.device, dtype=torch.float32)
                if expected is not None and name in expected:
                    if tuple(tensor.shape) != expected[name]:
                        raise UserInputError(
                            f"{where}: {key} has shape {tuple(tensor.shape)}, the config "
                            f"needs {expected[name]}",
                            _HINT,
                        )
                if dtype is not None and tensor.dtype != dtype:
                    tensor = tensor.to(dtype)
                if name in state:
                    raise UserInputError(f"{where}: two tensors map to {name}", _HINT)
                state[name] = tensor.to(dev)
    return state


def _strict(
    state: dict[str, torch.Tensor], expected: dict[str, tuple[int, ...]], where: str
) -> None:
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    bad = [k for k in expected if k in state and tuple(state[k].shape) != expected[k]]
    if missing or unexpected or bad:
        parts = []
        if missing:
            parts.append(f"missing {len(missing)} (e.g. {missing[0]})")
        if unexpected:
            parts.append(f"unexpected {len(unexpected)} (e.g. {unexpected[0]})")
        if bad:
            parts.append(f"{len(bad)} of another shape (e.g. {bad[0]})")
        raise UserInputError(f"{where} does not fit the model: {', '.join(parts)}", _HINT)
