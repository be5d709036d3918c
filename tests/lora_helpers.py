"""Tiny LoRA files in every naming we read, written from ONE set of random A/B/alpha tensors, so
a test can load the same LoRA through each format (and through diffusers) and compare."""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import save_file

from wan22_desktop.engine.wan.dit_config import DiTConfig

LORA_FORMATS = ("diffusers", "official_ab", "official_downup", "kohya")

_DIFFUSERS = {
    "self_attn.q": "attn1.to_q",
    "self_attn.k": "attn1.to_k",
    "self_attn.v": "attn1.to_v",
    "self_attn.o": "attn1.to_out.0",
    "cross_attn.q": "attn2.to_q",
    "cross_attn.k": "attn2.to_k",
    "cross_attn.v": "attn2.to_v",
    "cross_attn.o": "attn2.to_out.0",
    "ffn.0": "ffn.net.0.proj",
    "ffn.2": "ffn.net.2",
}


def lora_tensors(
    cfg: DiTConfig, rank: int = 4, alpha: float = 8.0, seed: int = 0, blocks: int | None = None
) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Official module name -> (down [rank, in], up [out, rank]) for every attention and FFN
    linear of ``blocks`` blocks (all by default); one ``alpha`` for all (see ``write_lora``)."""
    gen = torch.Generator().manual_seed(seed)
    out: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
    for i in range(cfg.num_layers if blocks is None else blocks):
        for name in _DIFFUSERS:
            d_in = cfg.ffn_dim if name == "ffn.2" else cfg.dim
            d_out = cfg.ffn_dim if name == "ffn.0" else cfg.dim
            down = torch.randn(rank, d_in, generator=gen) / d_in**0.5
            up = torch.randn(d_out, rank, generator=gen) * 0.3
            out[f"blocks.{i}.{name}"] = (down, up)
    return out


def lora_state_dict(
    tensors: dict[str, tuple[torch.Tensor, torch.Tensor]],
    fmt: str,
    alpha: float = 8.0,
    biases: dict[str, torch.Tensor] | None = None,
) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """(state dict, safetensors metadata) of the LoRA in the naming ``fmt``; ``biases`` (official
    module -> bias delta) are written as ``.diff_b`` (official) or ``lora_B.bias`` (diffusers)."""
    sd: dict[str, torch.Tensor] = {}
    meta: dict[str, str] = {}
    rank = next(iter(tensors.values()))[0].shape[0]
    for module, (down, up) in tensors.items():
        a = torch.tensor(alpha)
        if fmt == "diffusers":
            _, i, rest = module.split(".", 2)
            base = f"transformer.blocks.{i}.{_DIFFUSERS[rest]}"
            sd[f"{base}.lora_A.weight"], sd[f"{base}.lora_B.weight"] = down, up
        elif fmt in ("official_ab", "official_downup"):
            base = f"diffusion_model.{module}"
            a_name, b_name = (
                ("lora_A", "lora_B") if fmt == "official_ab" else ("lora_down", "lora_up")
            )
            sd[f"{base}.{a_name}.weight"], sd[f"{base}.{b_name}.weight"] = down, up
            sd[f"{base}.alpha"] = a
        elif fmt == "kohya":
            base = "lora_unet_" + module.replace(".", "_")
            sd[f"{base}.lora_down.weight"], sd[f"{base}.lora_up.weight"] = down, up
            sd[f"{base}.alpha"] = a
        else:
            raise ValueError(fmt)
    for module, delta in (biases or {}).items():
        if fmt == "diffusers":
            _, i, rest = module.split(".", 2)
            sd[f"transformer.blocks.{i}.{_DIFFUSERS[rest]}.lora_B.bias"] = delta
        elif fmt.startswith("official"):
            sd[f"diffusion_model.{module}.diff_b"] = delta
        else:
            raise ValueError(f"{fmt} has no bias deltas")
    if fmt == "diffusers":  # PEFT's scale lora_alpha / r, as diffusers' save_lora_weights stores it
        import json

        targets = sorted(
            {k[len("transformer.") : -len(".lora_A.weight")] for k in sd if "lora_A" in k}
        )
        meta["lora_adapter_metadata"] = json.dumps(
            {
                "transformer.r": rank,
                "transformer.lora_alpha": alpha,
                "transformer.use_rslora": False,
                "transformer.target_modules": targets,
                "transformer.lora_bias": bool(biases),
            }
        )
    return sd, meta


def write_lora(
    path: Path,
    tensors: dict[str, tuple[torch.Tensor, torch.Tensor]],
    fmt: str,
    alpha: float = 8.0,
    biases: dict[str, torch.Tensor] | None = None,
) -> Path:
    sd, meta = lora_state_dict(tensors, fmt, alpha, biases)
    save_file({k: v.contiguous() for k, v in sd.items()}, str(path), metadata=meta or None)
    return path


def write_diff_lora(path: Path, deltas: dict[str, torch.Tensor]) -> Path:
    """A lightx2v-style full-delta file: our parameter name -> delta (``.diff`` for weights and
    modulation tables, ``.diff_b`` for biases)."""
    sd: dict[str, torch.Tensor] = {}
    for name, delta in deltas.items():
        if name.endswith(".bias"):
            sd[f"diffusion_model.{name[: -len('.bias')]}.diff_b"] = delta
        elif name.endswith(".weight"):
            sd[f"diffusion_model.{name[: -len('.weight')]}.diff"] = delta
        else:
            sd[f"diffusion_model.{name}.diff"] = delta
    save_file({k: v.contiguous() for k, v in sd.items()}, str(path))
    return path
