"""What the first-run guide shows, decided without Qt or torch (tested as tables).

Whether each model fits comes from ``runtime.planning.plan_request`` with the official defaults of
the task and the probed hardware: the same function the Generate view's plan panel calls, so the
guide and the panel never disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from wan22_desktop.downloader.catalog import get_model
from wan22_desktop.request import GenerationRequest
from wan22_desktop.runtime.hardware import Hardware
from wan22_desktop.runtime.plan_view import placement_parts
from wan22_desktop.runtime.planner import InstalledModel, PlanError
from wan22_desktop.runtime.planning import plan_request

GUIDE_TASKS = ("ti2v-5B", "t2v-A14B", "i2v-A14B")
SKIPPED_STATE = "first_run_skipped"  # ui_state key: the user closed the guide once
DISK_MARGIN_BYTES = 5_000_000_000  # room left for outputs and .part files beyond the model
_NOT_INSTALLED = "model is not installed yet"

FIRST_PROMPTS: dict[str, dict[str, str]] = {
    "ti2v-5B": {
        "en": "A red fox trots through fresh snow in a birch forest at sunrise, soft light, "
        "tracking shot",
        "zh": "日出时分，一只红狐狸在白桦林的新雪中小跑，柔和的光线，跟随镜头",
    },
    "t2v-A14B": {
        "en": "Paper lanterns drift over a calm river at dusk, warm reflections on the water, "
        "slow push-in",
        "zh": "黄昏时分，纸灯笼飘过平静的河面，水面映出温暖的倒影，镜头缓慢推进",
    },
    "i2v-A14B": {
        "en": "The scene comes to life: a gentle breeze moves the leaves, the camera slowly "
        "pushes in",
        "zh": "画面动了起来：微风吹动树叶，镜头缓慢推进",
    },
}


@dataclass(frozen=True)
class ModelFit:
    """One model's line in the guide."""

    task: str
    title: str
    size_bytes: int  # catalogue size (the hub's figure replaces it once listed)
    fits: bool  # the planner found a way to run the default job here
    line: str  # the planner's words: how it runs, or why not
    hint: str | None  # what to do when it does not fit
    disk_ok: bool | None  # None: free space unknown
    installed: bool


def should_show(installed_tasks: Iterable[str], skipped: bool) -> bool:
    """Shown on start while no model is installed, unless the user skipped it before."""
    return not skipped and not any(t in GUIDE_TASKS for t in installed_tasks)


def has_cuda_gpu(hw: Hardware | None) -> bool:
    return hw is not None and bool(hw.gpus)


def disk_ok(free_bytes: int | None, size_bytes: int) -> bool | None:
    """Room for the model plus a margin; None when the free space is unknown."""
    if free_bytes is None:
        return None
    return free_bytes >= size_bytes + DISK_MARGIN_BYTES


def _same(text: str) -> str:
    return text


def fit(
    task: str, hw: Hardware, words: Callable[[str], str] = _same
) -> tuple[bool, str, str | None]:
    """(fits, one line from the planner, hint) for the task's default job on ``hw``; ``words``
    puts each of the planner's phrases in the user's language (the view passes ``tr_plan``)."""
    image = "start.png" if task == "i2v-A14B" else None  # only "has an image" reaches the plan
    request = GenerationRequest.for_task(task, prompt="first run", image=image)
    try:
        p = plan_request(request, hw, {})
    except PlanError as exc:
        return False, words(exc.message), words(exc.hint) if exc.hint else exc.hint
    line = words(", ").join(words(part) for part in placement_parts(p))
    if p.device != "cpu" and p.reasons.get("vram"):
        line += words("; ") + words(p.reasons["vram"])
    warnings = [words(w) for w in p.warnings if _NOT_INSTALLED not in w]
    if warnings:
        line += f" ({words('; ').join(warnings)})"
    return True, line, None


def model_fits(
    hw: Hardware,
    free_bytes: int | None,
    installed: Mapping[str, InstalledModel],
    tasks: Iterable[str] = GUIDE_TASKS,
    words: Callable[[str], str] = _same,
) -> list[ModelFit]:
    """The guide's rows, in catalogue order of ``tasks`` (``words``: as for ``fit``)."""
    rows = []
    for task in tasks:
        model = get_model(task)
        fits, line, hint = fit(task, hw, words)
        rows.append(
            ModelFit(
                task=task,
                title=model.title,
                size_bytes=model.fallback_size,
                fits=fits,
                line=line,
                hint=hint,
                disk_ok=disk_ok(free_bytes, model.fallback_size),
                installed=task in installed,
            )
        )
    return rows


def suggested_task(fits: Iterable[ModelFit]) -> str | None:
    """The installed model a first prompt should use: the first installed one, in guide order."""
    for row in fits:
        if row.installed:
            return row.task
    return None


def suggested_prompt(task: str, language: str) -> str:
    """A prompt that shows what the model does, in Chinese for a Chinese interface."""
    prompts = FIRST_PROMPTS.get(task, FIRST_PROMPTS["ti2v-5B"])
    return prompts["zh" if language.lower().startswith("zh") else "en"]
