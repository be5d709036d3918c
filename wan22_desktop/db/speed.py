"""Finished jobs with their recorded phase times: what the queue's finish estimate calibrates
this machine's speed from (``services.queue_eta``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from wan22_desktop.db.database import Database
from wan22_desktop.db.models import DONE, Generation, Job


@dataclass(frozen=True)
class FinishedRunRow:
    runner_id: str | None  # "host:pid:token"
    request_json: str
    timings: dict[str, Any]


def finished_runs(db: Database, *, limit: int = 200) -> list[FinishedRunRow]:
    """The newest ``limit`` jobs that finished done (failed and cancelled ones never count), with
    their history row's timings; generations without a job (imported) are not included."""
    q = (
        select(Job.runner_id, Generation.request_json, Generation.timings_json)
        .join(Generation, Job.generation_id == Generation.id)
        .where(Job.status == DONE)
        .order_by(Job.finished_at.desc(), Job.id.desc())
        .limit(limit)
    )

    def read(s: Any) -> list[FinishedRunRow]:
        out = []
        for runner_id, request_json, timings_json in s.execute(q):
            try:
                timings = json.loads(timings_json) if timings_json else {}
            except ValueError:
                timings = {}
            out.append(
                FinishedRunRow(
                    runner_id, request_json, timings if isinstance(timings, dict) else {}
                )
            )
        return out

    return db.read(read)
