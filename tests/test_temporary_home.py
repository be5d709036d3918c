"""Tests never write into the real user's folders: every path the app, Hugging Face and ModelScope
would use resolves under the test's temporary home."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from tests.conftest import HOME_VARS, REAL_HOME
from wan22_desktop import cli
from wan22_desktop.paths import app_paths


def _under(path: str | Path, root: Path) -> bool:
    return Path(path).resolve().is_relative_to(root.resolve())


def test_every_home_variable_points_into_tmp(tmp_path_factory) -> None:
    tmp_root = tmp_path_factory.getbasetemp()
    for name in HOME_VARS:
        assert _under(os.environ[name], tmp_root), name
    assert not _under(Path.home(), Path(REAL_HOME)) or Path(REAL_HOME) == Path("/")
    assert _under(Path.home(), tmp_root)


def test_app_paths_without_wan22_home_resolve_under_the_temporary_home(
    monkeypatch, tmp_path_factory
) -> None:
    monkeypatch.delenv("WAN22_HOME")
    tmp_root = tmp_path_factory.getbasetemp()
    paths = app_paths()
    for folder in (paths.data, paths.logs, paths.cache, paths.models):
        assert _under(folder, tmp_root), folder


def _snapshot(folders: list[Path]) -> dict[Path, int]:
    out = {}
    for folder in folders:
        if folder.exists():
            out[folder] = folder.stat().st_mtime_ns
            for p in folder.rglob("*") if folder.name.startswith("Wan22") else ():
                out[p] = p.stat().st_mtime_ns
    return out


def test_a_cli_run_writes_nothing_into_the_real_home(monkeypatch) -> None:
    monkeypatch.delenv("WAN22_HOME")  # the OS default folders: the riskiest case
    real = Path(REAL_HOME)
    watched = [real / ".local" / "state", real / ".local" / "share", real / ".cache"]
    watched += [p / "Wan22Desktop" for p in watched]
    before = _snapshot(watched)
    assert cli.main(["--debug", "queue", "list"]) == 0
    logging.getLogger("wan22_desktop").info("a line for the log file")
    assert _snapshot(watched) == before
