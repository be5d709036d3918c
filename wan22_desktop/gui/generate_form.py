"""The Generate form's values and the pure rules that turn them into a ``GenerationRequest``.

No Qt here: the view reads its widgets into ``FormValues`` and calls these functions, so the
rules (quality presets, Auto task, output size for an image, plan preview) are tested as tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from wan22_desktop.errors import CheckpointError, UserInputError
from wan22_desktop.presets import Preset, all_presets
from wan22_desktop.request import GenerationRequest, Guidance, MemoryOptions, PromptExtendOptions
from wan22_desktop.runtime.hardware import Hardware
from wan22_desktop.runtime.planner import InstalledModel, Plan, PlanError
from wan22_desktop.runtime.planning import plan_request
from wan22_desktop.services.render_eta import EtaEstimate, estimate, forwards_per_step
from wan22_desktop.sizes import best_output_size, i2v_output_size
from wan22_desktop.tasks import SIZE_AREAS, ImageUse, get_task, parse_size

AUTO = "auto"
TASK_CHOICES = (AUTO, "t2v-A14B", "i2v-A14B", "ti2v-5B")
AUTO_SIZES = ("1280*720", "720*1280", "832*480", "480*832")
QUALITY_PRESETS = ("draft", "standard", "official")
# Share of the official step count: fewer steps render proportionally faster, with less detail.
QUALITY_FRACTION = {"draft": 0.4, "standard": 0.7, "official": 1.0}
# Step-caching threshold the Turbo switch starts from (0.02-0.2 are the values in use, tasks.py)
STEP_CACHE_DEFAULT = 0.05
SIZE_NAMES = {
    "1280*720": "720p landscape",
    "720*1280": "720p portrait",
    "832*480": "480p landscape",
    "480*832": "480p portrait",
    "1280*704": "720p landscape",
    "704*1280": "720p portrait",
}


@dataclass(frozen=True)
class FormValues:
    """Everything the form holds; ``None`` means "the task's default"."""

    task: str = "ti2v-5B"  # a task name or "auto"
    prompt: str = ""
    negative_prompt: str | None = None
    image: str | None = None
    size: str | None = None
    frame_num: int | None = None
    quality: str = "official"
    steps: int | None = None  # set: overrides the quality preset
    guidance_low: float | None = None
    guidance_high: float | None = None
    shift: float | None = None
    solver: str = "unipc"
    seed: int = -1
    extend_enabled: bool = False
    extend_method: str = "local_qwen"
    extend_lang: str = "zh"
    offload_model: str = "auto"
    convert_model_dtype: str = "auto"
    t5_cpu: str = "auto"
    vram_headroom: int = 0  # percent of the GPU the plan leaves free (the OOM fallback's)
    gpus: int | None = None
    count: int = 1
    random_seeds: bool = False
    # LoRAs: (path, strength on the high-noise expert, on the low-noise one); one model: high
    loras: tuple[tuple[str, float, float], ...] = ()
    switch_step: int | None = None  # A14B expert switch as a step; None: the official boundary
    step_cache: float = 0.0  # step caching ("Turbo") threshold; 0: off
    # A14B guided warm-up (three-phase Lightning presets; no widget: the preset or request sets it)
    warmup_steps: int = 0
    warmup_guidance: float | None = None

    def to_state(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_state(cls, data: Mapping[str, Any] | None) -> FormValues:
        """Last-used values from UI state; unknown or mistyped entries are dropped, not fatal."""
        if not isinstance(data, Mapping):
            return cls()
        known = {f.name: f for f in fields(cls)}
        clean = {k: v for k, v in data.items() if k in known and _fits(known[k].type, v)}
        if clean.get("task") not in TASK_CHOICES:
            clean.pop("task", None)
        if "loras" in clean:
            clean["loras"] = _lora_rows(clean["loras"])
        try:
            return cls(**clean)
        except TypeError:
            return cls()


_SCALARS = {"str": (str,), "int": (int,), "float": (int, float), "bool": (bool,)}


def _fits(annotation: object, value: object) -> bool:
    """Whether a saved value has its field's scalar type (``X`` or ``X | None``); composite
    fields are checked by their own parsers. Widgets given the wrong type raise inside Qt."""
    kinds = [k.strip() for k in str(annotation).split("|")]
    if value is None:
        return "None" in kinds
    scalars = [_SCALARS[k] for k in kinds if k in _SCALARS]
    if not scalars:
        return True
    if isinstance(value, bool) and "bool" not in kinds:
        return False  # JSON true is not a count
    return any(isinstance(value, t) for group in scalars for t in group)


@dataclass(frozen=True)
class Preview:
    """What the plan panel shows for the current form."""

    request: GenerationRequest | None = None
    error: UserInputError | None = None  # blocks queueing (invalid form)
    warnings: tuple[str, ...] = ()
    plan: Plan | None = None
    plan_error: UserInputError | None = None  # the plan panel's error (no model, nothing fits)
    eta: EtaEstimate | None = None
    output_size: tuple[int, int] | None = None
    task_reason: str = ""  # why Auto chose its task
    missing_downloads: tuple[str, ...] = ()  # catalogue keys of the chosen Fast preset's LoRAs

    @property
    def blocked(self) -> bool:
        """Queueing is off while the form is invalid or the plan panel shows an error."""
        return self.error is not None or self.plan_error is not None


def _lora_rows(value: Any) -> tuple[tuple[str, float, float], ...]:
    """Saved LoRA rows (JSON lists); malformed rows are dropped."""
    out = []
    for row in value if isinstance(value, (list, tuple)) else ():
        try:
            path, high, low = row
            out.append((str(path), float(high), float(low)))
        except (TypeError, ValueError):
            continue
    return tuple(out)


def lora_refs(rows: tuple[tuple[str, float, float], ...], moe: bool) -> list[dict[str, Any]]:
    """The request's ``loras`` for the form's rows (each file hashed; cached by mtime). A missing
    file is the request rules' error, shown on the LoRA list."""
    from wan22_desktop.lora_library import sha256_file

    out: list[dict[str, Any]] = []
    for path, high, low in rows:
        try:
            digest = sha256_file(path)
        except OSError:
            raise UserInputError(
                f"LoRA file {path} is missing", "remove it from the list", field="loras"
            ) from None
        out.append(
            {
                "path": path,
                "sha256": digest,
                "strength_high": high,
                "strength_low": low if moe else high,
            }
        )
    return out


