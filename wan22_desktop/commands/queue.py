"""wan22 queue: add, list, move, cancel, retry, pause, resume, rm and edit queued jobs.

queue add takes every flag of wan22 generate (the official generate.py names, one parser:
wan22_desktop/request_flags.py); queue edit takes the same flags to change a queued job.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import socket
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

from wan22_desktop.db import queue as q
from wan22_desktop.db.database import Database, open_app_database
from wan22_desktop.db.models import JOB_STATUSES, Job
from wan22_desktop.db.views import job_seed, job_to_dict
from wan22_desktop.errors import UserInputError
from wan22_desktop.paths import app_paths
from wan22_desktop.request import GenerationRequest, check_writable_folder
from wan22_desktop.request_flags import (
    RECORD_ID,
    add_request_flags,
    bounded,
    check_task_available,
    request_changes,
    request_from_args,
    text,
)
from wan22_desktop.services import queue_eta
from wan22_desktop.terminal_text import escape_control

R = TypeVar("R")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("queue", help="the job queue", description=__doc__)
    sub = p.add_subparsers(dest="queue_command", metavar="ACTION", required=True)

    add = sub.add_parser(
        "add",
        help="queue a generation (the flags of wan22 generate)",
        description="Queue a generation. Takes every flag of wan22 generate; without --ckpt_dir "
        "the job runs on the installed model for the task.",
    )
    add_request_flags(add)
    add.add_argument(
        "--from",
        dest="from_file",
        type=text,
        metavar="VIDEO",
        help="start from the settings inside a video or image (ours, Wan2GP's or ComfyUI's); "
        "the other flags given override them",
    )
    add.add_argument(
        "--count",
        type=bounded(1, q.MAX_BATCH, "a count"),
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
    ls.add_argument("--limit", type=bounded(1, 2**31, "a limit"), default=None)
    ls.set_defaults(func=cmd_list)

    show = sub.add_parser("show", help="one job in full")
    show.add_argument("id", type=RECORD_ID)
    show.set_defaults(func=cmd_show)

    mv = sub.add_parser("move", help="reorder a queued job")
    mv.add_argument("id", type=RECORD_ID)
    mv.add_argument("to", help="up, down, top, bottom, or a 1-based position in its lane")
    mv.set_defaults(func=cmd_move)

    for name, func, help_ in (
        ("cancel", cmd_cancel, "cancel jobs (a running one stops at its next step)"),
        ("retry", cmd_retry, "queue failed/cancelled/interrupted jobs again"),
        ("rm", cmd_rm, "remove jobs that are not running"),
    ):
        sp = sub.add_parser(name, help=help_)
        sp.add_argument("ids", type=RECORD_ID, nargs="+", metavar="ID")
        sp.set_defaults(func=func)

    rr = sub.add_parser(
        "reroll", help="stop a queued or running job and queue it first with a new random seed"
    )
    rr.add_argument("id", type=RECORD_ID)
    rr.set_defaults(func=cmd_reroll)

    sub.add_parser("pause", help="stop starting new jobs").set_defaults(func=cmd_pause)
    sub.add_parser("resume", help="start jobs again").set_defaults(func=cmd_resume)

    ed = sub.add_parser("edit", help="change a queued job's settings")
    ed.add_argument("id", type=RECORD_ID)
    add_request_flags(ed, edit=True)
    ed.set_defaults(func=cmd_edit)


# ---- the data folder


def app_database(home: str | None) -> Database:
    """The app database of ``--home``; a home that is a file (or below one) or read-only is bad
    input, said before anything is created (``AppPaths.check_usable`` in ``open_app_database``)."""
    return open_app_database(app_paths(home))


def check_outputs_folder(home: str | None) -> None:
    """The folder a queued job's video will go to can be written: found now, not after the
    render."""
    from wan22_desktop.settings import Settings, effective_paths

    paths = app_paths(home)
    outputs = effective_paths(paths, Settings.load(paths, recover=True)).outputs
    try:
        check_writable_folder(outputs, field="save_file")
    except UserInputError as exc:
        raise UserInputError(
            f"cannot save videos: {exc.message}",
            "choose another outputs folder in Settings, or give --save_file",
            field="save_file",
        ) from None


def request_from_video(args: argparse.Namespace) -> GenerationRequest:
    """The request embedded in ``--from VIDEO`` with the flags given on top; what the file's
    settings hold that a request cannot is printed as notes on stderr (never silently lost)."""
    import sys

    from wan22_desktop.video_metadata import read_settings

    settings = read_settings(args.from_file)
    task = args.task or settings.fields.get("task")
    if task:
        check_task_available(task)
    base = settings.request(**({"task": task} if task else {}))
    notes = list(settings.unmapped)
    if base.ckpt_dir and not os.path.isdir(base.ckpt_dir):  # made on another machine
        notes.append(f"model folder {base.ckpt_dir} (not here: the installed model is used)")
        base = replace(base, ckpt_dir=None)
    changes = request_changes(args, base)
    request = replace(base, **changes)
    name = escape_control(os.path.basename(args.from_file))
    for item in notes:
        print(
            f"note: not taken from {name} ({settings.source_name}): {escape_control(item)}",
            file=sys.stderr,
        )
    return request


def _db(args: argparse.Namespace) -> Database:
    return app_database(args.home)


# ---- commands


def cmd_add(args: argparse.Namespace) -> int:
    from wan22_desktop.commands.generate import resolve_checkpoint

    if getattr(args, "from_file", None):
        request = request_from_video(args)
    else:
        request = request_from_args(args)  # the same flags and builder as `wan22 generate`
    request.validate()  # the same rules, before the database is touched
    resolve_checkpoint(request, args.home)  # a job for a model that is not there is refused now
    if request.save_file is None:  # its video goes to the outputs folder: it must be writable
        check_outputs_folder(args.home)
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
        eta = queue_estimate(db, paused)
    if args.json:
        data = {"paused": paused, "jobs": [job_to_dict(j) for j in jobs]}
        print(json_text({**data, "estimate": queue_eta.to_json(eta)}))
        return 0
    _print_jobs(args, jobs, title="queue (paused)" if paused else "queue", eta=eta)
    return 0


def now_utc() -> datetime:
    """The clock the estimate counts from (naive UTC, as the database stores times)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def queue_estimate(db: Database, paused: bool) -> queue_eta.QueueEta:
    """When the running and queued jobs will be done, from this machine's finished jobs."""
    from wan22_desktop.services.queue import list_runners
    from wan22_desktop.services.rows import job_row

    active = [job_row(job_to_dict(j)) for j in q.list_jobs(db, statuses=["running", "queued"])]
    speeds = queue_eta.calibrate(queue_eta.load_runs(db))
    lanes = queue_eta.lanes_from_runners(list_runners(db), host=socket.gethostname())
    return queue_eta.estimate_queue(active, speeds, lanes, paused=paused, now=now_utc())


