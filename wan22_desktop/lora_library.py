"""The user's LoRAs without torch: file hashes, what a file is for (from its safetensors header),
the app's LoRA folder plus adopted folders (a ComfyUI ``models/loras``), and the ``--lora`` flag.

The header is read as JSON (8-byte length + JSON, the safetensors format), so the CLI, the GUI
and the request rules can describe and check LoRAs in milliseconds, without loading tensors.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wan22_desktop.errors import CheckpointError, UserInputError
from wan22_desktop.lora_formats import describe, expert_from_name, parse_keys, partner_name

SUFFIX = ".safetensors"
FOLDERS_STATE_KEY = "lora_folders"  # settings.json ui_state: folders adopted in place
_HEADER_MAX = 100 * 1024 * 1024

_hash_cache: dict[tuple[str, int, int], str] = {}


def sha256_file(path: str | Path) -> str:
    """The file's sha256 (cached per path, size and mtime: the request rules check it often)."""
    path = Path(path)
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _hash_cache:
        h = hashlib.sha256()
        with path.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        _hash_cache[key] = h.hexdigest()
    return _hash_cache[key]


def verify_ref(path: str, sha256: str) -> None:
    """Refuse a LoRA that is missing or no longer the file the job was made with."""
    p = Path(path)
    if not p.is_file():
        raise UserInputError(
            f"LoRA file {p} is missing",
            "put the file back, or edit the job without it (queue edit --lora ...)",
            field="loras",
        )
    if sha256_file(p) != sha256:
        raise UserInputError(
            f"LoRA file {p.name} has changed since the job was made (sha256 differs)",
            "restore the original file, or queue the job again with the new file "
            "(--lora PATH records its new hash)",
            field="loras",
        )


def read_header(path: str | Path) -> tuple[dict[str, tuple[int, ...]], dict[str, str]]:
    """(tensor name -> shape, metadata) from a safetensors file's header, without tensors."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            raw = f.read(8)
            if len(raw) != 8:
                raise ValueError("shorter than a safetensors header")
            (size,) = struct.unpack("<Q", raw)
            if size > _HEADER_MAX:
                raise ValueError("header too large")
            header = json.loads(f.read(size))
        if not isinstance(header, dict):
            raise ValueError("header is not a JSON object")
        metadata = header.pop("__metadata__", None) or {}
        shapes = {k: tuple(int(n) for n in v["shape"]) for k, v in header.items()}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(
            f"{path.name} is not a readable safetensors file: {exc}",
            "download it again, or choose another file",
        ) from None
    return shapes, {str(k): str(v) for k, v in metadata.items()}


def lora_info(path: str | Path, *, with_hash: bool = False) -> dict[str, Any]:
    """What a LoRA file is for (family, task, expert, format, rank, blocks) for lists and checks;
    raises ``CheckpointError`` for a file that is not a Wan LoRA."""
    path = Path(path)
    shapes, metadata = read_header(path)
    layout = parse_keys(shapes, metadata)
    info: dict[str, Any] = {"name": path.name, "path": str(path), "size": path.stat().st_size}
    info.update(describe(layout, shapes, path.name))
    if with_hash:
        info["sha256"] = sha256_file(path)
    return info


# ---- the --lora flag


@dataclass(frozen=True)
class LoraSpec:
    """``--lora PATH[:S | :high=S,low=T]`` before the file is looked at."""

    path: str
    high: float | None = None
    low: float | None = None
    explicit: bool = False  # per-expert strengths given (no auto pairing)


def parse_lora_flag(value: str) -> LoraSpec:
    """Split ``PATH``, ``PATH:S`` or ``PATH:high=S,low=T`` (either key may be left out: 0)."""
    path, sep, tail = value.rpartition(":")
    if not sep or not _looks_like_strengths(tail):
        return LoraSpec(value)
    try:
        if "=" not in tail:
            s = float(tail)
            return LoraSpec(path, s, s)
        parts = dict(item.split("=", 1) for item in tail.split(","))
        unknown = set(parts) - {"high", "low"}
        if unknown:
            raise ValueError(f"unknown key(s) {', '.join(sorted(unknown))}")
        return LoraSpec(
            path, float(parts.get("high", 0.0)), float(parts.get("low", 0.0)), explicit=True
        )
    except ValueError as exc:
        raise UserInputError(
            f"--lora {value!r}: {exc}",
            "use --lora PATH, --lora PATH:0.8 or --lora PATH:high=1,low=0.5",
            field="loras",
        ) from None


def _looks_like_strengths(tail: str) -> bool:
    return bool(re.fullmatch(r"[-+0-9.eE]+|((high|low|\w+)=[^,]*,?)+", tail)) and "/" not in tail


def refs_for_flag(value: str, task_has_experts: bool) -> list[dict[str, Any]]:
    """The request's ``loras`` entries for one ``--lora`` value: the file's absolute path and
    sha256 and the strengths. "Auto" for A14B without per-expert strengths: a ``*high_noise*``
    file goes to the high-noise expert and its ``*low_noise*`` partner (when it is next to it)
    to the low-noise one, as one asset; other files to both experts."""
    spec = parse_lora_flag(value)
    path = Path(os.path.abspath(os.path.expanduser(spec.path)))
    if path.suffix.lower() != SUFFIX:
        raise UserInputError(
            f"--lora {path.name}: not a .safetensors file",
            "LoRAs are read from .safetensors only",
            field="loras",
        )
    if not path.is_file():
        raise UserInputError(f"LoRA file not found: {path}", "check the path", field="loras")
    s = 1.0 if spec.high is None else spec.high
    high, low = (spec.high or 0.0, spec.low or 0.0) if spec.explicit else (s, s)
    files = [(path, high, low)]
    if task_has_experts and not spec.explicit:
        expert = expert_from_name(path.name)
        other = partner_name(path.name)
        partner = path.with_name(other) if other else None
        if expert == "high":
            files = [(path, s, 0.0)]
            if partner is not None and partner.is_file():
                files.append((partner, 0.0, s))
        elif expert == "low":
            files = [(path, 0.0, s)]
            if partner is not None and partner.is_file():
                files.insert(0, (partner, s, 0.0))
    return [
        {"path": str(p), "sha256": sha256_file(p), "strength_high": h, "strength_low": lo}
        for p, h, lo in files
    ]


def lora_flag_value(path: str, strength_high: float, strength_low: float) -> str:
    """The ``--lora`` text that gives back exactly this entry (copy as command)."""

    def num(x: float) -> str:
        return repr(float(x)).removesuffix(".0")

    return f"{path}:high={num(strength_high)},low={num(strength_low)}"


# ---- the library: the app's folder and adopted ones


def library_folder(data_dir: Path) -> Path:
    return Path(data_dir) / "loras"


def check_file_name(name: str) -> str:
    """A LoRA's name inside the library: a plain ``.safetensors`` file name, nothing else."""
    if (
        not name
        or name != Path(name).name
        or name in (".", "..")
        or "\\" in name
        or "\x00" in name
        or name.startswith(".")
    ):
        raise UserInputError(
            f"{name!r} is not a plain file name", "give the LoRA's file name only", field="name"
        )
    if not name.lower().endswith(SUFFIX):
        raise UserInputError(f"{name} is not a .safetensors file", "LoRAs are .safetensors files")
    return name


