"""Is this folder a complete official Wan2.2 checkpoint? File checks only, no torch.

Used before a job starts (a missing shard must be a clear error, not a crash minutes into
loading), by ``wan22 doctor``, by the downloader after a download, and by the GUI's model page.
Reads only headers: a safetensors file's JSON header and a ``.pth`` zip's central directory,
enough to catch missing, truncated and wrong files without reading gigabytes.
"""

from __future__ import annotations

import json
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from wan22_desktop import foreign_layout
from wan22_desktop.errors import UserInputError
from wan22_desktop.tasks import TASKS, TaskSpec, get_task, task_for_model_type

DIT_CONFIG = "config.json"
DIT_INDEX = "diffusion_pytorch_model.safetensors.index.json"
DIT_SINGLE = "diffusion_pytorch_model.safetensors"
# What AutoTokenizer reads from google/umt5-xxl/. The official folder also has spiece.model and
# special_tokens_map.json, but spiece.model alone does not load with transformers 5 (the T5
# text encoder requires tokenizer.json), so it is not accepted in place of tokenizer.json.
TOKENIZER_FILES = ("tokenizer_config.json", "tokenizer.json")

_MAX_HEADER = 100 * 1024 * 1024  # safetensors caps its JSON header at 100 MB too
_MAX_JSON = 64 * 1024 * 1024


@dataclass(frozen=True)
class LayoutProblem:
    path: str  # relative to the checkpoint root, "/"-separated
    problem: str  # e.g. "missing", "truncated: 1234 of 5678 bytes"

    def __str__(self) -> str:
        return f"{self.path or '.'}: {self.problem}"


@dataclass(frozen=True)
class LayoutReport:
    root: Path
    task: str | None  # detected (or the requested task when the folder fits it)
    problems: tuple[LayoutProblem, ...]
    files: tuple[str, ...]  # required files that are present, relative paths
    total_bytes: int = 0  # size of those files
    kind: str = "official"  # or "diffusers" (foreign_layout: adopted in place, renamed on load)

    @property
    def ok(self) -> bool:
        return self.task is not None and not self.problems

    def summary(self) -> str:
        name = self.task or "unknown model"
        if self.ok:
            return f"{name}: complete ({len(self.files)} files, {self.total_bytes / 1e9:.1f} GB) in {self.root}"
        first = self.problems[0] if self.problems else LayoutProblem("", "not recognised")
        more = f" (+{len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        return f"{name}: incomplete in {self.root}: {first}{more}"


# ---------------------------------------------------------------------------- what is expected


def required_files(task: str, root: Path) -> list[str]:
    """Relative paths a complete ``task`` checkpoint has; shards come from the index when present."""
    spec = get_task(task)
    out: list[str] = []
    for folder in spec.dit_folders:
        out.append(_join(folder, DIT_CONFIG))
        out.extend(_dit_weight_files(root, folder))
    out += [spec.vae_file, spec.t5_file]
    out += [_join(spec.tokenizer_dir, name) for name in TOKENIZER_FILES]
    return out


def _dit_weight_files(root: Path, folder: str) -> list[str]:
    index = root / folder / DIT_INDEX
    if not index.is_file() and (root / folder / DIT_SINGLE).is_file():
        return [_join(folder, DIT_SINGLE)]
    shards: list[str] = []
    try:
        shards = sorted(set(_read_index(index).values()))
    except (OSError, ValueError):
        pass  # reported by check_layout; here we only list what we can
    return [_join(folder, DIT_INDEX)] + [_join(folder, s) for s in shards if _is_plain_name(s)]


def detect_task(root: Path) -> str | None:
    """The task a folder holds, from the DiT ``config.json``'s ``model_type``.

    ti2v keeps its config in the root; t2v/i2v (A14B) in the expert folders. A root config with
    t2v/i2v is a Wan2.1 single-model layout, which is not a Wan2.2 task: None. A diffusers-format
    folder's task comes from its transformer config (``foreign_layout.diffusers_task``).
    """
    if foreign_layout.is_diffusers_folder(root):
        return foreign_layout.diffusers_task(root)
    if foreign_layout.is_model_set_folder(root):
        ms = foreign_layout.read_model_set(root)
        return ms.task if ms is not None else None
    root_type = _model_type(root / DIT_CONFIG)
    if root_type is not None:
        spec = task_for_model_type(root_type)
        return spec.name if spec is not None and not spec.is_moe else None
    for expert in TASKS["t2v-A14B"].expert_subfolders:
        spec = task_for_model_type(_model_type(root / expert / DIT_CONFIG) or "")
        if spec is not None and spec.is_moe:
            return spec.name
    return None


