"""GenerationRequest: the one description of a job, from the form to the database to the worker.

Pure data (no torch). ``validate`` is where user mistakes are caught, before anything is queued;
the JSON form is versioned so rows written by older versions keep loading.

JSON schema versions (``schema_version``):

* **1** - the first, flat format named after the official ``generate.py`` flags
  (``sample_guide_scale``, ``sample_solver``, ``base_seed``, ``use_prompt_extend``,
  ``prompt_extend_*``, ``offload_model``/``convert_model_dtype``/``t5_cpu`` as booleans).
* **2** - structured: ``guidance``, ``prompt_extend`` and ``memory`` are objects, memory
  switches are ``"auto" | "on" | "off"``, plus ``gpus``, ``output_format``, ``fps`` and
  ``negative_prompt``.
* **3** - the current one: every ``wan22 generate`` flag has a field, so a queued job carries what
  ``generate`` would do: ``ckpt_dir`` and ``save_file`` (None: the installed model and the app's
  outputs folder), ``device`` (``auto|cpu|cuda|cuda:N``), ``dtype`` (``auto|bf16|fp16|fp32``),
  ``attention`` (``auto|flash3|flash2|sage|sdpa``; added later, default auto)
  and ``parallel`` (``ulysses_size``, ``dit_fsdp``, ``t5_fsdp``). v2 rows load with the defaults.
* **4** - adds ``loras``: a list of ``{path, sha256, strength_high, strength_low}`` (LoRA files
  merged into the DiT; ``strength_low`` is the low-noise expert's, TI2V-5B uses one strength),
  and the speed fields ``switch_step`` (the A14B expert switch as a step; None: the official
  boundary), ``step_cache`` (0: off) and ``preset``. v3 rows load with no LoRA and the defaults.
  Added later (default: off): ``warmup_steps`` and ``warmup_guidance``, a guided warm-up (the
  first steps with the LoRAs off and their own guidance; the three-phase Lightning preset).
  Added later (default 0): ``memory.vram_headroom``, the percent of GPU memory the planner
  leaves free (the out-of-memory fallback raises it).

Loading rules: a version newer than ``SCHEMA_VERSION`` is refused (update the app); older ones
are upgraded step by step; fields missing from a dict take the task's defaults; **unknown keys are
an error** naming them, because silently dropping them would lose what the user asked for.
"""

from __future__ import annotations

import json
import math
import random
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from wan22_desktop.errors import UserInputError
from wan22_desktop.paths import folder_obstacle
from wan22_desktop.tasks import (
    AREA_MAX,
    DEFAULT_NEGATIVE_PROMPT,
    FPS_MAX,
    FPS_MIN,
    FRAME_MAX,
    FRAME_MIN,
    GPUS_MAX,
    GUIDANCE_MAX,
    GUIDANCE_MIN,
    IMAGE_MIN_SIDE,
    SEED_MAX,
    SEED_MIN,
    SHIFT_MAX,
    SIDE_MAX,
    SIDE_MIN,
    STEP_CACHE_MAX,
    STEP_CACHE_MIN_STEPS,
    STEPS_MAX,
    STEPS_MIN,
    ImageUse,
    TaskSpec,
    get_task,
    parse_size,
)

SCHEMA_VERSION = 4
LORAS_MAX = 8  # merged at once; more is almost surely a mistake
LORA_STRENGTH_MAX = 10.0

SOLVERS = ("unipc", "dpm++", "euler")  # euler: ours, for the step-distilled presets
OUTPUT_FORMATS = ("mp4", "png", "npy")
EXTEND_METHODS = ("local_qwen", "dashscope")
TARGET_LANGS = ("zh", "en")
SWITCH_VALUES = ("auto", "on", "off")
VRAM_HEADROOM_MAX = 60  # percent: beyond this no plan is left worth running

DEVICE_RE = re.compile(r"auto|cpu|cuda(:[0-9]{1,3})?")
DTYPES = ("auto", "bf16", "fp16", "fp32")
# The planner's attention backends (runtime.hardware.ATTENTION_BACKENDS; a test keeps them equal).
ATTENTION = ("auto", "flash3", "flash2", "sage", "sdpa")
SAVE_SUFFIXES = {".mp4": "mp4", ".npy": "npy", "": "png"}  # a name without suffix: PNG frames
# The numeric limits live in tasks.py (one home); re-exported here for callers that used them.
__all__ = [
    "FPS_MAX",
    "FPS_MIN",
    "FRAME_MAX",
    "FRAME_MIN",
    "GPUS_MAX",
    "GUIDANCE_MAX",
    "GUIDANCE_MIN",
    "IMAGE_MIN_SIDE",
    "SEED_MAX",
    "SHIFT_MAX",
    "SIDE_MAX",
    "SIDE_MIN",
    "STEPS_MAX",
    "STEPS_MIN",
]
PROMPT_WARN_CHARS = 2000  # T5 reads 512 tokens; far longer text is cut


