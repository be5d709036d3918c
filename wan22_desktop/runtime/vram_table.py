"""The card matrix the planner is checked on, and the committed table of simulated peaks.

``benchmarks/bench_vram.py --write-table`` runs the fake-CUDA harness
(``engine/wan/vram_harness.py``) on every one-GPU plan the planner makes over ``matrix()``
(streaming, FP8 and the lean VAE included), and writes ``vram_table.json`` beside this file. The tests
check the planner's estimate of every matrix plan against that table (no torch needed), and
re-simulate a few rows to prove it current. Pure; no torch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wan22_desktop.runtime.hardware import GPU, Hardware
from wan22_desktop.runtime.planner import CARD_GIB, JobShape, Plan, PlanError, plan

TABLE_PATH = Path(__file__).with_name("vram_table.json")
CARDS = tuple(sorted(CARD_GIB))  # 8 12 16 24 40 48 80 141 GB
GPU_COUNTS = (1, 2, 4, 8)
# (task, width, height, frames, with an image): the three tasks at 480p and 720p.
SHAPES = (
    ("t2v-A14B", 832, 480, 81, False),
    ("t2v-A14B", 1280, 720, 81, False),
    ("i2v-A14B", 832, 480, 81, True),
    ("i2v-A14B", 1280, 720, 81, True),
    ("ti2v-5B", 832, 480, 121, False),
    ("ti2v-5B", 1280, 704, 121, False),
)
# The memory switches of a one-GPU plan, all run by the harness (the engine's own code).
SIMULATED_SWITCHES = (
    "offload_model",
    "convert_model_dtype",
    "t5_cpu",
    "stream_blocks",
    "fp8",
    "vae_dtype",
    "vae_tile",
    "vae_offload",
    "cfg_batch",
)


@dataclass(frozen=True)
class Cell:
    card: int  # nominal GB
    gpus: int
    task: str
    width: int
    height: int
    frames: int
    has_image: bool


def hardware(card: int, gpus: int, ram_gib: float = 256.0) -> Hardware:
    gib = CARD_GIB[card]
    return Hardware(
        gpus=tuple(GPU(i, f"{card} GB card", gib, gib - 0.5, (9, 0)) for i in range(gpus)),
        ram_total_gib=ram_gib,
        ram_available_gib=ram_gib,
        flash_attn="fa3",
    )


def matrix() -> list[tuple[Cell, Plan | PlanError]]:
    """Every cell of the matrix with the planner's plan (or its refusal)."""
    out: list[tuple[Cell, Plan | PlanError]] = []
    for card in CARDS:
        for gpus in GPU_COUNTS:
            for task, w, h, frames, image in SHAPES:
                cell = Cell(card, gpus, task, w, h, frames, image)
                shape = JobShape(task, w, h, frames, image)
                try:
                    out.append((cell, plan(shape, hardware(card, gpus))))
                except PlanError as exc:
                    out.append((cell, exc))
    return out


def simulatable(p: Plan) -> bool:
    """One CUDA GPU: the harness runs every memory switch the engine has (not FSDP/Ulysses)."""
    return p.device == "cuda" and p.nproc == 1


def row_key(p: Plan, frames: int, has_image: bool) -> str:
    """What a simulated peak depends on."""
    switches = ",".join(
        f"{k}={v if isinstance(v, str) else int(v)}"
        for k in SIMULATED_SWITCHES
        for v in [getattr(p, k)]
    )
    return f"{p.task} {p.width}x{p.height} f{frames} img{int(has_image)} {switches}"


def load_table(path: Path = TABLE_PATH) -> dict[str, dict[str, Any]]:
    if not path.exists():
        return {}
    rows = json.loads(path.read_text(encoding="utf-8"))["rows"]
    return {r["key"]: r for r in rows}


def required_rows() -> dict[str, tuple[Plan, int, bool]]:
    """The rows the table must hold: one per distinct simulatable plan of the matrix."""
    out: dict[str, tuple[Plan, int, bool]] = {}
    for cell, p in matrix():
        if isinstance(p, Plan) and simulatable(p):
            out.setdefault(
                row_key(p, cell.frames, cell.has_image), (p, cell.frames, cell.has_image)
            )
    return out
