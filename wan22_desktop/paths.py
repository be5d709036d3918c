"""Where the app keeps its files: platformdirs locations, all under ``WAN22_HOME`` when it is set."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "Wan22Desktop"
HOME_ENV = "WAN22_HOME"


@dataclass(frozen=True)
class AppPaths:
    """The app's folders. ``data`` holds the database; the others may live elsewhere."""

    data: Path
    outputs: Path
    models: Path
    logs: Path
    cache: Path

    @property
    def database(self) -> Path:
        return self.data / "wan22.sqlite3"

    @property
    def settings_file(self) -> Path:
        return self.data / "settings.json"

    def check_usable(self, folder: Path | None = None) -> None:
        """Raise a ``UserInputError`` saying why ``folder`` (default: ``data``) cannot hold our
        files: a file in its place or above it, or a read-only folder. Quiet when it can."""
        found = _folder_problem(folder if folder is not None else self.data)
        if found:
            from wan22_desktop.errors import UserInputError

            what = "the data folder" if folder is None else str(folder)
            raise UserInputError(f"cannot use {what}: {found[0]}", found[1], field="home")

    def ensure(self) -> AppPaths:
        """Create every folder (idempotent) and return self."""
        for p in (self.data, self.outputs, self.models, self.logs, self.cache):
            p.mkdir(parents=True, exist_ok=True)
        return self


NOT_A_FOLDER_HINT = (
    "point --home or WAN22_HOME at a folder (or move that file aside); nothing was changed"
)
READ_ONLY_HINT = (
    "make the folder writable, or choose another data folder with --home or WAN22_HOME; "
    "the files in it are fine and were left untouched"
)


def folder_problem(folder: Path) -> str | None:
    """Why ``folder`` cannot be created or written, in one line; None when it can.

    Checked before opening anything in it, so the user hears "not a folder" or "read-only"
    instead of a low-level error (or a hint about a database that is in fact healthy).
    """
    found = _folder_problem(folder)
    return found[0] if found else None


def folder_obstacle(folder: Path) -> tuple[Path, str] | None:
    """What stops ``folder`` from being created or written: ``(path, "file")`` when a regular file
    stands at or above it, ``(path, "read-only")`` when its first existing ancestor cannot be
    written; None when it can. The one rule for every folder we write to (data, outputs,
    --save_file's folder), checked before anything is created."""
    probe = Path(os.path.abspath(folder))
    while not probe.exists():
        if probe.parent == probe:
            return None
        probe = probe.parent
    if not probe.is_dir():
        return probe, "file"
    if not os.access(probe, os.W_OK | os.X_OK):
        return probe, "read-only"
    return None


def _folder_problem(folder: Path) -> tuple[str, str] | None:
    found = folder_obstacle(folder)
    if found is None:
        return None
    probe, what = found
    if what == "read-only":
        return f"the folder {probe} is read-only", READ_ONLY_HINT
    if probe == Path(os.path.abspath(folder)):
        return f"{folder} is a file, not a folder", NOT_A_FOLDER_HINT
    return f"{probe} is a file, not a folder, so {folder} cannot be created", NOT_A_FOLDER_HINT


def app_paths(home: str | os.PathLike[str] | None = None) -> AppPaths:
    """Resolve the folders: an explicit ``home``, else ``$WAN22_HOME``, else the OS's usual places.

    With a home folder everything lives under it (data/, outputs/, models/, logs/, cache/), which
    makes a data dir portable and lets tests run in a temporary folder.
    """
    root = home if home is not None else os.environ.get(HOME_ENV)
    if root:
        base = Path(root).expanduser().resolve()
        return AppPaths(
            data=base / "data",
            outputs=base / "outputs",
            models=base / "models",
            logs=base / "logs",
            cache=base / "cache",
        )
    dirs = platformdirs.PlatformDirs(APP_NAME, appauthor=False)
    data = Path(dirs.user_data_dir)
    videos = Path(platformdirs.user_videos_dir())
    return AppPaths(
        data=data,
        outputs=videos / APP_NAME,
        models=data / "models",
        logs=Path(dirs.user_log_dir),
        cache=Path(dirs.user_cache_dir),
    )
