"""Shared fixtures: every test runs against its own data dir, never the user's."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


# Everything that can place a file under the user's home: ours (WAN22_HOME, platformdirs via
# HOME/XDG_*), Hugging Face's and ModelScope's caches and ModelScope's stored login.
HOME_VARS = (
    "HOME",
    "XDG_DATA_HOME",
    "XDG_STATE_HOME",
    "XDG_CACHE_HOME",
    "XDG_CONFIG_HOME",
    "HF_HOME",
    "MODELSCOPE_CACHE",
    "MODELSCOPE_HOME",
)
REAL_HOME = os.path.expanduser("~")


def _point_homes_at(monkeypatch: pytest.MonkeyPatch, home: Path, user: Path) -> None:
    monkeypatch.setenv("WAN22_HOME", str(home))
    monkeypatch.setenv("HOME", str(user))
    monkeypatch.setenv("USERPROFILE", str(user))  # Windows' Path.home()
    for name, sub in (
        ("XDG_DATA_HOME", ".local/share"),
        ("XDG_STATE_HOME", ".local/state"),
        ("XDG_CACHE_HOME", ".cache"),
        ("XDG_CONFIG_HOME", ".config"),
        ("HF_HOME", ".cache/huggingface"),
        ("MODELSCOPE_CACHE", ".cache/modelscope/hub"),
        ("MODELSCOPE_HOME", ".modelscope"),
    ):
        monkeypatch.setenv(name, str(user / sub))


@pytest.fixture(autouse=True, scope="session")
def _session_home(tmp_path_factory):
    """The same for fixtures wider than one test (module and session scope are set up before any
    per-test fixture): a CLI call in one of them must not log into the real home either."""
    mp = pytest.MonkeyPatch()
    _point_homes_at(mp, tmp_path_factory.mktemp("session-wan22home"), tmp_path_factory.mktemp("u"))
    yield
    mp.undo()


@pytest.fixture(autouse=True)
def wan22_home(tmp_path_factory, monkeypatch):
    """Every test runs under a temporary home: WAN22_HOME, HOME and every XDG/hub cache variable
    point into a fresh folder, so no test touches real user data (logs, caches, credentials)."""
    home = tmp_path_factory.mktemp("wan22home")
    _point_homes_at(monkeypatch, home, tmp_path_factory.mktemp("home"))
    return home


@pytest.fixture(autouse=True)
def _restore_logging_and_excepthook():
    """The CLI adds log handlers (and a redacting excepthook) to this process: undo that after
    each test, so one test's log file or fallback console handler never receives another's lines."""
    import logging
    import sys

    root = logging.getLogger()
    handlers, level, hook = list(root.handlers), root.level, sys.excepthook
    yield
    for h in root.handlers[:]:
        if h not in handlers:
            root.removeHandler(h)
            h.close()
    root.setLevel(level)
    sys.excepthook = hook


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny tensors: one thread avoids OpenMP spin overhead on a shared 2-core machine.

    Opt in per module with ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``.
    """
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def pg_server():
    """A throwaway PostgreSQL server for the whole session (tests/db/pg_server.py); skipped with
    the reason only where PostgreSQL is not installed (CI installs it)."""
    from tests.db.pg_server import missing_reason, running_server

    why = missing_reason()
    if why:
        pytest.skip(why)
    with running_server() as server:
        yield server


@pytest.fixture
def pg_url(pg_server):
    """A fresh, empty database on the session's server, dropped afterwards."""
    url = pg_server.create_database()
    yield url
    pg_server.drop_database(url)


@pytest.fixture(autouse=True)
def _forget_modules_generated_in_tmp(tmp_path_factory):
    """Code a test generated under its temporary folders (torch.compile's inductor writes and
    imports Python modules in its cache) leaves ``sys.modules`` with the test: a later Qt error
    path walks ``sys.modules`` to format its message and aborts the process on such a module."""
    import sys

    before = set(sys.modules)
    yield
    base = str(tmp_path_factory.getbasetemp())
    for name in set(sys.modules) - before:
        origin = getattr(sys.modules.get(name), "__file__", None) or ""
        if origin.startswith(base):
            del sys.modules[name]