def cmd_show(args: argparse.Namespace) -> int:
    return show_record(args, q.get_job, job_to_dict)


def show_record(
    args: argparse.Namespace, get: Callable[[Database, int], R], to_dict: Callable[[R], Any]
) -> int:
    """``show ID`` (a job or a generation): the record in full, as JSON."""
    with _db(args) as db:
        record = get(db, args.id)
    print(json_text(to_dict(record)))
    return 0


def cmd_move(args: argparse.Namespace) -> int:
    to: q.MoveTo
    if args.to in ("up", "down", "top", "bottom"):
        to = args.to
    elif args.to.isdigit() and int(args.to) >= 1:
        to = min(int(args.to), 10**9)  # past the end is the end
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


def cmd_reroll(args: argparse.Namespace) -> int:
    with _db(args) as db:
        new = q.reroll_job(db, args.id)
        seed = GenerationRequest.from_json(new.request_json).seed
    _say(
        args,
        {"stopped": args.id, "queued": new.id, "seed": seed},
        f"job {args.id} stopped; job {new.id} queued first with seed {seed}",
    )
    return 0


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
        changes = request_changes(args, base=old)
        if not changes:
            raise UserInputError(
                "nothing to change", "give at least one flag, e.g. --prompt or --size"
            )
        job = q.edit_job(db, args.id, **changes)
    _print_jobs(args, [job], title="edited")
    return 0


