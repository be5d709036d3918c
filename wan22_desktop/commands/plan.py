"""``wan22 plan``: will this job fit, and how? The plan, before anyone downloads 126 GB.

Takes the same request flags as ``wan22 generate`` (``request_flags.py``) and prints what the
planner would do with it: the model, GPUs, placement, streaming, FP8, the VAE, VRAM while
sampling and decoding, RAM, and a reason for each decision. The machine is this one (probed in a
subprocess: the CLI never imports torch) or a described one: ``--gpus 1x24`` (one 24 GB card),
``--gpus 8x80``, ``--ram 64``. A job that fits nowhere is refused with the figure and the
smallest card that fits (exit 2, like any bad input).
"""

from __future__ import annotations

import argparse
import json
import re
from typing import Any

from wan22_desktop.errors import UserInputError
from wan22_desktop.request_flags import add_request_flags, request_from_args
from wan22_desktop.runtime.hardware import GPU, Hardware
from wan22_desktop.runtime.plan_view import plan_fields
from wan22_desktop.runtime.planner import Plan, card_gib

_GPUS = re.compile(r"^\s*(\d+)\s*[xX*]\s*(\d+(?:\.\d+)?)\s*$")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "plan",
        help="will a job fit this machine (or a described one), and how",
        description="Print the plan for a request: model, placement, streaming, FP8, VRAM and "
        "RAM estimates and the reason for each choice. Takes the flags of `wan22 generate`.",
    )
    add_request_flags(p)
    p.add_argument(
        "--gpus",
        dest="describe_gpus",
        metavar="NxGB",
        help="plan for N cards of GB each instead of this machine's (e.g. 1x24, 8x80)",
    )
    p.add_argument(
        "--ram", dest="describe_ram", type=float, metavar="GIB", help="system RAM to plan for"
    )
    p.set_defaults(func=cmd_plan)


def described_hardware(gpus: str | None, ram: float | None, probed: Hardware | None) -> Hardware:
    """``--gpus NxGB`` / ``--ram GIB`` over the probed machine (or a bare one)."""
    base = probed or Hardware()
    cards = base.gpus
    flash = base.flash_attn
    if gpus is not None:
        m = _GPUS.match(gpus)
        if not m or int(m.group(1)) < 1 or float(m.group(2)) <= 0:
            raise UserInputError(
                f"--gpus {gpus!r} is not NxGB", "write the count and size, e.g. --gpus 1x24"
            )
        n, size = int(m.group(1)), float(m.group(2))
        gib = card_gib(size)
        cards = tuple(GPU(i, f"{size:g} GB card", gib, gib, (8, 9)) for i in range(n))
        flash = flash or "fa2"
    if ram is not None and ram <= 0:
        raise UserInputError(f"--ram {ram:g} must be positive", "give the RAM in GiB, e.g. 64")
    ram_total = ram if ram is not None else base.ram_total_gib
    ram_free = ram if ram is not None else base.ram_available_gib
    return Hardware(
        gpus=cards,
        ram_total_gib=ram_total,
        ram_available_gib=ram_free,
        cpu_count=base.cpu_count,
        flash_attn=flash,
        error=None if gpus is not None else base.error,
    )


def format_plan(p: Plan) -> str:
    f = plan_fields(p)
    lines = [
        f"task:       {f['task']} {f['size']}",
        f"placement:  {f['placement']}",
        f"weights:    {'bf16' if p.convert_model_dtype else 'fp32'}"
        + (" with FP8 DiT linears" if p.fp8 else "")
        + f"; compute {p.dtype}; attention {p.attention}",
        f"VAE:        {p.vae_dtype}, "
        + (f"tiles of {p.vae_tile} latent px" if p.vae_tile else "untiled")
        + (", off the GPU while sampling" if p.vae_offload else ""),
        f"VRAM:       about {p.est_vram_sampling_gib:.1f} GiB sampling, "
        f"{p.est_vram_decode_gib:.1f} GiB decoding (per GPU, peak {p.est_vram_gib:.1f})",
        f"RAM:        about {p.est_ram_gib:.0f} GiB",
        "why:",
    ]
    lines += [f"  {k}: {v}" for k, v in p.reasons.items()]
    lines += [f"warning: {w}" for w in p.warnings]
    return "\n".join(lines)


def cmd_plan(args: argparse.Namespace) -> int:
    from wan22_desktop.paths import app_paths
    from wan22_desktop.runtime.planning import installed_models, plan_request

    request = request_from_args(args)
    for warning in request.validate():
        if not args.json:
            print(f"warning: {warning}")
    probed = None
    if args.describe_gpus is None or args.describe_ram is None:
        from wan22_desktop.runtime.hardware import probe_in_subprocess

        probed = probe_in_subprocess()
    hw = described_hardware(args.describe_gpus, args.describe_ram, probed)
    installed: dict[str, Any] = {}
    try:
        from wan22_desktop.db.database import open_app_database

        paths = app_paths(getattr(args, "home", None))
        if paths.database.exists():
            with open_app_database(paths) as db:
                installed = installed_models(db)
    except Exception:  # noqa: BLE001 - the plan does not need the library to be readable
        installed = {}
    p = plan_request(request, hw, installed)
    if args.json:
        print(json.dumps(plan_fields(p)))
    else:
        print(format_plan(p))
    return 0
