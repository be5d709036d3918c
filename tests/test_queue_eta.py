"""The queue's finish estimate: calibration from finished jobs written through the db layer, the
table fallback, paused queues, the running job, run order over runners, forwards per step."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from wan22_desktop.db import queue as q
from wan22_desktop.db.database import Database, open_database
from wan22_desktop.request import GenerationRequest, Guidance
from wan22_desktop.services.queue import list_jobs
from wan22_desktop.services.queue_eta import (
    Lane,
    calibrate,
    estimate_queue,
    load_runs,
    local_clock,
    runner_host,
    work_units,
)
from wan22_desktop.services.render_eta import estimate
from wan22_desktop.services.rows import JobRow, Progress

NOW = datetime(2026, 12, 6, 1, 30)
HERE = "thispc"
RATE, BEFORE, AFTER = 3e-6, 30.0, 12.0  # a made-up machine: seconds per unit, load, decode+save


@pytest.fixture
def db(tmp_path: Path):
    database = open_database(str(tmp_path / "wan22.sqlite3"))
    yield database
    database.close()


def req(task: str = "ti2v-5B", **kw) -> GenerationRequest:
    return GenerationRequest.for_task(task, prompt="x", seed=1, **kw)


def finish(db: Database, request: GenerationRequest, host: str = HERE, rate: float = RATE) -> None:
    """Queue, claim and finish a job as a runner on ``host`` that samples at ``rate``."""
    [job] = q.enqueue(db, request)
    runner = f"{host}:1:tok{job.id}"
    assert q.claim_next(db, runner) is not None
    sampling = rate * work_units(request)
    timings = {
        "loading": BEFORE,
        "sampling": sampling,
        "decoding": AFTER - 2,
        "saving": 2.0,
        "total": BEFORE + sampling + AFTER,
    }
    q.finish_job(db, job.id, runner, q.GenerationResult(video_path="/v.mp4", timings=timings))


def fail(db: Database, request: GenerationRequest) -> None:
    [job] = q.enqueue(db, request)
    assert q.claim_next(db, f"{HERE}:1:f{job.id}") is not None
    q.fail_job(db, job.id, f"{HERE}:1:f{job.id}", kind="operation", message="boom")


def queued(job_id: int, request: GenerationRequest) -> JobRow:
    return JobRow(id=job_id, status="queued", task=request.task, prompt="x", request=request)


def test_calibrates_from_finished_jobs_on_this_machine(db):
    for steps in (20, 30, 50):
        finish(db, req(sample_steps=steps))
    finish(db, req(), host="otherpc", rate=RATE * 3)
    fail(db, req())
    q.cancel_job(db, q.enqueue(db, req())[0].id)
    speeds = calibrate(load_runs(db))
    mine = speeds[(HERE, "5B")]
    assert mine.runs == 3  # the failed and cancelled jobs do not count
    assert mine.rate == pytest.approx(RATE) and mine.before_s == pytest.approx(BEFORE)
    assert mine.after_s == pytest.approx(AFTER)
    assert speeds[("otherpc", "5B")].rate == pytest.approx(RATE * 3)


def test_queued_jobs_follow_one_another_at_the_measured_speed(db):
    finish(db, req())
    speeds = calibrate(load_runs(db))
    a, b = req(sample_steps=50), req(sample_steps=25)
    eta = estimate_queue([queued(1, a), queued(2, b)], speeds, [Lane(HERE)], paused=False, now=NOW)
    secs_a, secs_b = BEFORE + RATE * work_units(a) + AFTER, BEFORE + RATE * work_units(b) + AFTER
    assert eta.jobs[1].start_s == 0 and eta.jobs[1].finish_s == pytest.approx(secs_a)
    assert eta.jobs[2].start_s == pytest.approx(secs_a)
    assert eta.total_s == pytest.approx(secs_a + secs_b)
    assert eta.finish_at is not None and (eta.finish_at - NOW).total_seconds() == pytest.approx(
        secs_a + secs_b
    )
    assert eta.jobs[1].basis == "measured" and eta.measured_runs == 1
    assert eta.basis_text() == "from 1 finished job"
    print(f"two queued 5B jobs: {eta.total_s:.1f} s from a measured {RATE:g} s/unit")


def test_another_machine_s_speed_is_not_this_one_s_and_falls_back_to_the_table(db):
    finish(db, req(), host="otherpc")
    speeds = calibrate(load_runs(db))
    a = req("t2v-A14B")
    eta = estimate_queue(
        [queued(1, a)],
        speeds,
        [Lane(HERE, gpu_name="NVIDIA H100 80GB HBM3")],
        paused=False,
        now=NOW,
    )
    table = estimate("t2v-A14B", 1280, 720, 81, 40, 1, "NVIDIA H100 80GB HBM3")
    assert table is not None
    assert eta.jobs[1].basis == "table" and eta.table_jobs == 1 and eta.measured_runs == 0
    assert eta.total_s == pytest.approx(math.sqrt(table.low_s * table.high_s))
    assert eta.basis_text() == "official timing table"


def test_no_speed_and_no_gpu_gives_no_time_rather_than_a_guess():
    eta = estimate_queue([queued(1, req())], {}, [Lane(HERE)], paused=False, now=NOW)
    assert eta.total_s is None and eta.unknown_jobs == 1 and eta.jobs[1].finish_s is None


def test_paused_queue_has_no_finish_time_but_the_running_job_still_ends(db):
    finish(db, req())
    speeds = calibrate(load_runs(db))
    running = JobRow(
        id=1,
        status="running",
        task="ti2v-5B",
        prompt="x",
        request=req(),
        progress=Progress(step=10, total=50, phase="sampling", eta_s=100.0),
    )
    eta = estimate_queue([running, queued(2, req())], speeds, [Lane(HERE)], paused=True, now=NOW)
    assert eta.paused and eta.total_s is None and eta.finish_at is None
    assert eta.jobs[1].finish_s == pytest.approx(100.0 + AFTER)
    assert eta.jobs[2].start_s is None and eta.jobs[2].finish_s is None


def test_the_running_job_s_remaining_time_comes_first(db):
    finish(db, req())
    speeds = calibrate(load_runs(db))
    r = req()
    whole = BEFORE + RATE * work_units(r) + AFTER
    sampling = JobRow(
        id=1, status="running", task=r.task, prompt="x", request=r, progress=Progress(eta_s=60.0)
    )
    loading = replace(
        sampling, progress=Progress(phase="loading"), started_at="2026-12-06T01:29:00Z"
    )
    eta = estimate_queue([sampling, queued(2, r)], speeds, [Lane(HERE)], paused=False, now=NOW)
    assert eta.jobs[2].start_s == pytest.approx(60.0 + AFTER)
    assert eta.total_s == pytest.approx(60.0 + AFTER + whole)
    # Before the first step there is no worker ETA: the estimate less the minute it has run.
    eta = estimate_queue([loading], speeds, [Lane(HERE)], paused=False, now=NOW)
    assert eta.total_s == pytest.approx(whole - 60.0)


def test_jobs_go_to_the_first_free_runner_that_can_run_them(db):
    finish(db, req())
    finish(db, req(), host="otherpc", rate=RATE * 2)
    speeds = calibrate(load_runs(db))
    r = req()
    one = BEFORE + RATE * work_units(r) + AFTER
    two = BEFORE + 2 * RATE * work_units(r) + AFTER
    lanes = [Lane(HERE, models=("ti2v-5B",)), Lane("otherpc", models=("ti2v-5B",))]
    eta = estimate_queue([queued(i, r) for i in (1, 2, 3)], speeds, lanes, paused=False, now=NOW)
    assert (eta.jobs[1].start_s, eta.jobs[2].start_s) == (0.0, 0.0)  # both machines start one
    assert eta.jobs[3].start_s == pytest.approx(one)  # this one is free first
    assert eta.total_s == pytest.approx(max(2 * one, two)) and eta.lanes == 2
    # A runner without the model never gets the job.
    only_here = [Lane(HERE, models=("ti2v-5B",)), Lane("otherpc", models=("t2v-A14B",))]
    eta = estimate_queue([queued(i, r) for i in (1, 2)], speeds, only_here, paused=False, now=NOW)
    assert eta.jobs[2].start_s == pytest.approx(one) and eta.total_s == pytest.approx(2 * one)


def test_run_order_is_the_order_given():
    lanes = [Lane(HERE, gpu_name="NVIDIA H100")]
    small, big = req(sample_steps=10), req(sample_steps=50)
    first = estimate_queue([queued(1, small), queued(2, big)], {}, lanes, paused=False, now=NOW)
    second = estimate_queue([queued(2, big), queued(1, small)], {}, lanes, paused=False, now=NOW)
    assert first.jobs[2].start_s == first.jobs[1].finish_s
    assert second.jobs[1].start_s == second.jobs[2].finish_s
    assert first.total_s == pytest.approx(second.total_s)


@pytest.mark.parametrize(
    "guidance, steps, switch, warm, warm_g, forwards",
    [
        ((3.0, 4.0), 40, None, 0, None, 2.0),  # default: guidance on every step
        ((1.0, 1.0), 4, 2, 0, None, 1.0),  # Lightning: one forward a step
        ((1.0, 1.0), 8, 4, 1, 3.5, 9 / 8),  # three-phase: the guided warm-up step counts twice
    ],
)
def test_work_follows_forwards_per_step(guidance, steps, switch, warm, warm_g, forwards):
    r = req(
        "t2v-A14B",
        guidance=Guidance(*guidance),
        sample_steps=steps,
        switch_step=switch,
        warmup_steps=warm,
        warmup_guidance=warm_g,
    )
    one_forward_a_step = work_units(replace(r, guidance=Guidance(1.0, 1.0), warmup_guidance=None))
    assert work_units(r) == pytest.approx(forwards * one_forward_a_step)


def test_listed_jobs_from_the_db_layer_estimate_in_run_order(db):
    finish(db, req())
    a, b = q.enqueue(db, req())[0].id, q.enqueue(db, req(), lane="now")[0].id
    eta = estimate_queue(
        list_jobs(db, ("running", "queued")),
        calibrate(load_runs(db)),
        [Lane(HERE)],
        paused=False,
        now=NOW,
    )
    assert eta.jobs[b].start_s == 0 and eta.jobs[a].start_s == eta.jobs[b].finish_s


def test_runner_host():
    assert runner_host("my-pc:123:abcdef") == "my-pc"
    assert runner_host(None) == "" and runner_host("odd") == "odd"


def test_clock_text_names_the_day_when_it_is_not_today():
    assert ":" in local_clock(NOW, NOW) and len(local_clock(NOW, NOW)) == 5  # "HH:MM"
    assert len(local_clock(NOW + timedelta(days=2), NOW).split()) == 2  # "Tue 01:30"
