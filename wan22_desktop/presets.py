"""Generation presets: named sets of request fields, kept as data in ``resources/presets.json``.

A preset is not a mode of the engine: resolving it gives a plain ``GenerationRequest`` whose
fields the user can still edit (explicit flags and form values win over the preset's), and the
request keeps the preset's name (``GenerationRequest.preset``) so History shows where the values
came from. The settings of each preset cite where they were published (the file's ``sources``).

LoRAs are referenced by downloader catalogue id and file; resolving turns them into the request's
``loras`` entries (path, sha256, strength_high, strength_low) under the app's LoRA folder, and
refuses with a hint to download them when they are missing. Builds without LoRA loading (no
``loras`` request field) refuse a preset that needs LoRAs unless asked to strip them
(``strip_loras``: tests and benchmarks, which measure the schedule, not the picture).

Pure: no torch, no Qt.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wan22_desktop.errors import UserInputError

if TYPE_CHECKING:
    from wan22_desktop.request import GenerationRequest

PRESETS_FORMAT = 1  # the "format" of resources/presets.json this code reads
PRESETS_FILE = "presets.json"
LORA_FOLDER = "loras"  # below the models folder: where catalogue LoRAs are downloaded


@dataclass(frozen=True)
class PresetLora:
    """One LoRA file of a preset: a catalogue entry's file, with a strength per A14B expert."""

    catalog: str
    file: str
    strength_high: float
    strength_low: float

    def path(self, lora_dir: Path) -> Path:
        """Where ``wan22 models download <catalog>`` puts the file."""
        return Path(lora_dir) / self.catalog / self.file


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    task: str
    distilled: bool  # step-distilled (few steps, no CFG): step caching is refused with it
    description: str
    fields: Mapping[str, Any]  # GenerationRequest fields, in its JSON form
    loras: tuple[PresetLora, ...]
    sources: tuple[str, ...]


def _parse(data: Any) -> dict[str, Preset]:
    if not isinstance(data, Mapping) or data.get("format") != PRESETS_FORMAT:
        got = data.get("format") if isinstance(data, Mapping) else None
        raise ValueError(f"presets file format {got!r}, this version reads {PRESETS_FORMAT}")
    out: dict[str, Preset] = {}
    for p in data["presets"]:
        preset = Preset(
            name=str(p["name"]),
            title=str(p["title"]),
            task=str(p["task"]),
            distilled=bool(p.get("distilled", False)),
            description=str(p.get("description", "")),
            fields=dict(p["fields"]),
            loras=tuple(
                PresetLora(
                    catalog=str(x["catalog"]),
                    file=str(x["file"]),
                    strength_high=float(x["strength_high"]),
                    strength_low=float(x["strength_low"]),
                )
                for x in p.get("loras", ())
            ),
            sources=tuple(str(s) for s in p.get("sources", ())),
        )
        if preset.name in out:
            raise ValueError(f"preset {preset.name!r} is defined twice")
        out[preset.name] = preset
    return out


@lru_cache(maxsize=1)
def all_presets() -> dict[str, Preset]:
    """Every preset shipped in the package, by name (read once)."""
    from importlib.resources import files

    text = files("wan22_desktop.resources").joinpath(PRESETS_FILE).read_text(encoding="utf-8")
    return _parse(json.loads(text))


def get_preset(name: str) -> Preset:
    presets = all_presets()
    try:
        return presets[name]
    except (KeyError, TypeError):
        raise UserInputError(
            f"unknown preset {name!r}",
            f"choose one of: {', '.join(presets)} (wan22 presets list)",
            field="preset",
        ) from None


def request_supports_loras() -> bool:
    from wan22_desktop.request import GenerationRequest

    return any(f.name == "loras" for f in fields(GenerationRequest))


def preset_fields(
    preset: Preset | str, *, lora_dir: Path | None = None, strip_loras: bool = False
) -> dict[str, Any]:
    """The request fields ``preset`` sets (``task`` and ``preset`` included), by field name.

    Its LoRAs become ``loras`` entries below ``lora_dir`` (refused when a file is missing), or
    are left out with ``strip_loras``.
    """
    p = get_preset(preset) if isinstance(preset, str) else preset
    out: dict[str, Any] = {"task": p.task, **dict(p.fields), "preset": p.name}
    if not p.loras or strip_loras:
        return out
    if not request_supports_loras():
        raise UserInputError(
            f"the preset {p.name} needs LoRAs, and this build of Wan22 Desktop cannot load them",
            "update Wan22 Desktop, or set the steps, shift, guidance and solver yourself",
            field="preset",
        )
    if lora_dir is None:
        raise UserInputError(f"the preset {p.name} needs the LoRA folder", field="preset")
    out["loras"] = [lora_entry(x, Path(lora_dir), p.name) for x in p.loras]
    return out


def preset_request(
    preset: Preset | str,
    *,
    lora_dir: Path | None = None,
    strip_loras: bool = False,
    **overrides: Any,
) -> GenerationRequest:
    """A ``GenerationRequest`` from the task's defaults, the preset's fields and ``overrides``
    (which win), in that order. Not validated."""
    from wan22_desktop.request import GenerationRequest

    values = preset_fields(preset, lora_dir=lora_dir, strip_loras=strip_loras)
    task = values.pop("task")
    values.update(overrides)
    return GenerationRequest.for_task(task, **values)


def lora_entry(lora: PresetLora, lora_dir: Path, preset: str = "") -> dict[str, Any]:
    """A request ``loras`` entry for one preset LoRA (the file must exist)."""
    path = lora.path(lora_dir)
    if not path.is_file():
        raise UserInputError(
            f"the LoRA {path.name} of the preset {preset or lora.catalog} is not downloaded",
            f"run: wan22 models download {lora.catalog}",
            field="preset",
        )
    from wan22_desktop.lora_library import sha256_file

    return {
        "path": str(path),
        "sha256": sha256_file(path),  # the job is refused if the file changes before it runs
        "strength_high": lora.strength_high,
        "strength_low": lora.strength_low,
    }


def default_lora_dir(home: str | None = None) -> Path:
    """The app's LoRA folder: ``loras`` in the models folder the settings choose."""
    from wan22_desktop.paths import app_paths
    from wan22_desktop.settings import Settings, effective_paths

    paths = app_paths(home)
    return effective_paths(paths, Settings.load(paths)).models / LORA_FOLDER


def describe(preset: Preset) -> dict[str, Any]:
    """JSON-ready summary (``wan22 presets list --json``)."""
    return {
        "name": preset.name,
        "title": preset.title,
        "task": preset.task,
        "distilled": preset.distilled,
        "fields": dict(preset.fields),
        "loras": [
            {
                "catalog": x.catalog,
                "file": x.file,
                "strength_high": x.strength_high,
                "strength_low": x.strength_low,
            }
            for x in preset.loras
        ],
        "sources": list(preset.sources),
    }