@dataclass(frozen=True)
class Guidance:
    """Classifier-free guidance scales in the official (low-noise, high-noise) order."""

    low: float
    high: float

    @classmethod
    def of(cls, value: Guidance | float | int | tuple[float, float] | list[float]) -> Guidance:
        """Accept a Guidance, one number (both experts, like the official CLI) or a pair."""
        if isinstance(value, Guidance):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return cls(float(value), float(value))
        if isinstance(value, (tuple, list)) and len(value) == 2:
            return cls(_as_float("guidance", value[0]), _as_float("guidance", value[1]))
        raise UserInputError(
            f"guidance {value!r} is not a number or a (low, high) pair",
            "for example 5.0 or 3.0,4.0",
        )

    @classmethod
    def parse(cls, text: str) -> Guidance:
        """Command-line form: ``5`` (every expert, as the official flag) or ``3.0,4.0`` (low,high)."""
        try:
            parts = [float(x) for x in str(text).split(",")]
        except ValueError:
            raise UserInputError(
                f"guidance {text!r} is not a number",
                "for example 5.0 or 3.0,4.0 (low-noise,high-noise)",
            ) from None
        if len(parts) not in (1, 2):
            raise UserInputError(f"guidance {text!r} has too many numbers", "give one, or low,high")
        return cls.of(parts[0] if len(parts) == 1 else (parts[0], parts[1]))


@dataclass(frozen=True)
class PromptExtendOptions:
    """Rewrite the prompt with an LLM first (official ``--use_prompt_extend``).

    ``required``: fail the job when extension fails, instead of the official fallback to the
    original prompt.
    """

    enabled: bool = False
    method: str = "local_qwen"
    model: str | None = None
    target_lang: str = "zh"
    required: bool = False


@dataclass(frozen=True)
class MemoryOptions:
    """Memory switches; "auto" lets the planner decide from the hardware."""

    offload_model: str = "auto"
    convert_model_dtype: str = "auto"
    t5_cpu: str = "auto"
    # Percent of the GPU the planner leaves unplanned (other programs, an estimate that was
    # short): raised by the out-of-memory fallback (runtime/planning.py safer_request).
    vram_headroom: int = 0


@dataclass(frozen=True)
class ParallelOptions:
    """Multi-GPU layout, as the official flags: ``ulysses_size`` processes share the sequence
    (run under ``torchrun --nproc_per_node ulysses_size``); FSDP shards the DiT / the T5."""

    ulysses_size: int = 1
    dit_fsdp: bool = False
    t5_fsdp: bool = False


@dataclass(frozen=True)
class LoraRef:
    """One LoRA file of a job: merged into the high-noise expert at ``strength_high`` and the
    low-noise one at ``strength_low`` (0: not applied there); TI2V-5B has one model and one
    strength (both equal). ``sha256`` of the file when the job was made: a changed file is
    refused instead of silently giving another video."""

    path: str
    sha256: str
    strength_high: float = 1.0
    strength_low: float = 1.0


