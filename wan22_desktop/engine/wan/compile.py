"""``torch.compile`` of the DiT blocks (the plan's ``compile`` switch), with a persistent cache.

Only the blocks are compiled, each in place (``nn.Module.compile``: the state-dict keys and the
module tree stay as they are, so checkpoints, LoRA and offloading see the same model). The blocks
of a DiT share one code object and take their parameters as graph inputs, so one compilation
serves every block of both experts for a given shape; ``dynamic=False`` specialises on it (a new
video size compiles again, from the cache when it was seen before). The inductor/FX/Triton
caches go to a folder under the app's cache dir (set before the first compile), so a restarted
worker reuses the kernels instead of compiling for a minute again.

The blocks trace without graph breaks because the step makes no host synchronisation (see
``dit.WanDiT.forward``; pinned by ``tests/engine/test_dit_capture.py``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from torch import nn

from .dit import WanDiT

# Inductor reads these when it first needs its cache; Triton's cache defaults to a subfolder.
CACHE_ENV = ("TORCHINDUCTOR_CACHE_DIR",)


def use_compile_cache(folder: Path) -> Path:
    """Point the compile caches at ``folder`` (created) unless the user set them already."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in CACHE_ENV:
        os.environ.setdefault(name, str(folder))
    return Path(os.environ[CACHE_ENV[0]])


def compile_blocks(models: Iterable[WanDiT], cache: Path | None = None) -> int:
    """Compile every block of ``models`` in place; returns how many. Compilation itself happens
    lazily at the first forward (the first step is slower, the others faster)."""
    if cache is not None:
        use_compile_cache(cache)
    count = 0
    for model in models:
        for block in model.blocks:
            if not is_compiled(block):
                block.compile(dynamic=False)
                count += 1
    return count


def is_compiled(module: nn.Module) -> bool:
    """Whether ``compile_blocks`` (``nn.Module.compile``) has wrapped this module's forward."""
    return getattr(module, "_compiled_call_impl", None) is not None
