"""Paths recorded on one machine, opened on another (a shared queue, ADR 0011).

A runner records where it wrote a video: ``/mnt/renders/outputs/x.mp4`` on a Linux box. A GUI on
a laptop sees the same share as ``Z:\\outputs`` or ``/Volumes/renders/outputs``. The user names
the pairs once (Settings → Folders → Path mappings, one ``FROM => TO`` per line, like the "remote
path mappings" of media servers); every path read from the database goes through ``map_path``
before it is opened. Pure functions: no file system access, so the rule is testable everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath

from wan22_desktop.errors import UserInputError

SEPARATOR = "=>"


@dataclass(frozen=True)
class PathMapping:
    """``source`` as the recording machine wrote it, ``target`` as this machine sees it."""

    source: str
    target: str


def _windows(path: str) -> bool:
    # A drive letter (C:\ or C:/) or a UNC share (\\server\share) is a Windows path.
    return (len(path) >= 2 and path[1] == ":" and path[0].isalpha()) or path.startswith("\\\\")


def _parts(path: str) -> tuple[tuple[str, ...], bool]:
    """(components, case-insensitive?) of an absolute path of either family."""
    if _windows(path):
        return tuple(p.lower() for p in PureWindowsPath(path).parts), True
    return PurePosixPath(path).parts, False


def parse_mappings(text: str) -> tuple[PathMapping, ...]:
    """The mappings in a setting's text: one ``FROM => TO`` per line (or ``;``-separated); blank
    lines and lines starting with ``#`` are skipped. Raises ``UserInputError`` naming the bad
    line."""
    out: list[PathMapping] = []
    for raw in text.replace(";", "\n").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        source, sep, target = (s.strip() for s in line.partition(SEPARATOR))
        if not sep or not source or not target:
            raise UserInputError(
                f"path mapping {line!r} is not of the form FROM {SEPARATOR} TO",
                "write one mapping per line, e.g. /mnt/renders => Z:\\renders",
                field="path_mappings",
            )
        for side in (source, target):
            if not (_windows(side) or side.startswith("/")):
                raise UserInputError(
                    f"path mapping {line!r}: {side!r} is not an absolute path",
                    "both sides must be absolute folders (/mnt/..., C:\\..., \\\\server\\share)",
                    field="path_mappings",
                )
        out.append(PathMapping(source, target))
    return tuple(out)


def map_path(path: str, mappings: tuple[PathMapping, ...]) -> str:
    """``path`` as this machine sees it: the longest mapping whose source folder contains it
    wins; a path no mapping covers comes back unchanged. Windows sources match without regard
    to case or slash direction; the rest of the path keeps its own spelling."""
    if not path or not mappings:
        return path
    parts, _ = _parts(path)
    original = (PureWindowsPath(path) if _windows(path) else PurePosixPath(path)).parts
    best: tuple[int, PathMapping] | None = None
    for m in mappings:
        src, _ = _parts(m.source)
        if _windows(m.source) != _windows(path):
            continue
        if parts[: len(src)] == src and (best is None or len(src) > best[0]):
            best = (len(src), m)
    if best is None:
        return path
    depth, m = best
    rest = original[depth:]
    target = PureWindowsPath(m.target) if _windows(m.target) else PurePosixPath(m.target)
    return str(target.joinpath(*rest))
