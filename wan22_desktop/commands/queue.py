"""``wan22 queue``: add, list, move, cancel, retry, pause, resume, rm and edit queued jobs.

``queue add`` and ``queue edit`` take the official ``generate.py`` flag names.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from wan22_desktop.db import queue as q
from wan22_desktop.db.database import Database, open_app_database
from wan22_desktop.db.models import JOB_STATUSES, Job
from wan22_desktop.db.views import job_seed, job_to_dict
from wan22_desktop.errors import UserInputError
from wan22_desktop.paths import app_paths
from wan22_desktop.request import GenerationRequest, Guidance, MemoryOptions


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("queue", help="the job queue", description=__doc__)
    sub = p.add_subparsers(dest="queue_command", metavar="ACTION", required=True)

    add = sub.add_parser("add", help="queue a generation (official generate.py flags)")
    add_request_flags(add, required_task=True)
    add.add_argument(
        "--count",
        type=int,
        default=1,
        help="queue N seed variations (seed, seed+1, ...; random if the seed is -1)",
    )
    add.add_argument(
        "--random_seeds", action="store_true", help="give each variation a random seed"
    )
    add.add_argument("--now", action="store_true", help="put it in the front lane, before others")
    add.set_defaults(func=cmd_add)

    ls = sub.add_parser("list", help="list jobs (queued and running; --all for finished too)")
    ls.add_argument("--all", action="store_true", help="include finished jobs")
    ls.add_argument("--status", choices=JOB_STATUSES, action="append", help="only these statuses")
    ls.add_argument("--limit", type=int, default=None)
    ls.set_defaults(func=cmd_list)

    show = sub.add_parser("show", help="one job in full")
    show.add_argument("id", type=int)
    show.set_defaults(func=cmd_show)

    mv = sub.add_parser("move", help="reorder a queued job")
    mv.add_argument("id", type=int)
    mv.add_argument("to", help="up, down, top, bottom, or a 1-based position in its lane")
    mv.set_defaults(func=cmd_move)

    for name, func, help_ in (
        ("cancel", cmd_cancel, "cancel jobs (a running one stops at its next step)"),
        ("retry", cmd_retry, "queue failed/cancelled/interrupted jobs again"),
        ("rm", cmd_rm, "remove jobs that are not running"),
    ):
        sp = sub.add_parser(name, help=help_)
        sp.add_argument("ids", type=int, nargs="+", metavar="ID")
        sp.set_defaults(func=func)

    sub.add_parser("pause", help="stop starting new jobs").set_defaults(func=cmd_pause)
    sub.add_parser("resume", help="start jobs again").set_defaults(func=cmd_resume)

    ed = sub.add_parser("edit", help="change a queued job's settings")
    ed.add_argument("id", type=int)
    add_request_flags(ed, required_task=False)
    ed.set_defaults(func=cmd_edit)


# ---- request flags (official generate.py names)


def add_request_flags(p: argparse.ArgumentParser, *, required_task: bool) -> None:
    p.add_argument("--task", required=required_task, help="t2v-A14B, i2v-A14B or ti2v-5B")
    p.add_argument("--prompt")
    p.add_argument("--negative_prompt")
    p.add_argument("--image", help="start image (i2v, ti2v)")
    p.add_argument("--size", help='"W*H", e.g. 1280*704')
    p.add_argument("--frame_num", type=int, help="frames, 4n+1")
    p.add_argument("--base_seed", type=int, help="seed; -1 picks a random one")
    p.add_argument("--sample_steps", type=int)
    p.add_argument("--sample_shift", type=float)
    p.add_argument("--sample_guide_scale", help="one number, or low,high for the A14B experts")
    p.add_argument("--sample_solver", choices=("unipc", "dpm++"))
    p.add_argument("--offload_model", type=_bool, metavar="true|false")
    p.add_argument("--convert_model_dtype", action="store_true", default=None)
    p.add_argument("--t5_cpu", action="store_true", default=None)


def _bool(value: str) -> bool:
    v = value.strip().lower()
    if v in ("1", "true", "yes", "on"):
        return True
    if v in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {value!r}")


def request_changes(args: argparse.Namespace, base: MemoryOptions | None = None) -> dict[str, Any]:
    """The request fields set on the command line, as ``GenerationRequest`` field names."""
    out: dict[str, Any] = {}
    for flag, name in (
        ("prompt", "prompt"),
        ("negative_prompt", "negative_prompt"),
        ("image", "image"),
        ("size", "size"),
        ("frame_num", "frame_num"),
        ("base_seed", "seed"),
        ("sample_steps", "sample_steps"),
        ("sample_shift", "sample_shift"),
        ("sample_solver", "solver"),
    ):
        if getattr(args, flag) is not None:
            out[name] = getattr(args, flag)
    if out.get("image"):
        # The runner may have another working directory: store where the file really is.
        out["image"] = str(Path(out["image"]).expanduser().resolve())
    if args.sample_guide_scale is not None:
        out["guidance"] = Guidance.parse(args.sample_guide_scale)
    memory: dict[str, str] = {}
    if args.offload_model is not None:
        memory["offload_model"] = "on" if args.offload_model else "off"
    if args.convert_model_dtype:
        memory["convert_model_dtype"] = "on"
    if args.t5_cpu:
        memory["t5_cpu"] = "on"
    if memory:
        out["memory"] = replace(base or MemoryOptions(), **memory)
    return out


# ---- commands


def _db(args: argparse.Namespace) -> Database:
    return open_app_database(app_paths(args.home))


def cmd_add(args: argparse.Namespace) -> int:
    changes = request_changes(args)
    try:
        request = GenerationRequest.for_task(args.task, **changes)
    except TypeError as exc:  # pragma: no cover - flags map to known fields
        raise UserInputError(str(exc), "check the flags") from None
    with _db(args) as db:
        jobs = q.enqueue(
            db,
            request,
            count=args.count,
            lane="now" if args.now else "normal",
            random_seeds=args.random_seeds,
        )
    _print_jobs(args, jobs, title=f"queued {len(jobs)} job(s)")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    statuses = args.status or (None if args.all else ["running", "queued"])
    with _db(args) as db:
        jobs = q.list_jobs(db, statuses=statuses, limit=args.limit)
        paused = q.is_paused(db)
    if args.json:
        print(
            json.dumps(
                {"paused": paused, "jobs": [job_to_dict(j) for j in jobs]},
                ensure_ascii=False,
                indent=2,
            )
        )
        return 0
    _print_jobs(args, jobs, title="queue (paused)" if paused else "queue")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    with _db(args) as db:
        job = q.get_job(db, args.id)
    print(json.dumps(job_to_dict(job), ensure_ascii=False, indent=2))
    return 0


def cmd_move(args: argparse.Namespace) -> int:
    to: q.MoveTo
    if args.to in ("up", "down", "top", "bottom"):
        to = args.to
    elif args.to.isdigit() and int(args.to) >= 1:
        to = int(args.to)
    else:
        raise UserInputError(
            f"cannot move to {args.to!r}", "use up, down, top, bottom or a position (1, 2, ...)"
        )
    with _db(args) as db:
        q.move_job(db, args.id, to)
        jobs = q.list_jobs(db, statuses=["running", "queued"])
    _print_jobs(args, jobs, title="queue")
    return 0


def _each(args: argparse.Namespace, op: Any, verb: str) -> int:
    with _db(args) as db:
        jobs = [op(db, i) for i in args.ids]
    _print_jobs(args, jobs, title=verb)
    return 0


def cmd_cancel(args: argparse.Namespace) -> int:
    return _each(args, q.cancel_job, "cancelled (running jobs stop at their next step)")


def cmd_retry(args: argparse.Namespace) -> int:
    return _each(args, q.retry_job, "queued again")


def cmd_rm(args: argparse.Namespace) -> int:
    with _db(args) as db:
        for i in args.ids:
            q.delete_job(db, i)
    _say(args, {"removed": args.ids}, f"removed job(s) {', '.join(map(str, args.ids))}")
    return 0


def cmd_pause(args: argparse.Namespace) -> int:
    with _db(args) as db:
        q.set_paused(db, True)
    _say(args, {"paused": True}, "queue paused: running jobs finish, no new job starts")
    return 0


def cmd_resume(args: argparse.Namespace) -> int:
    with _db(args) as db:
        q.set_paused(db, False)
    _say(args, {"paused": False}, "queue resumed")
    return 0


def cmd_edit(args: argparse.Namespace) -> int:
    with _db(args) as db:
        old = GenerationRequest.from_json(q.get_job(db, args.id).request_json)
        changes = request_changes(args, base=old.memory)
        if args.task is not None:
            changes["task"] = args.task
        if not changes:
            raise UserInputError(
                "nothing to change", "give at least one flag, e.g. --prompt or --size"
            )
        job = q.edit_job(db, args.id, **changes)
    _print_jobs(args, [job], title="edited")
    return 0


# ---- output


def _say(args: argparse.Namespace, data: dict[str, Any], text: str) -> None:
    print(json.dumps(data, ensure_ascii=False) if args.json else text)


def _progress(job: Job) -> str:
    if job.status != "running":
        return ""
    if job.progress_total:
        eta = f" eta {job.progress_eta_s:.0f}s" if job.progress_eta_s is not None else ""
        return (
            f"{job.progress_phase or ''} {job.progress_step or 0}/{job.progress_total}{eta}".strip()
        )
    return job.progress_phase or "starting"


def _print_jobs(args: argparse.Namespace, jobs: list[Job], *, title: str) -> None:
    if args.json:
        print(json.dumps([job_to_dict(j) for j in jobs], ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for col in ("id", "status", "lane", "task", "seed", "progress", "prompt"):
        table.add_column(col, overflow="fold", no_wrap=col in ("id", "seed"))
    for j in jobs:
        status = j.status + (
            " (cancelling)" if j.cancel_requested and j.status == "running" else ""
        )
        detail = j.error_message if j.status == "failed" else (j.prompt or "")
        table.add_row(
            str(j.id),
            status,
            j.lane,
            j.task,
            str(job_seed(j)),
            _progress(j),
            (detail[:60] + "…") if len(detail) > 61 else detail,
        )
    if not jobs:
        table.caption = "no jobs"
    Console().print(table)
