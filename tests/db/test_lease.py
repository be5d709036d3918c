"""The runner lease: one runner per data dir; stale leases are taken over."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest

from wan22_desktop.db.base import utcnow
from wan22_desktop.db.database import Database
from wan22_desktop.db.lease import (
    RunnerIdentity,
    acquire_lease,
    current_lease,
    heartbeat,
    pid_alive,
    release_lease,
)
from wan22_desktop.db.models import RunnerLease
from wan22_desktop.errors import OperationError


@pytest.fixture
def backend() -> str:
    """One lease per data folder is the SQLite model; a shared queue's per-runner leases are
    tested in test_runners.py."""
    return "sqlite"


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_second_runner_is_refused_with_who_holds_it(db: Database) -> None:
    a = RunnerIdentity.current()
    acquire_lease(db, a)
    acquire_lease(db, a)  # re-acquiring one's own lease is fine
    with pytest.raises(OperationError) as info:
        acquire_lease(db, RunnerIdentity("other-host", 4242, "x"))
    assert f"pid {a.pid} on host {a.host} since" in info.value.message
    assert info.value.hint


def test_lease_of_another_host_is_respected_until_it_expires(db: Database) -> None:
    remote = RunnerIdentity("far-away", 1, "r")  # pid 1 exists here, but on another host
    acquire_lease(db, remote, ttl_s=60)
    me = RunnerIdentity.current()
    with pytest.raises(OperationError, match="far-away"):
        acquire_lease(db, me)
    with db.session(write=True) as s:
        s.get(RunnerLease, "queue").expires_at = utcnow() - timedelta(seconds=1)
    acquire_lease(db, me)
    assert current_lease(db).holder == me.holder


def test_lease_of_a_dead_process_on_this_host_is_taken_at_once(db: Database) -> None:
    me = RunnerIdentity.current()
    ghost = RunnerIdentity(me.host, _dead_pid(), "ghost")
    assert not pid_alive(ghost.pid)
    acquire_lease(db, ghost, ttl_s=3600)
    acquire_lease(db, me)
    assert current_lease(db).holder == me.holder


def test_heartbeat_extends_and_detects_a_lost_lease(db: Database) -> None:
    me = RunnerIdentity.current()
    first = acquire_lease(db, me, ttl_s=5)
    heartbeat(db, me, ttl_s=100)
    assert current_lease(db).expires_at > first.expires_at
    with db.session(write=True) as s:
        s.get(RunnerLease, "queue").holder = "someone-else"
    with pytest.raises(OperationError, match="lost the queue lease"):
        heartbeat(db, me)


def test_release_lets_the_next_runner_in(db: Database) -> None:
    me = RunnerIdentity.current()
    acquire_lease(db, me)
    release_lease(db, RunnerIdentity("x", 1, "not-holder"))  # not ours: no effect
    assert current_lease(db) is not None
    release_lease(db, me)
    assert current_lease(db) is None
    acquire_lease(db, RunnerIdentity("other-host", 7, "y"))


def test_only_the_lease_holder_may_claim(db: Database) -> None:
    from wan22_desktop.db import queue as q

    from .conftest import make_request

    q.enqueue(db, make_request(), count=2)
    me, other = RunnerIdentity.current(), RunnerIdentity("other-host", 5, "o")
    acquire_lease(db, other)
    with pytest.raises(OperationError, match="does not hold the queue"):
        q.claim_next(db, me.holder)
    assert q.claim_next(db, other.holder).id == 1
