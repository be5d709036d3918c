"""``wan22 generate``: make one video in this process, with the official ``generate.py`` flags.

Same flag names, meanings and defaults as the official script, plus ``--negative_prompt``,
``--device`` and ``--dtype``; the flags are ``request_flags.py``'s, shared with ``wan22 queue
add``, and the request is checked by ``GenerationRequest.validate`` (the queue's rules). Without
``--ckpt_dir`` the installed model for the task is used, as the queue does. Deviations: ``--size`` defaults to the task's default (official
1280*720 is rejected for ti2v-5B), any size on the task's pixel grid is accepted (with a warning
when it is not an official one), and i2v-A14B needs ``--image`` (no bundled example image).
Multi-GPU: ``--ulysses_size N --dit_fsdp --t5_fsdp`` run under ``torchrun --nproc_per_node N``
(gloo on CPU, nccl on GPUs); every rank samples, rank 0 alone saves and prints.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from wan22_desktop.errors import CheckpointError, UserInputError
from wan22_desktop.request_flags import (
    OFFICIAL_ONLY_TASKS,
    add_request_flags,
    check_task_available,
    request_from_args,
)
from wan22_desktop.terminal_text import escape_control

if TYPE_CHECKING:
    from wan22_desktop.request import GenerationRequest

__all__ = ["OFFICIAL_ONLY_TASKS", "build_request", "check_request", "cmd_generate", "register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "generate",
        help="make a video from a prompt (and an image)",
        description="Generate a video like the official Wan2.2 generate.py. Without --ckpt_dir "
        "the installed model for the task is used.",
    )
    add_request_flags(p)  # the same flags as `wan22 queue add` (wan22_desktop/request_flags.py)
    p.set_defaults(func=cmd_generate)


def unavailable_features(args: argparse.Namespace) -> None:
    """Tasks this app does not run: refuse them instead of ignoring them."""
    if args.task is not None:
        check_task_available(args.task)


def resolve_device_dtype(device: str, dtype: str) -> tuple[Any, str]:
    """(torch device, dtype name) from ``--device``/``--dtype``; the dtype rule is the planner's
    (``planner.choose_dtype``: bf16 on GPUs, fp32 on the CPU), so the queue and the CLI agree."""
    import torch

    from wan22_desktop.runtime.planner import choose_dtype

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise UserInputError(f"unknown device {device!r}", "use cuda, cuda:N or cpu") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise UserInputError(
            "--device cuda was given but no CUDA GPU is available", "use --device cpu"
        )
    if dev.type not in ("cuda", "cpu"):
        raise UserInputError(
            f"device type {dev.type!r} is not supported", "use cuda, cuda:N or cpu"
        )
    return dev, choose_dtype(dev.type, dtype)[0]


def plan_from_flags(
    args: argparse.Namespace, request: Any, ckpt: Path, device: Any, dtype: str, world: int
) -> Any:
    """The typed ``Plan`` the flags pin (official semantics: offload by default on one process,
    not on several), with the planner's rules for what the flags leave open (precision,
    attention backend). The engine then does exactly what this plan says, as in the worker."""
    from wan22_desktop.runtime.hardware import Hardware
    from wan22_desktop.runtime.hardware_probe import probe
    from wan22_desktop.runtime.planner import Plan, choose_attention, choose_dtype

    offload = (world == 1) if args.offload_model is None else bool(args.offload_model)
    hw = probe() if device.type == "cuda" else Hardware()
    gpus: tuple[Any, ...] = ()
    if hw.gpus:
        index = device.index if device.index is not None else 0
        gpus = hw.gpus[index : index + 1]
    # A pinned backend that cannot run here is a PlanError (exit 2) naming those that can.
    attention, attention_why = choose_attention(hw, gpus, request.attention)
    return Plan(
        task=request.task,
        device=str(device),
        nproc=world,
        ulysses_size=args.ulysses_size,
        dit_fsdp=args.dit_fsdp,
        t5_fsdp=args.t5_fsdp,
        offload_model=offload,
        convert_model_dtype=args.convert_model_dtype,
        t5_cpu=args.t5_cpu,
        attention=attention,
        est_vram_gib=0.0,
        est_ram_gib=0.0,
        width=request.width,
        height=request.height,
        checkpoint=str(ckpt),
        reasons={
            "device": f"{device}: --device {args.device}",
            "precision": choose_dtype(device.type, args.dtype)[1],
            "attention": attention_why,
            "offload_model": f"{'on' if offload else 'off'}: "
            + ("set by you" if args.offload_model is not None else "official default"),
        },
        dtype=dtype,
    )


def build_request(args: argparse.Namespace) -> GenerationRequest:
    """The GenerationRequest the flags describe (official defaults filled in); the same
    builder as ``wan22 queue add``."""
    return request_from_args(args)


def check_request(request: GenerationRequest) -> list[str]:
    """The request's one rule set (``GenerationRequest.validate``); returns the warnings."""
    return request.validate()


