"""A shared database server that goes away and comes back: the runner's units of work wait for
it (with backoff) inside a reconnect window, the GUI and CLI fail fast with one clear error, and
units retried after a lost commit answer are applied once."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest

from wan22_desktop.db import queue as q
from wan22_desktop.db.database import Database, DatabaseUnreachableError
from wan22_desktop.db.lease import RunnerIdentity, db_now, list_runners
from wan22_desktop.db.models import Runner

from .conftest import make_request


@pytest.fixture
def backend() -> str:
    return "postgresql"


def _restart_later(server, delay_s: float) -> threading.Thread:  # noqa: ANN001
    t = threading.Thread(target=lambda: (time.sleep(delay_s), server.start()), daemon=True)
    t.start()
    return t


def test_a_unit_of_work_rides_out_a_server_restart_inside_the_window(
    db: Database, pg_server
) -> None:  # noqa: ANN001
    q.enqueue(db, make_request(), count=2)
    pg_server.stop()
    try:
        with pytest.raises(DatabaseUnreachableError) as info:  # outside a window: at once
            q.counts_by_status(db)
        assert "unreachable" in info.value.message and info.value.hint
        restart = _restart_later(pg_server, 1.5)
        with db.reconnect_window(60):
            assert q.counts_by_status(db) == {"queued": 2}
            (job,) = q.enqueue(db, make_request(seed=7))
        restart.join()
    finally:
        if restart_needed(pg_server):
            pg_server.start()
    assert job.id == 3 and len(q.list_jobs(db)) == 3


def restart_needed(server) -> bool:  # noqa: ANN001
    import psycopg

    try:
        psycopg.connect(server._dsn("postgres"), connect_timeout=2).close()
    except psycopg.OperationalError:
        return True
    return False


def test_leases_that_ran_out_while_the_server_was_down_get_one_more_period(
    db: Database, pg_server
) -> None:  # noqa: ANN001
    far = RunnerIdentity("box-far", 1, "far")
    q.enqueue(db, make_request())
    q.start_runner(db, far, ttl_s=30)
    job = q.claim_next(db, far.holder)
    with db.session(write=True) as s:  # its 30 s lease ran out 10 s ago, as during an outage
        row = s.get(Runner, far.holder)
        row.heartbeat_at = db_now(s) - timedelta(seconds=40)
        row.expires_at = row.heartbeat_at + timedelta(seconds=30)
    pg_server.stop()
    pg_server.start()
    me = RunnerIdentity("box-near", 2, "near")
    assert q.start_runner(db, me) == []  # not declared dead: the server has just restarted
    assert q.get_job(db, job.id).status == "running"
    assert far.holder in {r.id for r in list_runners(db)}


def test_runner_writes_retried_after_a_lost_answer_apply_once(db: Database) -> None:
    me = RunnerIdentity("box-a", 1, "a")
    q.enqueue(db, make_request(), count=2)
    q.start_runner(db, me)
    job = q.claim_next(db, me.holder)
    result = q.GenerationResult(video_path="/shared/out/1.mp4")
    first = q.finish_job(db, job.id, me.holder, result)
    again = q.finish_job(db, job.id, me.holder, result)  # as a retry after a lost commit answer
    assert again.id == first.id
    other = q.claim_next(db, me.holder)
    q.fail_job(db, other.id, me.holder, kind="crashed", message="boom")
    assert q.fail_job(db, other.id, me.holder, kind="crashed", message="boom").status == "failed"
    with db.session() as s:
        from wan22_desktop.db.models import Generation

        assert s.query(Generation).count() == 1
