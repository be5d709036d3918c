"""History queries and marks for the views: pages of rows, favourite, tags, delete, re-run.

Wraps ``db.history`` (and ``db.queue`` for failed jobs); every result is a frozen row or a plain
value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from wan22_desktop.db import history as dbh
from wan22_desktop.db.base import utcnow
from wan22_desktop.db.database import Database
from wan22_desktop.db.views import generation_to_dict
from wan22_desktop.services import queue as queue_ops
from wan22_desktop.services.rows import GenerationRow, HistoryRow, JobRow, generation_row

__all__ = ["utcnow"]  # the database's clock (naive UTC), for date filters
HistoryFilter = dbh.HistoryFilter
DeleteResult = dbh.DeleteResult
JOB_STATUSES = ("failed", "cancelled", "interrupted")
MAX_JOB_ROWS = 500


@dataclass(frozen=True)
class HistoryQuery:
    """What the history shows. ``status``: "done" (generations) or a finished job status."""

    filter: HistoryFilter = field(default_factory=HistoryFilter)
    status: str = "done"


@dataclass(frozen=True)
class HistoryPage:
    rows: tuple[HistoryRow, ...]
    total: int


def load_page(db: Database, query: HistoryQuery, page: int, page_size: int) -> HistoryPage:
    """One page of generations, or of finished jobs when ``query.status`` names a job status."""
    if query.status == "done":
        p = dbh.list_generations(db, query.filter, page=page, page_size=page_size)
        return HistoryPage(tuple(generation_row(generation_to_dict(g)) for g in p.items), p.total)
    # Failed/cancelled jobs are few: one bounded read, filtered here.
    jobs = queue_ops.list_jobs(db, (query.status,), limit=MAX_JOB_ROWS)
    rows = [j for j in jobs if job_matches(j, query.filter)]
    return HistoryPage(tuple(rows[page * page_size : (page + 1) * page_size]), len(rows))


def job_matches(job: JobRow, flt: HistoryFilter) -> bool:
    """The history filter applied to a job (marks exist on generations only)."""
    if flt.task and job.task != flt.task:
        return False
    if flt.search and flt.search.strip().lower() not in job.prompt.lower():
        return False
    if flt.since and (job.finished_at or "") < flt.since.isoformat(timespec="seconds"):
        return False
    return not (flt.favourite or flt.tag)


def newest_generation_id(db: Database) -> int:
    """The id of the most recently finished generation, 0 when there is none."""
    items = dbh.list_generations(db, page_size=1).items
    return items[0].id if items else 0


def get_generation(db: Database, generation_id: int) -> GenerationRow:
    return generation_row(generation_to_dict(dbh.get_generation(db, generation_id)))


def set_favourite(db: Database, generation_id: int, favourite: bool) -> GenerationRow:
    return generation_row(generation_to_dict(dbh.set_favourite(db, generation_id, favourite)))


def set_tags(db: Database, generation_id: int, tags: list[str]) -> GenerationRow:
    return generation_row(generation_to_dict(dbh.set_tags(db, generation_id, tags)))


def delete_generation(
    db: Database, generation_id: int, *, delete_files: bool, outputs_dir: Path
) -> DeleteResult:
    return dbh.delete_generation(
        db, generation_id, delete_files=delete_files, outputs_dir=outputs_dir
    )


def rerun(db: Database, generation_id: int, *, new_seed: bool) -> int:
    """Queue a generation's request again (same seed, or a new one); the new job id."""
    return dbh.rerun(db, generation_id, new_seed=new_seed).id
