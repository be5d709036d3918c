"""Putting the app into the desktop's menus: ``wan22-desktop --install-desktop-entry``.

Linux: the XDG desktop entry into ``$XDG_DATA_HOME/applications``, the icon in every shipped size
into the hicolor theme, the AppStream metainfo into ``$XDG_DATA_HOME/metainfo``, all named by the
app id (the window sets the same id as its desktop file name, so the taskbar groups them). The
entry's ``Exec`` is the absolute path of the ``wan22-desktop`` that installed it, so a pipx or
``uv tool`` install works without that folder on ``PATH``. Windows: a Start-menu shortcut written
by PowerShell's ``WScript.Shell`` (no extra Python packages). macOS: nothing yet (no ``.app``).

Pure (no Qt, no torch): it runs before, and without, a QApplication, so it works with no display.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from wan22_desktop.errors import OperationError
from wan22_desktop.resources import (
    APP_ID,
    DESKTOP_FILE,
    ICON_SIZES,
    METAINFO_FILE,
    SVG_ICON,
    icon_png,
    resource,
)

APP_NAME = "Wan22 Desktop"
SHORTCUT_NAME = f"{APP_NAME}.lnk"
MAC_NOT_DONE = (
    "not done on macOS yet: there is no .app bundle for the Dock or Launchpad to point at; "
    "start the app with `wan22-desktop` from a terminal"
)


@dataclass(frozen=True)
class Outcome:
    """What an install or uninstall did: the files written or removed, and a line to print."""

    paths: tuple[Path, ...]
    message: str


def launcher_command(executable: str | None = None) -> list[str]:
    """How to start this installation's window: the AppImage it runs from, or its
    ``wan22-desktop`` script next to the interpreter (a venv, pipx, uv tool) or on PATH; else
    ``python -m`` the GUI module."""
    appimage = os.environ.get("APPIMAGE", "")  # set by an AppImage's runtime (ADR 0010)
    if appimage and Path(appimage).is_file():
        return [appimage]
    python = Path(executable or sys.executable)
    name = "wan22-desktop.exe" if os.name == "nt" else "wan22-desktop"
    beside = python.parent / name
    if beside.is_file():
        return [str(beside)]
    found = shutil.which("wan22-desktop")
    if found:
        return [str(Path(found).resolve())]
    return [str(python), "-m", "wan22_desktop.gui.app"]


_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")


def exec_quote(arg: str) -> str:
    """One argument of a desktop entry's ``Exec`` key (Desktop Entry Specification 1.4+)."""
    arg = arg.replace("%", "%%")
    if not arg or any(ch in _RESERVED for ch in arg):
        escaped = "".join("\\" + ch if ch in '"`$\\' else ch for ch in arg)
        arg = f'"{escaped}"'
    # The key's value is itself a string value: backslashes are escaped once more.
    return arg.replace("\\", "\\\\")


def render_desktop_entry(template: str, command: list[str]) -> str:
    """The shipped entry with ``Exec``/``TryExec`` pointing at ``command``."""
    lines = []
    for line in template.splitlines():
        if line.startswith("Exec="):
            line = "Exec=" + " ".join(exec_quote(a) for a in command)
        elif line.startswith("TryExec="):
            line = "TryExec=" + command[0]
        lines.append(line)
    return "\n".join(lines) + "\n"