def _model_type(config: Path) -> str | None:
    try:
        data = _read_json(config)
    except (OSError, ValueError):
        return None
    value = data.get("model_type") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


# ---------------------------------------------------------------------------- checks


def check_layout(root: Path, task: str | None = None) -> LayoutReport:
    """Check every required file of ``task`` (detected from config.json when None)."""
    root = Path(root)
    if task is not None:
        get_task(task)
    if not root.is_dir():
        return LayoutReport(root, task, (LayoutProblem("", "not a folder"),), ())
    if foreign_layout.is_diffusers_folder(root):
        return _check_diffusers(root, task)
    if foreign_layout.is_model_set_folder(root):
        return _check_model_set_folder(root, task)
    detected = detect_task(root)
    if task is None and detected is None:
        problem = "no Wan2.2 config.json (looked in ./, high_noise_model/, low_noise_model/)"
        if _model_type(root / DIT_CONFIG) in ("t2v", "i2v"):
            problem = (
                "a Wan2.1-style single model (no high_noise_model/low_noise_model): not Wan2.2"
            )
        return LayoutReport(root, None, (LayoutProblem(DIT_CONFIG, problem),), ())
    if task is not None and detected is not None and detected != task:
        where = _join(get_task(detected).dit_folders[0], DIT_CONFIG)
        return LayoutReport(
            root, detected, (LayoutProblem(where, f"this folder holds {detected}, not {task}"),), ()
        )
    spec = get_task(task or detected)  # type: ignore[arg-type]
    problems: list[LayoutProblem] = []
    for folder in spec.dit_folders:
        problems += _check_dit(root, folder, spec)
    problems += _check_pth(root, spec.vae_file)
    problems += _check_pth(root, spec.t5_file)
    problems += _check_tokenizer(root, spec.tokenizer_dir)
    files = tuple(f for f in required_files(spec.name, root) if (root / f).is_file())
    total = sum((root / f).stat().st_size for f in files)
    return LayoutReport(root, spec.name, tuple(problems), files, total)


def _check_diffusers(root: Path, task: str | None) -> LayoutReport:
    """``check_layout`` for a diffusers-format folder (the same report, ``kind="diffusers"``)."""
    detected = foreign_layout.diffusers_task(root)
    where = f"{foreign_layout.DIFFUSERS_EXPERTS[0]}/{DIT_CONFIG}"
    if detected is None:
        problem = "not a Wan2.2 transformer (a Wan2.1 or other diffusers model?)"
        return LayoutReport(root, None, (LayoutProblem(where, problem),), (), kind="diffusers")
    if task is not None and task != detected:
        problem = f"this folder holds {detected}, not {task}"
        return LayoutReport(root, detected, (LayoutProblem(where, problem),), (), kind="diffusers")
    return _model_set_report(foreign_layout.diffusers_model_set(root, detected))


def _check_model_set_folder(root: Path, task: str | None) -> LayoutReport:
    """``check_layout`` for an adopted set of single files (ComfyUI's): the folder holds only
    ``foreign_layout.MODEL_SET_FILE``, naming the files where they are."""
    ms = foreign_layout.read_model_set(root)
    if ms is None:
        problem = LayoutProblem(foreign_layout.MODEL_SET_FILE, "unreadable")
        return LayoutReport(root, None, (problem,), (), kind="comfyui")
    if task is not None and task != ms.task:
        problem = LayoutProblem(
            foreign_layout.MODEL_SET_FILE, f"this set holds {ms.task}, not {task}"
        )
        return LayoutReport(root, ms.task, (problem,), (), kind=ms.kind)
    return _model_set_report(ms)


