"""Fixtures: a tiny official-layout repo (built once), a fake hub serving it, a fresh DB."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from tests.downloader.fake_hub import REPO_ID, SHARD, FakeHub, make_tiny_ti2v_repo  # noqa: F401
from wan22_desktop.db.base import Base


@pytest.fixture(scope="session")
def tiny_repo(tmp_path_factory) -> Path:
    return make_tiny_ti2v_repo(tmp_path_factory.mktemp("hubrepo") / "Wan2.2-TI2V-5B")


@pytest.fixture
def hub(tiny_repo):
    with FakeHub({REPO_ID: tiny_repo}) as h:
        yield h


@pytest.fixture
def online(monkeypatch):
    """The suite runs with HF_HUB_OFFLINE=1; these tests talk to the local fake hub only."""
    import huggingface_hub.constants as c

    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr(c, "HF_HUB_OFFLINE", False)


@pytest.fixture
def sessions(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    Base.metadata.create_all(engine)
    yield sessionmaker(engine, expire_on_commit=False)
    engine.dispose()