def steps_for(task: str, quality: str) -> int:
    official = get_task(task).sample_steps
    preset = fast_preset(task, quality)
    if preset is not None:
        return int(preset.fields.get("sample_steps", official))
    return max(1, round(official * QUALITY_FRACTION.get(quality, 1.0)))


# ---- Fast presets (resources/presets.json): offered beside the quality presets for their task


def fast_preset(task: str, quality: str) -> Preset | None:
    """The preset ``quality`` names, when it is made for ``task``; None for draft/standard/official
    (and for a preset of another task, which the form does not offer)."""
    preset = all_presets().get(quality)
    return preset if preset is not None and preset.task == task else None


def quality_choices(task: str) -> tuple[str, ...]:
    """The Quality list for ``task``: the step fractions, then the Fast presets made for it."""
    return QUALITY_PRESETS + tuple(n for n, p in all_presets().items() if p.task == task)


def preset_lora_rows(preset: Preset, lora_dir: Path) -> tuple[tuple[str, float, float], ...]:
    """The LoRA picker's rows for a preset's files (where ``models download`` puts them)."""
    return tuple((str(x.path(lora_dir)), x.strength_high, x.strength_low) for x in preset.loras)


def _all_preset_paths(lora_dir: Path) -> set[str]:
    return {row[0] for p in all_presets().values() for row in preset_lora_rows(p, lora_dir)}


