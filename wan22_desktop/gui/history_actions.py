"""Pure helpers behind the history's actions and detail pane (no widgets, easy to test).

* ``next_clip_request``: "use the last frame as the image of a new I2V job".
* ``date_range``: the date filter's choices as UTC bounds.
* ``detail_html``: every stored parameter of a row, as the detail pane shows it.
"""

from __future__ import annotations

import html
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication

from wan22_desktop.db.base import utcnow
from wan22_desktop.request import GenerationRequest
from wan22_desktop.tasks import ImageUse, get_task

# A clip's last frame continues it: image tasks take it as is, text-only tasks hand over to their
# image twin (same size presets, same 14B family).
IMAGE_TASK_FOR = {"t2v-A14B": "i2v-A14B", "i2v-A14B": "i2v-A14B", "ti2v-5B": "ti2v-5B"}

translate = QCoreApplication.translate

DATE_CHOICES: dict[str, timedelta | None] = {
    "any": None,
    "today": timedelta(days=1),
    "week": timedelta(days=7),
    "month": timedelta(days=30),
}


def last_frame_path(data_dir: Path, generation_id: int) -> Path:
    """Where the extracted last frame of a generation goes (inside the data dir, fixed name)."""
    return data_dir / "frames" / f"generation-{int(generation_id)}-last.png"


def next_clip_request(previous: GenerationRequest, image: Path) -> GenerationRequest:
    """A request that starts from ``image`` (the previous clip's last frame): same prompt, size,
    length and quality, a fresh seed, and an image-capable task."""
    task = IMAGE_TASK_FOR.get(previous.task, "i2v-A14B")
    spec = get_task(task)
    assert spec.image is not ImageUse.REFUSED
    base = GenerationRequest.for_task(task)
    same_family = get_task(previous.task).is_moe == spec.is_moe
    return GenerationRequest.for_task(
        task,
        prompt=previous.prompt,
        negative_prompt=previous.negative_prompt,
        image=str(image),
        size=previous.size if previous.size in spec.supported_sizes else base.size,
        frame_num=previous.frame_num,
        seed=-1,
        solver=previous.solver,
        sample_steps=previous.sample_steps if same_family else base.sample_steps,
        prompt_extend=previous.prompt_extend,
        memory=previous.memory,
        gpus=previous.gpus,
        fps=previous.fps,
        output_format=previous.output_format,
    )


def date_range(choice: str, now: datetime | None = None) -> datetime | None:
    """The ``since`` bound (UTC) of a date choice; None for "any"."""
    delta = DATE_CHOICES[choice]
    return None if delta is None else (now or utcnow()) - delta


def human_bytes(n: float | None) -> str:
    if n is None:
        return "—"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def flatten(d: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """Nested request groups as dotted rows (``guidance.low``), sorted: one value per line."""
    out: list[tuple[str, Any]] = []
    for k, v in sorted(d.items()):
        if isinstance(v, dict):
            out += flatten(v, f"{prefix}{k}.")
        else:
            out.append((f"{prefix}{k}", v))
    return out


def detail_html(row: dict[str, Any]) -> str:
    """The detail pane for one row: prompts, every request field, plan, timings, peak memory."""
    e = html.escape
    parts: list[str] = []

    def section(title: str, items: list[tuple[str, Any]]) -> None:
        if not items:
            return
        cells = "".join(f"<tr><td><b>{e(k)}</b></td><td>{e(_fmt(v))}</td></tr>" for k, v in items)
        parts.append(f"<h4>{e(title)}</h4><table cellspacing='2'>{cells}</table>")

    def text_block(title: str, text: str | None) -> None:
        if text:
            parts.append(f"<h4>{e(title)}</h4><p>{e(text)}</p>")

    request = row.get("request") or {}
    text_block(translate("HistoryDetail", "Prompt"), row.get("prompt") or request.get("prompt"))
    if row.get("final_prompt") and row.get("final_prompt") != row.get("prompt"):
        text_block(translate("HistoryDetail", "Extended prompt"), row["final_prompt"])
    if row.get("kind") == "job":
        err = row.get("error") or {}
        section(
            translate("HistoryDetail", "Job"),
            [
                (translate("HistoryDetail", "Status"), row.get("status")),
                (translate("HistoryDetail", "Reason"), row.get("status_reason")),
                (translate("HistoryDetail", "Error"), err.get("message")),
                (translate("HistoryDetail", "Hint"), err.get("hint")),
                (translate("HistoryDetail", "Finished"), row.get("finished_at")),
            ],
        )
    else:
        section(
            translate("HistoryDetail", "Video"),
            [
                (translate("HistoryDetail", "File"), row.get("video_path")),
                (translate("HistoryDetail", "Size"), f"{row.get('width')}×{row.get('height')}"),
                (translate("HistoryDetail", "Frames"), row.get("frames")),
                (translate("HistoryDetail", "FPS"), row.get("fps")),
                (translate("HistoryDetail", "Duration (s)"), row.get("duration_s")),
                (translate("HistoryDetail", "Seed"), row.get("seed")),
                (translate("HistoryDetail", "Created"), row.get("created_at")),
                (translate("HistoryDetail", "Model folder"), row.get("model_path")),
                (
                    translate("HistoryDetail", "Peak memory"),
                    human_bytes(row.get("peak_memory_bytes")),
                ),
                (translate("HistoryDetail", "Tags"), ", ".join(row.get("tags") or [])),
                (translate("HistoryDetail", "Note"), row.get("note")),
            ],
        )
        timings = row.get("timings") or {}
        section(
            translate("HistoryDetail", "Timings (s)"), [(k, v) for k, v in sorted(timings.items())]
        )
    section(
        translate("HistoryDetail", "Parameters"),
        flatten({k: v for k, v in request.items() if k not in ("prompt", "schema_version")}),
    )
    plan = row.get("plan")
    if isinstance(plan, dict) and plan:
        # ``Plan.to_dict()``: scalar decisions, ``reasons`` {decision: why}, ``warnings`` [text].
        section(
            translate("HistoryDetail", "Plan"),
            [(k, v) for k, v in sorted(plan.items()) if k not in ("reasons", "warnings")],
        )
        reasons = plan.get("reasons") or {}
        if isinstance(reasons, dict) and reasons:
            items = "".join(
                f"<li><b>{e(str(k))}</b>: {e(_fmt(v))}</li>" for k, v in reasons.items()
            )
            why = translate("HistoryDetail", "Why")
            parts.append(f"<h4>{e(why)}</h4><ul>{items}</ul>")
        warnings = plan.get("warnings") or []
        if warnings:
            items = "".join(f"<li>{e(_fmt(w))}</li>" for w in warnings)
            title = translate("HistoryDetail", "Warnings")
            parts.append(f"<h4>{e(title)}</h4><ul>{items}</ul>")
    elif plan:
        section(translate("HistoryDetail", "Plan"), [("plan", plan)])
    return "".join(parts)