def resolve_checkpoint(request: GenerationRequest, home: str | None) -> Path:
    """The checkpoint folder a request runs on: ``ckpt_dir`` when given (its layout checked),
    else the installed model for the task, as the queue does. ``CheckpointError`` when there is
    none, naming the commands that get one."""
    from wan22_desktop.model_layout import require_layout

    task = request.task
    get_it = f"wan22 models download {task}, or wan22 models import FOLDER"
    if request.ckpt_dir:
        ckpt = Path(request.ckpt_dir)
        if not ckpt.is_dir():
            raise CheckpointError(
                f"checkpoint folder not found: {ckpt}",
                f"download it with `wan22 models download {task}`, or point --ckpt_dir "
                "to a downloaded folder",
                field="ckpt_dir",
            )
    else:
        from wan22_desktop.commands.queue import app_database
        from wan22_desktop.db.installed import installed_checkpoints

        with app_database(home) as db:
            found = installed_checkpoints(db).get(task)
        if found is None:
            raise CheckpointError(
                f"the {task} model is not installed",
                f"get it with: {get_it} (or give --ckpt_dir)",
                field="ckpt_dir",
            )
        ckpt = Path(found.path)
    try:
        require_layout(ckpt, task)  # headers only: a bad folder fails before any heavy work
    except CheckpointError:
        raise
    except UserInputError as exc:
        raise CheckpointError(exc.message, exc.hint, field="ckpt_dir") from None
    return ckpt


def _request_into_args(args: argparse.Namespace, request: GenerationRequest) -> None:
    """Give the run below the request's values (flags left out are None in the shared parser),
    so ``generate`` runs exactly the request that ``queue add`` would store."""
    args.task = request.task
    args.ckpt_dir = request.ckpt_dir
    args.save_file = request.save_file
    args.device, args.dtype = request.device, request.dtype
    args.ulysses_size = request.parallel.ulysses_size
    args.dit_fsdp, args.t5_fsdp = request.parallel.dit_fsdp, request.parallel.t5_fsdp
    memory = request.memory
    args.offload_model = None if memory.offload_model == "auto" else memory.offload_model == "on"
    args.convert_model_dtype = memory.convert_model_dtype == "on"
    args.t5_cpu = memory.t5_cpu == "on"


def check_multi_process(args: argparse.Namespace, env: Any = None) -> int:
    """World size from torchrun's environment, checked against the multi-GPU flags (official
    asserts). ``--ulysses_size N`` in a plain process names the torchrun line to use."""
    from wan22_desktop.engine.wan.pipelines.distributed import check_parallel_plan

    env = os.environ if env is None else env
    try:
        world = int(env.get("WORLD_SIZE", "1"))
    except ValueError:
        world = 1
    ulysses = 1 if args.ulysses_size is None else args.ulysses_size  # None: not given
    dit_fsdp, t5_fsdp, t5_cpu = bool(args.dit_fsdp), bool(args.t5_fsdp), bool(args.t5_cpu)
    if world == 1 and ulysses > 1:
        n = ulysses
        raise UserInputError(
            f"--ulysses_size {n} needs {n} processes",
            f"run: torchrun --standalone --nproc_per_node {n} -m wan22_desktop.cli "
            f"generate ... (the same flags)",
        )
    check_parallel_plan(ulysses, dit_fsdp, t5_fsdp, t5_cpu, world)
    return world