@dataclass(frozen=True)
class GenerationRequest:
    task: str
    prompt: str
    negative_prompt: str | None  # None: the official default negative prompt
    image: str | None
    size: str  # "W*H"
    frame_num: int
    sample_steps: int
    sample_shift: float
    guidance: Guidance
    solver: str = "unipc"
    seed: int = -1  # -1: pick one when the job is resolved
    prompt_extend: PromptExtendOptions = field(default_factory=PromptExtendOptions)
    memory: MemoryOptions = field(default_factory=MemoryOptions)
    gpus: int | None = None  # None: all that fit
    output_format: str = "mp4"
    fps: int | None = None  # None: the task's default
    ckpt_dir: str | None = None  # None: the installed model for the task
    save_file: str | None = None  # None: a generated name in the app's outputs folder
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    dtype: str = "auto"  # auto | bf16 | fp16 | fp32
    attention: str = "auto"  # auto | flash3 | flash2 | sage | sdpa (runtime.hardware)
    parallel: ParallelOptions = field(default_factory=ParallelOptions)
    loras: tuple[LoraRef, ...] = ()
    # Speed (issue 14): the A14B expert switch as a step count (None: the official boundary on
    # the timestep), the step-caching threshold (0: off) and the preset these values came from.
    switch_step: int | None = None
    step_cache: float = 0.0
    preset: str | None = None
    # Guided warm-up (ADR 0025): the first ``warmup_steps`` steps run with the request's LoRAs off
    # and guidance ``warmup_guidance`` (None: each expert's own), on whichever expert the schedule
    # gives them; the LoRAs are merged in before the next step. 0: off.
    warmup_steps: int = 0
    warmup_guidance: float | None = None

    # ---- construction

    @classmethod
    def for_task(cls, task: str, **overrides: Any) -> GenerationRequest:
        """A request with the official defaults of ``task``; ``overrides`` replace fields.

        ``guidance`` may be given as one number or a pair; ``prompt_extend``/``memory`` as dicts.
        """
        spec = get_task(task)
        values: dict[str, Any] = dict(
            task=spec.name,
            prompt="",
            negative_prompt=None,
            image=None,
            size=spec.default_size,
            frame_num=spec.frame_num,
            sample_steps=spec.sample_steps,
            sample_shift=spec.sample_shift,
            guidance=Guidance(*spec.guidance),
        )
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(overrides) - names)
        if unknown:
            raise TypeError(f"unknown GenerationRequest fields: {', '.join(unknown)}")
        values.update(overrides)
        return cls(**values)

    def __post_init__(self) -> None:
        # Normalise once here, so every path (form, CLI, JSON, replace) yields the same types and
        # a wrong type is a one-line UserInputError rather than a crash deep in the worker.
        set_ = object.__setattr__
        for name in ("image", "ckpt_dir", "save_file"):
            if isinstance(getattr(self, name), Path):
                set_(self, name, str(getattr(self, name)))
        for name, conv in _FIELD_TYPES.items():
            set_(self, name, conv(name, getattr(self, name)))
        set_(self, "task", _as_str("task", self.task))
        for name in ("image", "ckpt_dir", "save_file"):
            if getattr(self, name) == "":
                set_(self, name, None)
        try:  # canonical "W*H" (a "1280x720" from a form becomes "1280*720"); validate() reports junk
            set_(self, "size", "{}*{}".format(*parse_size(self.size)))
        except UserInputError:
            pass
        set_(self, "guidance", _coerce_guidance(self.guidance))
        set_(self, "prompt_extend", _sub_options(PromptExtendOptions, self.prompt_extend))
        set_(self, "memory", _sub_options(MemoryOptions, self.memory))
        set_(self, "parallel", _sub_options(ParallelOptions, self.parallel))
        set_(self, "loras", _coerce_loras(self.loras))

    # ---- derived

    @property
    def spec(self) -> TaskSpec:
        return get_task(self.task)

    @property
    def width(self) -> int:
        return parse_size(self.size)[0]

    @property
    def height(self) -> int:
        return parse_size(self.size)[1]

    @property
    def effective_negative_prompt(self) -> str:
        return DEFAULT_NEGATIVE_PROMPT if self.negative_prompt is None else self.negative_prompt

    @property
    def effective_fps(self) -> int:
        return self.spec.fps if self.fps is None else self.fps

    @property
    def label(self) -> str:
        """Short summary for lists: task, size, frames, seed and the start of the prompt."""
        text = " ".join(self.prompt.split()) or ("(image only)" if self.image else "(no prompt)")
        if len(text) > 48:
            text = text[:47] + "…"
        seed = "random seed" if self.seed < 0 else f"seed {self.seed}"
        return (
            f"{self.task} {self.size} {self.frame_num}f {self.sample_steps} steps, {seed}: {text}"
        )

    # ---- validation

    def validate(self) -> list[str]:
        """Raise UserInputError on the first invalid field; return warnings (may be empty)."""
        warnings: list[str] = []
        for rule in _RULES:
            warnings.extend(rule(self))
        return warnings

    # ---- seeds

    def resolved(self, rng: random.Random | None = None) -> GenerationRequest:
        """A copy with a concrete seed (official: ``random.randint(0, sys.maxsize)`` for -1)."""
        if self.seed >= 0:
            return self
        return self.with_seed((rng or random.SystemRandom()).randint(0, SEED_MAX))

    def with_seed(self, seed: int) -> GenerationRequest:
        return replace(self, seed=seed)

    # ---- JSON

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"schema_version": SCHEMA_VERSION}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, (Guidance, PromptExtendOptions, MemoryOptions, ParallelOptions)):
                value = {sf.name: getattr(value, sf.name) for sf in fields(value)}
            if f.name == "loras":
                value = [{sf.name: getattr(x, sf.name) for sf in fields(x)} for x in value]
            d[f.name] = value
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> GenerationRequest:
        """Load any known schema version; see the module docstring for the rules."""
        if not isinstance(d, Mapping):
            raise UserInputError("a request must be a JSON object", "check the request file")
        data = upgrade(dict(d))
        data.pop("schema_version")
        if "task" not in data:
            raise UserInputError("the request has no task", 'add "task": "ti2v-5B" (or another)')
        unknown = sorted(set(data) - {f.name for f in fields(cls)})
        if unknown:
            raise UserInputError(
                f"unknown request field(s): {', '.join(unknown)}",
                "remove them, or update Wan22 Desktop if a newer version wrote this request",
            )
        spec = get_task(_as_str("task", data.pop("task")))
        return cls.for_task(spec.name, **data)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, s: str) -> GenerationRequest:
        try:
            data = json.loads(s)
        except (json.JSONDecodeError, TypeError) as exc:
            raise UserInputError(
                f"the request is not valid JSON: {exc}", "check the request file"
            ) from None
        return cls.from_dict(data)


# ---------------------------------------------------------------------------- schema upgrades