def scan(folders: list[Path]) -> list[dict[str, Any]]:
    """Every ``.safetensors`` under the folders (recursively, as ComfyUI lists subfolders), with
    what it is for; files that are not Wan LoRAs are listed with the reason."""
    out: list[dict[str, Any]] = []
    seen: set[Path] = set()
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob(f"*{SUFFIX}")):
            real = path.resolve()
            if real in seen or not path.is_file():
                continue
            seen.add(real)
            try:
                info = lora_info(path)
                info["usable"] = True
            except UserInputError as exc:
                info = {
                    "name": path.name,
                    "path": str(path),
                    "usable": False,
                    "reason": exc.message,
                }
            info["folder"] = str(folder)
            out.append(info)
    return _pair_assets(out)


def _pair_assets(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mark ``*high_noise*``/``*low_noise*`` partners in one folder as one asset."""
    by_path = {item["path"]: item for item in items}
    for item in items:
        other = partner_name(item["name"])
        if other:
            partner = str(Path(item["path"]).with_name(other))
            if partner in by_path:
                item["pair"] = partner
    return items


def import_file(src: Path, library: Path, *, move: bool = False) -> Path:
    """Copy (or move) a LoRA into the app's folder after checking it is a Wan LoRA."""
    src = Path(src).expanduser()
    if not src.is_file():
        raise UserInputError(f"no such file: {src}", "check the path")
    name = check_file_name(src.name)
    lora_info(src)  # refuse what is not a Wan LoRA before copying gigabytes
    library.mkdir(parents=True, exist_ok=True)
    dest = library / name
    if dest.exists():
        if sha256_file(dest) == sha256_file(src):
            return dest
        raise UserInputError(
            f"the library already has another {name}", "rename the file first, or remove the old"
        )
    tmp = dest.with_name(f".{name}.part")
    (shutil.move if move else shutil.copy2)(str(src), str(tmp))
    os.replace(tmp, dest)
    return dest


def remove_file(name: str, library: Path) -> Path:
    """Delete a LoRA from the app's own folder (adopted folders are never touched)."""
    path = library / check_file_name(name)
    if not path.is_file():
        raise UserInputError(f"no LoRA named {name} in {library}", "see `wan22 loras list`")
    path.unlink()
    return path