# ---- output


def _say(args: argparse.Namespace, data: dict[str, Any], text: str) -> None:
    print(json_text(data, indent=None) if args.json else escape_control(text))


def json_text(data: Any, *, indent: int | None = 2) -> str:
    """JSON for a terminal: user text keeps its characters, except controls (ANSI escapes, C1,
    bidi overrides), which are written as JSON ``\\uXXXX`` escapes so they cannot act."""
    out = json.dumps(data, ensure_ascii=False, indent=indent)
    if escape_control(out, keep_newlines=True) == out:
        return out
    return "".join(c if c == "\n" or escape_control(c) == c else json.dumps(c)[1:-1] for c in out)


def console() -> Any:
    """A rich console on stdout whose closed pipe (``| head``) reaches ``cli.main``'s quiet
    handler as BrokenPipeError (rich's own handler would exit 1 from deep inside)."""
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            raise BrokenPipeError(errno.EPIPE, "Broken pipe")

    return _Console()


def _cell(text: str | None, width: int = 60) -> str:
    """One table cell of user text: control characters made visible, long text cut."""
    shown = escape_control(text or "")
    return (shown[: width - 1] + "…") if len(shown) > width else shown


def _finish_cell(eta: queue_eta.QueueEta, job_id: int) -> str:
    """ "~06:40" (this machine's clock) for a running or queued job; "" when unknown."""
    e = eta.jobs.get(job_id)
    if e is None or e.finish_s is None:
        return "paused" if eta.paused and e is not None else ""
    return "~" + queue_eta.local_clock(eta.now + timedelta(seconds=e.finish_s), eta.now)


def _progress(job: Job) -> str:
    if job.status != "running":
        return ""
    if job.progress_total:
        eta = f" eta {job.progress_eta_s:.0f}s" if job.progress_eta_s is not None else ""
        return (
            f"{job.progress_phase or ''} {job.progress_step or 0}/{job.progress_total}{eta}".strip()
        )
    return job.progress_phase or "starting"


def _print_jobs(
    args: argparse.Namespace, jobs: list[Job], *, title: str, eta: queue_eta.QueueEta | None = None
) -> None:
    if args.json:
        print(json_text([job_to_dict(j) for j in jobs]))
        return
    from rich.markup import escape
    from rich.table import Table

    errors = any(j.error_message for j in jobs)
    table = Table(title=escape(title))
    columns = ["id", "status", "lane", "task", "seed", "progress", "prompt"]
    columns += ["error"] if errors else []
    columns += ["done at"] if eta is not None else []
    for col in columns:
        table.add_column(col, overflow="fold", no_wrap=col in ("id", "seed"))
    for j in jobs:
        status = j.status + (
            " (cancelling)" if j.cancel_requested and j.status == "running" else ""
        )
        row = [str(j.id), status, j.lane, j.task, str(job_seed(j)), _progress(j), _cell(j.prompt)]
        if errors:
            row.append(_cell(j.error_message) if j.status != "done" else "")
        if eta is not None:
            row.append(_finish_cell(eta, j.id))
        table.add_row(*(escape(c) for c in row))
    if not jobs:
        table.caption = "no jobs"
    elif eta is not None and eta.jobs:
        table.caption = escape(queue_eta.summary_text(eta))
    console().print(table)
