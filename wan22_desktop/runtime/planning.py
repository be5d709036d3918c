"""The plan a job gets, computed the same way wherever it is shown or run.

The runner (at claim time), the GUI's plan panel and ``wan22 queue add`` call ``plan_request``
with the same inputs: the request, the probed ``Hardware`` and ``installed_models(db)``. Torch-free
and Qt-free.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from wan22_desktop.db.database import Database
from wan22_desktop.db.installed import installed_checkpoints
from wan22_desktop.errors import UserInputError
from wan22_desktop.request import VRAM_HEADROOM_MAX, GenerationRequest
from wan22_desktop.runtime.hardware import Hardware
from wan22_desktop.runtime.planner import (
    InstalledModel,
    JobShape,
    Plan,
    PlanError,
    PlanOverrides,
    plan,
)
from wan22_desktop.tasks import TASKS


def _switch(value: str) -> bool | None:
    return None if value == "auto" else value == "on"


def overrides_for(request: GenerationRequest) -> PlanOverrides:
    """The user's pinned decisions, from the request's memory switches and GPU count."""
    m, par = request.memory, request.parallel
    ulysses = par.ulysses_size if par.ulysses_size > 1 else None
    return PlanOverrides(
        gpus=request.gpus if request.gpus is not None else ulysses,
        offload_model=_switch(m.offload_model),
        convert_model_dtype=_switch(m.convert_model_dtype),
        t5_cpu=_switch(m.t5_cpu),
        ulysses_size=ulysses,
        # A switch left off is the planner's to decide (on for A14B across GPUs, as official).
        dit_fsdp=True if par.dit_fsdp else None,
        t5_fsdp=True if par.t5_fsdp else None,
        device=None if request.device == "auto" else request.device.split(":")[0],
        dtype=None if request.dtype == "auto" else request.dtype,
        attention=None if request.attention == "auto" else request.attention,
        vram_headroom=m.vram_headroom,
    )


HEADROOM_STEP = 20  # percent of the GPU one safer retry keeps free beyond the last
HEADROOM_CAP = VRAM_HEADROOM_MAX


class NoSaferPlan(UserInputError):
    """A retry after out-of-memory would run the same plan again: the message says why."""


def safer_request(request: GenerationRequest) -> GenerationRequest:
    """The same job planned with ``HEADROOM_STEP`` more percent of the GPU kept free (at most
    ``HEADROOM_CAP``). A memory switch pinned *off* goes back to auto, since it can keep the
    planner from a smaller placement (offload off rules out block streaming); pins that are on
    stay. Nothing is pinned on: every switch pinned on would also rule out the planner's
    faster placements that fit the smaller budget, and none makes the plan smaller than the
    planner's own choice for that budget."""
    m = request.memory
    free = {
        name: "auto"
        for name in ("offload_model", "convert_model_dtype", "t5_cpu")
        if getattr(m, name) == "off"
    }
    headroom = min(HEADROOM_CAP, m.vram_headroom + HEADROOM_STEP)
    return replace(request, memory=replace(m, vram_headroom=headroom, **free))


def lower_peak(new: Plan, old: Plan) -> bool:
    """Whether ``new``'s modelled GPU peak is strictly lower than ``old``'s: overall, or in one
    phase (sampling, decoding) with the other no higher."""
    if new.est_vram_gib < old.est_vram_gib:
        return True
    a = (new.est_vram_sampling_gib, new.est_vram_decode_gib)
    b = (old.est_vram_sampling_gib, old.est_vram_decode_gib)
    return a[0] <= b[0] and a[1] <= b[1] and a != b


def safer_retry(
    request: GenerationRequest,
    hardware: Hardware,
    installed: Mapping[str, InstalledModel],
    *,
    failed: Plan | None = None,
    gpu_mode: str = "auto",
) -> tuple[GenerationRequest, Plan]:
    """The request to queue after out-of-memory, with its plan: the headroom raised step by
    step until the planner's plan needs strictly less GPU memory than ``failed`` (the plan
    that ran out; default: the request's plan now). ``NoSaferPlan`` when the headroom is at
    its cap or no budget within it gives a smaller plan: the same plan would run again."""
    if failed is None:
        failed = plan_request(request, hardware, installed, gpu_mode=gpu_mode)
    if failed.device != "cuda":
        raise NoSaferPlan(
            "this job does not run on a GPU here, so keeping GPU memory free changes nothing",
            "if the computer ran out of memory, close other programs or choose a smaller size",
        )
    candidate = request
    while candidate.memory.vram_headroom < HEADROOM_CAP:
        candidate = safer_request(candidate)
        try:
            new = plan_request(candidate, hardware, installed, gpu_mode=gpu_mode)
        except PlanError:
            break  # a smaller budget has no plan at all: the failed one was the tightest
        if lower_peak(new, failed):
            return candidate, new
    kept = request.memory.vram_headroom
    why = (
        f"it already keeps {kept} % of the GPU free, the most the planner keeps"
        if kept >= HEADROOM_CAP
        else f"it already ran the tightest plan this GPU has (about {failed.est_vram_gib:.0f} GiB)"
    )
    raise NoSaferPlan(
        f"no safer plan to retry with: {why}",
        "choose a smaller size or fewer frames"
        + (", or TI2V-5B" if TASKS[failed.task].is_moe else "")
        + ", and close other programs that use the GPU",
    )


