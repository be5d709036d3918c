"""``wan22 dev``: developer tools (tiny checkpoints for trying the app and its tests without GPUs)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from wan22_desktop.tasks import TASKS


def cmd_make_tiny_checkpoint(args: argparse.Namespace) -> int:
    from wan22_desktop.engine.wan.tiny import make_tiny_checkpoint  # torch: only when run
    from wan22_desktop.model_layout import require_layout

    root = make_tiny_checkpoint(args.task, Path(args.out), seed=args.seed)
    report = require_layout(root, args.task)
    if args.json:
        print(
            json.dumps(
                {
                    "path": str(root.resolve()),
                    "task": args.task,
                    "seed": args.seed,
                    "files": list(report.files),
                    "bytes": report.total_bytes,
                }
            )
        )
    else:
        print(
            f"wrote a tiny {args.task} checkpoint ({len(report.files)} files, "
            f"{report.total_bytes / 1e6:.1f} MB, random weights) to {root.resolve()}"
        )
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("dev", help="developer tools")
    sub = p.add_subparsers(dest="dev_command", metavar="ACTION", required=True)
    t = sub.add_parser(
        "make-tiny-checkpoint",
        help="write a tiny random-weight checkpoint in the official folder layout",
    )
    t.add_argument("--task", required=True, choices=tuple(TASKS))
    t.add_argument("--out", required=True, help="folder to create (must be new or empty)")
    t.add_argument("--seed", type=int, default=0, help="weights seed (default 0)")
    t.set_defaults(func=cmd_make_tiny_checkpoint)
