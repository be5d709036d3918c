"""Plain-dict views of rows, for ``--json`` output, logs and the GUI's models (JSON-safe values)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from wan22_desktop.db.models import Generation, Job


def _ts(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="seconds") + "Z"


def job_seed(job: Job) -> int | None:
    seed = job.request_dict.get("seed")
    return seed if isinstance(seed, int) else None


def job_to_dict(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "status": job.status,
        "status_reason": job.status_reason,
        "lane": job.lane,
        "position": job.position,
        "task": job.task,
        "prompt": job.prompt,
        "seed": job_seed(job),
        "attempts": job.attempts,
        "interruptions": job.interruptions,
        "cancel_requested": job.cancel_requested,
        "runner_id": job.runner_id,
        "progress": {
            "step": job.progress_step,
            "total": job.progress_total,
            "phase": job.progress_phase,
            "eta_s": job.progress_eta_s,
        },
        "error": None
        if job.error_message is None
        else {"kind": job.error_kind, "message": job.error_message, "hint": job.error_hint},
        "generation_id": job.generation_id,
        "created_at": _ts(job.created_at),
        "started_at": _ts(job.started_at),
        "finished_at": _ts(job.finished_at),
        "request": job.request_dict,
        "plan": job.plan,
    }


def generation_to_dict(gen: Generation) -> dict[str, Any]:
    return {
        "id": gen.id,
        "task": gen.task,
        "prompt": gen.prompt,
        "final_prompt": gen.final_prompt,
        "seed": gen.seed,
        "video_path": gen.video_path,
        "thumbnail_path": gen.thumbnail_path,
        "frames": gen.frames,
        "width": gen.width,
        "height": gen.height,
        "fps": gen.fps,
        "duration_s": gen.duration_s,
        "timings": gen.timings,
        "plan": json.loads(gen.plan_json) if gen.plan_json else None,
        "peak_memory_bytes": gen.peak_memory_bytes,
        "model_path": gen.model_path,
        "model_task": gen.model_task,
        "favourite": gen.favourite,
        "tags": gen.tags,
        "note": gen.note,
        "created_at": _ts(gen.created_at),
        "request": gen.request_dict,
    }