def cmd_generate(args: argparse.Namespace) -> int:
    unavailable_features(args)
    request = build_request(args)
    warnings = check_request(request)  # the same rules as `queue add`, before anything heavy
    _request_into_args(args, request)
    world = check_multi_process(args)
    ckpt = resolve_checkpoint(request, args.home)
    for warning in warnings:
        print(f"warning: {escape_control(warning)}", file=sys.stderr)
    output = Path(args.save_file) if args.save_file else _default_output(args, request)

    from wan22_desktop.engine.wan import parallel
    from wan22_desktop.engine.wan.pipelines import PhaseClock, run_job

    device, dtype = resolve_device_dtype(args.device, args.dtype)
    ctx = parallel.DistContext(0, 1, 0, device, None)
    if world > 1:  # under torchrun: nccl on GPUs (one per rank), gloo on the CPU
        ctx = parallel.init_distributed("nccl" if device.type == "cuda" else "gloo")
        device = ctx.device
    try:
        plan = plan_from_flags(args, request, ckpt, device, dtype, ctx.world_size)
        main_rank = ctx.rank == 0
        progress = Progress(sys.stderr if main_rank else io.StringIO())
        # The worker's path: extend the prompt, load, encode, sample, decode, save.
        result = run_job(
            request,
            plan,
            ckpt,
            output,
            clock=PhaseClock(progress.phase),
            on_step=progress.step,
        )
        progress.close()
        parallel.barrier()  # every rank stays in the group until rank 0 has saved
    finally:
        parallel.shutdown_distributed()
    if not main_rank:
        return 0
    if result.prompt_extension_warning:
        print(
            f"warning: prompt extension failed, used the original prompt: "
            f"{result.prompt_extension_warning}",
            file=sys.stderr,
        )
    for note in result.notes:  # e.g. an attention kernel that failed and was replaced by SDPA
        print(f"warning: {note}", file=sys.stderr)
    if args.json:
        print(json.dumps(result.summary(), ensure_ascii=False))
    else:
        times = ", ".join(f"{k} {v:.1f}s" for k, v in result.timings.items())
        print(f"saved {result.outputs[0]}")
        print(
            f"seed {result.seed}, {result.size[0]}x{result.size[1]}, {result.frame_num} frames; {times}"
        )
    return 0


def _default_output(args: argparse.Namespace, request: Any) -> Path:
    from wan22_desktop.engine.wan.pipelines import default_output_name
    from wan22_desktop.paths import app_paths

    name = default_output_name(
        request.task, request.size, request.prompt, ulysses_size=args.ulysses_size
    )
    return app_paths(args.home).outputs / name


class Progress:
    """One status line on stderr: phase, step i/n, it/s and ETA (redrawn in place on a terminal)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty() and os.environ.get("TERM") != "dumb"
        self.started = time.perf_counter()
        self._open = False

    def phase(self, name: str) -> None:
        self._end_line()
        self.started = time.perf_counter()
        print(f"[{name.replace('_', ' ')}]", file=self.stream, flush=True)

    def step(self, info: Any) -> None:
        elapsed = time.perf_counter() - self.started
        rate = info.step / elapsed if elapsed > 0 else 0.0
        eta = (info.total - info.step) / rate if rate > 0 else 0.0
        width = 24
        done = int(width * info.step / info.total)
        line = (
            f"sampling {info.step}/{info.total} [{'#' * done}{'.' * (width - done)}] "
            f"{rate:.2f} it/s ETA {_clock(eta)} t={info.timestep} {info.expert}"
        )
        if self.tty:
            self.stream.write("\r" + line)
            self._open = True
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        self._end_line()

    def _end_line(self) -> None:
        if self._open:
            self.stream.write("\n")
            self._open = False


def _clock(seconds: float) -> str:
    s = int(round(seconds))
    return (
        f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"
    )
