"""``wan22 generate``: make one video in this process, with the official ``generate.py`` flags.

Same flag names, meanings and defaults as the official script, plus ``--negative_prompt``,
``--device`` and ``--dtype``. Deviations: ``--size`` defaults to the task's default (official
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
from typing import Any, TextIO

from wan22_desktop.commands.prompt import add_prompt_extend_flags, prompt_extend_fields
from wan22_desktop.errors import UserInputError
from wan22_desktop.tasks import TASKS, get_task, parse_size

OFFICIAL_ONLY_TASKS = ("animate-14B", "s2v-14B")
DTYPES = ("auto", "bf16", "fp16", "fp32")


def _str2bool(value: str) -> bool:
    """The official ``str2bool``: yes/true/t/y/1 and no/false/f/n/0."""
    v = value.strip().lower()
    if v in ("yes", "true", "t", "y", "1"):
        return True
    if v in ("no", "false", "f", "n", "0"):
        return False
    raise argparse.ArgumentTypeError(f"boolean value expected, got {value!r}")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "generate",
        help="make a video from a prompt (and an image)",
        description="Generate a video like the official Wan2.2 generate.py.",
    )
    p.add_argument(
        "--task",
        default="t2v-A14B",
        choices=(*TASKS, *OFFICIAL_ONLY_TASKS),
        help="the task to run (default: t2v-A14B)",
    )
    p.add_argument(
        "--size",
        default=None,
        help="W*H; t2v uses it as the size, i2v/ti2v with an image use its area "
        "(default: the task's, 1280*720 or 1280*704)",
    )
    p.add_argument(
        "--frame_num", type=int, default=None, help="frames, 4n+1 (default: 81, or 121 for ti2v-5B)"
    )
    p.add_argument("--ckpt_dir", default=None, help="the checkpoint folder")
    p.add_argument(
        "--offload_model",
        type=_str2bool,
        default=None,
        help="offload models to the CPU between uses (default: True on one GPU)",
    )
    p.add_argument("--ulysses_size", type=int, default=1, help="sequence-parallel size (multi-GPU)")
    p.add_argument("--t5_fsdp", action="store_true", help="shard T5 with FSDP (multi-GPU)")
    p.add_argument("--t5_cpu", action="store_true", help="keep the T5 text encoder on the CPU")
    p.add_argument("--dit_fsdp", action="store_true", help="shard the DiT with FSDP (multi-GPU)")
    p.add_argument(
        "--save_file",
        default=None,
        help="output: .mp4, .npy (raw float video) or a folder name (PNG frames); "
        "default: an official-style name in the app's outputs folder",
    )
    p.add_argument("--prompt", default=None, help="the prompt (default: the task's example)")
    add_prompt_extend_flags(p)
    p.add_argument("--base_seed", type=int, default=-1, help="seed (default -1: random)")
    p.add_argument(
        "--image", default=None, help="start image (i2v-A14B: required; ti2v-5B: optional)"
    )
    p.add_argument("--sample_solver", default="unipc", choices=("unipc", "dpm++"))
    p.add_argument(
        "--sample_steps", type=int, default=None, help="steps (default: 40, or 50 for ti2v)"
    )
    p.add_argument("--sample_shift", type=float, default=None, help="noise schedule shift")
    p.add_argument(
        "--sample_guide_scale",
        default=None,
        help="guidance for every expert, or low,high for the A14B experts "
        "(default: the task's, e.g. 3.0,4.0 for t2v-A14B)",
    )
    p.add_argument(
        "--convert_model_dtype",
        action="store_true",
        help="cast the DiT weights to the compute dtype (bf16)",
    )
    p.add_argument(
        "--negative_prompt", default=None, help="negative prompt (default: the official one)"
    )
    p.add_argument(
        "--device", default="auto", help="cuda, cuda:N or cpu (default: cuda if present)"
    )
    p.add_argument(
        "--dtype",
        default="auto",
        choices=DTYPES,
        help="compute precision (default: bf16 on a GPU, fp32 on the CPU)",
    )
    p.set_defaults(func=cmd_generate)


def unavailable_features(args: argparse.Namespace) -> None:
    """Tasks this app does not run: refuse them instead of ignoring them."""
    if args.task in OFFICIAL_ONLY_TASKS:
        raise UserInputError(
            f"task {args.task} is not available in Wan22 Desktop",
            "use t2v-A14B, i2v-A14B or ti2v-5B",
        )


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
    args: argparse.Namespace, request: Any, device: Any, dtype: str, world: int
) -> Any:
    """The typed ``Plan`` the flags pin (official semantics: offload by default on one process,
    not on several), with the planner's rules for what the flags leave open (precision,
    attention backend). The engine then does exactly what this plan says, as in the worker."""
    from wan22_desktop.runtime.hardware_probe import probe
    from wan22_desktop.runtime.planner import Plan, choose_attention, choose_dtype

    offload = (world == 1) if args.offload_model is None else bool(args.offload_model)
    hw = probe() if device.type == "cuda" else None
    if hw is not None and hw.gpus:
        index = device.index if device.index is not None else 0
        attention, attention_why = choose_attention(hw, hw.gpus[index : index + 1])
    else:
        attention, attention_why = "sdpa", "no CUDA GPU: PyTorch SDPA"
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
        checkpoint=str(args.ckpt_dir),
        reasons={
            "device": f"{device}: --device {args.device}",
            "precision": choose_dtype(device.type, args.dtype)[1],
            "attention": attention_why,
            "offload_model": f"{'on' if offload else 'off'}: "
            + ("set by you" if args.offload_model is not None else "official default"),
        },
        dtype=dtype,
    )


def build_request(args: argparse.Namespace) -> Any:
    """The GenerationRequest the flags describe (official defaults filled in)."""
    from wan22_desktop.request import GenerationRequest, Guidance

    spec = get_task(args.task)
    size = args.size or spec.default_size
    w, h = parse_size(size)
    fields: dict[str, Any] = dict(
        prompt=spec.example_prompt if args.prompt is None else args.prompt,
        negative_prompt=args.negative_prompt or None,
        image=args.image,
        size=f"{w}*{h}",
        solver=args.sample_solver,
        seed=args.base_seed,
        prompt_extend=prompt_extend_fields(args),
    )
    for name, value in (
        ("frame_num", args.frame_num),
        ("sample_steps", args.sample_steps),
        ("sample_shift", args.sample_shift),
        (
            "guidance",
            None if args.sample_guide_scale is None else Guidance.parse(args.sample_guide_scale),
        ),
    ):
        if value is not None:
            fields[name] = value
    return GenerationRequest.for_task(spec.name, **fields)


def check_request(request: Any) -> list[str]:
    """Input checks that need no model: the pipeline repeats the model-dependent ones."""
    from wan22_desktop.engine.wan.image_prep import load_image
    from wan22_desktop.engine.wan.pipelines.pipeline import check_frame_num, check_size

    spec = request.spec
    warnings: list[str] = []
    check_frame_num(request.frame_num)
    if request.sample_steps < 1:
        raise UserInputError(f"--sample_steps {request.sample_steps} must be at least 1")
    if not request.sample_shift > 0:
        raise UserInputError(f"--sample_shift {request.sample_shift} must be positive")
    if request.image is not None:
        if spec.image.value == "refused":
            raise UserInputError(
                f"{spec.name} does not take an image",
                "use i2v-A14B or ti2v-5B to start from an image, or drop --image",
            )
        load_image(request.image)
    elif spec.image.value == "required":
        raise UserInputError(f"{spec.name} needs a start image", "give one with --image PATH")
    if request.image is None:
        check_size(spec, request.width, request.height)
    if request.size not in spec.supported_sizes:
        warnings.append(
            f"size {request.size} is not an official {spec.name} size "
            f"({', '.join(spec.supported_sizes)})"
        )
    if not request.prompt.strip() and not request.prompt_extend.enabled and request.image is None:
        raise UserInputError("the prompt is empty", "describe the video with --prompt")
    return warnings


def check_multi_process(args: argparse.Namespace, env: Any = None) -> int:
    """World size from torchrun's environment, checked against the multi-GPU flags (official
    asserts). ``--ulysses_size N`` in a plain process names the torchrun line to use."""
    from wan22_desktop.engine.wan.pipelines.distributed import check_parallel_plan

    env = os.environ if env is None else env
    try:
        world = int(env.get("WORLD_SIZE", "1"))
    except ValueError:
        world = 1
    if world == 1 and args.ulysses_size > 1:
        n = args.ulysses_size
        raise UserInputError(
            f"--ulysses_size {n} needs {n} processes",
            f"run: torchrun --standalone --nproc_per_node {n} -m wan22_desktop.cli "
            f"generate ... (the same flags)",
        )
    check_parallel_plan(args.ulysses_size, args.dit_fsdp, args.t5_fsdp, args.t5_cpu, world)
    return world


def cmd_generate(args: argparse.Namespace) -> int:
    unavailable_features(args)
    world = check_multi_process(args)
    if not args.ckpt_dir:
        raise UserInputError("--ckpt_dir is required", "point it to a downloaded checkpoint folder")
    ckpt = Path(args.ckpt_dir)
    if not ckpt.is_dir():
        raise UserInputError(
            f"checkpoint folder not found: {ckpt}",
            f"download it with `wan22 models download {args.task}`",
        )
    from wan22_desktop.model_layout import require_layout

    require_layout(ckpt, args.task)  # headers only: a bad folder fails before any heavy work
    request = build_request(args)
    for warning in check_request(request):
        print(f"warning: {warning}", file=sys.stderr)
    output = Path(args.save_file) if args.save_file else _default_output(args, request)

    from wan22_desktop.engine.wan import parallel
    from wan22_desktop.engine.wan.pipelines import PhaseClock, run_job

    device, dtype = resolve_device_dtype(args.device, args.dtype)
    ctx = parallel.DistContext(0, 1, 0, device, None)
    if world > 1:  # under torchrun: nccl on GPUs (one per rank), gloo on the CPU
        ctx = parallel.init_distributed("nccl" if device.type == "cuda" else "gloo")
        device = ctx.device
    try:
        plan = plan_from_flags(args, request, device, dtype, ctx.world_size)
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
