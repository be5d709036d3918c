"""What an installed folder held when we took it in, so ``models verify`` can tell changed bytes.

A downloaded folder is checked against the hub's hashes (kept in the database); an imported one
has none, so at import we record a local manifest (size and sha256 of every file) in the app's
data folder, never in the user's model folder. Where there is no hash at all, ``deep_problems``
reads every safetensors tensor: its byte length must match dtype x shape, and floats must be
finite (flipped bytes in a weight usually show up as NaN or inf; a flip that keeps the value
finite cannot be told from a real weight without a hash).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from wan22_desktop.model_layout import pth_problem, read_safetensors_header, safetensors_problem

MANIFEST_DIR = "manifests"
BLOCK = 8 << 20

# safetensors dtype -> (bytes per element, finite check on a raw block or None for non-floats)
_FLOAT_BITS = {
    "F16": (np.uint16, 0x7C00),
    "BF16": (np.uint16, 0x7F80),
    "F32": (np.uint32, 0x7F800000),
    "F64": (np.uint64, 0x7FF0000000000000),
}
_DTYPE_BYTES = {
    "F64": 8,
    "F32": 4,
    "F16": 2,
    "BF16": 2,
    "I64": 8,
    "I32": 4,
    "I16": 2,
    "I8": 1,
    "U8": 1,
    "BOOL": 1,
    "F8_E4M3": 1,
    "F8_E5M2": 1,
    "U16": 2,
    "U32": 4,
    "U64": 8,
}


def manifest_path(manifest_dir: Path, root: Path) -> Path:
    """Where the manifest of ``root`` lives (one file per folder, named by its path's hash)."""
    key = hashlib.sha256(str(Path(root).resolve()).encode("utf-8")).hexdigest()[:24]
    return manifest_dir / f"{key}.json"


def _files(root: Path) -> list[Path]:
    out = []
    for dirpath, dirnames, names in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        out += [Path(dirpath) / n for n in names if not n.startswith(".")]
    return sorted(out)


def sha256_file(path: Path, on_bytes: Callable[[int], None] | None = None) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(BLOCK):
            h.update(block)
            if on_bytes:
                on_bytes(len(block))
    return h.hexdigest()


def write_manifest(manifest_dir: Path, root: Path) -> Path:
    """Hash every file of ``root`` (reads it all once) and record sizes and sha256s."""
    root = Path(root).resolve()
    files = {
        p.relative_to(root).as_posix(): {"size": p.stat().st_size, "sha256": sha256_file(p)}
        for p in _files(root)
    }
    path = manifest_path(manifest_dir, root)
    manifest_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"root": str(root), "files": files}, indent=1), encoding="utf-8")
    os.replace(tmp, path)
    return path


def read_manifest(manifest_dir: Path, root: Path) -> dict[str, dict] | None:
    try:
        data = json.loads(manifest_path(manifest_dir, root).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if data.get("root") != str(Path(root).resolve()) or not isinstance(data.get("files"), dict):
        return None
    return data["files"]


def manifest_problems(root: Path, files: dict[str, dict]) -> tuple[int, list[str]]:
    """(files checked, problems) of ``root`` against its manifest."""
    problems: list[str] = []
    checked = 0
    for rel, meta in sorted(files.items()):
        p = root / rel
        if not p.is_file():
            problems.append(f"{rel}: missing")
            continue
        size = p.stat().st_size
        checked += 1
        if size != meta.get("size"):
            problems.append(f"{rel}: size {size} != {meta.get('size')} recorded at import")
        elif sha256_file(p) != meta.get("sha256"):
            problems.append(f"{rel}: sha256 changed since import (bytes inside were modified)")
    return checked, problems


def header_problems(root: Path) -> list[str]:
    """Every safetensors and torch file of ``root``: complete, with a sane header."""
    problems = []
    for p in _files(root):
        rel = p.relative_to(root).as_posix()
        if p.suffix == ".safetensors":
            why = safetensors_problem(p)
        elif p.suffix in (".pth", ".pt"):
            why = pth_problem(p)
        else:
            continue
        if why:
            problems.append(f"{rel}: {why}")
    return problems


def deep_problems(root: Path) -> tuple[int, list[str]]:
    """Read every safetensors tensor: sizes match dtype x shape, floats are finite."""
    problems: list[str] = []
    checked = 0
    for p in _files(root):
        if p.suffix != ".safetensors":
            continue
        rel = p.relative_to(root).as_posix()
        checked += 1
        try:
            problem = _deep_check(p)
        except (OSError, ValueError) as exc:
            problem = str(exc)
        if problem:
            problems.append(f"{rel}: {problem}")
    return checked, problems


def _deep_check(path: Path) -> str | None:
    if why := safetensors_problem(path):
        return why
    header = read_safetensors_header(path)
    base = 8 + header.pop("__header_len__")
    data = np.memmap(path, dtype=np.uint8, mode="r")
    for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        dtype, shape = info.get("dtype"), info.get("shape", [])
        start, end = (int(x) for x in info["data_offsets"])
        width = _DTYPE_BYTES.get(str(dtype))
        if width is None:
            continue
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        if end - start != count * width:
            return f"tensor {name}: {end - start} bytes, but {dtype}{list(shape)} needs {count * width}"
        if dtype in _FLOAT_BITS:
            view_type, exp_mask = _FLOAT_BITS[dtype]
            step = max(width, (BLOCK // width) * width)
            for off in range(start, end, step):
                raw = np.asarray(data[base + off : base + min(end, off + step)]).view(view_type)
                if np.any((raw & view_type(exp_mask)) == view_type(exp_mask)):
                    return f"tensor {name} holds NaN or inf values (damaged bytes?)"
    return None
