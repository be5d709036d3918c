"""Real processes: concurrent claimers never share a job; a SIGKILLed runner's job is recovered."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from wan22_desktop.db import queue as q
from wan22_desktop.db.database import Database, open_database
from wan22_desktop.db.lease import (
    RunnerIdentity,
    current_lease,
    list_runners,
    register_runner,
    release_lease,
)
from wan22_desktop.db.models import Runner
from wan22_desktop.errors import OperationError

from .conftest import make_request

ROOT = Path(__file__).resolve().parents[2]


def _child(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.db._procs", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_concurrent_claimers_never_get_the_same_job(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    n_jobs, n_procs = 120, 4
    q.enqueue(db, make_request(seed=0), count=n_jobs)
    go = tmp_path / "go"
    procs = [_child("claim", db_url, f"r{i}", str(go)) for i in range(n_procs)]
    for p in procs:
        assert p.stdout.readline().strip() == "ready", p.stderr.read()
    go.touch()
    results = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    claimed = [i for r in results for i in r]
    assert len(claimed) == len(set(claimed)) == n_jobs  # disjoint and complete
    assert sum(1 for r in results if r) >= 2  # the claims really were concurrent
    for i, r in enumerate(results):
        # On a shared queue the claimer registered as "claimer:<pid>:r<i>".
        assert {j.runner_id.split(":")[-1] for j in q.list_jobs(db) if j.id in r} <= {f"r{i}"}


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_runner_killed_while_running_is_recovered_on_restart(db: Database, db_url: str) -> None:
    q.enqueue(db, make_request(), count=2)
    child = _child("hang", db_url)
    try:
        line = child.stdout.readline()
        assert line, child.stderr.read()
        info = json.loads(line)
        assert q.get_job(db, info["job"]).status == "running"
        if db.shared:
            # A shared queue: another runner starts beside it and leaves its live job alone.
            other = RunnerIdentity.current()
            assert q.start_runner(db, other) == []
            assert q.get_job(db, info["job"]).status == "running"
            release_lease(db, other)
        else:
            # While it lives, nobody else may run the queue.
            with pytest.raises(OperationError, match=f"pid {child.pid} on host"):
                q.start_runner(db, RunnerIdentity.current())
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        child.stdout.close()
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL

    # Restart: the lease (valid for 300 s more) is stale because its pid is gone.
    me = RunnerIdentity.current()
    recovered = q.start_runner(db, me)
    assert [j.id for j in recovered] == [info["job"]]
    job = q.get_job(db, info["job"])
    assert (job.status, job.interruptions, job.runner_id) == ("queued", 1, None)
    assert info["holder"] in job.status_reason
    if db.shared:  # the dead runner's registration is cleared; ours is there
        assert [r.id for r in list_runners(db)] == [me.holder]
    else:
        assert current_lease(db).holder == me.holder
    again = q.claim_next(db, me.holder)
    assert (again.id, again.attempts) == (info["job"], 2)


def test_recovery_marks_interrupted_after_the_limit(db_url: str) -> None:
    db = open_database(db_url)
    q.enqueue(db, make_request())
    me = RunnerIdentity.current()
    for _ in range(2):
        if db.shared:  # a runner on another machine whose lease then expires
            ghost = RunnerIdentity("far-away", 1, "ghost")
            register_runner(db, ghost)
            q.claim_next(db, ghost.holder)
            with db.session(write=True) as s:
                s.get(Runner, ghost.holder).expires_at = datetime(2000, 1, 1)
        else:
            q.claim_next(db, "ghost")  # a runner from before leases existed, say
        q.start_runner(db, me, max_interruptions=2)
        release_lease(db, me)
    assert q.get_job(db, 1).status == "interrupted"
    db.close()
