"""What a hub tells us about one file, and the one check every remote name passes before use."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from wan22_desktop.errors import OperationError

_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass(frozen=True)
class RemoteFile:
    """A file in a hub repo, with what we need to fetch and verify it.

    ``sha256`` is the LFS hash when the hub has one; small files kept in git have only a git blob id
    (``git_sha1``), which we verify instead.
    """

    path: str
    size: int | None
    url: str
    headers: dict[str, str] = field(default_factory=dict, compare=False, repr=False)
    sha256: str | None = None
    git_sha1: str | None = None
    etag: str | None = None


def safe_relpath(name: str) -> str:
    """Normalise a remote file name, refusing anything that could land outside the target folder."""
    if not name or "\x00" in name:
        raise OperationError(
            f"refusing remote file name {name!r}", hint="the repository listing is invalid"
        )
    unified = name.replace("\\", "/")
    p = PurePosixPath(unified)
    if p.is_absolute() or _DRIVE.match(unified) or any(part in ("..",) for part in p.parts):
        raise OperationError(
            f"refusing remote file name {name!r}: it would be written outside the model folder",
            hint="the hub or mirror sent an unsafe listing; try another source",
        )
    parts = [x for x in p.parts if x not in ("", ".")]
    if not parts:
        raise OperationError(
            f"refusing remote file name {name!r}", hint="the repository listing is invalid"
        )
    return "/".join(parts)


def target_path(root: Path, name: str) -> Path:
    """Absolute path of a remote file inside ``root``; checked again after resolving symlinks."""
    rel = safe_relpath(name)
    base = root.resolve()
    dest = (base / rel).resolve()
    if dest != base and base not in dest.parents:
        raise OperationError(
            f"refusing remote file name {name!r}: it resolves outside {base}",
            hint="remove the symlink in the model folder or choose another folder",
        )
    return dest


def git_blob_sha1(data_len: int) -> hashlib._Hash:
    """A sha1 primed with git's blob header, so feeding the content yields the git blob id."""
    h = hashlib.sha1()
    h.update(f"blob {data_len}\0".encode())
    return h
