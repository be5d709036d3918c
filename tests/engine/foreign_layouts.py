"""Test helpers: the same random weights as an official tiny checkpoint, written in the layouts
users already have (a diffusers-format repo), so adoption can be proven against the official
layout."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import torch
from safetensors.torch import save_file

from wan22_desktop.engine.wan.convert_diffusers import diffusers_config, dit_official_to_diffusers
from wan22_desktop.engine.wan.convert_diffusers_vae import official_to_diffusers_vae
from wan22_desktop.engine.wan.convert_hf_t5 import official_to_hf_state_dict
from wan22_desktop.engine.wan.dit_io import read_dit_config, weight_files
from wan22_desktop.engine.wan.t5_io import read_t5_state_dict
from wan22_desktop.tasks import get_task


def official_dit(folder: Path) -> dict[str, torch.Tensor]:
    from safetensors import safe_open

    out: dict[str, torch.Tensor] = {}
    for key, path in weight_files(folder).items():
        with safe_open(str(path), framework="pt") as f:
            out[key] = f.get_tensor(key)
    return out


def official_vae(path: Path) -> dict[str, torch.Tensor]:
    return dict(torch.load(path, map_location="cpu", weights_only=True))


def _save_sharded(sd: dict[str, torch.Tensor], folder: Path, stem: str, shards: int) -> None:
    """diffusers/transformers sharding: ``stem-0000k-of-0000n.safetensors`` plus an index."""
    folder.mkdir(parents=True, exist_ok=True)
    keys = sorted(sd)
    if shards == 1:
        save_file({k: sd[k].contiguous() for k in keys}, str(folder / f"{stem}.safetensors"))
        return
    weight_map = {}
    for i in range(shards):
        name = f"{stem}-{i + 1:05d}-of-{shards:05d}.safetensors"
        part = keys[i::shards]
        save_file({k: sd[k].contiguous() for k in part}, str(folder / name))
        weight_map.update(dict.fromkeys(part, name))
    index = {"metadata": {"total_size": 0}, "weight_map": weight_map}
    (folder / f"{stem}.safetensors.index.json").write_text(json.dumps(index), "utf-8")


def write_diffusers_layout(official: Path, out: Path, task: str) -> Path:
    """``Wan-AI/Wan2.2-*-Diffusers`` layout of the official tiny checkpoint ``official``."""
    spec = get_task(task)
    out.mkdir(parents=True)
    experts = ("transformer", "transformer_2")[: len(spec.dit_folders)]
    for folder, name in zip(spec.dit_folders, experts):
        cfg = read_dit_config(official / folder)
        config = {"_class_name": "WanTransformer3DModel", "_diffusers_version": "0.35.0"}
        config.update(
            {k: list(v) if isinstance(v, tuple) else v for k, v in diffusers_config(cfg).items()}
        )
        sd = dit_official_to_diffusers(official_dit(official / folder))
        _save_sharded(sd, out / name, "diffusion_pytorch_model", 2)
        (out / name / "config.json").write_text(json.dumps(config), "utf-8")
    version = "2.2" if spec.vae_file.startswith("Wan2.2") else "2.1"
    vae = official_to_diffusers_vae(official_vae(official / spec.vae_file), version)
    _save_sharded(vae, out / "vae", "diffusion_pytorch_model", 1)
    (out / "vae" / "config.json").write_text('{"_class_name": "AutoencoderKLWan"}', "utf-8")
    t5 = official_to_hf_state_dict(read_t5_state_dict(official / spec.t5_file))
    t5 = {k: v.clone() for k, v in t5.items()}  # safetensors refuses shared (tied) storage
    _save_sharded(t5, out / "text_encoder", "model", 2)
    (out / "text_encoder" / "config.json").write_text('{"architectures": ["UMT5EncoderModel"]}')
    shutil.copytree(official / spec.tokenizer_dir, out / "tokenizer")
    index = {"_class_name": "WanPipeline", "_diffusers_version": "0.35.0"}
    for name in experts:
        index[name] = ["diffusers", "WanTransformer3DModel"]
    if spec.is_moe:
        index["boundary_ratio"] = 0.875
    (out / "model_index.json").write_text(json.dumps(index), "utf-8")
    return out
