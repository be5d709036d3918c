"""A data folder that cannot be written (a file in its place, a read-only folder): one warning
that the log goes to the terminal only, then one ``error:`` and a ``hint:`` that says what is
wrong with the folder; never a traceback, never a hint to move a healthy database aside."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from wan22_desktop import cli

REPO = Path(__file__).resolve().parents[1]


def _run(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "WAN22_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "wan22_desktop.cli", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=60,
    )


@pytest.mark.parametrize("below", [False, True], ids=["home_is_a_file", "home_below_a_file"])
def test_home_that_is_a_file_gives_one_warning_and_the_right_hint(tmp_path, below) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    home = blocker / "sub" if below else blocker
    proc = _run(home, "queue", "list")
    err = proc.stderr.splitlines()
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert [line.split(":")[0] for line in err] == ["warning", "error", "hint"], err
    assert "terminal only" in err[0]
    assert "is a file, not a folder" in err[1]
    assert "aside or restore" not in proc.stderr  # not the corrupt-database hint
    assert blocker.read_text() == "x"


def test_read_only_data_folder_says_read_only(tmp_path, monkeypatch, capsys) -> None:
    # Tests may run as root, who can write anywhere: the permission check itself is simulated.
    home = tmp_path / "home"
    (home / "data").mkdir(parents=True)
    real_access = os.access
    ro = {str(home), str(home / "data"), str(home / "logs")}

    def access(path, mode, *a, **k):
        if str(path) in ro and mode & os.W_OK:
            return False
        return real_access(path, mode, *a, **k)

    def mkdir(self, *a, **k):
        if str(self) in ro and not self.exists():
            raise PermissionError(13, "Permission denied", str(self))
        return real_mkdir(self, *a, **k)

    real_mkdir = Path.mkdir
    monkeypatch.setattr(os, "access", access)
    monkeypatch.setattr(Path, "mkdir", mkdir)
    rc = cli.main(["--home", str(home), "queue", "list"])
    err = capsys.readouterr().err
    assert rc == 2
    assert "Traceback" not in err
    assert "warning: no log file" in err and "read-only" in err
    assert "hint: make the folder writable" in err
    assert "aside or restore" not in err
