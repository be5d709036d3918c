"""Reuse what is on disk: register official-layout folders in place and find copies in the Hugging
Face and ModelScope caches. The layout rules live in ``wan22_desktop.model_layout`` (one checker for
the whole app); this module only finds folders and records them."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from wan22_desktop.downloader.catalog import MODELS, CatalogModel, get_model
from wan22_desktop.downloader.installed import register
from wan22_desktop.errors import OperationError, UserInputError


@dataclass(frozen=True)
class LayoutResult:
    ok: bool
    task: str | None
    problems: tuple[str, ...]
    summary: str
    kind: str = "official"  # "diffusers": a diffusers-format repo, adopted in place


@dataclass(frozen=True)
class FoundCopy:
    repo_id: str
    path: Path
    origin: str  # "hf-cache" | "modelscope-cache"


def check_folder(root: Path, task: str | None = None) -> LayoutResult:
    """The app's layout checker, behind the narrow interface this package needs."""
    try:
        from wan22_desktop import model_layout
    except ImportError as exc:  # until the core branch is merged
        raise OperationError(
            "the model layout checker is not part of this build", hint="update the app"
        ) from exc
    if task is None:
        task = model_layout.detect_task(root)
    report = model_layout.check_layout(root, task)
    return LayoutResult(
        ok=bool(report.ok),
        task=report.task,
        problems=tuple(str(p) for p in report.problems),
        summary=report.summary(),
        kind=getattr(report, "kind", "official"),
    )


def model_for_task(task: str | None) -> CatalogModel | None:
    for m in MODELS:
        if task and task in m.tasks:
            return m
    return None


def folder_size(root: Path) -> int:
    total = 0
    for dirpath, _, names in os.walk(root, followlinks=False):
        for n in names:
            try:
                total += (Path(dirpath) / n).stat().st_size  # follows HF-cache blob symlinks
            except OSError:
                pass
    return total


def import_folder(
    s: Session,
    root: Path,
    *,
    model: str | None = None,
    origin: str = "import",
    manifest_dir: Path | None = None,
) -> LayoutResult:
    """Validate ``root`` and register it in place (no copy). Raises with the list of problems.

    With ``manifest_dir``, the size and sha256 of every file are recorded there (the folder is
    read once), so a later ``models verify`` catches bytes changed inside a file."""
    root = Path(root).expanduser().resolve()
    if not root.is_dir():
        raise UserInputError(
            f"{root} is not a folder",
            hint="give the folder that holds config.json (or model_index.json: diffusers format)",
        )
    wanted = get_model(model) if model else None
    result = check_folder(root, wanted.tasks[0] if wanted and wanted.tasks else None)
    if not result.ok:
        raise UserInputError(
            f"{root} is not a complete model folder: "
            + "; ".join(result.problems[:5])
            + (f" (and {len(result.problems) - 5} more)" if len(result.problems) > 5 else ""),
            hint="download the missing files with `wan22 models download`, or point at the right folder",
        )
    m = wanted or model_for_task(result.task)
    if m is None:
        raise UserInputError(f"cannot tell which model {root} holds", hint="pass --model")
    if manifest_dir is not None:
        from wan22_desktop.downloader.manifest import write_manifest

        write_manifest(manifest_dir, root)
    if result.kind != "official" and origin == "import":
        origin = result.kind  # the Models view says where it came from ("diffusers")
    register(s, m.repo_id, root, origin=origin, tasks=m.tasks, size=folder_size(root))
    return result


# ---- Caches