def choose_quality(values: FormValues, task: str, quality: str, lora_dir: Path) -> FormValues:
    """The form after the user picks ``quality``.

    A Fast preset fills steps, solver, shift, guidance, switch step and its LoRAs (the user can
    edit them afterwards) and turns step caching off when it is step-distilled. Leaving a preset
    puts the task's defaults back and drops the preset's LoRA rows; the user's own rows stay.
    """
    own_rows = tuple(r for r in values.loras if r[0] not in _all_preset_paths(lora_dir))
    preset = fast_preset(task, quality)
    if preset is not None:
        f = preset.fields
        spec = get_task(task)
        guidance = f.get("guidance") or {}
        return replace(
            values,
            quality=quality,
            steps=None,
            solver=str(f.get("solver", values.solver)),
            shift=float(f.get("sample_shift", spec.sample_shift)),
            guidance_low=float(guidance.get("low", spec.guidance[0])),
            guidance_high=float(guidance.get("high", spec.guidance[1])),
            switch_step=f.get("switch_step"),
            step_cache=0.0 if preset.distilled else values.step_cache,
            loras=preset_lora_rows(preset, lora_dir) + own_rows,
            **warmup_fields(preset),
        )
    if fast_preset(task, values.quality) is None:
        return replace(values, quality=quality)
    spec = get_task(task)
    return replace(
        values,
        quality=quality,
        steps=None,
        solver=FormValues.solver,
        shift=spec.sample_shift,
        guidance_low=spec.guidance[0],
        guidance_high=spec.guidance[1],
        switch_step=None,
        loras=own_rows,
        **warmup_fields(None),
    )


def missing_downloads(values: FormValues, task: str, lora_dir: Path | None) -> tuple[str, ...]:
    """Catalogue keys to download for the chosen Fast preset's LoRA rows that are not on disk."""
    preset = fast_preset(task, values.quality)
    if preset is None or lora_dir is None:
        return ()
    rows = {r[0] for r in values.loras}
    keys = [
        x.catalog
        for x in preset.loras
        if str(x.path(lora_dir)) in rows and not x.path(lora_dir).is_file()
    ]
    return tuple(dict.fromkeys(keys))


def step_cache_refusal(task: str, quality: str, steps: int | None = None) -> str | None:
    """Why step caching cannot be used with this quality and step count: the request rules'
    own message (a step-distilled preset, too few steps), or None when it can."""
    if task == AUTO:
        return None
    preset = fast_preset(task, quality)
    probe = GenerationRequest.for_task(
        task,
        prompt="-",
        sample_steps=steps or steps_for(task, quality),
        preset=preset.name if preset else None,
        step_cache=STEP_CACHE_DEFAULT,
    )
    try:
        probe.validate()  # the speed rules run before the image and file checks
    except UserInputError as exc:
        return exc.message if exc.field == "step_cache" else None
    return None


def sizes_for(task: str) -> tuple[str, ...]:
    return AUTO_SIZES if task == AUTO else get_task(task).supported_sizes


def default_size(task: str) -> str:
    return "1280*720" if task == AUTO else get_task(task).default_size


def fps_for(task: str) -> int:
    return 16 if task == AUTO else get_task(task).fps


def takes_image(task: str) -> bool:
    return task == AUTO or get_task(task).image is not ImageUse.REFUSED


def output_size(task: str, size: str, image_wh: tuple[int, int] | None) -> tuple[int, int]:
    """The video's size: the preset, or for a start image the official area-keeping rules."""
    w, h = parse_size(size)
    if image_wh is None or task == "t2v-A14B":
        return w, h
    area = SIZE_AREAS.get(f"{w}*{h}", w * h)
    if task == "i2v-A14B":
        return i2v_output_size(image_wh[0], image_wh[1], area)
    if task == "ti2v-5B":
        return best_output_size(image_wh[0], image_wh[1], area)
    return w, h


def aspect_text(w: int, h: int) -> str:
    from math import gcd

    g = gcd(w, h) or 1
    a, b = w // g, h // g
    if a > 32 or b > 32:
        return f"{w / h:.2f}:1"
    return f"{a}:{b}"


