"""Frozen rows the views show: a queued or finished job, a generation in the history.

Built from the ``db.views`` dicts on the DB thread, so nothing ORM-bound crosses threads and the
views read typed attributes instead of string keys.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from wan22_desktop.path_map import PathMapping, map_path
from wan22_desktop.request import GenerationRequest
from wan22_desktop.runtime.planner import Plan
from wan22_desktop.services.how_made import Line, how_made

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Progress:
    step: int | None = None
    total: int | None = None
    phase: str | None = None
    eta_s: float | None = None


@dataclass(frozen=True)
class JobError:
    kind: str | None
    message: str
    hint: str | None = None

    def text(self) -> str:
        return f"{self.message} — {self.hint}" if self.hint else self.message


@dataclass(frozen=True)
class JobRow:
    """A job as the queue and the history's failed/cancelled list show it."""

    kind: ClassVar[str] = "job"
    id: int
    status: str
    task: str
    prompt: str
    lane: str = "normal"
    position: int = 0
    seed: int | None = None
    status_reason: str | None = None
    cancel_requested: bool = False
    progress: Progress = field(default_factory=Progress)
    error: JobError | None = None
    created_at: str | None = None  # ISO 8601, UTC ("...Z")
    started_at: str | None = None
    finished_at: str | None = None
    request: GenerationRequest | None = None  # None: the stored request could not be read
    plan: Plan | None = None


@dataclass(frozen=True)
class GenerationRow:
    """A finished video in the history."""

    kind: ClassVar[str] = "generation"
    id: int
    task: str
    prompt: str
    video_path: str
    seed: int
    width: int
    height: int
    frames: int
    fps: int
    final_prompt: str | None = None
    thumbnail_path: str | None = None
    duration_s: float | None = None
    timings: Mapping[str, float] = field(default_factory=dict)
    peak_memory_bytes: int | None = None
    model_path: str | None = None
    favourite: bool = False
    tags: tuple[str, ...] = ()
    note: str | None = None
    created_at: str | None = None
    request: GenerationRequest | None = None
    plan: Plan | None = None
    recorded_path: str = ""  # video_path as the runner wrote it (before the path mappings)
    how_made: tuple[Line, ...] = ()  # services.how_made: model, steps per expert, phases, times


HistoryRow = GenerationRow | JobRow


def _request(data: Any) -> GenerationRequest | None:
    try:
        return GenerationRequest.from_dict(data)
    except Exception:  # noqa: BLE001 - an unreadable stored request is shown as missing
        log.warning("unreadable stored request", exc_info=True)
        return None


def _plan(data: Any) -> Plan | None:
    if not isinstance(data, Mapping):
        return None
    try:
        return Plan.from_dict(data)
    except (TypeError, ValueError):  # a plan stored by an older version
        log.info("unreadable stored plan: %r", data)
        return None


def job_row(d: Mapping[str, Any]) -> JobRow:
    """From ``db.views.job_to_dict``."""
    p = d.get("progress") or {}
    err = d.get("error")
    return JobRow(
        id=int(d["id"]),
        status=d["status"],
        task=d.get("task") or "",
        prompt=d.get("prompt") or "",
        lane=d.get("lane") or "normal",
        position=int(d.get("position") or 0),
        seed=d.get("seed"),
        status_reason=d.get("status_reason"),
        cancel_requested=bool(d.get("cancel_requested")),
        progress=Progress(p.get("step"), p.get("total"), p.get("phase"), p.get("eta_s")),
        error=None
        if not err
        else JobError(err.get("kind"), err.get("message") or "", err.get("hint")),
        created_at=d.get("created_at"),
        started_at=d.get("started_at"),
        finished_at=d.get("finished_at"),
        request=_request(d.get("request")),
        plan=_plan(d.get("plan")),
    )


_mappings: tuple[PathMapping, ...] = ()


def set_path_mappings(mappings: tuple[PathMapping, ...]) -> None:
    """Where this machine sees the folders other machines' runners recorded (Settings →
    path_mappings). Process-wide like the settings it comes from: every row built afterwards
    carries local paths, so no view has to remember to map them."""
    global _mappings
    _mappings = tuple(mappings)


def generation_row(d: Mapping[str, Any]) -> GenerationRow:
    """From ``db.views.generation_to_dict``; file paths mapped to this machine's view."""
    recorded = d.get("video_path") or ""
    thumb = d.get("thumbnail_path")
    return GenerationRow(
        id=int(d["id"]),
        task=d.get("task") or "",
        prompt=d.get("prompt") or "",
        video_path=map_path(recorded, _mappings),
        recorded_path=recorded,
        seed=int(d.get("seed") or 0),
        width=int(d.get("width") or 0),
        height=int(d.get("height") or 0),
        frames=int(d.get("frames") or 0),
        fps=int(d.get("fps") or 0),
        final_prompt=d.get("final_prompt"),
        thumbnail_path=map_path(thumb, _mappings) if thumb else thumb,
        duration_s=d.get("duration_s"),
        timings=dict(d.get("timings") or {}),
        peak_memory_bytes=d.get("peak_memory_bytes"),
        model_path=d.get("model_path"),
        favourite=bool(d.get("favourite")),
        tags=tuple(d.get("tags") or ()),
        note=d.get("note"),
        created_at=d.get("created_at"),
        request=_request(d.get("request")),
        plan=_plan(d.get("plan")),
        how_made=tuple(how_made(d)),
    )
