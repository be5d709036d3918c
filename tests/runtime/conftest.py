from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LOOP_BACKEND = "tests.runtime.loop_backend:LoopBackend"


@pytest.fixture
def worker_env(monkeypatch):
    """Environment for worker subprocesses: the repo importable, the loop backend selected."""
    env = {
        "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        "WAN22_WORKER_BACKEND": LOOP_BACKEND,
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return env
