"""The files the app ships inside its package: translations, icons, the desktop entry, metainfo.

They live here, not next to the repository, so a plain (non-editable) ``pip install`` of the
wheel, ``pipx`` and ``uv tool`` carry them. Found with :mod:`importlib.resources`; a file that
is missing is logged as a warning (the app then runs in English, or without an icon) instead of
failing silently. Pure: no Qt, no torch.
"""

from __future__ import annotations

import logging
from importlib.resources import files
from pathlib import Path

log = logging.getLogger(__name__)

APP_ID = "io.github.wan22desktop.Wan22Desktop"
"""Reverse-DNS id: the desktop entry's and the metainfo's file name, the Wayland app id."""
DESKTOP_FILE = f"{APP_ID}.desktop"
METAINFO_FILE = f"{APP_ID}.metainfo.xml"
ICON_SIZES = (16, 32, 48, 64, 128, 256)
SVG_ICON = "wan22-desktop.svg"


def resource_root() -> Path:
    """This package's folder on disk (wheels install unzipped, so it is a real folder)."""
    return Path(str(files(__name__)))


def resource(*parts: str) -> Path | None:
    """The shipped file or folder ``parts`` (e.g. ``"i18n", "zh_CN.qm"``), or None with a warning."""
    path = resource_root().joinpath(*parts)
    if path.exists():
        return path
    log.warning(
        "missing resource %s (looked in %s); reinstall wan22-desktop", "/".join(parts), path
    )
    return None


def icon_png(size: int) -> Path | None:
    return resource("icons", f"wan22-desktop-{size}.png")


def icon_files() -> list[Path]:
    """Every shipped icon that exists: the PNG sizes, then the SVG (a warning for each missing)."""
    found = [icon_png(size) for size in ICON_SIZES] + [resource(SVG_ICON)]
    return [p for p in found if p is not None]


def i18n_dir() -> Path:
    """The translations folder (a warning when it is missing; callers then find no ``.qm``)."""
    return resource("i18n") or resource_root() / "i18n"


def expected_files() -> list[str]:
    """What a complete installation ships (relative paths), for ``wan22 doctor``."""
    return [
        DESKTOP_FILE,
        METAINFO_FILE,
        SVG_ICON,
        *(f"icons/wan22-desktop-{size}.png" for size in ICON_SIZES),
        "i18n/zh_CN.qm",
    ]


def shipped_report() -> dict[str, object]:
    """Where the shipped files are, which translations exist, and what is missing (no warnings:
    the caller reports it)."""
    root = resource_root()
    return {
        "folder": str(root),
        "translations": sorted(p.stem for p in (root / "i18n").glob("*.qm")),
        "missing": [name for name in expected_files() if not (root / name).is_file()],
    }
