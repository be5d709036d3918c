"""What dead workers leave in the outputs folder, cleaned up by the runner that holds the queue.

A worker killed while saving leaves a temporary ``.<stem>.<random>.part.mp4`` (or a ``.part``
PNG folder); a worker orphaned while saving (its runner died) may still finish a video that no
history row points to, because the next runner has requeued its job. Both carry the job id in
their name (``<stamp>_job<ID>_<task>_<seed>``, see ``runner.output_paths``), so the runner can
tell its own files from the user's: only names of that shape, for jobs it knows, are touched.

For a finished output of job ID: kept when history points to it; adopted (history is pointed at
it) when the job is done but its recorded file is missing; removed when the job is not done
(queued again, failed, cancelled) or is done with another file. Files of unknown jobs are left
alone: they may be the user's, kept after the job was deleted.
"""

from __future__ import annotations

import logging
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from wan22_desktop.db import queue as q
from wan22_desktop.db.database import Database
from wan22_desktop.db.models import DONE, RUNNING, Generation, Job

log = logging.getLogger(__name__)

THUMBNAILS = ".thumbnails"
# ".<stem>.<random>.part<suffix>" (files) or ".<name>.<random>.part" (PNG folders): video_io's
# temporary names for a job's outputs.
_PARTIAL = re.compile(r"^\.(?P<stem>\d{8}-\d{6}_job(?P<id>\d+)_.+)\.[^.]+\.part(\.\w+)?$")
_FINAL = re.compile(r"^(?P<stem>\d{8}-\d{6}_job(?P<id>\d+)_[^.]+?)(\.\w+)?$")


@dataclass
class Cleanup:
    """What one pass did (paths as strings, for logs and events)."""

    removed_partial: list[str] = field(default_factory=list)
    removed_orphans: list[str] = field(default_factory=list)
    adopted: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.removed_partial or self.removed_orphans or self.adopted)

    def to_dict(self) -> dict[str, list[str]]:
        return {
            "removed_partial": list(self.removed_partial),
            "removed_orphans": list(self.removed_orphans),
            "adopted": list(self.adopted),
        }

    def summary(self) -> str:
        return (
            f"removed {len(self.removed_partial)} partial and {len(self.removed_orphans)} orphaned "
            f"output(s), adopted {len(self.adopted)}"
        )


def _remove(path: Path) -> bool:
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
        return True
    except FileNotFoundError:
        return False
    except OSError as exc:
        log.warning("could not remove %s: %s", path, exc)
        return False


def _entries(outputs: Path) -> list[Path]:
    found: list[Path] = []
    for folder in (outputs, outputs / THUMBNAILS):
        try:
            found += list(folder.iterdir())
        except OSError:  # not there yet, or unreadable: nothing of ours to clean
            continue
    return found


def clean_outputs(
    db: Database,
    outputs: Path,
    *,
    busy_jobs: set[int] | frozenset[int] = frozenset(),
    min_age_s: float = 0.0,
) -> Cleanup:
    """One pass over ``outputs`` (and its thumbnails). ``busy_jobs``: jobs whose files must not be
    touched (the one running now); ``min_age_s``: skip files changed more recently (periodic
    passes leave a second to a writer that is just renaming)."""
    done = Cleanup()
    now = time.time()
    jobs: dict[int, Job | None] = {}

    def job(job_id: int) -> Job | None:
        if job_id not in jobs:
            try:
                jobs[job_id] = q.get_job(db, job_id)
            except Exception:  # noqa: BLE001 - not in the queue (deleted, or never ours)
                jobs[job_id] = None
        return jobs[job_id]

    for path in _entries(outputs):
        name = path.name
        partial = _PARTIAL.match(name)
        final = None if partial else _FINAL.match(name)
        match = partial or final
        if match is None:
            continue
        job_id = int(match.group("id"))
        if job_id in busy_jobs:
            continue
        try:
            if min_age_s and now - path.stat().st_mtime < min_age_s:
                continue
        except OSError:
            continue
        record = job(job_id)
        if record is None or record.status == RUNNING:
            continue
        if partial:
            if _remove(path):
                done.removed_partial.append(str(path))
            continue
        thumb = path.parent.name == THUMBNAILS
        verdict = _judge(db, record, path, thumb)
        if verdict == "remove" and _remove(path):
            done.removed_orphans.append(str(path))
        elif verdict == "adopt":
            done.adopted.append(str(path))
    if done:
        log.info("outputs clean-up: %s", done.summary())
    return done


def _judge(db: Database, job: Job, path: Path, thumb: bool) -> str:
    """ "keep", "adopt" (history now points at ``path``) or "remove"."""
    if job.status != DONE or job.generation_id is None:
        return "remove"
    gen_id = job.generation_id

    def decide(s) -> str:  # noqa: ANN001 - a SQLAlchemy session
        gen = s.get(Generation, gen_id)
        if gen is None:  # the history row was deleted: the user chose; keep the file
            return "keep"
        recorded = gen.thumbnail_path if thumb else gen.video_path
        if recorded and Path(recorded) == path:
            return "keep"
        if recorded and Path(recorded).exists():
            return "remove"  # a second render of a job whose output history already has
        if thumb:
            gen.thumbnail_path = str(path)
        else:
            gen.video_path = str(path)
        return "adopt"

    return db.transact(decide)
