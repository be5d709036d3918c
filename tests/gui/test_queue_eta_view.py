"""The Queue view says when each job and the whole queue will be done (jobs via the db layer)."""

from __future__ import annotations

import socket
from datetime import datetime, timedelta

import pytest

from tests.gui.conftest import drain
from wan22_desktop.db import queue as q
from wan22_desktop.gui.queue_model import COLUMNS
from wan22_desktop.gui.views.queue import QueueView
from wan22_desktop.request import GenerationRequest
from wan22_desktop.services.queue_eta import local_clock, work_units

NOW = datetime(2026, 12, 6, 1, 30)
RATE = 3e-6


def request(steps: int = 50) -> GenerationRequest:
    return GenerationRequest.for_task("ti2v-5B", prompt="boat", seed=1, sample_steps=steps)


def finish_one(ctx) -> None:
    """A job this PC's runner finished: 20 s loading, sampling at RATE, 10 s decoding."""
    q.enqueue(ctx.db, request(), lane="now")
    runner = f"{socket.gethostname()}:1:t"
    job = q.claim_next(ctx.db, runner)
    assert job is not None
    sampling = RATE * work_units(request())
    timings = {"loading": 20.0, "sampling": sampling, "decoding": 10.0, "total": sampling + 30}
    q.finish_job(ctx.db, job.id, runner, q.GenerationResult(video_path="/o.mp4", timings=timings))


@pytest.fixture
def view(qtbot, ctx):
    v = QueueView(ctx)
    v.now = lambda: NOW
    qtbot.addWidget(v)
    v.show()
    yield v
    v.shutdown()
    drain(qtbot, ctx)


def polled(qtbot, ctx, view) -> None:
    drain(qtbot, ctx)
    view.refresh()
    drain(qtbot, ctx)  # the snapshot, then the speeds it asked for
    drain(qtbot, ctx)


def finish_cell(view, job_id: int) -> str:
    return view.model.index(view.model.row_of(job_id), COLUMNS.index("finish")).data()


def test_shows_each_finish_and_the_queue_total_from_measured_speed(qtbot, ctx, view):
    finish_one(ctx)
    a = q.enqueue(ctx.db, request(50))[0].id
    b = q.enqueue(ctx.db, request(25))[0].id
    polled(qtbot, ctx, view)
    one, two = (30 + RATE * work_units(request(s)) for s in (50, 25))
    assert finish_cell(view, a) == "~" + local_clock(NOW + timedelta(seconds=one), NOW)
    assert finish_cell(view, b) == "~" + local_clock(NOW + timedelta(seconds=one + two), NOW)
    text = view.eta_label.text()
    assert view.eta_label.isVisible()
    assert "Queue done about " + local_clock(NOW + timedelta(seconds=one + two), NOW) in text
    assert "from 1 finished job" in text
    tip = view.model.index(view.model.row_of(b), COLUMNS.index("finish")).data(
        3  # Qt.ToolTipRole
    )
    assert "Starts about " + local_clock(NOW + timedelta(seconds=one), NOW) in tip
    print(f"queue view: {text}")

    q.set_paused(ctx.db, True)
    polled(qtbot, ctx, view)
    assert view.eta_label.text().startswith("Queue paused")
    assert finish_cell(view, a) == "paused"


def test_falls_back_to_the_official_table_before_any_job_finished(qtbot, ctx, view):
    q.enqueue(ctx.db, request())
    polled(qtbot, ctx, view)
    assert "official timing table" in view.eta_label.text()  # the fixture's GPU is scaled


def test_no_line_for_an_empty_queue(qtbot, ctx, view):
    polled(qtbot, ctx, view)
    assert not view.eta_label.isVisible()


def test_speeds_are_read_again_only_when_a_job_has_finished(qtbot, ctx, view, monkeypatch):
    from wan22_desktop.services import queue_eta

    reads = []
    real = queue_eta.load_runs
    monkeypatch.setattr(queue_eta, "load_runs", lambda db: reads.append(1) or real(db))
    q.enqueue(ctx.db, request())
    polled(qtbot, ctx, view)
    polled(qtbot, ctx, view)
    assert len(reads) == 1  # polls recompute from the cached speeds
    finish_one(ctx)
    polled(qtbot, ctx, view)
    polled(qtbot, ctx, view)
    assert len(reads) == 2 and "from 1 finished job" in view.eta_label.text()
