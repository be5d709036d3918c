"""What this machine has: GPUs (name, VRAM, compute capability), RAM, free disk, and which
optional attention kernels (FlashAttention 3/2, SageAttention) really import.

This module holds the data and the torch-free side: the GUI and the queue runner call
``probe_in_subprocess()``, which runs ``python -m wan22_desktop.runtime.hardware_probe --json``, so
they never import torch (or initialise CUDA) themselves. Workers call ``hardware_probe.probe()``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

from wan22_desktop.errors import OperationError

GIB = 1024**3


@dataclass(frozen=True)
class AttentionKernel:
    """An optional attention package: what to import, and which GPUs its kernels run on."""

    module: str  # imported by the probe and the engine
    function: str  # must be present after the import
    label: str  # for people
    min_capability: tuple[int, int]
    max_major: int | None = None  # FA3 is Hopper-only: sm90 and nothing newer


# The optional kernels, fastest-exact first (``sdpa`` is PyTorch's and always there). The one
# table for the probe, the planner and the engine.
ATTENTION_KERNELS: dict[str, AttentionKernel] = {
    "flash3": AttentionKernel(
        "flash_attn_interface", "flash_attn_varlen_func", "FlashAttention 3", (9, 0), 9
    ),
    "flash2": AttentionKernel("flash_attn", "flash_attn_varlen_func", "FlashAttention 2", (8, 0)),
    "sage": AttentionKernel("sageattention", "sageattn", "SageAttention (8-bit)", (8, 0)),
}
ATTENTION_BACKENDS = (*ATTENTION_KERNELS, "sdpa")


def kernel_unsupported(backend: str, capability: tuple[int, int]) -> str | None:
    """Why ``backend`` cannot run on a GPU of this compute capability (None: it can)."""
    if backend == "sdpa":
        return None
    k = ATTENTION_KERNELS[backend]
    cap = f"sm{capability[0]}{capability[1]}"
    if k.max_major is not None and not k.min_capability <= capability < (k.max_major + 1, 0):
        return f"{k.label} runs on Hopper (sm90) only; this GPU is {cap}"
    if capability < k.min_capability:
        need = f"sm{k.min_capability[0]}{k.min_capability[1]}"
        return f"{k.label} needs compute capability {need} or newer; this GPU is {cap}"
    return None


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
    flash_attn: str | None = None  # "fa3", "fa2" or None (kept for old records and doctor)
    # Backend -> version text ("" when unknown) of each optional kernel that imported, and
    # backend -> why not, for each that did not (the exception's text).
    attention_kernels: dict[str, str] = field(default_factory=dict)
    attention_errors: dict[str, str] = field(default_factory=dict)
    torch_version: str | None = None
    cuda_version: str | None = None
    error: str | None = None  # why the GPU part of the probe failed, if it did

    def __post_init__(self) -> None:
        if not self.attention_kernels and self.flash_attn:
            # A record from before the per-kernel probe: "fa3" meant flash_attn_interface
            # imports (and was taken to cover FA2 too), "fa2" that flash_attn does.
            derived = {"flash3": "", "flash2": ""} if self.flash_attn == "fa3" else {"flash2": ""}
            object.__setattr__(self, "attention_kernels", derived)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Hardware:
        gpus = tuple(GPU(**{**g, "capability": tuple(g["capability"])}) for g in d.get("gpus", ()))
        known = {f.name for f in fields(cls)}
        return cls(**{**{k: v for k, v in d.items() if k in known}, "gpus": gpus})


FAKE_GPUS_ENV = "WAN22_FAKE_GPUS"


def fake_gpus(spec: str, visible: str | None = None) -> tuple[GPU, ...]:
    """GPUs described by ``WAN22_FAKE_GPUS`` ("2x24": two 24 GiB cards), for tests and dry runs
    of multi-GPU queue modes on machines without them; nothing is ever computed on them. As
    with real cards, ``CUDA_VISIBLE_DEVICES`` (``visible``) keeps the listed ones, renumbered."""
    count_text, _, size_text = spec.strip().lower().partition("x")
    try:
        count, size = int(count_text), float(size_text or "24")
    except ValueError:
        raise ValueError(
            f"{FAKE_GPUS_ENV} must look like 2x24 (count x GiB), not {spec!r}"
        ) from None
    cards = [GPU(i, f"Fake GPU {size:g} GiB", size, size, (9, 0)) for i in range(max(0, count))]
    if visible is not None and visible.strip():
        ids = [int(v) for v in visible.split(",") if v.strip().isdigit()]
        cards = [cards[i] for i in ids if i < len(cards)]
    elif visible is not None:  # CUDA_VISIBLE_DEVICES="" hides every card
        cards = []
    return tuple(replace(g, index=i) for i, g in enumerate(cards))


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
    from wan22_desktop.frozen import module_command

    try:
        # In the bundle without its worker venv there is no torch to probe with (OperationError).
        cmd = module_command("wan22_desktop.runtime.hardware_probe") + ["--json"]
        cmd += [str(f) for f in folders]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=True)
        return Hardware.from_dict(json.loads(out.stdout))
    except (subprocess.SubprocessError, OSError, json.JSONDecodeError, OperationError) as exc:
        total, avail = _ram()
        return Hardware(
            ram_total_gib=total,
            ram_available_gib=avail,
            cpu_count=os.cpu_count() or 1,
            disk_free_gib=_disk(folders),
            error=f"hardware probe failed: {exc}",
        )