def build_request(values: FormValues, task: str, *, size: str | None = None) -> GenerationRequest:
    """The request for a concrete ``task`` (Auto resolved); advanced fields fall back to defaults."""
    spec = get_task(task)
    low = values.guidance_low if values.guidance_low is not None else spec.guidance[0]
    high = values.guidance_high if values.guidance_high is not None else spec.guidance[1]
    if not spec.is_moe:
        high = low
    image = values.image if spec.image is not ImageUse.REFUSED else None
    return GenerationRequest.for_task(
        task,
        prompt=values.prompt.strip(),
        negative_prompt=values.negative_prompt,
        image=image or None,
        size=size or values.size or spec.default_size,
        frame_num=values.frame_num or spec.frame_num,
        sample_steps=values.steps or steps_for(task, values.quality),
        sample_shift=values.shift if values.shift is not None else spec.sample_shift,
        guidance=Guidance(low, high),
        solver=values.solver,
        seed=values.seed,
        prompt_extend=PromptExtendOptions(
            enabled=values.extend_enabled,
            method=values.extend_method,
            target_lang=values.extend_lang,
        ),
        memory=MemoryOptions(
            values.offload_model, values.convert_model_dtype, values.t5_cpu, values.vram_headroom
        ),
        gpus=values.gpus,
        loras=lora_refs(values.loras, spec.is_moe),
        switch_step=values.switch_step if spec.is_moe else None,
        step_cache=values.step_cache,
        preset=preset.name if (preset := fast_preset(task, values.quality)) else None,
        warmup_steps=values.warmup_steps if spec.is_moe else 0,
        warmup_guidance=values.warmup_guidance if spec.is_moe and values.warmup_steps else None,
    )


def warmup_fields(preset: Preset | None) -> dict[str, Any]:
    """The guided warm-up a Fast preset sets (three-phase Lightning); off for the others."""
    f = preset.fields if preset is not None else {}
    return {
        "warmup_steps": int(f.get("warmup_steps", 0)),
        "warmup_guidance": f.get("warmup_guidance"),
    }


def missing_model_error(task: str) -> CheckpointError:
    """The plan panel's error for a task whose checkpoint folder is not installed."""
    return CheckpointError(
        f"the {task} model is not installed",
        f"download or import it in the Models view, or run `wan22 models download {task}`",
    )


def preview(
    values: FormValues,
    hw: Hardware | None,
    installed: Mapping[str, InstalledModel],
    image_wh: tuple[int, int] | None = None,
    lora_dir: Path | None = None,
    gpu_mode: str = "auto",
) -> Preview:
    """Validate the form and plan it on this machine: everything the plan panel shows.

    The plan comes from ``runtime.planning.plan_request`` with the runner's inputs (the request,
    the probed hardware, ``installed_models(db)``), so the preview shows what the queue will run.
    ``lora_dir``: where a Fast preset's LoRAs are downloaded (missing ones block queueing).
    ``gpu_mode``: the GUI runner's (Settings), so a "latency" runner's plan spans every GPU here.
    """
    task_reason = ""
    size = values.size or default_size(values.task)
    frames = values.frame_num or (81 if values.task == AUTO else get_task(values.task).frame_num)
    values = replace(values, frame_num=frames)
    task = values.task
    if task == AUTO:
        if hw is None:
            return Preview(
                error=UserInputError(
                    "Auto needs to know this machine's GPUs", "the hardware check is still running"
                )
            )
        try:
            auto_plan = plan_request(_auto_draft(values, size), hw, installed, gpu_mode=gpu_mode)
        except (PlanError, UserInputError) as exc:
            return Preview(error=exc, plan_error=exc)
        task = auto_plan.task
        task_reason = auto_plan.reasons.get("task", "")
        w, h = parse_size(size)
        if (auto_plan.width, auto_plan.height) != (w, h):
            size = f"{auto_plan.width}*{auto_plan.height}"
    draft: GenerationRequest | None = None
    missing_keys = missing_downloads(values, task, lora_dir)
    try:
        if missing_keys:
            raise _missing_loras_error(task, values.quality, missing_keys)
        draft = build_request(values, task, size=size)
        warnings = tuple(draft.validate())
    except UserInputError as exc:
        # The form is not valid yet, but the machine side (model, memory) can still be shown.
        result = Preview(error=exc, task_reason=task_reason, missing_downloads=missing_keys)
        if missing_keys:  # plan without the missing files, so the machine side still shows
            on_disk = tuple(r for r in values.loras if Path(r[0]).is_file())
            try:
                draft = build_request(replace(values, loras=on_disk), task, size=size)
            except UserInputError:
                draft = None
    else:
        out = output_size(task, draft.size, image_wh if draft.image else None)
        result = Preview(request=draft, warnings=warnings, output_size=out, task_reason=task_reason)
    missing = None if task in installed else missing_model_error(task)
    if hw is None or draft is None:
        return replace(result, plan_error=missing)
    try:
        p = plan_request(draft, hw, installed, gpu_mode=gpu_mode)
    except (PlanError, UserInputError) as exc:
        return replace(result, plan_error=missing or exc)
    eta = None
    if result.request is not None and p.device == "cuda" and hw.gpus:
        out = result.output_size or (p.width, p.height)
        eta = estimate(
            task,
            out[0],
            out[1],
            frames,
            draft.sample_steps,
            p.nproc,
            hw.gpus[0].name,
            forwards_per_step=forwards_per_step(draft),
        )
    return replace(result, plan=p, plan_error=missing, eta=eta)


