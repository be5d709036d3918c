"""Every line the planner can show, over a matrix of machines, models, sizes and pins.

The planner is pure, so the lines it produces for this matrix are what the GUI can ever be handed:
reasons, warnings, refusals (message and hint), placement parts and savers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from wan22_desktop.request import GenerationRequest
from wan22_desktop.runtime.hardware import GPU, Hardware
from wan22_desktop.runtime.plan_view import placement_parts
from wan22_desktop.runtime.planner import (
    CARD_GIB,
    InstalledModel,
    JobShape,
    PlanError,
    PlanOverrides,
    plan,
)
from wan22_desktop.runtime.planning import oom_note, plan_request

SHAPES = (
    JobShape("t2v-A14B", 1280, 720, 81),
    JobShape("t2v-A14B", 832, 480, 81),
    JobShape("i2v-A14B", 1280, 720, 81, has_image=True),
    JobShape("ti2v-5B", 1280, 704, 121),
    JobShape("ti2v-5B", 1000, 500, 121),  # off the grid: the size reason
    JobShape("auto", 1280, 704, 121),
    JobShape("auto", 832, 480, 81, has_image=True),
    JobShape("t2v-A14B", 1920, 1088, 241),  # too big for most cards
    JobShape("ti2v-5B", 3840, 2176, 481),  # too big for any card
)
PINS = (
    PlanOverrides(),
    PlanOverrides(offload_model=True, convert_model_dtype=False, t5_cpu=True),
    PlanOverrides(stream_blocks=4, fp8=True, vae_tile=32, vae_dtype="bf16", vae_offload=True),
    PlanOverrides(vae_tile=0, vae_offload=False, stream_blocks=0, fp8=False),
    PlanOverrides(compile=True, cfg_batch=True, dtype="fp16", attention="sdpa"),
    PlanOverrides(compile=False, cfg_batch=False, dit_fsdp=True),
    PlanOverrides(attention="flash3"),
    PlanOverrides(attention="nope"),
    PlanOverrides(dtype="fp64"),
    PlanOverrides(gpus=16),
    PlanOverrides(ulysses_size=7),
    PlanOverrides(t5_fsdp=True, t5_cpu=True),
    PlanOverrides(task="nope"),
    PlanOverrides(device="cpu"),
)
ATTENTION = (
    {"attention_kernels": {"flash3": "3.0", "flash2": "2.7"}},
    {"attention_kernels": {"flash2": "2.7"}, "attention_errors": {"flash3": "libcudart.so.12"}},
    {"attention_kernels": {}, "attention_errors": {}},
)
CAPS = ((9, 0), (8, 6), (7, 5))
TINY = {t: InstalledModel(t, f"/models/{t}", 1000) for t in ("t2v-A14B", "i2v-A14B", "ti2v-5B")}
BIG = {t: InstalledModel(t, f"/models/{t}", 60 * 1024**3) for t in TINY}


def machines() -> Iterator[Hardware]:
    yield Hardware(ram_total_gib=64.0, ram_available_gib=60.0)
    yield Hardware(ram_total_gib=64.0, error="cuInit=999")
    for card, gib in CARD_GIB.items():
        for count in (1, 2, 3, 4, 8) if card in (24, 80) else (1,):
            for ram in (256.0, 16.0):
                gpus = tuple(GPU(i, f"{card} GB", gib, gib - 0.5, (9, 0)) for i in range(count))
                yield Hardware(gpus=gpus, ram_total_gib=ram, ram_available_gib=ram / 4)
    one = Hardware(
        gpus=(GPU(0, "24 GB", 23.6, 23.0, (9, 0)),), ram_total_gib=256.0, ram_available_gib=256.0
    )
    for cap in CAPS:
        for att in ATTENTION:
            yield replace(one, gpus=(replace(one.gpus[0], capability=cap),), flash_attn=None, **att)


def planner_lines() -> set[str]:
    """Every distinct line the planner produced over the matrix."""
    lines: set[str] = set()
    for hw in machines():
        for shape in SHAPES:
            for pins in PINS:
                for installed in ({}, TINY, BIG):
                    try:
                        p = plan(shape, hw, installed, pins)
                    except PlanError as exc:
                        lines.add(exc.message)
                        if exc.hint:
                            lines.add(exc.hint)
                        continue
                    lines.update(p.reasons.values())
                    lines.update(p.warnings)
                    lines.update(placement_parts(p))
                    lines.update(p.savers())
        if len(hw.gpus) == 1 and hw.gpus[0].total_gib in (CARD_GIB[8], CARD_GIB[24]):
            # Memory kept free (the out-of-memory fallback): the vram line and refusals say so.
            for shape in SHAPES[:4] + SHAPES[7:8]:
                for headroom in (20, 60):
                    try:
                        p = plan(shape, hw, BIG, PlanOverrides(vram_headroom=headroom))
                    except PlanError as exc:
                        lines.update(filter(None, (exc.message, exc.hint)))
                        continue
                    lines.update(p.reasons.values())
                    lines.update(p.warnings)
        if len(hw.gpus) > 1:  # the GUI runner's latency mode (Settings) spreads every job
            for task in ("t2v-A14B", "ti2v-5B"):
                for size in ("1280*720", "832*480") if task != "ti2v-5B" else ("1280*704",):
                    request = GenerationRequest.for_task(task, prompt="x", size=size)
                    try:
                        p = plan_request(request, hw, BIG, gpu_mode="latency")
                    except PlanError as exc:
                        lines.update(filter(None, (exc.message, exc.hint)))
                        continue
                    lines.update(p.reasons.values())
    lines.update(oom_note(h) for h in (20, 40, 60))  # the runner's note in a plan's warnings
    return lines
