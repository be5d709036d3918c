"""``wan22 queue run`` as a real process: end to end, one runner per data dir, runner death, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import sys

import psutil
import pytest

from tests.runtime.helpers import cli, make_home, wait_for
from wan22_desktop.db import history

pytestmark = pytest.mark.slow  # real CLI processes: each starts a hardware probe and a worker


@pytest.fixture
def home(tmp_path, worker_env):
    h = make_home(tmp_path / "home")
    yield h
    h.db.close()


def _children(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _gone(proc: psutil.Process) -> bool:
    try:
        return proc.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_queue_run_until_empty(home):
    ids = home.enqueue(count=2)
    p = cli(home.root, "--json", "queue", "run")
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert lines[-1]["summary"]["done"] == ids
    kinds = [line.get("event") for line in lines[:-1]]
    assert "planned" in kinds and "done" in kinds and kinds[-1] == "stopped"
    steps = [
        line
        for line in lines
        if line.get("event") == "progress" and (line.get("data") or {}).get("type") == "step"
    ]
    assert steps and steps[-1]["data"]["step"] == 4
    for job_id in ids:
        gen = history.get_generation(home.db, home.job(job_id).generation_id)
        assert os.path.getsize(gen.video_path) > 0


def test_two_runners_on_one_data_dir_never_both_run(home):
    [job_id] = home.enqueue(steps=40)
    first = cli(home.root, "queue", "run", "--forever", env={"LOOP_STEP_S": "0.05"})
    try:
        wait_for(lambda: home.job(job_id).status == "running", timeout=60)
        second = cli(home.root, "queue", "run")
        out, err = second.communicate(timeout=60)
        assert second.returncode == 1
        assert "the queue is being run by pid" in err and f"pid {first.pid}" in err
        assert home.job(job_id).runner_id.split(":")[1] == str(first.pid)
    finally:
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=60)


def test_sigkill_of_the_runner_requeues_the_job_and_its_worker_exits(home):
    [job_id] = home.enqueue(steps=30)
    runner = cli(home.root, "queue", "run", env={"LOOP_STEP_S": "0.1"})
    wait_for(lambda: (home.job(job_id).progress_step or 0) >= 2, timeout=60)
    workers = [
        c for c in _children(runner.pid) if "wan22_desktop.runtime.worker" in " ".join(c.cmdline())
    ]
    assert len(workers) == 1
    runner.kill()
    runner.communicate(timeout=10)
    wait_for(lambda: _gone(workers[0]), timeout=15)  # no orphan keeps running the job
    assert home.job(job_id).status == "running"  # as the dead runner left it
    again = cli(home.root, "queue", "run")
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    assert "left queued" in out and f"job {job_id}: done ->" in out and "1 done, 0 failed" in out
    job = home.job(job_id)
    assert job.status == "done" and job.interruptions == 1 and job.attempts == 2


def test_ctrl_c_stops_cleanly_and_leaves_the_job_queued(home):
    [job_id] = home.enqueue(steps=60)
    runner = cli(home.root, "queue", "run", env={"LOOP_STEP_S": "0.1"})
    wait_for(lambda: (home.job(job_id).progress_step or 0) >= 1, timeout=60)
    workers = [
        c for c in _children(runner.pid) if "wan22_desktop.runtime.worker" in " ".join(c.cmdline())
    ]
    runner.send_signal(signal.SIGINT)
    out, err = runner.communicate(timeout=30)  # a hang guard only; the run stops at a step
    assert runner.returncode == 130, err
    assert "1 left queued" in out and "Traceback" not in err
    assert home.job(job_id).status == "queued"
    assert all(_gone(w) for w in workers)


def test_retry_safer_keeps_more_of_the_gpu_free(home):
    from wan22_desktop.db import queue as q

    [job_id] = home.enqueue()
    job = q.claim_next(home.db, "someone")
    q.fail_job(home.db, job.id, "someone", kind="out_of_memory", message="oom")
    p = cli(home.root, "queue", "retry-safer", str(job_id))
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    request = home.job(job_id).request_dict
    assert home.job(job_id).status == "queued"
    # No GPU here (CI): the headroom goes up one step, unchecked, and the line says so.
    assert request["memory"]["vram_headroom"] == 20
    assert f"job {job_id}: queued again with 20 % of the GPU kept free (not checked" in out


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="systemd-inhibit: Linux")
def test_sigkill_of_the_runner_leaves_no_inhibitor_and_the_next_start_no_partial_file(
    home, tmp_path
):
    """Issue 17's proof: the keep-awake inhibitor dies with a SIGKILLed runner, and what a dead
    worker left half-written is gone after the next start."""
    # A stand-in `systemd-inhibit` (none on CI): it drops its options and runs the command the
    # real one would hold the lock with (`tail --pid=RUNNER -f /dev/null`), so the runner's real
    # inhibitor path runs.
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    inhibit = fake_bin / "systemd-inhibit"
    inhibit.write_text('#!/bin/sh\nwhile [ "${1#--}" != "$1" ]; do shift; done\nexec "$@"\n')
    inhibit.chmod(0o755)
    env = {"LOOP_STEP_S": "0.1", "PATH": f"{fake_bin}{os.pathsep}{os.environ['PATH']}"}
    [job_id] = home.enqueue(steps=30)
    runner = cli(home.root, "queue", "run", env=env)
    wait_for(lambda: (home.job(job_id).progress_step or 0) >= 2, timeout=60)
    inhibitors = [c for c in _children(runner.pid) if "tail" in " ".join(c.cmdline())]
    assert len(inhibitors) == 1, [c.cmdline() for c in _children(runner.pid)]
    runner.kill()
    runner.communicate(timeout=10)
    # The death signal is delivered as the runner exits, but the inhibitor still has to be
    # scheduled to die (and `tail --pid` polls once a second): wait for it, as a user would.
    wait_for(lambda: _gone(inhibitors[0]), timeout=10)  # else: the inhibitor outlived the runner

    # What a worker killed while saving leaves: our temporary name in the outputs folder.
    partial = home.paths.outputs / f".20261205-120000_job{job_id}_ti2v-5B_11.x1y2z3.part.mp4"
    partial.parent.mkdir(parents=True, exist_ok=True)
    partial.write_bytes(b"\0" * 4096)
    old = partial.stat().st_mtime - 600
    os.utime(partial, (old, old))
    again = cli(home.root, "queue", "run", env=env)
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    assert home.job(job_id).status == "done"
    assert not partial.exists()
    assert not [p for p in home.paths.outputs.rglob("*") if ".part" in p.name]
    holding = [
        p
        for p in psutil.process_iter(["cmdline"])
        if f"--pid={again.pid}" in (p.info["cmdline"] or [])
    ]
    assert not holding, "the second runner's inhibitor outlived it"
