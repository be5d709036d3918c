"""wan22 prompt extend "..." [--image PATH]: preview what prompt extension makes of a prompt.

Same code path as a job's extension step, so what you see is what a job would get with the same
method, model, language and seed. Exit code 1 when extension fails (the reason and a hint are
printed; with ``--json`` a result with ``"ok": false`` and the warning).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from wan22_desktop.errors import UserInputError
from wan22_desktop.request_flags import add_prompt_extend_flags, prompt_extend_fields

__all__ = ["add_prompt_extend_flags", "cmd_extend", "prompt_extend_fields", "register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    prompt = subparsers.add_parser("prompt", help="prompt tools (extension preview)")
    sub = prompt.add_subparsers(dest="prompt_command", metavar="ACTION", required=True)
    ext = sub.add_parser("extend", help="extend a prompt with DashScope or a local Qwen model")
    ext.add_argument(
        "text",
        nargs="?",
        default="",
        help="the prompt (may be empty with --image: the vision model writes one)",
    )
    ext.add_argument("--image", type=Path, help="first-frame image (uses the vision model)")
    ext.add_argument(
        "--method",
        choices=("dashscope", "local_qwen"),
        default="local_qwen",
        help="where the extension runs (default: local_qwen, as official)",
    )
    ext.add_argument("--model", help="model name, alias (e.g. Qwen2.5_7B) or local folder")
    ext.add_argument(
        "--lang",
        choices=("zh", "en"),
        default="zh",
        help="language of the extended prompt (default: zh, as official)",
    )
    ext.add_argument("--seed", type=int, default=-1, help="seed (default: random)")
    ext.add_argument("--device", default="cpu", help="device for local_qwen: cpu or cuda[:N]")
    ext.add_argument(
        "--timeout", type=float, default=60.0, help="seconds to wait for each DashScope request"
    )
    ext.add_argument(
        "--max-new-tokens",
        type=int,
        default=512,
        help="longest extension local_qwen may write, in tokens (default: 512)",
    )
    ext.set_defaults(func=cmd_extend)


def cmd_extend(args: argparse.Namespace) -> int:
    from wan22_desktop.engine.prompt_extend import extend_prompt

    if args.image is not None and not args.image.is_file():
        raise UserInputError(f"image not found: {args.image}", "check the path")
    if args.max_new_tokens < 1:
        raise UserInputError("--max-new-tokens must be at least 1")
    # Text output: a failure is an error with its reason and hint. JSON: a result with ok=false.
    result = extend_prompt(
        args.text,
        method=args.method,
        target_lang=args.lang,
        image=args.image,
        model=args.model,
        seed=args.seed,
        device=args.device,
        timeout=args.timeout,
        max_new_tokens=args.max_new_tokens,
        required=not args.json,
    )
    if args.json:
        print(
            json.dumps(
                {
                    "ok": result.ok,
                    "prompt": result.prompt,
                    "original": result.original,
                    "method": result.method,
                    "model": result.model,
                    "warning": result.warning,
                    "seconds": round(result.seconds, 3),
                    "seed": result.seed,
                },
                ensure_ascii=False,
            )
        )
    else:
        print(result.prompt)
    return 0 if result.ok else 1
