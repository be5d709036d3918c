"""Pure helpers behind the history's actions and detail pane (no widgets, easy to test).

* ``next_clip_request``: "use the last frame as the image of a new I2V job".
* ``date_range``: the date filter's choices as UTC bounds.
* ``detail_html``: every stored parameter of a row, as the detail pane shows it.
* ``how_made_html``: the collapsible "How it was made" section (``services.how_made``), translated.
"""

from __future__ import annotations

import html
import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication

from wan22_desktop.gui.i18n import QT_TRANSLATE_NOOP
from wan22_desktop.gui.plan_text import LIST_SEPARATOR, qt_tr, tr_plan
from wan22_desktop.request import GenerationRequest
from wan22_desktop.services.history import utcnow
from wan22_desktop.services.how_made import Line, how_made
from wan22_desktop.services.rows import HistoryRow, JobRow
from wan22_desktop.tasks import ImageUse, get_task
from wan22_desktop.units import format_bytes

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
    """Binary units (1 KiB = 1024 B): it shows memory; "—" when nothing was measured."""
    return "—" if n is None else format_bytes(n, binary=True)


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def lora_rows(loras: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    """One row per LoRA: file name, then strengths per expert and the start of its hash."""
    return [
        (
            Path(str(x.get("path", ""))).name,
            f"high {_fmt(float(x.get('strength_high', 0)))}, "
            f"low {_fmt(float(x.get('strength_low', 0)))}, sha256 {str(x.get('sha256', ''))[:12]}",
        )
        for x in loras
    ]


def flatten(d: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """Nested request groups as dotted rows (``guidance.low``), sorted: one value per line."""
    out: list[tuple[str, Any]] = []
    for k, v in sorted(d.items()):
        if isinstance(v, dict):
            out += flatten(v, f"{prefix}{k}.")
        else:
            out.append((f"{prefix}{k}", v))
    return out


def detail_html(row: HistoryRow, how_made: str = "") -> str:
    """The detail pane for one row: prompts, then ``how_made`` (``how_made_html``), then every
    request field, plan, timings, peak memory."""
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

    request = row.request.to_dict() if row.request is not None else {}
    text_block(translate("HistoryDetail", "Prompt"), row.prompt or request.get("prompt"))
    if isinstance(row, JobRow):
        err = row.error
        section(
            translate("HistoryDetail", "Job"),
            [
                (translate("HistoryDetail", "Status"), row.status),
                (translate("HistoryDetail", "Reason"), row.status_reason),
                (translate("HistoryDetail", "Error"), err.message if err else None),
                (translate("HistoryDetail", "Hint"), err.hint if err else None),
                (translate("HistoryDetail", "Finished"), row.finished_at),
            ],
        )
        parts.append(how_made)
    else:
        if row.final_prompt and row.final_prompt != row.prompt:
            text_block(translate("HistoryDetail", "Extended prompt"), row.final_prompt)
        parts.append(how_made)
        section(
            translate("HistoryDetail", "Video"),
            [
                (translate("HistoryDetail", "File"), row.video_path),
                (translate("HistoryDetail", "Size"), f"{row.width}×{row.height}"),
                (translate("HistoryDetail", "Frames"), row.frames),
                (translate("HistoryDetail", "FPS"), row.fps),
                (translate("HistoryDetail", "Duration (s)"), row.duration_s),
                (translate("HistoryDetail", "Seed"), row.seed),
                (translate("HistoryDetail", "Created"), row.created_at),
                (translate("HistoryDetail", "Model folder"), row.model_path),
                (translate("HistoryDetail", "Peak memory"), human_bytes(row.peak_memory_bytes)),
                (translate("HistoryDetail", "Tags"), ", ".join(row.tags)),
                (translate("HistoryDetail", "Note"), row.note),
            ],
        )
        section(translate("HistoryDetail", "Timings (s)"), sorted(row.timings.items()))
    section(
        translate("HistoryDetail", "Parameters"),
        flatten(
            {k: v for k, v in request.items() if k not in ("prompt", "schema_version", "loras")}
        ),
    )
    if request.get("loras"):
        section(translate("HistoryDetail", "LoRAs"), lora_rows(request["loras"]))
    if row.plan is not None:
        plan = row.plan.to_dict()
        section(
            translate("HistoryDetail", "Plan"),
            [(k, v) for k, v in sorted(plan.items()) if k not in ("reasons", "warnings")],
        )
        if row.plan.reasons:
            items = "".join(
                f"<li><b>{e(k)}</b>: {e(tr_plan(_fmt(v)))}</li>"
                for k, v in row.plan.reasons.items()
            )
            why = translate("HistoryDetail", "Why")
            parts.append(f"<h4>{e(why)}</h4><ul>{items}</ul>")
        if row.plan.warnings:
            items = "".join(f"<li>{e(tr_plan(w))}</li>" for w in row.plan.warnings)
            title = translate("HistoryDetail", "Warnings")
            parts.append(f"<h4>{e(title)}</h4><ul>{items}</ul>")
    return "".join(parts)


# ---- "How it was made"

HOW_MADE = "HowMade"
HOW_MADE_LINK = "howmade:toggle"
# Every template of ``services.how_made.TEMPLATES``, for pyside6-lupdate (a test keeps them equal).
HOW_MADE_TEMPLATES: tuple[str, ...] = (
    QT_TRANSLATE_NOOP("HowMade", "Model"),
    QT_TRANSLATE_NOOP("HowMade", "Placement"),
    QT_TRANSLATE_NOOP("HowMade", "Memory savers"),
    QT_TRANSLATE_NOOP("HowMade", "Precision"),
    QT_TRANSLATE_NOOP("HowMade", "Steps"),
    QT_TRANSLATE_NOOP("HowMade", "Steps by expert"),
    QT_TRANSLATE_NOOP("HowMade", "Phase {n}"),
    QT_TRANSLATE_NOOP("HowMade", "Turbo (step caching)"),
    QT_TRANSLATE_NOOP("HowMade", "Guidance"),
    QT_TRANSLATE_NOOP("HowMade", "LoRA"),
    QT_TRANSLATE_NOOP("HowMade", "Attention"),
    QT_TRANSLATE_NOOP("HowMade", "Seed"),
    QT_TRANSLATE_NOOP("HowMade", "Time"),
    QT_TRANSLATE_NOOP("HowMade", "Peak memory"),
    QT_TRANSLATE_NOOP("HowMade", "Planned memory"),
    QT_TRANSLATE_NOOP("HowMade", "not recorded"),
    QT_TRANSLATE_NOOP("HowMade", "none"),
    QT_TRANSLATE_NOOP("HowMade", "{n} steps"),
    QT_TRANSLATE_NOOP("HowMade", "solver {solver}"),
    QT_TRANSLATE_NOOP("HowMade", "shift {shift}"),
    QT_TRANSLATE_NOOP("HowMade", "high-noise {steps}"),
    QT_TRANSLATE_NOOP("HowMade", "low-noise {steps}"),
    QT_TRANSLATE_NOOP("HowMade", "one model {steps}"),
    QT_TRANSLATE_NOOP("HowMade", "{expert} {steps}"),
    QT_TRANSLATE_NOOP("HowMade", "steps {steps}"),
    QT_TRANSLATE_NOOP("HowMade", "high-noise"),
    QT_TRANSLATE_NOOP("HowMade", "low-noise"),
    QT_TRANSLATE_NOOP("HowMade", "one model"),
    QT_TRANSLATE_NOOP("HowMade", "guidance {g}"),
    QT_TRANSLATE_NOOP("HowMade", "LoRAs on"),
    QT_TRANSLATE_NOOP("HowMade", "LoRAs off"),
    QT_TRANSLATE_NOOP("HowMade", "skipped {n} of {total} steps: {steps}"),
    QT_TRANSLATE_NOOP("HowMade", "on (threshold {t}), no step skipped"),
    QT_TRANSLATE_NOOP("HowMade", "high-noise {g}"),
    QT_TRANSLATE_NOOP("HowMade", "low-noise {g}"),
    QT_TRANSLATE_NOOP("HowMade", "warm-up: {n} steps at {g}"),
    QT_TRANSLATE_NOOP("HowMade", "warm-up: {n} steps"),
    QT_TRANSLATE_NOOP("HowMade", "high-noise {s}"),
    QT_TRANSLATE_NOOP("HowMade", "low-noise {s}"),
    QT_TRANSLATE_NOOP("HowMade", "strength {s}"),
    QT_TRANSLATE_NOOP("HowMade", "fell back to PyTorch SDPA: {why}"),
    QT_TRANSLATE_NOOP("HowMade", "loading {s} s"),
    QT_TRANSLATE_NOOP("HowMade", "prompt extension {s} s"),
    QT_TRANSLATE_NOOP("HowMade", "text encoding {s} s"),
    QT_TRANSLATE_NOOP("HowMade", "sampling {s} s"),
    QT_TRANSLATE_NOOP("HowMade", "decoding {s} s"),
    QT_TRANSLATE_NOOP("HowMade", "saving {s} s"),
    QT_TRANSLATE_NOOP("HowMade", "total {s} s"),
    QT_TRANSLATE_NOOP("HowMade", "{phase} {s} s"),
    QT_TRANSLATE_NOOP("HowMade", "{s} s per step"),
    QT_TRANSLATE_NOOP("HowMade", "about {vram} GiB VRAM per GPU, {ram} GiB RAM"),
)


def job_how_made(row: JobRow) -> list[Line]:
    """What a failed or cancelled job asked for and how it was planned (nothing ran to record)."""
    return how_made(
        {
            "id": row.id,
            "task": row.task,
            "seed": row.seed,
            "request": row.request.to_dict() if row.request is not None else None,
            "plan": row.plan.to_dict() if row.plan is not None else None,
        },
        finished=False,
    )


# "80.0 s", "30.0 GiB", "80.0 秒" stay on one line when the pane wraps.
_UNIT_SPACE = re.compile(r"(?<=\d) (?=(?:s|GiB|MiB|秒)(?:\W|$))")


def _keep_units(text: str) -> str:
    return _UNIT_SPACE.sub("\u00a0", text)


def _how_tr(source: str) -> str:
    return translate(HOW_MADE, source)


def how_made_html(lines: tuple[Line, ...] | list[Line], *, expanded: bool) -> str:
    """The section's header (a link that opens or closes it) and, when open, one row per line;
    "" when the row has nothing recorded to show."""
    if not lines:
        return ""
    e = html.escape
    arrow = "▾" if expanded else "▸"
    title = translate("HistoryDetail", "How it was made")
    head = f"<h4><a href='{HOW_MADE_LINK}'>{arrow} {e(title)}</a></h4>"
    if not expanded:
        return head
    sep = qt_tr(LIST_SEPARATOR)
    cells = "".join(
        f"<tr><td><b>{e(line.label.render(_how_tr))}</b></td>"
        f"<td>{e(_keep_units(sep.join(p.render(_how_tr, tr_plan) for p in line.phrases)))}</td>"
        "</tr>"
        for line in lines
    )
    return f"{head}<table cellspacing='2'>{cells}</table>"
