"""Tiny random-weight checkpoints in the exact official folder layout, for tests and development.

The folder is written by the same component writers that mirror the official formats (DiT
safetensors shards + index + config.json, ``Wan2.x_VAE.pth``, the T5 ``.pth``, a tokenizer folder),
so a tiny checkpoint goes through exactly the loading code a real one does. Nothing here is
committed: tests build these on the fly in a few hundred milliseconds.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from wan22_desktop.errors import UserInputError
from wan22_desktop.tasks import get_task

from .dit import WanDiT
from .dit_config import DiTConfig, tiny_dit_config
from .dit_io import save_dit
from .t5_io import save_t5_encoder, tiny_t5, tiny_tokenizer_vocab, write_tiny_tokenizer
from .vae_io import save_vae, tiny_vae

# ModelScope puts this next to the weights; the downloader fetches it too.
_MODELSCOPE_CONFIG = {"framework": "Pytorch", "task": "text-to-video-synthesis"}


def random_dit(cfg: DiTConfig, seed: int) -> WanDiT:
    """A DiT with every parameter drawn from its own generator (norm weights near 1, so they matter)."""
    model = WanDiT(cfg)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=gen, dtype=torch.float32)
            if "norm" in name and name.endswith("weight"):
                p.copy_(1.0 + 0.1 * noise)
            elif name.endswith("bias") or name.endswith("modulation"):
                p.copy_(0.05 * noise)
            else:
                fan_in = max(1, p[0].numel())
                p.copy_(noise / fan_in**0.5)
    return model.eval().requires_grad_(False)


def _two_plus_shards(model: WanDiT) -> int:
    """A shard limit that splits the weights in at least two files, so the index path is used."""
    total = sum(t.numel() * 4 for t in model.state_dict().values())
    return max(1, total // 2)


def make_tiny_checkpoint(task: str, out_dir: Path, seed: int = 0, **size_overrides: Any) -> Path:
    """Write a tiny ``task`` checkpoint into ``out_dir`` (created; must be empty) and return it.

    ``size_overrides`` are DiTConfig fields (``dim``, ``num_layers``, ``text_dim``...). The T5's
    width follows the DiT's ``text_dim`` so the text path fits; the experts of A14B get different
    seeds so a test can tell them apart.
    """
    spec = get_task(task)
    out = Path(out_dir)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UserInputError(
            f"{out} exists and is not an empty folder",
            "choose a new folder for the tiny checkpoint",
        )
    out.mkdir(parents=True, exist_ok=True)

    cfg = tiny_dit_config(task, **size_overrides)
    for k, folder in enumerate(spec.dit_folders):
        model = random_dit(cfg, seed=seed * 100 + k)
        save_dit(model, cfg, out / folder, max_shard_bytes=_two_plus_shards(model))

    vae_version = "2.2" if spec.vae_file.startswith("Wan2.2") else "2.1"
    save_vae(tiny_vae(vae_version, seed=seed * 100 + 10), out / spec.vae_file)

    vocab = len(tiny_tokenizer_vocab())
    t5 = tiny_t5(seed=seed * 100 + 20, vocab_size=vocab, dim=cfg.text_dim)
    save_t5_encoder(t5, out / spec.t5_file)  # bf16, like the official file
    write_tiny_tokenizer(out / spec.tokenizer_dir)

    (out / "configuration.json").write_text(json.dumps(_MODELSCOPE_CONFIG), encoding="utf-8")
    return out