def xdg_data_home(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_DATA_HOME`` when set to an absolute path (the spec ignores relative ones)."""
    env = os.environ if environ is None else environ
    value = env.get("XDG_DATA_HOME", "")
    if value and Path(value).is_absolute():
        return Path(value)
    return Path(env.get("HOME") or Path.home()) / ".local" / "share"


def _linux_table(data_home: Path) -> list[tuple[Path, tuple[str, ...]]]:
    """(installed path, shipped resource) for every file of the Linux desktop integration."""
    icons = data_home / "icons" / "hicolor"
    return [
        (data_home / "applications" / DESKTOP_FILE, (DESKTOP_FILE,)),
        (data_home / "metainfo" / METAINFO_FILE, (METAINFO_FILE,)),
        (icons / "scalable" / "apps" / f"{APP_ID}.svg", (SVG_ICON,)),
        *(
            (icons / f"{s}x{s}" / "apps" / f"{APP_ID}.png", ("icons", f"wan22-desktop-{s}.png"))
            for s in ICON_SIZES
        ),
    ]


def linux_files(data_home: Path) -> list[Path]:
    """Where ``--install-desktop-entry`` writes on Linux."""
    return [target for target, _ in _linux_table(data_home)]


def installed_entry(data_home: Path) -> dict[str, str] | None:
    """The installed Linux entry and the command its ``Exec`` starts, or None (``wan22 doctor``)."""
    path = data_home / "applications" / DESKTOP_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    exec_line = next((ln[5:] for ln in text.splitlines() if ln.startswith("Exec=")), "")
    return {"path": str(path), "exec": exec_line}


def install_linux(data_home: Path, command: list[str]) -> Outcome:
    written: list[Path] = []
    missing: list[str] = []
    try:
        for target, parts in _linux_table(data_home):
            source = resource(*parts)  # a missing one is logged as a warning
            if source is None:
                missing.append("/".join(parts))
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.name == DESKTOP_FILE:
                text = render_desktop_entry(source.read_text(encoding="utf-8"), command)
                _write_atomic(target, text.encode("utf-8"))
            else:
                _write_atomic(target, source.read_bytes())
            written.append(target)
    except OSError as exc:
        raise OperationError(
            f"could not write the desktop entry: {exc}",
            f"check that {data_home} is writable (or set XDG_DATA_HOME)",
        ) from exc
    _refresh_desktop_database(data_home / "applications")
    message = (
        f"installed the desktop entry for {command[0]} ({len(written)} files under {data_home})"
    )
    if missing:
        message += f"; missing from this installation: {', '.join(missing)}"
    return Outcome(tuple(written), message)


def uninstall_linux(data_home: Path) -> Outcome:
    removed: list[Path] = []
    for target in linux_files(data_home):
        try:
            target.unlink()
            removed.append(target)
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise OperationError(f"could not remove {target}: {exc}", "remove it by hand") from exc
    _refresh_desktop_database(data_home / "applications")
    if not removed:
        return Outcome((), f"no desktop entry was installed under {data_home}")
    return Outcome(
        tuple(removed), f"removed the desktop entry ({len(removed)} files under {data_home})"
    )


def _write_atomic(target: Path, data: bytes) -> None:
    part = target.with_name(target.name + ".part")
    part.write_bytes(data)
    os.replace(part, target)


def _refresh_desktop_database(folder: Path) -> None:
    """Menus notice a new entry by themselves; the database helps older ones (best effort)."""
    tool = shutil.which("update-desktop-database")
    if tool and folder.is_dir():
        subprocess.run([tool, str(folder)], capture_output=True, timeout=30, check=False)


# ---- Windows


def start_menu_folder(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    appdata = env.get("APPDATA") or str(Path.home() / "AppData" / "Roaming")
    return Path(appdata) / "Microsoft" / "Windows" / "Start Menu" / "Programs"


POWERSHELL_SHORTCUT = (
    "$s = (New-Object -ComObject WScript.Shell).CreateShortcut($env:WAN22_LNK); "
    "$s.TargetPath = $env:WAN22_TARGET; $s.Arguments = $env:WAN22_ARGS; "
    "$s.IconLocation = $env:WAN22_ICON; $s.Description = $env:WAN22_DESCRIPTION; $s.Save()"
)


def shortcut_script(
    link: Path, command: list[str], icon: Path | None
) -> tuple[list[str], dict[str, str]]:
    """The PowerShell call that writes ``link``; values travel in the environment, unquoted."""
    env = {
        "WAN22_LNK": str(link),
        "WAN22_TARGET": command[0],
        "WAN22_ARGS": subprocess.list2cmdline(command[1:]),
        "WAN22_ICON": str(icon) if icon else command[0],
        "WAN22_DESCRIPTION": "Make videos from text and images with the open Wan2.2 models",
    }
    return ["powershell", "-NoProfile", "-NonInteractive", "-Command", POWERSHELL_SHORTCUT], env


def _windows_icon(folder: Path) -> Path | None:
    """An ``.ico`` built from the shipped PNGs (shortcuts cannot show a PNG)."""
    source = icon_png(256)
    if source is None:
        return None
    from PIL import Image  # a dependency of the app; only needed here

    target = folder / "wan22-desktop.ico"
    folder.mkdir(parents=True, exist_ok=True)
    with Image.open(source) as image:
        image.save(target, sizes=[(s, s) for s in ICON_SIZES])
    return target


def install_windows(command: list[str], icon_folder: Path) -> Outcome:
    link = start_menu_folder() / SHORTCUT_NAME
    try:
        icon = _windows_icon(icon_folder)
        argv, extra = shortcut_script(link, command, icon)
        link.parent.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            argv, env={**os.environ, **extra}, capture_output=True, text=True, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise OperationError(
            f"could not create the Start-menu shortcut: {exc}",
            "start the app with `wan22-desktop` from a terminal instead",
        ) from exc
    if done.returncode != 0 or not link.exists():
        raise OperationError(
            "could not create the Start-menu shortcut (PowerShell failed)",
            (done.stderr.strip().splitlines() or ["start the app with `wan22-desktop`"])[-1],
        )
    return Outcome((link,), f"added {APP_NAME} to the Start menu ({link})")


def uninstall_windows(icon_folder: Path) -> Outcome:
    removed = []
    for path in (start_menu_folder() / SHORTCUT_NAME, icon_folder / "wan22-desktop.ico"):
        if path.exists():
            path.unlink()
            removed.append(path)
    if not removed:
        return Outcome((), "no Start-menu shortcut was installed")
    return Outcome(tuple(removed), f"removed {APP_NAME} from the Start menu")


# ---- the two flags


def install(icon_folder: Path, platform: str = sys.platform) -> Outcome:
    """Install for the current user; OperationError when this platform has no way yet."""
    command = launcher_command()
    if platform.startswith("win"):
        return install_windows(command, icon_folder)
    if platform == "darwin":
        raise OperationError(MAC_NOT_DONE, "see packaging/README.md for the planned .app bundle")
    return install_linux(xdg_data_home(), command)


def uninstall(icon_folder: Path, platform: str = sys.platform) -> Outcome:
    if platform.startswith("win"):
        return uninstall_windows(icon_folder)
    if platform == "darwin":
        raise OperationError(MAC_NOT_DONE, "there is nothing to remove")
    return uninstall_linux(xdg_data_home())
