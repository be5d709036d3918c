"""ORM tables of the queue and the history. Portable SQLAlchemy: nothing here is SQLite-only.

Objects returned by ``db.queue`` and ``db.history`` are detached snapshots (sessions do not expire
them on commit), so the GUI and CLI may read their attributes after the session has closed.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from wan22_desktop.db import downloads as _downloads  # noqa: F401 - registers the download tables
from wan22_desktop.db.base import Base, utcnow

# Job statuses. "interrupted": a runner died while running it too often to requeue it again.
QUEUED, RUNNING, DONE, FAILED, CANCELLED, INTERRUPTED = (
    "queued",
    "running",
    "done",
    "failed",
    "cancelled",
    "interrupted",
)
JOB_STATUSES = (QUEUED, RUNNING, DONE, FAILED, CANCELLED, INTERRUPTED)
FINISHED_STATUSES = (DONE, FAILED, CANCELLED, INTERRUPTED)
RETRYABLE_STATUSES = (FAILED, CANCELLED, INTERRUPTED)

# Lanes are stored as a rank so that one ORDER BY (priority, position) gives the run order.
LANES = {"now": 0, "normal": 1}
LANE_NAMES = {v: k for k, v in LANES.items()}


class Job(Base):
    """One queued generation: the request plus everything the runner reports about it."""

    __tablename__ = "jobs"
    # AUTOINCREMENT on SQLite (migration 0003): an id is never handed out again after a delete.
    __table_args__ = (
        Index("ix_jobs_claim", "status", "priority", "position"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_json: Mapped[str] = mapped_column(Text)
    task: Mapped[str] = mapped_column(String(32))
    prompt: Mapped[str] = mapped_column(
        Text, default=""
    )  # for display; the request holds the truth
    status: Mapped[str] = mapped_column(String(20), default=QUEUED)
    status_reason: Mapped[str | None] = mapped_column(
        Text, nullable=True
    )  # e.g. why it was requeued
    priority: Mapped[int] = mapped_column(Integer, default=LANES["normal"])
    position: Mapped[int] = mapped_column(Integer, default=0)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # times a runner started it
    interruptions: Mapped[int] = mapped_column(Integer, default=0)  # times a runner died running it
    runner_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True, index=True)
    progress_step: Mapped[int | None] = mapped_column(Integer, nullable=True)
    progress_total: Mapped[int | None] = mapped_column(Integer, nullable=True)
    progress_phase: Mapped[str | None] = mapped_column(String(40), nullable=True)
    progress_eta_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    plan_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    error_kind: Mapped[str | None] = mapped_column(String(40), nullable=True)
    error_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    error_hint: Mapped[str | None] = mapped_column(Text, nullable=True)
    generation_id: Mapped[int | None] = mapped_column(
        ForeignKey("generations.id", ondelete="SET NULL"), nullable=True
    )

    @property
    def lane(self) -> str:
        return LANE_NAMES.get(self.priority, str(self.priority))

    @property
    def request_dict(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.request_json)
        return loaded

    @property
    def plan(self) -> dict[str, Any] | None:
        return json.loads(self.plan_json) if self.plan_json else None


class Generation(Base):
    """One finished video in the history."""

    __tablename__ = "generations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_json: Mapped[str] = mapped_column(Text)
    task: Mapped[str] = mapped_column(String(32), index=True)
    prompt: Mapped[str] = mapped_column(Text, default="")
    final_prompt: Mapped[str | None] = mapped_column(Text, nullable=True)  # after prompt extension
    seed: Mapped[int] = mapped_column(BigInteger)
    video_path: Mapped[str] = mapped_column(Text)
    thumbnail_path: Mapped[str | None] = mapped_column(Text, nullable=True)
    frames: Mapped[int] = mapped_column(Integer, default=0)
    width: Mapped[int] = mapped_column(Integer, default=0)
    height: Mapped[int] = mapped_column(Integer, default=0)
    fps: Mapped[float] = mapped_column(Float, default=0.0)
    duration_s: Mapped[float] = mapped_column(Float, default=0.0)
    timings_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    plan_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    peak_memory_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    model_path: Mapped[str | None] = mapped_column(Text, nullable=True)
    model_task: Mapped[str | None] = mapped_column(String(32), nullable=True)
    favourite: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    tags_json: Mapped[str] = mapped_column(Text, default="[]")
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)

    @property
    def tags(self) -> list[str]:
        return list(json.loads(self.tags_json or "[]"))

    @property
    def request_dict(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.request_json)
        return loaded

    @property
    def timings(self) -> dict[str, Any]:
        return json.loads(self.timings_json) if self.timings_json else {}


class SettingKV(Base):
    """Optional key/value settings store (settings live in a JSON file by default)."""

    __tablename__ = "settings_kv"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value_json: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class QueueState(Base):
    """Queue-wide switches; a single row with id 1."""

    __tablename__ = "queue_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    paused_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class RunnerLease(Base):
    """Who runs the queue: one row per queue name; a holder must heartbeat before ``expires_at``."""

    __tablename__ = "runner_lease"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    acquired_at: Mapped[datetime] = mapped_column(DateTime)
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)


class Runner(Base):
    """A runner that works the queue: who it is, what it can run, and its own lease.

    On a shared (PostgreSQL) queue every runner holds its own row and heartbeats it; a runner
    whose row has expired (or whose process is gone on this host) is dead, and any other runner
    requeues its job. On SQLite the row only describes the one runner that holds ``runner_lease``.
    """

    __tablename__ = "runners"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)  # RunnerIdentity.holder
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    version: Mapped[str] = mapped_column(String(40))
    gpus_json: Mapped[str] = mapped_column(Text, default="[]")  # [{"name": .., "vram_bytes": ..}]
    vram_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # largest GPU
    models_json: Mapped[str] = mapped_column(Text, default="[]")  # installed tasks
    # How it uses the GPUs: "throughput" (one runner per GPU), "latency", "auto"; NULL: older.
    mode: Mapped[str | None] = mapped_column(String(20), nullable=True)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)

    @property
    def gpus(self) -> list[dict[str, Any]]:
        return list(json.loads(self.gpus_json or "[]"))

    @property
    def models(self) -> list[str]:
        return list(json.loads(self.models_json or "[]"))
