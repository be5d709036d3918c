"""Shared fixtures: every test runs against its own data dir, never the user's."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


@pytest.fixture(autouse=True)
def wan22_home(tmp_path_factory, monkeypatch):
    """Point WAN22_HOME at a fresh folder so no test touches real user data."""
    home = tmp_path_factory.mktemp("wan22home")
    monkeypatch.setenv("WAN22_HOME", str(home))
    return home


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
