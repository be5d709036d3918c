"""Several runners on one shared (PostgreSQL) queue: each registers and holds its own lease;
a dead one's job is taken back by any other; SQLite keeps one runner per data folder."""

from __future__ import annotations

from datetime import datetime

import pytest

from wan22_desktop.db import queue as q
from wan22_desktop.db.database import Database
from wan22_desktop.db.lease import (
    RunnerIdentity,
    RunnerInfo,
    heartbeat,
    list_runners,
    register_runner,
    release_lease,
)
from wan22_desktop.db.models import Runner
from wan22_desktop.errors import OperationError

from .conftest import make_request

GPU = {"name": "NVIDIA H100", "vram_bytes": 80 * 2**30}


@pytest.fixture
def backend() -> str:
    return "postgresql"


def _expire(db: Database, runner: RunnerIdentity) -> None:
    with db.session(write=True) as s:
        s.get(Runner, runner.holder).expires_at = datetime(2000, 1, 1)


def test_runners_register_what_they_can_run(db: Database) -> None:
    a, b = RunnerIdentity("box-a", 11, "a"), RunnerIdentity("box-b", 22, "b")
    q.start_runner(db, a, info=RunnerInfo(gpus=[GPU], models=["ti2v-5B"]))
    q.start_runner(db, b, info=RunnerInfo(gpus=[GPU, GPU], models=["t2v-A14B", "i2v-A14B"]))
    rows = {r.host: r for r in list_runners(db)}
    assert set(rows) == {"box-a", "box-b"}
    assert rows["box-a"].models == ["ti2v-5B"] and rows["box-a"].vram_bytes == 80 * 2**30
    assert len(rows["box-b"].gpus) == 2 and rows["box-b"].models == ["i2v-A14B", "t2v-A14B"]
    assert rows["box-a"].version and rows["box-a"].expires_at > rows["box-a"].heartbeat_at


def test_several_runners_claim_different_jobs_side_by_side(db: Database) -> None:
    q.enqueue(db, make_request(), count=3)
    runners = [RunnerIdentity(f"box-{i}", i, str(i)) for i in range(3)]
    for r in runners:
        assert q.start_runner(db, r) == []  # nobody else's job is taken: they are all alive
    claimed = [q.claim_next(db, r.holder) for r in runners]
    assert sorted(j.id for j in claimed) == [1, 2, 3]
    assert q.claim_next(db, runners[0].holder) is None
    # A new runner starting now leaves the live runners' jobs alone.
    assert q.start_runner(db, RunnerIdentity("box-9", 9, "9")) == []
    assert [j.status for j in q.list_jobs(db)] == ["running"] * 3


def test_a_dead_runners_job_is_requeued_by_another_then_interrupted(db: Database) -> None:
    q.enqueue(db, make_request())
    alive = RunnerIdentity("box-a", 1, "alive")
    q.start_runner(db, alive)
    for n in range(1, 4):
        dead = RunnerIdentity("box-b", 2, f"dead{n}")
        q.start_runner(db, dead)
        job = q.claim_next(db, dead.holder)
        assert job is not None and job.id == 1
        assert q.recover_orphans(db, alive.holder) == []  # its lease still holds
        _expire(db, dead)  # it stopped heartbeating (power cut, network down)
        (back,) = q.recover_orphans(db, alive.holder, max_interruptions=3)
        assert back.interruptions == n and dead.holder in back.status_reason
        assert back.status == ("queued" if n < 3 else "interrupted")
        # The dead runner's registration is cleared, and it can no longer claim or beat.
        assert dead.holder not in {r.id for r in list_runners(db)}
        with pytest.raises(OperationError, match="no live lease"):
            q.claim_next(db, dead.holder)
        with pytest.raises(OperationError, match="lease expired"):
            heartbeat(db, dead)
        with pytest.raises(OperationError, match="no longer run by this runner"):
            q.update_progress(db, 1, dead.holder, step=1, total=2)


def test_a_runner_whose_process_is_gone_on_this_host_is_dead_at_once(db: Database) -> None:
    import subprocess
    import sys

    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    me = RunnerIdentity.current()
    ghost = RunnerIdentity(me.host, p.pid, "ghost")
    q.enqueue(db, make_request())
    register_runner(db, ghost, ttl_s=3600)
    q.claim_next(db, ghost.holder)
    (back,) = q.start_runner(db, me)
    assert back.status == "queued"
    assert q.claim_next(db, me.holder).id == back.id


def test_heartbeat_extends_only_its_own_lease_and_release_unregisters(db: Database) -> None:
    a, b = RunnerIdentity("box-a", 1, "a"), RunnerIdentity("box-b", 2, "b")
    q.start_runner(db, a, ttl_s=5)
    q.start_runner(db, b, ttl_s=5)
    before = {r.id: r.expires_at for r in list_runners(db)}
    heartbeat(db, a, ttl_s=600)
    after = {r.id: r.expires_at for r in list_runners(db)}
    assert after[a.holder] > before[a.holder] and after[b.holder] == before[b.holder]
    release_lease(db, a)
    assert [r.id for r in list_runners(db)] == [b.holder]


def test_sqlite_keeps_one_runner_per_data_folder(db_path) -> None:  # noqa: ANN001
    from wan22_desktop.db.database import open_database

    db = open_database(db_path)
    a, b = RunnerIdentity("box-a", 1, "a"), RunnerIdentity("box-b", 2, "b")
    q.start_runner(db, a, info=RunnerInfo(models=["ti2v-5B"]))
    with pytest.raises(OperationError, match="the queue is being run by pid 1 on host box-a"):
        q.start_runner(db, b)
    assert [r.id for r in list_runners(db)] == [a.holder]  # registered for display
    db.close()
