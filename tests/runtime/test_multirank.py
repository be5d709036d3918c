"""The launcher side of several GPUs, on CPU: torchrun with 2 gloo ranks, rank 0 speaks the protocol.

Both ranks receive every command, stop at the same step on cancel, and never outlive the job:
a kill reaches every rank (torchrun puts each in a session of its own), and closing the control
pipe ends them all.
"""

from __future__ import annotations

import os
import sys
import time

import psutil
import pytest

from tests.runtime.helpers import cpu_plan
from tests.runtime.loop_backend import write_checkpoint
from tests.runtime.test_worker import _request
from wan22_desktop.runtime import protocol as P
from wan22_desktop.runtime.launcher import WorkerProcess

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="torchrun process groups: POSIX"),
]
PLAN = cpu_plan(nproc=2)


def _dead(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _wait_dead(pids: list[int], timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(_dead(p) for p in pids):
            return True
        time.sleep(0.05)
    return False


def _ranks(w: WorkerProcess) -> list[psutil.Process]:
    return [
        p
        for p in psutil.Process(w.pid).children(recursive=True)
        if "wan22_desktop.runtime.worker" in " ".join(p.cmdline())
    ]


@pytest.fixture
def two_ranks(worker_env, tmp_path):
    w = WorkerProcess(
        nproc=2,
        env={**os.environ, **worker_env, "LOOP_STEP_S": "0.05"},
        log_path=tmp_path / "worker.log",
    )
    w.wait_ready(90)
    yield w
    w.kill()


def test_two_ranks_run_a_job_and_cancel_together(two_ranks, tmp_path):
    ckpt = write_checkpoint(tmp_path / "ckpt")
    ranks = _ranks(two_ranks)
    assert len(ranks) == 2 and two_ranks.ready.pid in [r.pid for r in ranks]
    two_ranks.send(P.RunJob(1, _request(steps=4), PLAN, str(ckpt), str(tmp_path / "o.mp4")))
    events = []
    while not isinstance(ev := two_ranks.next_event(60), (P.Done, P.Failed)):
        assert ev is not None, events
        events.append(ev)
    assert isinstance(ev, P.Done), ev
    assert [e.step for e in events if isinstance(e, P.Step)] == [1, 2, 3, 4]  # rank 0 only
    two_ranks.send(P.RunJob(2, _request(steps=200), PLAN, str(ckpt), str(tmp_path / "o2.mp4")))
    while not isinstance(ev := two_ranks.next_event(60), P.Step):
        assert ev is not None
    two_ranks.send(P.Cancel(2))
    while not isinstance(ev := two_ranks.next_event(10), P.Failed):
        assert ev is not None
    assert ev.kind == "cancelled"
    two_ranks.send(P.Ping())  # both ranks came back to the command loop: rank 0 answers
    assert isinstance(two_ranks.next_event(10), P.Pong)
    tree = two_ranks.tree()
    two_ranks.kill()
    assert _wait_dead(tree), "a rank outlived the kill"


def test_closing_the_control_pipe_ends_every_rank(two_ranks, tmp_path):
    ckpt = write_checkpoint(tmp_path / "ckpt")
    two_ranks.send(P.RunJob(1, _request(steps=200), PLAN, str(ckpt), str(tmp_path / "o.mp4")))
    while not isinstance(two_ranks.next_event(60), P.Step):
        pass
    tree = two_ranks.tree()
    two_ranks.proc.stdin.close()
    assert _wait_dead(tree, timeout=20), "ranks kept running after the parent went away"
