"""Loading a task's networks for a pipeline, placed as the memory options ask.

The files are checked first (``model_layout.require_layout``: a missing or truncated shard, a
folder of another task), so a bad folder fails in a second with the file named. The component
loaders are ``checkpoints``'s; here only the placement is decided: with ``offload_model`` the
DiTs and T5 are loaded on the CPU and visit the device only while used (official), otherwise
they are loaded straight onto the device.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from wan22_desktop.model_layout import require_layout
from wan22_desktop.tasks import TaskSpec

from ..checkpoints import (
    load_experts,
    load_text_encoder_for_task,
    load_vae_for_task,
    read_task_dit_config,
)
from ..dit import WanDiT
from ..offload import CPU
from ..text_encoder import T5TextEncoder
from ..vae_io import VAE_DTYPES, VideoVAE
from .loop import SINGLE


def load_components(
    root: Path, spec: TaskSpec, *, device: torch.device, dtype: torch.dtype, memory: Any
) -> tuple[dict[str, WanDiT], VideoVAE, T5TextEncoder]:
    """(experts by name, VAE, text encoder) of ``spec`` from the folder ``root``."""
    require_layout(root, spec.name)
    cfg = read_task_dit_config(root, spec.name)
    offload = bool(memory.offload_model)
    # Streamed blocks live on the host and visit the device one slot at a time.
    streamed = int(getattr(memory, "stream_blocks", 0)) > 0
    # The official T5 runs in bf16 whatever the DiT does; fp32 runs (CPU, tests) keep fp32.
    t5_dtype = torch.float32 if dtype == torch.float32 else torch.bfloat16
    text_encoder = load_text_encoder_for_task(
        root,
        spec.name,
        device=device,
        dtype=t5_dtype,
        t5_cpu=bool(memory.t5_cpu) or offload or streamed,
        dit_config=cfg,
    )
    vae_device = CPU if memory.vae_offload else device
    vae = load_vae_for_task(
        root, spec.name, device=vae_device, dtype=VAE_DTYPES[memory.vae_dtype], dit_config=cfg
    )
    vae.tile = int(memory.vae_tile)  # 0: untiled
    fp8 = bool(memory.fp8)
    dits = load_experts(
        root,
        spec.name,
        device=CPU if offload or streamed else device,
        dtype=dtype if memory.convert_model_dtype else None,
        fp8=fp8,
        fp8_cache_dir=_fp8_cache_dir() if fp8 else None,
    )
    names = [folder or SINGLE for folder in spec.dit_folders]
    return dict(zip(names, dits)), vae, text_encoder


def _fp8_cache_dir() -> Path:
    """Where FP8 caches go when the model folder is read-only: the app's cache folder."""
    from wan22_desktop.paths import app_paths

    return app_paths().cache / "fp8"
