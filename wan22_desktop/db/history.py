"""History of generations: paged lists, filters, prompt search, marks, deletion and re-run."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Integer, Select, column, func, or_, select, text
from sqlalchemy.orm import Session

from wan22_desktop.db import sqlite
from wan22_desktop.db.database import Database
from wan22_desktop.db.models import Generation, Job
from wan22_desktop.db.queue import enqueue
from wan22_desktop.errors import UserInputError
from wan22_desktop.request import GenerationRequest

log = logging.getLogger(__name__)

MAX_PAGE_SIZE = 500


@dataclass(frozen=True)
class HistoryFilter:
    task: str | None = None
    favourite: bool | None = None
    since: datetime | None = None  # UTC, inclusive
    until: datetime | None = None  # UTC, exclusive
    tag: str | None = None
    search: str | None = None  # prompt text (prompt or extended prompt)


@dataclass(frozen=True)
class Page:
    items: list[Generation]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


@dataclass(frozen=True)
class DeleteResult:
    removed_files: list[str]
    kept_files: list[str]  # outside the outputs folder or already gone: never touched


def list_generations(
    db: Database, flt: HistoryFilter = HistoryFilter(), *, page: int = 0, page_size: int = 50
) -> Page:
    """Newest first (most recently finished). ``page`` is 0-based."""
    if page < 0 or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise UserInputError("bad page or page size", f"page >= 0, page size 1..{MAX_PAGE_SIZE}")

    def run(s: Session) -> Page:
        q, params = _filtered(select(Generation), flt, s)
        if params and flt == HistoryFilter(search=flt.search):
            # Only a text search: the FTS index counts its matches far faster than a join does.
            total = s.scalar(text(sqlite.fts_count_sql()), params) or 0
        else:
            total = (
                s.scalar(
                    q.with_only_columns(func.count()).select_from(Generation).order_by(None), params
                )
                or 0
            )
        # Ids grow with insertion, and a row is inserted when its video is finished, so id order
        # is newest first; it lets SQLite walk the primary key and stop after one page instead of
        # sorting every match by created_at (10x faster on a 100k-row history).
        items = list(
            s.scalars(
                q.order_by(Generation.id.desc()).limit(page_size).offset(page * page_size), params
            )
        )
        return Page(items=items, total=total, page=page, page_size=page_size)

    return db.read(run)


def search(db: Database, query: str, *, page: int = 0, page_size: int = 50) -> Page:
    return list_generations(db, HistoryFilter(search=query), page=page, page_size=page_size)


def get_generation(db: Database, generation_id: int) -> Generation:
    return db.read(lambda s: _gen(s, generation_id))


def set_favourite(db: Database, generation_id: int, favourite: bool = True) -> Generation:
    def apply(s: Session) -> Generation:
        gen = _gen(s, generation_id)
        gen.favourite = favourite
        return gen

    return db.transact(apply)


def set_tags(db: Database, generation_id: int, tags: Sequence[str]) -> Generation:
    clean = sorted({t.strip() for t in tags if t.strip()})
    for t in clean:
        if "," in t or '"' in t:
            raise UserInputError(f"tag {t!r} contains a comma or quote", "use plain words")

    def apply(s: Session) -> Generation:
        gen = _gen(s, generation_id)
        gen.tags_json = json.dumps(clean, ensure_ascii=False)
        return gen

    return db.transact(apply)


def add_tags(db: Database, generation_id: int, tags: Sequence[str]) -> Generation:
    return set_tags(db, generation_id, [*get_generation(db, generation_id).tags, *tags])


def set_note(db: Database, generation_id: int, note: str | None) -> Generation:
    def apply(s: Session) -> Generation:
        gen = _gen(s, generation_id)
        gen.note = note or None
        return gen

    return db.transact(apply)


def delete_generation(
    db: Database, generation_id: int, *, delete_files: bool = False, outputs_dir: Path | None = None
) -> DeleteResult:
    """Remove the row; with ``delete_files``, also its video and thumbnail, but only files inside
    ``outputs_dir`` (a user's own file elsewhere is never deleted)."""
    if delete_files and outputs_dir is None:
        raise ValueError("delete_files needs outputs_dir")

    def drop(s: Session) -> list[str]:
        gen = _gen(s, generation_id)
        files = [p for p in (gen.video_path, gen.thumbnail_path) if p]
        s.delete(gen)
        return files

    files = db.transact(drop)
    removed: list[str] = []
    kept: list[str] = []
    for f in files:
        if (
            delete_files
            and outputs_dir is not None
            and _inside(Path(f), outputs_dir)
            and Path(f).is_file()
        ):
            Path(f).unlink()
            removed.append(f)
        else:
            kept.append(f)
    return DeleteResult(removed_files=removed, kept_files=kept)


def rerun(db: Database, generation_id: int, *, new_seed: bool = False, lane: str = "normal") -> Job:
    """Queue the stored request again: same seed (reproduce) or a fresh random one."""
    gen = get_generation(db, generation_id)
    req = GenerationRequest.from_json(gen.request_json)
    req = req.with_seed(-1) if new_seed else req.with_seed(gen.seed)
    return enqueue(db, req, lane=lane)[0]


# ---- helpers


def _filtered(q: Select[Any], flt: HistoryFilter, s: Session) -> tuple[Select[Any], dict[str, str]]:
    params: dict[str, str] = {}
    if flt.task:
        q = q.where(Generation.task == flt.task)
    if flt.favourite is not None:
        q = q.where(Generation.favourite.is_(flt.favourite))
    if flt.since:
        q = q.where(Generation.created_at >= flt.since)
    if flt.until:
        q = q.where(Generation.created_at < flt.until)
    if flt.tag:
        q = q.where(
            Generation.tags_json.contains(
                json.dumps(flt.tag.strip(), ensure_ascii=False), autoescape=True
            )
        )
    text_query = (flt.search or "").strip()
    if text_query:
        if sqlite.is_sqlite(s.get_bind()) and len(text_query) >= sqlite.FTS_MIN_QUERY_CHARS:
            q = q.where(
                Generation.id.in_(text(sqlite.fts_rowids_sql()).columns(column("rowid", Integer)))
            )
            params["fts_query"] = sqlite.fts_phrase(text_query)
        else:
            # Trigram FTS cannot match fewer than 3 characters: a substring scan is fine there.
            # PostgreSQL has no FTS5: ILIKE, served by the pg_trgm indexes where the server has
            # them (migration 0004), matches the same case-insensitive substrings.
            # (SQLite's own LIKE already ignores ASCII case, and is faster than lower() LIKE.)
            pattern = "%" + _escape_like(text_query) + "%"
            sqlite_db = sqlite.is_sqlite(s.get_bind())
            q = q.where(
                or_(
                    *(
                        col.like(pattern, escape="\\")
                        if sqlite_db
                        else col.ilike(pattern, escape="\\")
                        for col in (Generation.prompt, Generation.final_prompt)
                    )
                )
            )
    return q, params


def _escape_like(s: str) -> str:
    return s.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _inside(path: Path, folder: Path) -> bool:
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except OSError:
        return False


def _gen(s: Session, generation_id: int) -> Generation:
    gen = s.get(Generation, generation_id)
    if gen is None:
        raise UserInputError(
            f"there is no generation {generation_id}", "see `wan22 history list` for ids"
        )
    return gen
