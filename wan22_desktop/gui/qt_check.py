"""Known-broken Qt binding builds and a missing display, refused with a clear message instead of
a random crash or Qt's abort.

PySide6 6.12.0 on Python 3.11 releases a reference to ``None`` on every void call (its binary
treats None as immortal, which it is only from Python 3.12), so any window dies within seconds
with "Fatal Python error: none_dealloc". 6.11.x on 3.11, and 6.12.0 on 3.12+, are fine.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

BROKEN = (((6, 12, 0), (3, 11)),)  # (PySide6 version, Python major.minor below which it breaks)


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split(".")[:3] if p.isdigit())


def pyside_problem(
    pyside_version: str | None = None, python: tuple[int, int] | None = None
) -> str | None:
    """Why this PySide6 cannot run here, or None."""
    if pyside_version is None:
        import PySide6

        pyside_version = PySide6.__version__
    py = python or sys.version_info[:2]
    for broken, below in BROKEN:
        if _version(pyside_version) == broken and py <= below:
            return (
                f"PySide6 {pyside_version} crashes on Python {py[0]}.{py[1]} (a reference-count "
                "bug in that build)"
            )
    return None


HINT = 'install PySide6 6.11 (pip install "PySide6<6.12") or use Python 3.12 or newer'


NO_DISPLAY = (
    "no display found (neither DISPLAY nor WAYLAND_DISPLAY is set); use QT_QPA_PLATFORM=offscreen "
    "for tests, or the wan22 command line on a headless machine"
)


def no_display_problem(
    environ: Mapping[str, str] | None = None, platform: str | None = None
) -> str | None:
    """Why the window cannot open here, or None. On Linux with no display and no platform chosen,
    Qt's xcb plugin aborts the process (core dump, a screen of advice); this says it in one line.
    """
    env = os.environ if environ is None else environ
    if not (platform or sys.platform).startswith("linux"):
        return None  # Windows and macOS always have their own platform plugin
    chosen = [p.split(":")[0].strip() for p in env.get("QT_QPA_PLATFORM", "").split(";")]
    chosen = [p for p in chosen if p]
    if any(p not in ("xcb", "wayland", "wayland-egl") for p in chosen):
        return None  # offscreen, minimal, vnc, eglfs, ...: no display server needed
    wants_x11 = not chosen or "xcb" in chosen
    wants_wayland = not chosen or any(p.startswith("wayland") for p in chosen)
    if (wants_x11 and env.get("DISPLAY")) or (wants_wayland and env.get("WAYLAND_DISPLAY")):
        return None
    return NO_DISPLAY
