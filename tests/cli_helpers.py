"""Helpers for CLI tests: tiny checkpoints registered as installed in the test's data folder."""

from __future__ import annotations

from pathlib import Path

from wan22_desktop import cli
from wan22_desktop.db.database import open_app_database
from wan22_desktop.downloader.installed import register
from wan22_desktop.paths import app_paths
from wan22_desktop.tasks import get_task


def make_tiny_checkpoint(root: Path, task: str) -> Path:
    out = root / task
    if not out.exists():
        assert cli.main(["dev", "make-tiny-checkpoint", "--task", task, "--out", str(out)]) == 0
    return out


def register_installed(task: str, path: Path, home: str | Path | None = None) -> None:
    """Record ``path`` as the installed ``task`` model, as ``wan22 models import`` does."""
    with open_app_database(app_paths(home)) as db:
        db.transact(
            lambda s: register(
                s, get_task(task).repo_id, path, origin="import", tasks=(task,), size=1
            )
        )
