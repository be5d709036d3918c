"""Proof on a real PostgreSQL server: one queue shared by several runner processes, each with its
own data folder (as on separate machines), and by concurrent ``queue add`` processes."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest

from tests.runtime.helpers import TASK, cli, wait_for
from tests.runtime.loop_backend import write_checkpoint
from wan22_desktop.db import queue as q
from wan22_desktop.db.database import Database, open_database
from wan22_desktop.db.models import Generation, Job
from wan22_desktop.downloader.installed import register
from wan22_desktop.paths import app_paths
from wan22_desktop.request import GenerationRequest
from wan22_desktop.settings import Settings


def _box(root: Path, url: str) -> Path:
    """A data folder (one per "machine") whose settings point at the shared database."""
    paths = app_paths(root).ensure()
    settings = Settings.load(paths)
    settings.set_database_url(url)
    settings.save()
    return root


@pytest.fixture
def shared(pg_url: str, tmp_path: Path):
    db = open_database(pg_url)
    ckpt = write_checkpoint(tmp_path / "models" / "loop-ti2v")
    size = sum(f.stat().st_size for f in ckpt.iterdir())
    db.transact(
        lambda s: register(
            s, "Wan-AI/Wan2.2-TI2V-5B", ckpt, origin="import", tasks=(TASK,), size=size
        )
    )
    yield db
    db.close()


def _jobs(db: Database) -> list[Job]:
    return q.list_jobs(db)


def test_queue_add_from_four_processes_queues_every_job_exactly_once(
    pg_url: str, tmp_path: Path
) -> None:
    from tests.cli_helpers import make_tiny_checkpoint

    shared = open_database(pg_url)
    ckpt = make_tiny_checkpoint(tmp_path / "ckpts", TASK)  # `queue add` checks the layout
    shared.transact(
        lambda s: register(s, "Wan-AI/Wan2.2-TI2V-5B", ckpt, origin="import", tasks=(TASK,), size=1)
    )
    boxes = [_box(tmp_path / f"box{i}", pg_url) for i in range(4)]
    adders = [
        cli(
            box,
            "queue",
            "add",
            "--task",
            TASK,
            "--size",
            "128*128",
            "--frame_num",
            "5",
            "--sample_steps",
            "2",
            "--prompt",
            f"from box {i}",
            "--base_seed",
            str(1000 * i),
            "--count",
            "30",
        )  # fmt: skip
        for i, box in enumerate(boxes)
    ]
    for p in adders:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    jobs = _jobs(shared)
    assert len(jobs) == 120
    seeds = sorted(GenerationRequest.from_json(j.request_json).seed for j in jobs)
    assert seeds == sorted(1000 * i + n for i in range(4) for n in range(30))
    positions = [(j.priority, j.position) for j in jobs]
    assert len(set(positions)) == 120  # no two jobs share a place in the queue
    for i in range(4):  # each batch keeps its order
        mine = [j for j in jobs if j.prompt == f"from box {i}"]
        assert [j.position for j in mine] == sorted(j.position for j in mine)
    shared.close()


@pytest.mark.slow
def test_three_runners_do_every_job_once_and_finish_a_killed_runners_job(
    shared: Database, pg_url: str, tmp_path: Path, worker_env
) -> None:
    n_jobs = 120
    req = GenerationRequest.for_task(
        TASK, prompt="a red fox", size="128*128", frame_num=5, sample_steps=2, seed=1
    )
    q.enqueue(shared, req, count=n_jobs)
    boxes = [_box(tmp_path / f"box{i}", pg_url) for i in range(3)]
    # Box 0 steps slowly, so it is surely mid-job when it is killed.
    victim = cli(boxes[0], "--json", "queue", "run", env={"LOOP_STEP_S": "0.5"})
    others = [cli(box, "--json", "queue", "run") for box in boxes[1:]]

    def victims_job() -> Job | None:
        running = q.list_jobs(shared, statuses=["running"])
        return next((j for j in running if f":{victim.pid}:" in (j.runner_id or "")), None)

    killed = wait_for(victims_job, timeout=120)
    wait_for(lambda: (q.get_job(shared, killed.id).progress_step or 0) >= 1, timeout=60)
    victim.send_signal(signal.SIGKILL)
    victim.communicate(timeout=30)
    assert victim.returncode == -signal.SIGKILL

    for p in others:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        assert json.loads(out.splitlines()[-1])["summary"]["done"]  # both really worked

    jobs = _jobs(shared)
    assert len(jobs) == n_jobs
    assert {j.status for j in jobs} == {"done"}, [(j.id, j.status, j.status_reason) for j in jobs]
    with shared.session() as s:
        gens = s.query(Generation).all()
    assert len(gens) == n_jobs  # no job done twice
    assert len({j.generation_id for j in jobs}) == n_jobs
    assert len({g.video_path for g in gens}) == n_jobs
    # The killed runner's job was requeued once and finished by another runner.
    again = q.get_job(shared, killed.id)
    assert (again.interruptions, again.attempts) == (1, 2)
    assert f":{victim.pid}:" not in again.runner_id
    pids = {str(p.pid) for p in [victim, *others]}
    assert {j.runner_id.split(":")[1] for j in jobs} <= pids
    assert sum(j.attempts for j in jobs) == n_jobs + 1


@pytest.mark.slow
def test_a_server_restart_mid_run_loses_and_repeats_nothing(
    shared: Database, pg_url: str, pg_server, tmp_path: Path, worker_env
) -> None:  # noqa: ANN001
    n_jobs = 40
    req = GenerationRequest.for_task(
        TASK, prompt="a heron", size="128*128", frame_num=5, sample_steps=3, seed=1
    )
    q.enqueue(shared, req, count=n_jobs)
    boxes = [_box(tmp_path / f"box{i}", pg_url) for i in range(2)]
    runners = [cli(box, "--json", "queue", "run", env={"LOOP_STEP_S": "0.05"}) for box in boxes]
    wait_for(lambda: q.counts_by_status(shared).get("done", 0) >= 5, timeout=120)
    pg_server.stop()  # every connection is cut; jobs keep rendering
    try:
        time.sleep(3)
    finally:
        pg_server.start()
    for p in runners:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    jobs = _jobs(shared)
    assert [j.status for j in jobs] == ["done"] * n_jobs, [(j.id, j.status_reason) for j in jobs]
    with shared.session() as s:
        assert s.query(Generation).count() == n_jobs  # none twice
    assert len({j.generation_id for j in jobs}) == n_jobs
    # The runners really met the outage, and rode it out instead of stopping.
    logs = "".join(f.read_text() for box in boxes for f in (box / "logs").glob("*.log*"))
    assert "is unreachable" in logs and "retrying in" in logs