def _model_set_report(ms: foreign_layout.ModelSet) -> LayoutReport:
    problems = tuple(LayoutProblem(r, p) for r, p in foreign_layout.check_model_set(ms))
    paths = [ms.dit_config, *(f for files in ms.dits for f in files), *ms.vae, *ms.t5]
    paths += [ms.tokenizer / name for name in TOKENIZER_FILES]
    present = [p for p in paths if p is not None and p.is_file()]
    files = tuple(_relative(p, ms.root) for p in present)
    total = sum(p.stat().st_size for p in present)
    return LayoutReport(ms.root, ms.task, problems, files, total, kind=ms.kind)


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def require_layout(root: Path, task: str) -> LayoutReport:
    """The report when the folder is a complete ``task`` checkpoint; else UserInputError."""
    report = check_layout(root, task)
    if report.ok:
        return report
    spec = get_task(task)
    first = report.problems[0]
    more = f" (and {len(report.problems) - 1} more problems)" if len(report.problems) > 1 else ""
    get_it = (
        f"download it with `wan22 models download {task}` ({spec.repo_id} on Hugging Face "
        "or ModelScope), or point to a complete folder"
    )
    if report.task is not None and report.task != task:
        hint = f"this folder holds {report.task}: choose that task, or {get_it}"
    else:
        hint = get_it
    raise UserInputError(f"{task} checkpoint in {Path(root)} is not usable: {first}{more}", hint)


def _check_dit(root: Path, folder: str, spec: TaskSpec) -> list[LayoutProblem]:
    problems: list[LayoutProblem] = []
    config = _join(folder, DIT_CONFIG)
    if not (root / config).is_file():
        problems.append(LayoutProblem(config, "missing"))
    else:
        model_type = _model_type(root / config)
        if model_type is None:
            problems.append(LayoutProblem(config, "not a model config (no model_type)"))
        elif model_type != spec.model_type:
            problems.append(
                LayoutProblem(
                    config, f"model_type is {model_type!r}, {spec.name} needs {spec.model_type!r}"
                )
            )

    index_rel = _join(folder, DIT_INDEX)
    single_rel = _join(folder, DIT_SINGLE)
    if not (root / index_rel).is_file():
        if (root / single_rel).is_file():
            problem = safetensors_problem(root / single_rel)
            return problems + ([LayoutProblem(single_rel, problem)] if problem else [])
        return problems + [LayoutProblem(index_rel, "missing")]
    try:
        weight_map = _read_index(root / index_rel)
    except (OSError, ValueError) as exc:
        return problems + [LayoutProblem(index_rel, f"unreadable index: {exc}")]
    by_shard: dict[str, list[str]] = {}
    for key, shard in weight_map.items():
        by_shard.setdefault(shard, []).append(key)
    for shard, keys in sorted(by_shard.items()):
        rel = _join(folder, shard)
        if not _is_plain_name(shard):
            problems.append(LayoutProblem(index_rel, f"names an unsafe file path {shard!r}"))
            continue
        try:
            header = read_safetensors_header(root / rel)
        except FileNotFoundError:
            problems.append(LayoutProblem(rel, "missing"))
            continue
        except (OSError, ValueError) as exc:
            problems.append(LayoutProblem(rel, str(exc)))
            continue
        problem = _extent_problem(root / rel, header)
        if problem:
            problems.append(LayoutProblem(rel, problem))
            continue
        absent = [k for k in keys if k not in header]
        if absent:
            problems.append(
                LayoutProblem(
                    rel, f"lacks {len(absent)} tensor(s) the index names, e.g. {absent[0]}"
                )
            )
    return problems


def _check_pth(root: Path, rel: str) -> list[LayoutProblem]:
    problem = pth_problem(root / rel)
    return [LayoutProblem(rel, problem)] if problem else []


