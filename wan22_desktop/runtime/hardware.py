"""What this machine has: GPUs (name, VRAM, compute capability), RAM, free disk, flash-attn.

This module holds the data and the torch-free side: the GUI and the queue runner call
``probe_in_subprocess()``, which runs ``python -m wan22_desktop.runtime.hardware_probe --json``, so
they never import torch (or initialise CUDA) themselves. Workers call ``hardware_probe.probe()``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

GIB = 1024**3


@dataclass(frozen=True)
class GPU:
    index: int
    name: str
    total_gib: float
    free_gib: float
    capability: tuple[int, int]


@dataclass(frozen=True)
class Hardware:
    gpus: tuple[GPU, ...] = ()
    ram_total_gib: float = 0.0
    ram_available_gib: float = 0.0
    cpu_count: int = 1
    disk_free_gib: dict[str, float] = field(default_factory=dict)  # folder -> free GiB
    flash_attn: str | None = None  # "fa3", "fa2" or None
    torch_version: str | None = None
    cuda_version: str | None = None
    error: str | None = None  # why the GPU part of the probe failed, if it did

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Hardware:
        gpus = tuple(GPU(**{**g, "capability": tuple(g["capability"])}) for g in d.get("gpus", ()))
        return cls(**{**d, "gpus": gpus})


def _ram() -> tuple[float, float]:
    try:
        import psutil

        vm = psutil.virtual_memory()
        return vm.total / GIB, vm.available / GIB
    except Exception:  # noqa: BLE001 - psutil missing or unsupported platform
        return 0.0, 0.0


def _disk(folders: Iterable[Path]) -> dict[str, float]:
    out: dict[str, float] = {}
    for folder in folders:
        probe_at = Path(folder)
        while not probe_at.exists() and probe_at != probe_at.parent:
            probe_at = probe_at.parent
        try:
            out[str(folder)] = shutil.disk_usage(probe_at).free / GIB
        except OSError:
            continue
    return out


def probe_in_subprocess(folders: Iterable[Path] = (), timeout: float = 120.0) -> Hardware:
    """Probe in a child process so the caller never imports torch."""
    cmd = [sys.executable, "-m", "wan22_desktop.runtime.hardware_probe", "--json"]
    cmd += [str(f) for f in folders]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=True)
        return Hardware.from_dict(json.loads(out.stdout))
    except (subprocess.SubprocessError, OSError, json.JSONDecodeError) as exc:
        total, avail = _ram()
        return Hardware(
            ram_total_gib=total,
            ram_available_gib=avail,
            cpu_count=os.cpu_count() or 1,
            disk_free_gib=_disk(folders),
            error=f"hardware probe failed: {exc}",
        )