def hf_cache_root() -> Path:
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def modelscope_cache_root() -> Path:
    env = os.environ.get("MODELSCOPE_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "modelscope" / "hub"


def _hf_snapshot(repo_dir: Path) -> Path | None:
    snaps = repo_dir / "snapshots"
    if not snaps.is_dir():
        return None
    ref = repo_dir / "refs" / "main"
    if ref.is_file():
        p = snaps / ref.read_text().strip()
        if p.is_dir():
            return p
    candidates = sorted((p for p in snaps.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
    return candidates[-1] if candidates else None


def find_copies(
    hf_cache: Path | None = None,
    ms_cache: Path | None = None,
    models: tuple[CatalogModel, ...] = MODELS,
) -> list[FoundCopy]:
    """Folders in the two caches that hold a catalogue repo (complete or not: check before use)."""
    hf_root = hf_cache or hf_cache_root()
    ms_root = ms_cache or modelscope_cache_root()
    found: list[FoundCopy] = []
    for m in models:
        if m.kind != "model":  # a LoRA pick is a few files of a shared repo, not a checkpoint
            continue
        owner, name = m.repo_id.split("/")
        snap = _hf_snapshot(hf_root / f"models--{owner}--{name}")
        if snap is not None:
            found.append(FoundCopy(m.repo_id, snap, "hf-cache"))
        # modelscope writes "." in names as "___"; newer versions add a "models/" level
        for cand in (
            ms_root / "models" / owner / name,
            ms_root / "models" / owner / name.replace(".", "___"),
            ms_root / owner / name,
            ms_root / owner / name.replace(".", "___"),
        ):
            if cand.is_dir() and any(cand.iterdir()):
                found.append(FoundCopy(m.repo_id, cand, "modelscope-cache"))
                break
    return found


# ---- ComfyUI single files


@dataclass(frozen=True)
class ComfyAdoption:
    registered: tuple[tuple[str, Path], ...]  # (task, the folder standing for the set)
    notes: tuple[str, ...]  # what could not be used, and why


def find_tokenizer(s: Session) -> Path | None:
    """A umT5 tokenizer folder of an installed model (official or diffusers layout)."""
    from sqlalchemy import select

    from wan22_desktop.db.downloads import InstalledModel
    from wan22_desktop.tasks import TOKENIZER_DIR

    for row in s.scalars(select(InstalledModel).order_by(InstalledModel.id)):
        for sub in (TOKENIZER_DIR, "tokenizer"):
            cand = Path(row.path) / sub
            if (cand / "tokenizer.json").is_file() and (cand / "tokenizer_config.json").is_file():
                return cand
    return None


def adopt_comfyui(
    s: Session, folder: Path, models_dir: Path, *, tokenizer: Path | None = None
) -> ComfyAdoption:
    """Pair the Wan2.2 files of a ComfyUI install into complete sets and register each in place:
    the app writes only a small ``wan22-model-set.json`` per set under ``models_dir``."""
    from wan22_desktop import foreign_layout, model_layout

    folder = Path(folder).expanduser().resolve()
    if not folder.is_dir():
        raise UserInputError(
            f"{folder} is not a folder", hint="give the ComfyUI folder (the one holding models/)"
        )
    files = foreign_layout.comfy_files(folder)
    if not files:
        raise UserInputError(
            f"no Wan2.2 model files found in {folder}",
            hint="give the ComfyUI folder; its models/diffusion_models, models/vae and "
            "models/text_encoders are searched",
        )
    tok = Path(tokenizer).expanduser().resolve() if tokenizer else find_tokenizer(s)
    sets, notes = foreign_layout.comfy_model_sets(files, tok)
    done: list[tuple[str, Path]] = []
    for ms in sets:
        target = foreign_layout.write_model_set(ms, Path(models_dir) / f"comfyui-{ms.task}")
        report = model_layout.check_layout(target, ms.task)
        if not report.ok:
            notes.append(f"{ms.task}: " + "; ".join(str(p) for p in report.problems[:3]))
            continue
        m = model_for_task(ms.task)
        if m is None:
            continue
        register(s, m.repo_id, target, origin="comfyui", tasks=m.tasks, size=report.total_bytes)
        done.append((ms.task, target))
    return ComfyAdoption(tuple(done), tuple(notes))