def _check_tokenizer(root: Path, folder: str) -> list[LayoutProblem]:
    problems: list[LayoutProblem] = []
    for name in TOKENIZER_FILES:
        rel = _join(folder, name)
        try:
            if (root / rel).stat().st_size == 0:
                problems.append(LayoutProblem(rel, "empty"))
            elif name == "tokenizer_config.json":
                _read_json(root / rel)  # tokenizer.json is ~16 MB: its size is enough here
        except FileNotFoundError:
            problems.append(LayoutProblem(rel, "missing"))
        except (OSError, ValueError) as exc:
            problems.append(LayoutProblem(rel, f"invalid JSON: {exc}"))
    return problems


# ---------------------------------------------------------------------------- file formats


def read_safetensors_header(path: Path) -> dict:
    """The JSON header of a safetensors file (8-byte little-endian length, then JSON)."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        head = fh.read(8)
        if len(head) < 8:
            raise ValueError(f"not a safetensors file ({size} bytes)")
        (length,) = struct.unpack("<Q", head)
        if length > min(_MAX_HEADER, size - 8):
            if length <= _MAX_HEADER:
                raise ValueError(f"truncated: {size} bytes, header alone needs {length + 8}")
            raise ValueError("not a safetensors file (bad header length)")
        raw = fh.read(length)
    try:
        header = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ValueError("not a safetensors file (header is not JSON)") from None
    if not isinstance(header, dict):
        raise ValueError("not a safetensors file (header is not an object)")
    header.pop("__metadata__", None)
    header["__header_len__"] = length
    return header


def safetensors_problem(path: Path) -> str | None:
    """None when the file is a complete safetensors file, else what is wrong."""
    try:
        header = read_safetensors_header(path)
    except FileNotFoundError:
        return "missing"
    except (OSError, ValueError) as exc:
        return str(exc)
    return _extent_problem(path, header)


def _extent_problem(path: Path, header: dict) -> str | None:
    length = header["__header_len__"]
    try:
        ends = [int(v["data_offsets"][1]) for k, v in header.items() if k != "__header_len__"]
    except (TypeError, KeyError, IndexError, ValueError):
        return "not a safetensors file (bad tensor entry)"
    expected = 8 + length + max(ends, default=0)
    size = path.stat().st_size
    if size < expected:
        return f"truncated: {size} of {expected} bytes"
    if size > expected:
        return f"{size - expected} bytes longer than its header says ({expected})"
    return None


def pth_problem(path: Path) -> str | None:
    """None when ``path`` is a complete zip-format torch checkpoint (as ``torch.save`` writes).

    Opening the zip reads its end-of-central-directory record, which is the last thing written,
    so a truncated download fails here without reading the data.
    """
    if not path.is_file():
        return "missing"
    size = path.stat().st_size
    if size == 0:
        return "empty"
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            data_start = min((i.header_offset for i in infos), default=0)
    except zipfile.BadZipFile:
        return f"truncated or not a torch checkpoint ({size} bytes, no zip directory at the end)"
    except OSError as exc:
        return f"unreadable: {exc.strerror or exc}"
    if not any(PurePosixPath(i.filename).name == "data.pkl" for i in infos):
        return "not a torch checkpoint (no data.pkl inside)"
    if any(i.header_offset + i.compress_size > size for i in infos) or data_start < 0:
        return f"truncated: {size} bytes"
    return None


# ---------------------------------------------------------------------------- helpers


def _read_json(path: Path) -> object:
    if path.stat().st_size > _MAX_JSON:
        raise ValueError("too large for a JSON config")
    with path.open("rb") as fh:
        return json.loads(fh.read())


def _read_index(path: Path) -> dict[str, str]:
    data = _read_json(path)
    weight_map = data.get("weight_map") if isinstance(data, dict) else None
    if not isinstance(weight_map, dict) or not weight_map:
        raise ValueError("no weight_map")
    if not all(isinstance(v, str) for v in weight_map.values()):
        raise ValueError("weight_map values must be file names")
    return weight_map


def _is_plain_name(name: str) -> bool:
    """A shard name must be a file in the same folder: no separators, no '..', not absolute."""
    return (
        bool(name)
        and name not in (".", "..")
        and "/" not in name
        and "\\" not in name
        and ":" not in name
    )


def _join(folder: str, name: str) -> str:
    return f"{folder}/{name}" if folder else name
