"""Child-process entry points for the multi-process tests (run with ``python -m``)."""

from __future__ import annotations

import json
import os
import sys
import time

from wan22_desktop.db import queue
from wan22_desktop.db.database import open_database
from wan22_desktop.db.lease import RunnerIdentity


def claim_all(path: str, runner: str, go_file: str) -> None:
    """Say "ready", wait for ``go_file`` (so all claimers start together), then claim until the
    queue is empty; print the ids as JSON."""
    db = open_database(path, busy_timeout_s=10, lock_retries=10)
    if db.shared:  # a shared queue: only a runner with a live lease of its own may claim
        me = RunnerIdentity("claimer", os.getpid(), runner)
        queue.start_runner(db, me, ttl_s=300)
        runner = me.holder
    print("ready", flush=True)
    while not os.path.exists(go_file):
        time.sleep(0.001)
    got = []
    while (job := queue.claim_next(db, runner)) is not None:
        got.append(job.id)
        time.sleep(0.001)  # a real runner works between claims; lets the others in
    db.close()
    print(json.dumps(got), flush=True)


def run_one_and_hang(path: str) -> None:
    """Take the lease, claim a job, say so, then wait to be killed."""
    db = open_database(path)
    me = RunnerIdentity.current()
    queue.start_runner(db, me, ttl_s=300)
    job = queue.claim_next(db, me.holder)
    print(json.dumps({"job": job.id if job else None, "holder": me.holder}), flush=True)
    time.sleep(600)


if __name__ == "__main__":
    if sys.argv[1] == "claim":
        claim_all(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        run_one_and_hang(sys.argv[2])
