"""wan22 db: which database this data folder uses (its own SQLite file or a shared PostgreSQL
queue), its schema, and moving a queue and history from one to the other.

The password of a PostgreSQL URL goes to the OS keyring, never to settings.json, the logs or a
command line: give it with --password-stdin (a hidden prompt on a terminal), or leave it out
when the server needs none (or ~/.pgpass has it).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from wan22_desktop.commands.keys import read_secret
from wan22_desktop.commands.queue import _say, json_text
from wan22_desktop.errors import UserInputError
from wan22_desktop.paths import app_paths


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("db", help="the queue's database (SQLite or shared PostgreSQL)")
    sub = p.add_subparsers(dest="db_command", metavar="ACTION", required=True)

    use = sub.add_parser(
        "use", help="use a shared PostgreSQL database (or --local for this folder's SQLite)"
    )
    use.add_argument("url", nargs="?", help="postgresql://USER@HOST[:PORT]/DB[?sslmode=...]")
    use.add_argument("--local", action="store_true", help="back to this data folder's SQLite")
    use.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from a hidden prompt or stdin (stored in the OS keyring)",
    )
    use.add_argument(
        "--no-check", action="store_true", help="store the URL without connecting first"
    )
    use.set_defaults(func=cmd_use)

    st = sub.add_parser("status", help="which database, reachable, schema, runners")
    st.set_defaults(func=cmd_status)

    mg = sub.add_parser("migrate", help="create or upgrade the schema (same migrations as SQLite)")
    mg.add_argument("--url", help="another database than the configured one")
    mg.set_defaults(func=cmd_migrate)

    cp = sub.add_parser("copy", help="copy the queue and history into another (empty) database")
    cp.add_argument("--from", dest="source", required=True, help="sqlite:///PATH or postgresql://")
    cp.add_argument("--to", dest="target", required=True, help="postgresql://... or sqlite:///")
    cp.set_defaults(func=cmd_copy)


def _open(raw: str, *, migrate: bool = True, field: str = "url") -> Any:
    """Open a user-given URL, its password from the keyring (never from the command line)."""
    from wan22_desktop import secrets
    from wan22_desktop.db import location
    from wan22_desktop.db.database import open_database

    parsed = location.parse(raw)
    if parsed.password:
        raise UserInputError(
            f"the {field} URL contains a password",
            "leave the password out of command lines; `wan22 db use URL --password-stdin` "
            "stores it in the OS keyring",
            field=field,
        )
    if not parsed.is_postgres:
        return open_database(parsed.url, create=migrate)
    password = secrets.get_database_password(parsed.account)
    return open_database(location.with_password(parsed.url, password))


def cmd_use(args: argparse.Namespace) -> int:
    from wan22_desktop.db import location
    from wan22_desktop.services.database import use_database
    from wan22_desktop.settings import Settings

    paths = app_paths(args.home)
    settings = Settings.load(paths)
    if args.local:
        if args.url:
            raise UserInputError("give a URL or --local, not both", "see `wan22 db use --help`")
        use_database(settings, None)
        _say(args, {"url": None, "database": str(paths.database)}, f"using {paths.database}")
        return 0
    if not args.url:
        raise UserInputError("no database URL given", location.URL_HINT, field="url")
    password = None
    if args.password_stdin:
        password = read_secret("database password (input hidden): ") or None
    choice = use_database(settings, args.url, password=password, check=not args.no_check)
    note = " (password in the OS keyring)" if choice.password_stored else ""
    _say(
        args,
        {"url": choice.url, "password_stored": choice.password_stored},
        f"using {choice.url}{note}",
    )
    if choice.password_in_url:
        print(
            "note: the password was on the command line; it may be in your shell history",
            file=sys.stderr,
        )
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from wan22_desktop.db import location, migrate
    from wan22_desktop.db.database import HEAD_REVISION, open_app_database
    from wan22_desktop.db.queue import counts_by_status

    paths = app_paths(args.home)
    url = location.configured_url(paths)
    with open_app_database(paths) as db:
        info: dict[str, Any] = {
            "url": location.display(url) if url else None,
            "database": db.label,
            "backend": db.engine.dialect.name,
            "shared": db.shared,
            "schema": migrate.current_revision(db.engine),
            "app_schema": HEAD_REVISION,
            "jobs": counts_by_status(db),
            "runners": _runners(db),
        }
        info["queue_finish"] = _queue_finish(db)
    if args.json:
        print(json_text(info))
        return 0
    kind = "shared PostgreSQL queue" if info["shared"] else "this data folder's SQLite file"
    print(f"database: {info['database']} ({kind})")
    print(f"schema:   {info['schema']} (this app: {info['app_schema']})")
    jobs = ", ".join(f"{n} {st}" for st, n in sorted(info["jobs"].items())) or "none"
    print(f"jobs:     {jobs}")
    if info["queue_finish"]["text"]:
        print(f"queue:    {info['queue_finish']['text']}")
    for r in info["runners"]:
        gpus = ", ".join(_gpu_word(g) for g in r["gpus"]) or "no GPU"
        if r["mode"]:
            gpus += f", {r['mode']} mode"
        job = f"job {r['job']}" if r["job"] else "idle"
        if not r["alive"]:
            job += ", presumed dead (its lease ran out)"
        print(
            f"runner:   {r['host']} pid {r['pid']} v{r['version']}, {gpus}, {job} "
            f"(last seen {r['heartbeat_at']} UTC)"
        )
    return 0


def _queue_finish(db: Any) -> dict[str, Any]:
    """When the running and queued jobs will be done (``wan22 queue list`` has it per job)."""
    from wan22_desktop.commands.queue import queue_estimate
    from wan22_desktop.db.queue import is_paused
    from wan22_desktop.services import queue_eta

    eta = queue_estimate(db, is_paused(db))
    data = queue_eta.to_json(eta)
    return {
        "paused": data["paused"],
        "total_s": data["total_s"],
        "finish_at": data["finish_at"],
        "basis": data["basis"],
        "text": queue_eta.summary_text(eta) if eta.jobs else "",
    }


def _gpu_word(gpu: dict[str, Any]) -> str:
    """A runner's GPU as listed: "gpu1 NVIDIA ..." when the runner recorded the card's number."""
    device = gpu.get("device")
    name = str(gpu.get("name", "?"))
    return f"gpu{device} {name}" if device not in (None, "") else name


def _runners(db: Any) -> list[dict[str, Any]]:
    """Registered runners with the job each one is running and whether its lease holds."""
    from wan22_desktop.db.lease import runner_states

    return [
        {
            "id": st.runner.id,
            "host": st.runner.host,
            "pid": st.runner.pid,
            "version": st.runner.version,
            "gpus": st.runner.gpus,
            "mode": st.runner.mode,
            "models": st.runner.models,
            "job": st.job_id,
            "alive": st.alive,
            "heartbeat_at": st.runner.heartbeat_at.isoformat(sep=" ", timespec="seconds"),
        }
        for st in runner_states(db)
    ]


def cmd_migrate(args: argparse.Namespace) -> int:
    from wan22_desktop.db import migrate
    from wan22_desktop.db.database import open_app_database

    db = _open(args.url) if args.url else open_app_database(app_paths(args.home))
    with db:
        rev = migrate.current_revision(db.engine)
    _say(args, {"database": db.label, "schema": rev}, f"{db.label}: schema {rev} (up to date)")
    return 0


def cmd_copy(args: argparse.Namespace) -> int:
    from wan22_desktop.db.copy import copy_queue_and_history

    src = _open(args.source, migrate=False, field="from")
    try:
        dst = _open(args.target, field="to")
        try:
            result = copy_queue_and_history(src, dst)
        finally:
            dst.close()
    finally:
        src.close()
    _say(
        args,
        {
            "generations": result.generations,
            "jobs": result.jobs,
            "requeued": result.requeued,
            "models": result.models,
        },
        f"copied {result.jobs} jobs and {result.generations} generations"
        + (f" ({result.requeued} running jobs queued again)" if result.requeued else "")
        + (f"; {result.models} model folders recorded for this machine" if result.models else ""),
    )
    return 0
