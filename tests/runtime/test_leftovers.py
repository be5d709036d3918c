"""Leftovers of dead workers: a real runner start on a data dir seeded with a killed worker's
partial file and an orphaned worker's finished video, and a forever-runner whose worker dies
before it is ready."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from tests.runtime.helpers import make_home, wait_for
from wan22_desktop.db import history
from wan22_desktop.db import queue as q
from wan22_desktop.request import GenerationRequest
from wan22_desktop.runtime.hardware import Hardware
from wan22_desktop.runtime.runner import QueueRunner, RunnerOptions, output_paths

NO_GPU = Hardware(ram_total_gib=64.0, ram_available_gib=32.0, cpu_count=2)


@pytest.fixture
def home(tmp_path, worker_env):
    h = make_home(tmp_path / "home")
    yield h
    h.db.close()


def _runner(home, events=None, **opts) -> QueueRunner:
    env = opts.pop("env", {})
    options = RunnerOptions(keep_awake=False, poll_s=0.05, worker_env={**env}, **opts)
    return QueueRunner(
        home.db,
        home.paths,
        options,
        hardware=NO_GPU,
        on_event=events.append if events is not None else None,
    )


def _request(job) -> GenerationRequest:
    return GenerationRequest.from_json(job.request_json)


def test_runner_start_removes_partials_and_orphans_and_adopts_a_lost_output(home):
    # Jobs A and B ran to the end (a first runner); job C is queued again after its runner died
    # while its orphaned worker went on saving.
    done_id, lost_id = home.enqueue(count=2)
    _runner(home).run()
    done_job, lost_job = home.job(done_id), home.job(lost_id)
    assert done_job.status == lost_job.status == "done"
    kept = Path(history.get_generation(home.db, done_job.generation_id).video_path)
    lost = Path(history.get_generation(home.db, lost_job.generation_id).video_path)
    [queued_id] = home.enqueue(seed=99)
    out = home.paths.outputs
    video, thumb = output_paths(out, queued_id, _request(home.job(queued_id)))
    partial = out / f".{video.stem}.x1y2z3.part.mp4"  # a worker killed while saving
    thumb_partial = out / ".thumbnails" / f".{thumb.stem}.abcd.part.jpg"
    orphan = video  # an orphaned worker finished it, but the job is queued again
    # Job B's recorded file vanished, but an orphaned worker's copy (another stamp) is here.
    lost.unlink()
    adopted = lost.with_name("20000101-000000" + lost.name[len("20000101-000000") :])
    user_file = out / "20240101-000000_job999_ti2v-5B_1.mp4"  # no such job: the user's
    mine = out / "holiday.mp4"
    for p in (partial, thumb_partial, orphan, adopted, user_file, mine):
        p.write_bytes(b"some bytes")
        os.utime(p, (1, 1))

    events: list = []
    q.set_paused(home.db, True)  # start, clean up, and stop without running job C
    _runner(home, events).run()
    assert not partial.exists() and not thumb_partial.exists() and not orphan.exists()
    assert kept.exists() and adopted.exists() and user_file.exists() and mine.exists()
    assert history.get_generation(home.db, lost_job.generation_id).video_path == str(adopted)
    assert home.job(queued_id).status == "queued"
    assert any(e.kind == "cleanup" for e in events)


def test_forever_runner_survives_a_worker_that_dies_before_ready(home):
    job_ids = home.enqueue(count=2)
    events: list = []
    runner = _runner(
        home,
        events,
        env={"WAN22_WORKER_BACKEND": "no_such_module:Backend"},
        forever=True,
        start_backoff_s=0.01,
    )
    t = threading.Thread(target=runner.run, daemon=True)
    t.start()
    try:
        wait_for(lambda: all(home.job(i).status == "failed" for i in job_ids), timeout=120)
        assert t.is_alive()  # --forever: still waiting for jobs
    finally:
        runner.stop()
        t.join(60)
    assert not t.is_alive()
    job = home.job(job_ids[0])
    assert "no_such_module" in job.error_message and job.error_hint
    assert not any("stopped by the user" in e.message for e in events)
