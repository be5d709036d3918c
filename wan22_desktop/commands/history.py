"""wan22 history: list, show, search, re-run, mark and delete finished generations."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from wan22_desktop.commands.queue import (
    _cell,
    _db,
    _print_jobs,
    _say,
    console,
    json_text,
    show_record,
)
from wan22_desktop.db import history as h
from wan22_desktop.db.database import Database
from wan22_desktop.db.models import Generation
from wan22_desktop.db.views import generation_to_dict
from wan22_desktop.errors import UserInputError
from wan22_desktop.paths import app_paths
from wan22_desktop.request_flags import RECORD_ID, bounded
from wan22_desktop.services.how_made import english_lines
from wan22_desktop.terminal_text import escape_control


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("history", help="finished generations", description=__doc__)
    sub = p.add_subparsers(dest="history_command", metavar="ACTION", required=True)

    ls = sub.add_parser("list", help="newest first, one page at a time")
    _filter_flags(ls)
    ls.set_defaults(func=cmd_list)

    se = sub.add_parser("search", help="search prompts (also extended prompts)")
    se.add_argument("query")
    _filter_flags(se)
    se.set_defaults(func=cmd_list)

    show = sub.add_parser(
        "show", help="one generation: what it is and how it was made (--json: the raw record)"
    )
    show.add_argument("id", type=RECORD_ID)
    show.set_defaults(func=cmd_show)

    rr = sub.add_parser("rerun", help="queue a generation's request again")
    rr.add_argument("id", type=RECORD_ID)
    rr.add_argument("--new_seed", "--new-seed", action="store_true", help="a fresh random seed")
    rr.add_argument("--now", action="store_true", help="put it in the front lane")
    rr.set_defaults(func=cmd_rerun)

    fav = sub.add_parser("fav", help="mark as favourite (--off to unmark)")
    fav.add_argument("id", type=RECORD_ID)
    fav.add_argument("--off", action="store_true")
    fav.set_defaults(func=cmd_fav)

    tag = sub.add_parser("tag", help="add tags (--set replaces them all)")
    tag.add_argument("id", type=RECORD_ID)
    tag.add_argument("tags", nargs="*")
    tag.add_argument("--set", action="store_true")
    tag.set_defaults(func=cmd_tag)

    note = sub.add_parser("note", help="set a note (empty text clears it)")
    note.add_argument("id", type=RECORD_ID)
    note.add_argument("text")
    note.set_defaults(func=cmd_note)

    rm = sub.add_parser("rm", help="delete from the history (--files also deletes the video)")
    rm.add_argument("ids", type=RECORD_ID, nargs="+", metavar="ID")
    rm.add_argument(
        "--files",
        action="store_true",
        help="also delete video and thumbnail (only files inside the outputs folder)",
    )
    rm.set_defaults(func=cmd_rm)


def _filter_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--task")
    p.add_argument("--fav", action="store_true", help="favourites only")
    p.add_argument("--tag")
    p.add_argument("--since", type=_date, help="YYYY-MM-DD (UTC), inclusive")
    p.add_argument("--until", type=_date, help="YYYY-MM-DD (UTC), inclusive")
    p.add_argument("--page", type=bounded(1, 10**9, "a page"), default=1, help="1-based")
    p.add_argument("--page_size", "--page-size", type=bounded(1, 500, "a page size"), default=20)


def _date(value: str) -> datetime:
    try:
        return datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD, got {value!r}") from None


def cmd_list(args: argparse.Namespace) -> int:
    if args.page < 1:
        raise UserInputError("--page starts at 1", "use --page 1 for the newest")
    flt = h.HistoryFilter(
        task=args.task,
        favourite=True if args.fav else None,
        tag=args.tag,
        since=args.since,
        until=args.until + timedelta(days=1) if args.until else None,
        search=getattr(args, "query", None),
    )
    with _db(args) as db:
        page = h.list_generations(db, flt, page=args.page - 1, page_size=args.page_size)
    if args.json:
        print(
            json_text(
                {
                    "total": page.total,
                    "page": args.page,
                    "pages": page.pages,
                    "items": [generation_to_dict(g) for g in page.items],
                }
            )
        )
        return 0
    _print_generations(
        page.items, title=f"history: page {args.page} of {page.pages} ({page.total} generation(s))"
    )
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    if args.json:
        return show_record(args, h.get_generation, generation_to_dict)
    with _db(args) as db:
        record = generation_to_dict(h.get_generation(db, args.id))
    print("\n".join(escape_control(line) for line in show_lines(record)))
    return 0


def show_lines(g: dict[str, Any]) -> list[str]:
    """``history show`` as plain English: the video, its prompt, then "How it was made"."""
    lines = [
        f"generation {g['id']}  {g.get('created_at') or ''}".rstrip(),
        f"video: {g.get('video_path') or '—'}",
        f"size: {g.get('width')}*{g.get('height')}, {g.get('frames')} frames at {g.get('fps')} fps",
        f"prompt: {g.get('prompt') or ''}",
    ]
    final = g.get("final_prompt")
    if final and final != g.get("prompt"):
        lines.append(f"extended prompt: {final}")
    if g.get("tags"):
        lines.append(f"tags: {', '.join(g['tags'])}")
    if g.get("note"):
        lines.append(f"note: {g['note']}")
    how = english_lines(g)
    if how:
        lines += ["", "How it was made", *(f"  {line}" for line in how)]
    warnings = (g.get("plan") or {}).get("warnings") if isinstance(g.get("plan"), dict) else None
    if isinstance(warnings, list) and warnings:
        lines += ["", "Warnings", *(f"  {w}" for w in warnings)]
    return lines


def cmd_rerun(args: argparse.Namespace) -> int:
    with _db(args) as db:
        job = h.rerun(db, args.id, new_seed=args.new_seed, lane="now" if args.now else "normal")
    _print_jobs(args, [job], title="queued")
    return 0


def cmd_fav(args: argparse.Namespace) -> int:
    return _changed(
        args,
        lambda db: h.set_favourite(db, args.id, not args.off),
        "favourite",
        lambda gen: "favourite" if gen.favourite else "not a favourite",
    )


def cmd_tag(args: argparse.Namespace) -> int:
    return _changed(
        args,
        lambda db: (h.set_tags if args.set else h.add_tags)(db, args.id, args.tags),
        "tags",
        lambda gen: f"tags {', '.join(gen.tags) or '(none)'}",
    )


def cmd_note(args: argparse.Namespace) -> int:
    return _changed(args, lambda db: h.set_note(db, args.id, args.text), "note", "note saved")


def _changed(
    args: argparse.Namespace,
    change: Callable[[Database], Generation],
    field: str,
    text: str | Callable[[Generation], str],
) -> int:
    """One generation changed: ``{"id", field}`` as JSON, or ``generation ID: text``."""
    with _db(args) as db:
        gen = change(db)
    said = text if isinstance(text, str) else text(gen)
    _say(args, {"id": gen.id, field: getattr(gen, field)}, f"generation {gen.id}: {said}")
    return 0


def cmd_rm(args: argparse.Namespace) -> int:
    paths = app_paths(args.home)
    removed: list[str] = []
    kept: list[str] = []
    with _db(args) as db:
        for i in args.ids:
            res = h.delete_generation(db, i, delete_files=args.files, outputs_dir=paths.outputs)
            removed += res.removed_files
            kept += res.kept_files
    text = f"removed generation(s) {', '.join(map(str, args.ids))} from the history"
    if args.files:
        text += f"; deleted {len(removed)} file(s)"
        if kept:
            text += f", kept {len(kept)} outside the outputs folder or missing"
    _say(args, {"removed": args.ids, "deleted_files": removed, "kept_files": kept}, text)
    return 0


def _print_generations(gens: list[Generation], *, title: str) -> None:
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=escape(title))
    for col in ("id", "when (UTC)", "task", "size", "seed", "fav", "prompt"):
        table.add_column(col, overflow="fold", no_wrap=col in ("id", "seed"))
    for g in gens:
        row = (
            str(g.id),
            f"{g.created_at:%Y-%m-%d %H:%M}",
            g.task,
            f"{g.width}*{g.height}",
            str(g.seed),
            "★" if g.favourite else "",
            _cell(g.prompt),
        )
        table.add_row(*(escape(c) for c in row))
    if not gens:
        table.caption = "nothing found"
    console().print(table)