def oom_note(headroom: int) -> str:
    """The warning a job retried by the runner after out-of-memory carries into its history."""
    return f"ran out of GPU memory; retried with {headroom} % of the GPU kept free"


def job_shape(request: GenerationRequest) -> JobShape:
    return JobShape(
        request.task,
        request.width,
        request.height,
        request.frame_num,
        has_image=request.image is not None,
        steps=request.sample_steps,
    )


def installed_models(db: Database) -> dict[str, InstalledModel]:
    """Installed checkpoints by task, as the planner takes them."""
    return {
        task: InstalledModel(task=c.task, path=c.path, dit_bytes=c.size_bytes)
        for task, c in installed_checkpoints(db).items()
    }


def plan_request(
    request: GenerationRequest,
    hardware: Hardware,
    installed: Mapping[str, InstalledModel],
    *,
    gpu_mode: str = "auto",
) -> Plan:
    """The plan a job gets: the GUI's preview calls this with the same inputs as the runner
    (``QueueRunner.hardware()``, ``installed_models(db)``), so what is shown is what runs.
    ``gpu_mode`` is the runner's (``queue run --gpu-mode``): "latency" pins all GPUs."""
    if request.ckpt_dir:  # the request's own folder wins over the installed one
        own = InstalledModel(request.task, request.ckpt_dir, _weights_bytes(request.ckpt_dir))
        installed = {**installed, request.task: own}
    overrides = overrides_for(request)
    spread = latency_overrides(overrides, hardware) if gpu_mode == "latency" else overrides
    if spread == overrides:
        return plan(job_shape(request), hardware, installed, overrides)
    try:
        return plan(job_shape(request), hardware, installed, spread)
    except PlanError as exc:
        # Split over every GPU, each card would still need more memory than it has (a head count
        # that leaves some cards idle, or the VAE decode): the planner's own layout runs it.
        chosen = plan(job_shape(request), hardware, installed, overrides)
        why = (
            f"latency mode: all {spread.gpus} GPUs do not fit ({exc.message}); {chosen.nproc} used"
        )
        return replace(chosen, reasons={**chosen.reasons, "gpus": why})


GPU_MODES = ("auto", "throughput", "latency")


def latency_overrides(overrides: PlanOverrides, hardware: Hardware) -> PlanOverrides:
    """A latency runner (``--gpu-mode latency``) spreads every job over all of the machine's
    GPUs (Ulysses, with FSDP for A14B, as far as the head count allows: the planner rounds down
    to a size that divides it), unless the job itself pins a GPU count or the CPU."""
    pinned = overrides.gpus is not None or overrides.ulysses_size is not None
    if pinned or overrides.device == "cpu" or len(hardware.gpus) < 2:
        return overrides
    return replace(overrides, gpus=len(hardware.gpus))


def _weights_bytes(folder: str) -> int:
    """Bytes of the weight files in a folder (what the planner sizes memory and 'tiny' by)."""
    root = Path(folder)
    if not root.is_dir():
        return 0
    return sum(
        f.stat().st_size
        for f in root.rglob("*")
        if f.suffix in (".safetensors", ".pth") and f.is_file()
    )


def safer_for_job(
    request: GenerationRequest,
    plan_json: str | None,
    hardware: Hardware,
    installed: Mapping[str, InstalledModel],
) -> tuple[GenerationRequest, str]:
    """(the request to retry a job that ran out of memory with, what it changes), for
    ``wan22 queue retry-safer`` and the Queue view: checked against this machine's GPU when it
    has one (``NoSaferPlan`` when the same plan would run again), else the headroom raised one
    step, unchecked (the runner's machine plans it)."""
    failed = None
    try:
        failed = Plan.from_dict(json.loads(plan_json)) if plan_json else None
    except (ValueError, TypeError):
        failed = None
    if failed is not None and failed.device != "cuda":
        failed = None
    if hardware.gpus:
        try:
            safer, new = safer_retry(request, hardware, installed, failed=failed)
        except PlanError:  # NoSaferPlan is not one: it goes to the caller
            pass  # the job has no plan on this machine: the runner's machine decides
        else:
            before = f" instead of {failed.est_vram_gib:.0f}" if failed is not None else ""
            return safer, f"about {new.est_vram_gib:.0f} GiB of the GPU{before}"
    if request.memory.vram_headroom >= HEADROOM_CAP:
        raise NoSaferPlan(
            f"no safer plan to retry with: the job already keeps {HEADROOM_CAP} % of the GPU "
            "free, the most the planner keeps",
            "choose a smaller size or fewer frames, and close other programs that use the GPU",
        )
    return safer_request(request), "not checked: no CUDA GPU for this job on this machine"
