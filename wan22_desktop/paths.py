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

    def ensure(self) -> AppPaths:
        """Create every folder (idempotent) and return self."""
        for p in (self.data, self.outputs, self.models, self.logs, self.cache):
            p.mkdir(parents=True, exist_ok=True)
        return self


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
