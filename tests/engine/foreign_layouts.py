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


COMFY_DIT_NAMES = {
    "t2v-A14B": ("wan2.2_t2v_high_noise_14B_fp16", "wan2.2_t2v_low_noise_14B_fp16"),
    "i2v-A14B": ("wan2.2_i2v_high_noise_14B_fp16", "wan2.2_i2v_low_noise_14B_fp16"),
    "ti2v-5B": ("wan2.2_ti2v_5B_fp16",),
}


def write_comfyui_layout(official: Path, comfy: Path, task: str) -> Path:
    """A ComfyUI install's ``models/`` with the official tiny checkpoint's weights as
    Comfy-Org's repackaged single files: the DiT(s) with official names (the high-noise expert
    behind ``model.diffusion_model.``, as some files have it), the VAE with official names, umT5
    with transformers names plus a ``spiece_model`` byte tensor. The tiny DiT must have 128-wide
    heads (the width single files are read with)."""
    spec = get_task(task)
    models = comfy / "models"
    for sub in ("diffusion_models", "vae", "text_encoders", "loras"):
        (models / sub).mkdir(parents=True, exist_ok=True)
    for k, (folder, name) in enumerate(zip(spec.dit_folders, COMFY_DIT_NAMES[task])):
        sd = official_dit(official / folder)
        if k == 0:
            sd = {"model.diffusion_model." + key: v for key, v in sd.items()}
        save_file(
            {key: v.contiguous() for key, v in sd.items()},
            str(models / "diffusion_models" / f"{name}.safetensors"),
        )
    vae_name = "wan2.2_vae" if spec.vae_file.startswith("Wan2.2") else "wan_2.1_vae"
    vae = official_vae(official / spec.vae_file)
    save_file(
        {k: v.contiguous() for k, v in vae.items()}, str(models / "vae" / f"{vae_name}.safetensors")
    )
    t5 = official_to_hf_state_dict(read_t5_state_dict(official / spec.t5_file))
    t5 = {k: v.clone().contiguous() for k, v in t5.items() if k != "encoder.embed_tokens.weight"}
    t5["spiece_model"] = torch.frombuffer(
        bytearray(b"not a real sentencepiece model"), dtype=torch.uint8
    )
    save_file(t5, str(models / "text_encoders" / "umt5_xxl_fp16.safetensors"))
    return comfy


FP8_MAX = 448.0  # float8_e4m3fn


def fp8_scaled(
    sd: dict[str, torch.Tensor],
) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """(ComfyUI fp8_scaled file contents, the weights it stands for): every 2-D block weight
    becomes float8_e4m3fn plus a per-tensor ``.scale_weight`` (absmax / 448), with the
    ``scaled_fp8`` marker; the second dict holds the dequantised weights (fp32)."""
    out: dict[str, torch.Tensor] = {"scaled_fp8": torch.zeros(0, dtype=torch.float8_e4m3fn)}
    plain: dict[str, torch.Tensor] = {}
    for key, w in sd.items():
        if key.startswith("blocks.") and key.endswith(".weight") and w.ndim == 2:
            scale = (w.abs().max().float() / FP8_MAX).reshape(1)
            q = (w.float() / scale).to(torch.float8_e4m3fn)
            out[key], out[key[: -len(".weight")] + ".scale_weight"] = q, scale
            out[key[: -len(".weight")] + ".scale_input"] = torch.ones(1)
            plain[key] = q.float() * scale
        else:
            out[key] = plain[key] = w
    return out, plain
