"""Check an installed folder: every file we downloaded against the hub's size and hash (kept in the
DB), an imported folder against the manifest recorded at import, every weight file's header, and
the folder against the official layout; ``deep`` also reads every tensor (dtype, shape, NaN)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from wan22_desktop.db.base import utcnow
from wan22_desktop.db.downloads import Download, InstalledModel
from wan22_desktop.db.installed import here
from wan22_desktop.downloader.catalog import get_model
from wan22_desktop.downloader.local_scan import check_folder
from wan22_desktop.downloader.manifest import (
    deep_problems,
    header_problems,
    manifest_problems,
    read_manifest,
)
from wan22_desktop.downloader.remote import RemoteFile, target_path
from wan22_desktop.downloader.transfer import verify_file
from wan22_desktop.errors import OperationError, UserInputError


@dataclass
class VerifyReport:
    path: Path
    checked: int = 0  # files hashed against hub metadata
    problems: list[str] = field(default_factory=list)
    layout: str | None = None
    hashes: str | None = None  # what the hashes were checked against: "hub", "import manifest"
    deep_checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, object]:
        return {
            "path": str(self.path),
            "ok": self.ok,
            "checked": self.checked,
            "problems": self.problems,
            "layout": self.layout,
            "hashes": self.hashes,
            "deep_checked": self.deep_checked,
        }


def resolve_target(s: Session, name: str) -> Path:
    """A folder path, or the installed folder of a catalogue model."""
    p = Path(name).expanduser()
    if p.is_dir():
        return p.resolve()
    m = get_model(name)
    row = s.scalars(
        select(InstalledModel)
        .where(InstalledModel.model_id == m.model_id, here(s))
        .order_by(InstalledModel.id.desc())
    ).first()
    if row is None:
        raise UserInputError(
            f"{m.key} is not installed",
            hint=f"download it with `wan22 models download {m.key}` or import a folder",
        )
    return Path(row.path)


def verify_folder(
    s: Session,
    root: Path,
    *,
    layout: bool = True,
    manifest_dir: Path | None = None,
    deep: bool = False,
) -> VerifyReport:
    report = VerifyReport(root)
    d = s.scalars(
        select(Download)
        .where(Download.target_dir == str(root), Download.status == "done")
        .order_by(Download.id.desc())
    ).first()
    if d is not None:
        for f in d.files:
            dest = target_path(root, f.path)
            if not dest.is_file():
                report.problems.append(f"{f.path}: missing")
                continue
            sha = f.sha256 if f.sha256 and len(f.sha256) == 64 else None
            git = f.sha256 if f.sha256 and len(f.sha256) == 40 else None
            problem = verify_file(dest, RemoteFile(f.path, f.size, "", sha256=sha, git_sha1=git))
            report.checked += 1
            if problem:
                report.problems.append(f"{f.path}: {problem}")
        report.hashes = "hub"
    elif manifest_dir is not None and (files := read_manifest(manifest_dir, root)) is not None:
        report.checked, problems = manifest_problems(root, files)
        report.problems += problems
        report.hashes = "import manifest"
    named = {p.split(":", 1)[0] for p in report.problems}
    report.problems += [p for p in header_problems(root) if p.split(":", 1)[0] not in named]
    if deep:
        report.deep_checked, problems = deep_problems(root)
        named = {p.split(":", 1)[0] for p in report.problems}
        report.problems += [p for p in problems if p.split(":", 1)[0] not in named]
    if layout:
        try:
            res = check_folder(root)
        except OperationError as exc:
            report.layout = f"not checked ({exc.message})"
        else:
            report.layout = res.summary
            report.problems += [f"layout: {p}" for p in res.problems]
    if report.ok:
        row = s.scalars(
            select(InstalledModel).where(InstalledModel.path == str(root), here(s))
        ).first()
        if row is not None:
            row.verified_at = utcnow()
    return report