def _upgrade_v1_to_v2(d: dict[str, Any]) -> dict[str, Any]:
    """v1 used the official generate.py flag names, flat; v2 groups them."""
    out: dict[str, Any] = {}
    renames = {"sample_solver": "solver", "base_seed": "seed"}
    flat_extend = {
        "use_prompt_extend": "enabled",
        "prompt_extend_method": "method",
        "prompt_extend_model": "model",
        "prompt_extend_target_lang": "target_lang",
    }
    flat_memory = ("offload_model", "convert_model_dtype", "t5_cpu")
    extend: dict[str, Any] = {}
    memory: dict[str, Any] = {}
    for key, value in d.items():
        if key == "sample_guide_scale":
            if value is not None:
                out["guidance"] = value
        elif key in renames:
            out[renames[key]] = value
        elif key in flat_extend:
            extend[flat_extend[key]] = value
        elif key in flat_memory:
            # v1 booleans: None (official "decide for me") -> auto
            memory[key] = "auto" if value is None else ("on" if value else "off")
        else:
            out[key] = value
    if extend:
        out["prompt_extend"] = {k: v for k, v in extend.items() if v is not None}
    if memory:
        out["memory"] = memory
    out["schema_version"] = 2
    return out


def _upgrade_v2_to_v3(d: dict[str, Any]) -> dict[str, Any]:
    """v3 only adds fields (ckpt_dir, save_file, device, dtype, parallel); their defaults are
    what a v2 job did: the installed model, the outputs folder, the planner's device and dtype."""
    return {**d, "schema_version": 3}


def _upgrade_v3_to_v4(d: dict[str, Any]) -> dict[str, Any]:
    """v4 only adds ``loras``; a v3 job had none."""
    return {**d, "schema_version": 4}


UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {
    1: _upgrade_v1_to_v2,
    2: _upgrade_v2_to_v3,
    3: _upgrade_v3_to_v4,
}


def upgrade(d: dict[str, Any]) -> dict[str, Any]:
    """Bring a request dict of any older schema version up to ``SCHEMA_VERSION``."""
    version = d.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise UserInputError(
            f"the request has no valid schema_version ({version!r})",
            f'requests carry "schema_version": {SCHEMA_VERSION}',
        )
    if version > SCHEMA_VERSION:
        raise UserInputError(
            f"the request was written by a newer Wan22 Desktop (schema {version}; "
            f"this one reads up to {SCHEMA_VERSION})",
            "update Wan22 Desktop",
        )
    while d["schema_version"] < SCHEMA_VERSION:
        d = UPGRADES[d["schema_version"]](d)
    return d


# ---------------------------------------------------------------------------- field coercion


_TYPE_HINT = "check the request's fields (wan22 generate --help lists them)"


def _as_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise UserInputError(f"{name} must be a whole number, got {value!r}", _TYPE_HINT)
    return value