def _missing_loras_error(task: str, quality: str, keys: tuple[str, ...]) -> UserInputError:
    preset = fast_preset(task, quality)
    name = preset.name if preset else quality
    return UserInputError(
        f"the {name} preset's LoRA files are not downloaded yet",
        "download them (" + ", ".join(f"wan22 models download {k}" for k in keys) + "), "
        "or choose another quality",
        field="preset",
    )


def _auto_draft(values: FormValues, size: str) -> GenerationRequest:
    """The form as a request with task "auto", which the planner resolves to a model."""
    first = "i2v-A14B" if values.image else "t2v-A14B"
    return replace(build_request(values, first, size=size), task=AUTO)


def values_from_request(request: GenerationRequest, *, count: int = 1) -> FormValues:
    """Form values that rebuild ``request`` (edit a queued job, re-run from history)."""
    spec = request.spec
    quality = next(
        (q for q in QUALITY_PRESETS if steps_for(spec.name, q) == request.sample_steps), None
    )
    preset = fast_preset(spec.name, request.preset or "")
    if preset is not None:  # the preset stays chosen; steps it does not set are custom
        quality = preset.name if steps_for(spec.name, preset.name) == request.sample_steps else None
        quality_name = preset.name
    else:
        quality_name = quality or "official"
    return FormValues(
        task=request.task,
        prompt=request.prompt,
        negative_prompt=request.negative_prompt,
        image=request.image,
        size=request.size,
        frame_num=request.frame_num,
        quality=quality_name,
        steps=None if quality else request.sample_steps,
        guidance_low=request.guidance.low,
        guidance_high=request.guidance.high,
        shift=request.sample_shift,
        solver=request.solver,
        seed=request.seed,
        extend_enabled=request.prompt_extend.enabled,
        extend_method=request.prompt_extend.method,
        extend_lang=request.prompt_extend.target_lang,
        offload_model=request.memory.offload_model,
        convert_model_dtype=request.memory.convert_model_dtype,
        t5_cpu=request.memory.t5_cpu,
        vram_headroom=request.memory.vram_headroom,
        gpus=request.gpus,
        count=count,
        loras=tuple((x.path, x.strength_high, x.strength_low) for x in request.loras),
        switch_step=request.switch_step,
        step_cache=request.step_cache,
        warmup_steps=request.warmup_steps,
        warmup_guidance=request.warmup_guidance,
    )
