"""Read and write a DiT folder in the official on-disk layout.

Layout (diffusers ``ModelMixin`` folder, official parameter names, no prefix):
``config.json`` + ``diffusion_pytorch_model-0000K-of-0000N.safetensors`` shards +
``diffusion_pytorch_model.safetensors.index.json``; a single ``diffusion_pytorch_model.safetensors``
is read as well. The model is built on ``meta`` and the tensors are assigned, not copied, so peak
RAM is about one copy of the weights (in the target dtype when converting).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from wan22_desktop.errors import UserInputError

from .dit import WanDiT
from .dit_config import DiTConfig, tiny_dit_config

__all__ = [
    "CONFIG_NAME",
    "INDEX_NAME",
    "SINGLE_NAME",
    "load_dit",
    "read_dit_config",
    "save_dit",
    "shard_name",
    "tiny_dit_config",
    "weight_files",
]

CONFIG_NAME = "config.json"
INDEX_NAME = "diffusion_pytorch_model.safetensors.index.json"
SINGLE_NAME = "diffusion_pytorch_model.safetensors"
_DOWNLOAD_HINT = "Re-download the model folder (wan22 models download) or check the path."


def shard_name(k: int, n: int) -> str:
    """diffusers' shard naming, 1-based: diffusion_pytorch_model-00001-of-00006.safetensors."""
    return f"diffusion_pytorch_model-{k:05d}-of-{n:05d}.safetensors"


def read_dit_config(folder: Path) -> DiTConfig:
    path = Path(folder) / CONFIG_NAME
    if not path.is_file():
        raise UserInputError(f"No {CONFIG_NAME} in DiT folder {folder}", _DOWNLOAD_HINT)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        return DiTConfig.from_config_json(data)
    except (ValueError, TypeError) as exc:
        raise UserInputError(f"Invalid DiT config {path}: {exc}", _DOWNLOAD_HINT) from exc


def weight_files(folder: Path) -> dict[str, Path]:
    """Tensor name → file holding it, from the index json or the single file; checks they exist."""
    folder = Path(folder)
    index = folder / INDEX_NAME
    if index.is_file():
        try:
            weight_map = json.loads(index.read_text(encoding="utf-8"))["weight_map"]
        except (ValueError, KeyError, TypeError) as exc:
            raise UserInputError(f"Invalid shard index {index}: {exc}", _DOWNLOAD_HINT) from exc
        files: dict[str, Path] = {}
        for key, name in weight_map.items():
            if Path(name).name != name or name in ("", ".", ".."):
                raise UserInputError(
                    f"Shard index {index} names a file outside the folder: {name!r}", _DOWNLOAD_HINT
                )
            files[key] = folder / name
        for path in sorted(set(files.values())):
            if not path.is_file():
                raise UserInputError(f"Missing DiT shard {path.name} in {folder}", _DOWNLOAD_HINT)
        return files
    single = folder / SINGLE_NAME
    if single.is_file():
        with safe_open(str(single), framework="pt") as f:
            return {key: single for key in f.keys()}
    raise UserInputError(
        f"No DiT weights ({INDEX_NAME} or {SINGLE_NAME}) in {folder}", _DOWNLOAD_HINT
    )


def load_dit(
    folder: Path, *, device: torch.device | str = "cpu", dtype: torch.dtype | None = None
) -> WanDiT:
    """Build the DiT of an official folder and load its weights (strict), in eval mode.

    ``dtype`` converts every tensor while it is read (upstream ``--convert_model_dtype``);
    None keeps the stored dtype (fp32 for the official checkpoints)."""
    folder = Path(folder)
    cfg = read_dit_config(folder)
    files = weight_files(folder)
    with torch.device("meta"):
        model = WanDiT(cfg)
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    missing = sorted(set(expected) - set(files))
    unexpected = sorted(set(files) - set(expected))
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing {len(missing)} (e.g. {missing[0]})")
        if unexpected:
            parts.append(f"unexpected {len(unexpected)} (e.g. {unexpected[0]})")
        raise UserInputError(
            f"DiT weights in {folder} do not fit its config.json: {', '.join(parts)}",
            "The folder mixes files from different models; re-download it.",
        )

    state: dict[str, torch.Tensor] = {}
    by_file: dict[Path, list[str]] = {}
    for key, path in files.items():
        by_file.setdefault(path, []).append(key)
    dev = torch.device(device)
    for path, keys in by_file.items():
        # safetensors reads straight into the target device when it can (CPU: via mmap).
        open_device = str(dev) if dev.type in ("cpu", "cuda") else "cpu"
        with safe_open(str(path), framework="pt", device=open_device) as f:
            for key in keys:
                tensor = f.get_tensor(key)
                if tuple(tensor.shape) != expected[key]:
                    raise UserInputError(
                        f"Shape mismatch for {key} in {path}: {tuple(tensor.shape)} in the file, "
                        f"{expected[key]} from config.json",
                        "The folder mixes files from different models; re-download it.",
                    )
                if dtype is not None and tensor.dtype != dtype:
                    tensor = tensor.to(dtype)
                state[key] = tensor.to(dev)
    model.load_state_dict(state, strict=True, assign=True)
    return model.eval().requires_grad_(False)


def save_dit(
    model_or_state_dict: WanDiT | Mapping[str, torch.Tensor],
    config: DiTConfig,
    folder: Path,
    *,
    max_shard_bytes: int = 10 * 1024**3,
) -> list[Path]:
    """Write ``config.json``, fp32 safetensors shards and the index in the official layout.

    Shards are filled in state-dict order up to ``max_shard_bytes`` (a tensor larger than that
    gets a shard of its own). Every file is written under a temporary name and renamed, the index
    last, so a half-written folder never looks complete. Returns the written paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if isinstance(model_or_state_dict, torch.nn.Module):
        state = model_or_state_dict.state_dict()
    else:
        state = dict(model_or_state_dict)
    tensors = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in state.items()}

    groups: list[list[str]] = [[]]
    size = 0
    for key, tensor in tensors.items():
        nbytes = tensor.numel() * tensor.element_size()
        if groups[-1] and size + nbytes > max_shard_bytes:
            groups.append([])
            size = 0
        groups[-1].append(key)
        size += nbytes

    written = [
        _write_text(
            folder / CONFIG_NAME,
            json.dumps(config.to_config_json(), indent=2, sort_keys=True) + "\n",
        )
    ]
    weight_map: dict[str, str] = {}
    n = len(groups)
    for k, keys in enumerate(groups, start=1):
        name = shard_name(k, n)
        tmp = folder / (name + ".tmp")
        save_file({key: tensors[key] for key in keys}, str(tmp), metadata={"format": "pt"})
        os.replace(tmp, folder / name)
        written.append(folder / name)
        weight_map.update({key: name for key in keys})
    total = sum(t.numel() * t.element_size() for t in tensors.values())
    index = {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}
    written.append(
        _write_text(folder / INDEX_NAME, json.dumps(index, indent=2, sort_keys=True) + "\n")
    )
    return written


def _write_text(path: Path, text: str) -> Path:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path