def _as_float(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UserInputError(f"{name} must be a number, got {value!r}", _TYPE_HINT)
    return float(value)


def _as_str(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise UserInputError(f"{name} must be text, got {value!r}", _TYPE_HINT)
    return value


def _as_bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise UserInputError(f"{name} must be true or false, got {value!r}", _TYPE_HINT)
    return value


def _optional(conv: Callable[[str, Any], Any]) -> Callable[[str, Any], Any]:
    return lambda name, value: None if value is None else conv(name, value)


_FIELD_TYPES: dict[str, Callable[[str, Any], Any]] = {
    "prompt": _as_str,
    "negative_prompt": _optional(_as_str),
    "image": _optional(_as_str),
    "size": _as_str,
    "frame_num": _as_int,
    "sample_steps": _as_int,
    "sample_shift": _as_float,
    "solver": _as_str,
    "seed": _as_int,
    "gpus": _optional(_as_int),
    "output_format": _as_str,
    "fps": _optional(_as_int),
    "ckpt_dir": _optional(_as_str),
    "save_file": _optional(_as_str),
    "device": _as_str,
    "dtype": _as_str,
    "attention": _as_str,
    "switch_step": _optional(_as_int),
    "step_cache": _as_float,
    "preset": _optional(_as_str),
    "warmup_steps": _as_int,
    "warmup_guidance": _optional(_as_float),
}
_SUB_TYPES: dict[str, Callable[[str, Any], Any]] = {
    "enabled": _as_bool,
    "method": _as_str,
    "model": _optional(_as_str),
    "target_lang": _as_str,
    "required": _as_bool,
    "offload_model": _as_str,
    "convert_model_dtype": _as_str,
    "t5_cpu": _as_str,
    "vram_headroom": _as_int,
    "ulysses_size": _as_int,
    "dit_fsdp": _as_bool,
    "t5_fsdp": _as_bool,
}


def _coerce_guidance(value: Any) -> Guidance:
    if isinstance(value, Mapping):
        if set(value) != {"low", "high"}:
            raise UserInputError(
                f"guidance must have exactly low and high, got {dict(value)!r}", _TYPE_HINT
            )
        return Guidance(
            _as_float("guidance.low", value["low"]), _as_float("guidance.high", value["high"])
        )
    g = Guidance.of(value)
    return Guidance(_as_float("guidance.low", g.low), _as_float("guidance.high", g.high))


def _coerce_loras(value: Any) -> tuple[LoraRef, ...]:
    if value is None:
        return ()
    if not isinstance(value, (list, tuple)):
        raise UserInputError(f"loras must be a list, got {value!r}", _TYPE_HINT)
    out: list[LoraRef] = []
    names = {f.name for f in fields(LoraRef)}
    for i, item in enumerate(value):
        if isinstance(item, LoraRef):
            item = {f.name: getattr(item, f.name) for f in fields(LoraRef)}
        if not isinstance(item, Mapping):
            raise UserInputError(f"loras[{i}] must be an object, got {item!r}", _TYPE_HINT)
        unknown = sorted(set(item) - names)
        missing = sorted({"path", "sha256"} - set(item))
        if unknown or missing:
            what = f"unknown field(s) {', '.join(unknown)}" if unknown else ""
            what += ("; " if what else "") + (f"missing {', '.join(missing)}" if missing else "")
            raise UserInputError(f"loras[{i}]: {what}", f"known: {', '.join(sorted(names))}")
        out.append(
            LoraRef(
                path=_as_str(f"loras[{i}].path", item["path"]),
                sha256=_as_str(f"loras[{i}].sha256", item["sha256"]).lower(),
                strength_high=_as_float(
                    f"loras[{i}].strength_high", item.get("strength_high", 1.0)
                ),
                strength_low=_as_float(f"loras[{i}].strength_low", item.get("strength_low", 1.0)),
            )
        )
    return tuple(out)


def _sub_options(cls: type, value: Any) -> Any:
    group = {PromptExtendOptions: "prompt_extend", MemoryOptions: "memory"}.get(cls, "parallel")
    if isinstance(value, cls):
        value = {f.name: getattr(value, f.name) for f in fields(cls)}
    if not isinstance(value, Mapping):
        raise UserInputError(f"{group} must be an object, got {value!r}", _TYPE_HINT)
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(value) - names)
    if unknown:
        raise UserInputError(
            f"unknown {group} field(s): {', '.join(unknown)}", f"known: {', '.join(sorted(names))}"
        )
    return cls(**{k: _SUB_TYPES[k](f"{group}.{k}", v) for k, v in value.items()})


# ---------------------------------------------------------------------------- validation rules
# Each rule returns warnings or raises UserInputError with a one-line reason, a hint that says what
# is allowed, and the field at fault. ``wan22 generate``, ``wan22 queue add``, the GUI and the
# runner all check with these rules and no others; cheap checks (numbers) run before any I/O.


def _bad(message: str, hint: str, field: str) -> UserInputError:
    return UserInputError(message, hint, field=field)


def _check_task(r: GenerationRequest) -> list[str]:
    get_task(r.task)
    return []


def _check_text(r: GenerationRequest) -> list[str]:
    """Text from a command line may hold undecodable bytes (surrogate escapes): they cannot be
    stored or shown, so say which field instead of crashing later in JSON or SQLite."""
    for name, value in (
        ("prompt", r.prompt),
        ("negative_prompt", r.negative_prompt),
        ("image", r.image),
        ("ckpt_dir", r.ckpt_dir),
        ("save_file", r.save_file),
        ("prompt_extend", r.prompt_extend.model),
        ("device", r.device),
    ):
        if value is None:
            continue
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise _bad(
                f"the {name} is not valid UTF-8 text",
                "use UTF-8 text (check the terminal's encoding, or rename the file)",
                name,
            ) from None
        if "\x00" in value:
            raise _bad(f"the {name} contains a NUL character", "remove it", name)
    return []


def _check_size(r: GenerationRequest) -> list[str]:
    spec = r.spec
    presets = ", ".join(spec.supported_sizes)
    try:
        w, h = parse_size(r.size)
    except UserInputError as exc:
        raise _bad(exc.message, exc.hint or "write it like 1280*720", "size") from None
    official = f"{w}*{h}" in spec.supported_sizes
    if not official and not (SIDE_MIN <= w <= SIDE_MAX and SIDE_MIN <= h <= SIDE_MAX):
        raise _bad(
            f"size {w}*{h} is out of range: each side must be {SIDE_MIN}..{SIDE_MAX} px",
            f"official sizes for {spec.name}: {presets}",
            "size",
        )
    if not official and w * h > AREA_MAX:
        raise _bad(
            f"size {w}*{h} is too large: at most {AREA_MAX:,} pixels per frame (1920*1088); "
            "the models were trained up to 1280*720",
            f"official sizes for {spec.name}: {presets}",
            "size",
        )
    if official:
        return []
    g = spec.spatial_granularity
    if r.image is None and (w % g or h % g):  # with an image only the area counts (official)
        raise _bad(
            f"size {w}*{h} does not fit {spec.name}: both sides must be multiples of {g} px",
            f"official sizes for {spec.name}: {presets}",
            "size",
        )
    return [f"size {w}*{h} is not an official {spec.name} size ({presets}); quality may suffer"]


def _check_frames(r: GenerationRequest) -> list[str]:
    n = r.frame_num
    if n < FRAME_MIN or n > FRAME_MAX or (n - 1) % 4:
        raise _bad(
            f"frame count {n} is not allowed: it must be 4n+1 between {FRAME_MIN} and {FRAME_MAX}"
            " (the video model compresses time 4x after the first frame)",
            f"for example {_nearest_frames(n)}, or {r.spec.frame_num} (the {r.spec.name} default)",
            "frame_num",
        )
    return []


def _nearest_frames(n: int) -> int:
    n = min(max(n, FRAME_MIN), FRAME_MAX)
    return 4 * round((n - 1) / 4) + 1


def _check_image(r: GenerationRequest) -> list[str]:
    spec = r.spec
    if r.image is None:
        if spec.image is ImageUse.REQUIRED:
            raise _bad(
                f"{spec.name} needs a start image", "choose an image (--image PATH)", "image"
            )
        return []
    if spec.image is ImageUse.REFUSED:
        raise _bad(
            f"{spec.name} does not take an image",
            "use i2v-A14B or ti2v-5B to start from an image, or remove the image",
            "image",
        )
    return _check_image_file(Path(r.image).expanduser())


def _check_image_file(path: Path) -> list[str]:
    from PIL import Image, UnidentifiedImageError

    kinds = "use a PNG, JPEG or WebP file"
    if path.is_dir():
        raise _bad(f"the image {path} is a folder, not a file", kinds, "image")
    if not path.is_file():
        raise _bad(f"image not found: {path}", "check the path", "image")
    try:
        if path.stat().st_size == 0:
            raise _bad(f"the image {path.name} is empty (0 bytes)", kinds, "image")
        with Image.open(path) as img:
            img.load()
            w, h = img.size
    except (UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise _bad(f"cannot read image {path.name}: {exc}", kinds, "image") from None
    except (OSError, SyntaxError, ValueError) as exc:  # truncated or damaged files
        raise _bad(
            f"cannot read image {path.name}: {exc}", f"the file may be damaged; {kinds}", "image"
        ) from None
    if min(w, h) < IMAGE_MIN_SIDE:
        raise _bad(
            f"image {path.name} is too small ({w}x{h})",
            f"use at least {IMAGE_MIN_SIDE} px per side",
            "image",
        )
    return []


def _check_prompt(r: GenerationRequest) -> list[str]:
    if not r.prompt.strip():
        if not r.image:
            raise _bad("the prompt is empty", "describe the video you want (--prompt)", "prompt")
        if not r.prompt_extend.enabled:
            raise _bad(
                "the prompt is empty",
                "describe the motion, or turn on prompt extension to let it invent one from the image",
                "prompt",
            )
    if len(r.prompt) > PROMPT_WARN_CHARS:
        return [
            f"the prompt is very long ({len(r.prompt)} characters); text beyond 512 tokens is ignored"
        ]
    return []


def _check_numbers(r: GenerationRequest) -> list[str]:
    if not STEPS_MIN <= r.sample_steps <= STEPS_MAX:
        raise _bad(
            f"steps {r.sample_steps} out of range: use {STEPS_MIN}..{STEPS_MAX}",
            f"the {r.task} default is {r.spec.sample_steps}",
            "sample_steps",
        )
    if not (math.isfinite(r.sample_shift) and 0.0 < r.sample_shift <= SHIFT_MAX):
        raise _bad(
            f"shift {r.sample_shift:g} out of range: it must be a number above 0, at most {SHIFT_MAX:g}",
            f"the {r.task} default is {r.spec.sample_shift:g}",
            "sample_shift",
        )
    for name, value in (("low", r.guidance.low), ("high", r.guidance.high)):
        if not (math.isfinite(value) and GUIDANCE_MIN <= value <= GUIDANCE_MAX):
            raise _bad(
                f"guidance ({name}) {value:g} out of range: use {GUIDANCE_MIN:g}..{GUIDANCE_MAX:g}",
                f"the {r.task} default is {_fmt_guidance(r.spec)}",
                "guidance",
            )
    if not r.spec.is_moe and r.guidance.low != r.guidance.high:
        raise _bad(
            f"{r.task} has one model, so it takes one guidance scale, not ({r.guidance.low:g}, {r.guidance.high:g})",
            "give a single number",
            "guidance",
        )
    if r.seed != -1 and not SEED_MIN <= r.seed <= SEED_MAX:
        raise _bad(
            f"seed {r.seed} out of range",
            f"use -1 (random) or {SEED_MIN}..{SEED_MAX} (as the official random.randint(0, sys.maxsize))",
            "seed",
        )
    if r.gpus is not None and not 1 <= r.gpus <= GPUS_MAX:
        raise _bad(f"gpus {r.gpus} out of range", f"use 1..{GPUS_MAX}, or leave it on auto", "gpus")
    if r.fps is not None and not FPS_MIN <= r.fps <= FPS_MAX:
        raise _bad(
            f"fps {r.fps} out of range: use {FPS_MIN}..{FPS_MAX}",
            f"the {r.task} default is {r.spec.fps}",
            "fps",
        )
    if not 1 <= r.parallel.ulysses_size <= GPUS_MAX:
        raise _bad(
            f"ulysses_size {r.parallel.ulysses_size} out of range: use 1..{GPUS_MAX}",
            "it is the number of GPU processes sharing one video (1: a single process)",
            "parallel",
        )
    return []


def _check_choices(r: GenerationRequest) -> list[str]:
    _choice("solver", r.solver, SOLVERS, "solver")
    _choice("output format", r.output_format, OUTPUT_FORMATS, "output_format")
    _choice("prompt extension method", r.prompt_extend.method, EXTEND_METHODS, "prompt_extend")
    _choice("prompt extension language", r.prompt_extend.target_lang, TARGET_LANGS, "prompt_extend")
    if r.prompt_extend.model is not None and not r.prompt_extend.model.strip():
        raise _bad(
            "prompt extension model is empty",
            "leave it unset for the default model",
            "prompt_extend",
        )
    for name in ("offload_model", "convert_model_dtype", "t5_cpu"):
        _choice(name, getattr(r.memory, name), SWITCH_VALUES, "memory")
    if not 0 <= r.memory.vram_headroom <= VRAM_HEADROOM_MAX:
        raise _bad(
            f"vram_headroom {r.memory.vram_headroom} out of range",
            f"use 0..{VRAM_HEADROOM_MAX} (percent of the GPU memory the plan leaves free)",
            "memory",
        )
    if not DEVICE_RE.fullmatch(r.device):
        raise _bad(f"unknown device {r.device!r}", "use auto, cpu, cuda or cuda:N", "device")
    _choice("dtype", r.dtype, DTYPES, "dtype")
    _choice("attention backend", r.attention, ATTENTION, "attention")
    if r.parallel.t5_fsdp and r.memory.t5_cpu == "on":
        raise _bad(
            "t5_fsdp and t5_cpu cannot be used together (as in the official generate.py)",
            "drop one of --t5_fsdp and --t5_cpu",
            "parallel",
        )
    if r.ckpt_dir is not None and not r.ckpt_dir.strip():
        raise _bad(
            "the checkpoint folder is empty", "leave it unset for the installed model", "ckpt_dir"
        )
    return []


def _choice(what: str, value: str, allowed: tuple[str, ...], field: str) -> None:
    if value not in allowed:
        raise _bad(f"unknown {what} {value!r}", f"choose one of: {', '.join(allowed)}", field)


def _fmt_guidance(spec: TaskSpec) -> str:
    low, high = spec.guidance
    return f"{low:g}" if low == high else f"({low:g}, {high:g})"


def _check_save_file(r: GenerationRequest) -> list[str]:
    if r.save_file is None:
        return []
    path = Path(r.save_file).expanduser()
    suffix = path.suffix.lower()
    fmt = SAVE_SUFFIXES.get(suffix)
    if fmt is None:
        raise _bad(
            f"cannot save {path.name}: unknown file type {suffix!r}",
            "end the name in .mp4 (video) or .npy (raw frames), or give a folder name for PNG frames",
            "save_file",
        )
    if fmt != r.output_format:
        raise _bad(
            f"the output file {path.name} does not match the output format {r.output_format}",
            f"use a name ending in {_suffix_for(r.output_format)}",
            "save_file",
        )
    if path.is_dir() and fmt != "png":
        raise _bad(f"{path} is a folder", "give a file name, e.g. video.mp4", "save_file")
    check_writable_folder(path.parent, field="save_file")
    return []


def _suffix_for(output_format: str) -> str:
    return next(
        (k or "no suffix (a folder)") for k, v in SAVE_SUFFIXES.items() if v == output_format
    )


def check_writable_folder(folder: Path, *, field: str | None = None) -> None:
    """The folder exists and can be written, or can be created (its first existing ancestor is a
    writable folder). A path below a regular file is refused here, not after a render."""
    found = folder_obstacle(folder)
    if found is None:
        return
    probe, what = found
    if what == "file":
        raise UserInputError(
            f"cannot write into {folder}: {probe} is a file, not a folder",
            "choose another folder",
            field=field,
        )
    raise UserInputError(
        f"cannot write into {folder}: {probe} is read-only",
        "choose a folder you can write to",
        field=field,
    )


_SHA256 = re.compile(r"[0-9a-f]{64}")


def _check_loras(r: GenerationRequest) -> list[str]:
    """Numbers and names first; then each file must exist with the recorded hash (a re-run of a
    job whose LoRA changed or vanished is refused, not silently different)."""
    if len(r.loras) > LORAS_MAX:
        raise _bad(f"{len(r.loras)} LoRAs at once", f"use at most {LORAS_MAX}", "loras")
    seen: set[str] = set()
    for lora in r.loras:
        name = Path(lora.path).name
        if not Path(lora.path).is_absolute():
            raise _bad(f"LoRA path {lora.path!r} is not absolute", "give the full path", "loras")
        if Path(lora.path).suffix.lower() != ".safetensors":
            raise _bad(
                f"LoRA {name} is not a .safetensors file",
                "LoRAs are read from .safetensors only (no pickled .pt/.ckpt)",
                "loras",
            )
        if lora.path in seen:
            raise _bad(f"LoRA {name} is listed twice", "give each file once", "loras")
        seen.add(lora.path)
        if not _SHA256.fullmatch(lora.sha256):
            raise _bad(f"LoRA {name} has no valid sha256", "add it with --lora PATH", "loras")
        for which, value in (("high", lora.strength_high), ("low", lora.strength_low)):
            if not (math.isfinite(value) and abs(value) <= LORA_STRENGTH_MAX):
                raise _bad(
                    f"LoRA {name}: strength {which}={value} is out of range",
                    f"use -{LORA_STRENGTH_MAX:g}..{LORA_STRENGTH_MAX:g} (1 is the usual strength)",
                    "loras",
                )
        if r.spec.boundary is None and lora.strength_high != lora.strength_low:
            raise _bad(
                f"LoRA {name}: {r.task} has one model, so one strength",
                f"give one strength (--lora {name}:S)",
                "loras",
            )
    from wan22_desktop.lora_library import verify_ref

    for lora in r.loras:
        verify_ref(lora.path, lora.sha256)
    return []


def _check_speed(r: GenerationRequest) -> list[str]:
    """The expert switch step, step caching and the preset name (issue 14)."""
    if r.switch_step is not None:
        if not r.spec.is_moe:
            raise _bad(
                f"{r.task} has one model, so there is no expert switch",
                "leave switch_step unset",
                "switch_step",
            )
        if not 0 <= r.switch_step <= r.sample_steps:
            raise _bad(
                f"switch step {r.switch_step} out of range: use 0..{r.sample_steps} (the steps)",
                "the high-noise expert runs the steps before it; leave it unset for the official "
                "boundary",
                "switch_step",
            )
    c = r.step_cache
    if not (math.isfinite(c) and 0.0 <= c <= STEP_CACHE_MAX):
        raise _bad(
            f"step cache threshold {c:g} out of range: use 0 (off) to {STEP_CACHE_MAX:g}",
            "for example 0.05; larger values skip more steps and change the video more",
            "step_cache",
        )
    if c > 0 and r.preset is not None and _is_distilled_preset(r.preset):
        raise _bad(
            f"step caching cannot be combined with the step-distilled preset {r.preset}",
            "turn step caching off (the preset is already fast), or drop the preset",
            "step_cache",
        )
    if c > 0 and r.sample_steps < STEP_CACHE_MIN_STEPS:
        what = f"the {r.preset} preset's" if r.preset else "these"
        raise _bad(
            f"step caching cannot be combined with {what} {r.sample_steps} steps: "
            "a step-distilled few-step recipe changes too much at every step to skip one",
            f"turn step caching off, or use at least {STEP_CACHE_MIN_STEPS} steps",
            "step_cache",
        )
    if r.preset is not None and not r.preset.strip():
        raise _bad("the preset name is empty", "leave it unset", "preset")
    return _check_warmup(r)


def _check_warmup(r: GenerationRequest) -> list[str]:
    """The guided warm-up: some steps, fewer than the job's, on a two-expert model."""
    n, g = r.warmup_steps, r.warmup_guidance
    if n == 0:
        if g is not None:
            raise _bad(
                "a warm-up guidance without warm-up steps has no effect",
                "give the warm-up steps too (--warmup_steps N), or drop --warmup_guidance",
                "warmup_steps",
            )
        return []
    if not r.spec.is_moe:
        raise _bad(
            f"{r.task} has one model; the guided warm-up is for the A14B experts",
            "drop --warmup_steps, or use t2v-A14B or i2v-A14B",
            "warmup_steps",
        )
    if r.sample_steps < 2:
        raise _bad(
            f"a warm-up needs at least 2 steps; the job has {r.sample_steps}",
            "use more steps, or turn the warm-up off (--warmup_steps 0)",
            "warmup_steps",
        )
    if not 0 < n < r.sample_steps:
        raise _bad(
            f"warm-up steps {n} out of range: use 1..{r.sample_steps - 1} "
            f"(fewer than the job's {r.sample_steps} steps)",
            "the warm-up is the first steps, with the LoRAs off; 0 turns it off",
            "warmup_steps",
        )
    if g is not None and not (math.isfinite(g) and GUIDANCE_MIN <= g <= GUIDANCE_MAX):
        raise _bad(
            f"warm-up guidance {g:g} out of range: use {GUIDANCE_MIN:g}..{GUIDANCE_MAX:g}",
            "for example 3.5 (the three-phase Lightning preset's)",
            "warmup_guidance",
        )
    return []


def _is_distilled_preset(name: str) -> bool:
    from wan22_desktop.presets import all_presets

    preset = all_presets().get(name)
    return preset is not None and preset.distilled


_RULES: tuple[Callable[[GenerationRequest], list[str]], ...] = (
    _check_task,
    _check_text,
    _check_choices,
    _check_numbers,
    _check_speed,
    _check_size,
    _check_frames,
    _check_prompt,
    _check_image,
    _check_save_file,
    _check_loras,
)
