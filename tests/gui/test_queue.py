"""Queue view: live list from the database, reorder, cancel, retry, pause, edit, runner state."""

from __future__ import annotations

import types
from dataclasses import replace

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QColor, QImage

from tests.gui.conftest import drain
from wan22_desktop.db import queue as q
from wan22_desktop.db.lease import RunnerIdentity
from wan22_desktop.gui.queue_model import COLUMNS, ProgressRole, merged_progress
from wan22_desktop.gui.runner_controller import RunnerController
from wan22_desktop.gui.views.queue import QueueView
from wan22_desktop.request import GenerationRequest
from wan22_desktop.services.rows import JobRow, Progress


def add(ctx, prompt, **kw):
    [job] = q.enqueue(ctx.db, GenerationRequest.for_task("ti2v-5B", prompt=prompt, seed=1), **kw)
    return job.id


@pytest.fixture
def view(qtbot, ctx):
    v = QueueView(ctx)
    qtbot.addWidget(v)
    v.resize(1100, 600)
    v.show()
    yield v
    v.shutdown()
    drain(qtbot, ctx)


def refreshed(qtbot, ctx, view):
    drain(qtbot, ctx)  # a poll already in flight may predate the changes
    view.refresh()
    drain(qtbot, ctx)
    return [j.prompt for j in view.model.jobs]


def select(view, job_id):
    row = view.model.row_of(job_id)
    view.table.selectionModel().select(
        view.model.index(row, 0),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
    )


def test_lists_jobs_in_run_order(qtbot, ctx, view):
    add(ctx, "a"), add(ctx, "b"), add(ctx, "urgent", lane="now")
    assert refreshed(qtbot, ctx, view) == ["urgent", "a", "b"]
    assert view.model.index(0, COLUMNS.index("status")).data().startswith("Queued")


def test_drag_drop_reorders_through_the_database(qtbot, ctx, view):
    a, b, c = add(ctx, "a"), add(ctx, "b"), add(ctx, "c")
    refreshed(qtbot, ctx, view)
    mime = view.model.mimeData([view.model.index(view.model.row_of(c), 0)])
    target = view.model.index(view.model.row_of(a), 0)
    view.model.dropMimeData(mime, Qt.DropAction.MoveAction, -1, -1, target)
    drain(qtbot, ctx)
    assert refreshed(qtbot, ctx, view) == ["c", "a", "b"]
    select(view, b)
    qtbot.mouseClick(view.up, Qt.MouseButton.LeftButton)
    drain(qtbot, ctx)
    assert refreshed(qtbot, ctx, view) == ["c", "b", "a"]


def test_cancel_retry_remove(qtbot, ctx, view):
    a = add(ctx, "a")
    refreshed(qtbot, ctx, view)
    select(view, a)
    assert view.cancel.isEnabled() and not view.retry.isEnabled()
    qtbot.mouseClick(view.cancel, Qt.MouseButton.LeftButton)
    drain(qtbot, ctx)
    refreshed(qtbot, ctx, view)
    assert q.get_job(ctx.db, a).status == "cancelled"
    select(view, a)
    assert view.retry.isEnabled()
    qtbot.mouseClick(view.retry, Qt.MouseButton.LeftButton)
    drain(qtbot, ctx)
    assert q.get_job(ctx.db, a).status == "queued"
    refreshed(qtbot, ctx, view)
    select(view, a)
    q.cancel_job(ctx.db, a)
    refreshed(qtbot, ctx, view)
    select(view, a)
    qtbot.mouseClick(view.remove, Qt.MouseButton.LeftButton)
    drain(qtbot, ctx)
    assert refreshed(qtbot, ctx, view) == []


def test_pause_and_resume(qtbot, ctx, view):
    seen = []
    ctx.events.sig_queue_counts_changed.connect(lambda counts, paused: seen.append(paused))
    refreshed(qtbot, ctx, view)
    qtbot.mouseClick(view.pause, Qt.MouseButton.LeftButton)
    drain(qtbot, ctx)
    refreshed(qtbot, ctx, view)
    assert q.is_paused(ctx.db) and view.pause.text() == "Resume queue" and seen[-1] is True
    qtbot.mouseClick(view.pause, Qt.MouseButton.LeftButton)
    drain(qtbot, ctx)
    assert not q.is_paused(ctx.db)


def test_edit_opens_generate_prefilled(qtbot, ctx, view):
    a = add(ctx, "edit me")
    refreshed(qtbot, ctx, view)
    got = []
    ctx.events.sig_generate_prefill_requested.connect(
        lambda req, job_id: got.append((req.prompt, job_id))
    )
    select(view, a)
    qtbot.mouseClick(view.edit, Qt.MouseButton.LeftButton)
    assert got == [("edit me", a)]


def test_running_job_progress_and_live_preview(qtbot, ctx, view, tmp_path):
    a = add(ctx, "running one")
    me = RunnerIdentity.current()
    q.start_runner(ctx.db, me)
    q.claim_next(ctx.db, me.holder)
    q.update_progress(ctx.db, a, me.holder, step=3, total=10, phase="sampling", eta_s=42.0)
    refreshed(qtbot, ctx, view)
    row = view.model.row_of(a)
    assert view.model.index(row, COLUMNS.index("progress")).data(ProgressRole) == (3, 10)
    assert view.model.index(row, COLUMNS.index("step")).data() == "3/10"
    assert "pid" in view.runner_label.text()  # another runner holds the lease: read-only
    assert not view.release.isEnabled() and view.release.toolTip()
    history_changes = []
    ctx.events.sig_history_changed.connect(lambda: history_changes.append(1))
    q.finish_job(ctx.db, a, me.holder, q.GenerationResult(video_path=str(tmp_path / "a.mp4")))
    refreshed(qtbot, ctx, view)
    assert history_changes == [1]  # a job finished by another process reaches History
    [b] = [add(ctx, "second")]
    q.claim_next(ctx.db, me.holder)
    q.update_progress(ctx.db, b, me.holder, step=3, total=10, phase="sampling", eta_s=42.0)
    refreshed(qtbot, ctx, view)
    a = b
    row = view.model.row_of(a)
    image = QImage(64, 36, QImage.Format.Format_RGB32)
    image.fill(QColor("orange"))
    image.save(str(tmp_path / "p.png"))
    view._on_live_progress(a, {"step": 5, "total": 10, "preview_path": str(tmp_path / "p.png")})
    drain(qtbot, ctx)
    assert view.model.index(row, COLUMNS.index("step")).data() == "5/10"
    assert not view.preview.pixmap().isNull()
    assert "step 5 of 10" in view.running_label.text()


def test_merged_progress_prefers_live_values_only_while_running():
    job = JobRow(1, "running", "ti2v-5B", "p", progress=Progress(2, 10, "sampling"))
    assert merged_progress(job, {"step": 4, "eta_s": None})["step"] == 4
    assert merged_progress(replace(job, status="done"), {"step": 4})["step"] == 2


class FakeRunner:
    """A stand-in runner with the QueueRunner surface the controller uses (run/stop/release)."""

    def __init__(self, ctx, on_event, *, refuse=None):
        self.on_event, self.refuse = on_event, refuse
        import threading

        self.stopped = threading.Event()
        self.released = False

    def run(self):
        if self.refuse:
            raise self.refuse
        self.on_event(
            types.SimpleNamespace(kind="started", job_id=None, message="runner me", data=None)
        )
        for step in range(1, 40):
            self.on_event(
                types.SimpleNamespace(
                    kind="progress",
                    job_id=7,
                    message="sampling",
                    data=types.SimpleNamespace(step=step, total=40, eta_s=1.0),
                )
            )
        self.on_event(types.SimpleNamespace(kind="done", job_id=7, message="out.mp4", data=None))
        self.stopped.wait(5)

    def stop(self, **_):
        self.stopped.set()

    def release_worker(self):
        self.released = True


def test_runner_controller_coalesces_progress_and_enables_release(qtbot, ctx, view):
    runners = []
    ctrl = RunnerController(
        ctx,
        start=False,
        runner_factory=lambda c, cb: runners.append(FakeRunner(c, cb)) or runners[-1],
    )
    view.on_runner_attached(ctrl)
    progress, events = [], []
    ctrl.sig_job_progress.connect(lambda job_id, p: progress.append(p["step"]))
    ctrl.sig_job_event.connect(lambda kind, job_id, msg: events.append(kind))
    ctrl.start()
    qtbot.waitUntil(lambda: events == ["done"], timeout=3000)
    assert ctrl.mode == "running" and view.release.isEnabled()
    assert 1 <= len(progress) < 39 and progress[-1] == 39  # 39 steps, coalesced
    qtbot.mouseClick(view.release, Qt.MouseButton.LeftButton)
    assert runners[0].released
    ctrl.shutdown()
    assert ctrl._thread is None


def test_runner_controller_read_only_when_lease_is_held(qtbot, ctx):
    from wan22_desktop.errors import OperationError

    held = OperationError("the queue is being run by pid 42 on host box since 2026-01-01", "wait")
    ctrl = RunnerController(
        ctx, start=False, runner_factory=lambda c, cb: FakeRunner(c, cb, refuse=held)
    )
    ctrl.start()
    qtbot.waitUntil(lambda: ctrl.mode == "read_only", timeout=3000)
    assert "pid 42" in ctrl.detail and not ctrl.connected
    ctrl.shutdown()


def test_runner_crash_shows_the_real_message(qtbot, ctx):
    """A runner that raises a plain exception: the status area says what broke (it used to say
    ``NameError``: the posted lambda read ``exc`` after the except block had unbound it)."""
    crash = RuntimeError("worker pipe closed unexpectedly")
    ctrl = RunnerController(
        ctx, start=False, runner_factory=lambda c, cb: FakeRunner(c, cb, refuse=crash)
    )
    notices = []
    ctx.notifier.sig_notice_posted.connect(notices.append)
    ctrl.start()
    qtbot.waitUntil(lambda: bool(notices), timeout=3000)
    assert ctrl.mode == "stopped" and ctrl.detail == "worker pipe closed unexpectedly"
    assert "worker pipe closed unexpectedly" in notices[-1].text()
    assert "NameError" not in notices[-1].text()
    ctrl.shutdown()


def test_stop_and_reroll_a_running_job_leaves_the_others_alone(qtbot, ctx, view):
    a, b = add(ctx, "running one"), add(ctx, "waiting")
    me = RunnerIdentity.current()
    q.start_runner(ctx.db, me)
    q.claim_next(ctx.db, me.holder)
    refreshed(qtbot, ctx, view)
    select(view, b)
    assert view.reroll.isEnabled()
    select(view, a)
    [menu_action] = [x for x in view.context_menu().actions() if x.objectName() == "rerollJob"]
    assert menu_action.isEnabled() and menu_action.text() == view.reroll.text()
    notices = []
    ctx.notifier.sig_notice_posted.connect(notices.append)
    menu_action.trigger()  # the context menu runs the button's action
    drain(qtbot, ctx)
    jobs = {j.id: j for j in q.list_jobs(ctx.db)}
    new = max(jobs)
    assert (jobs[a].status, jobs[a].cancel_requested) == ("running", True)  # stops at its step
    assert (jobs[b].status, jobs[b].cancel_requested) == ("queued", False)
    old_req = GenerationRequest.from_json(jobs[a].request_json)
    new_req = GenerationRequest.from_json(jobs[new].request_json)
    assert new_req.seed != old_req.seed and new_req == old_req.with_seed(new_req.seed)
    assert refreshed(qtbot, ctx, view)[:2] == ["running one", "running one"]
    assert [j.id for j in view.model.jobs if j.status == "queued"] == [new, b]  # re-roll first
    assert any(f"re-rolled as job {new}" in n.text() for n in notices)


def test_reroll_is_offered_only_for_queued_or_running_jobs(qtbot, ctx, view):
    a = add(ctx, "a")
    q.cancel_job(ctx.db, a)
    refreshed(qtbot, ctx, view)
    select(view, a)
    assert not view.reroll.isEnabled()
    assert not [x for x in view.context_menu().actions() if x.objectName() == "rerollJob"][
        0
    ].isEnabled()


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_a_job_queued_again_after_out_of_memory_says_why(qtbot, ctx, view, request, lang):
    """The runner's out-of-memory fallback (ADR 0031) leaves a note on the job it queues again;
    the Queue view shows it in the job's tooltip, in the interface language."""
    from tests.db.conftest import claim

    if lang == "zh_CN":
        request.getfixturevalue("chinese")
    job_id = add(ctx, "a cat")
    job = claim(ctx.db, "host:1:runner")
    assert job is not None and job.id == job_id
    req = GenerationRequest.from_json(job.request_json)
    safer = replace(req, memory=replace(req.memory, vram_headroom=20))
    note = "ran out of GPU memory; retried with 20 % of the GPU kept free"
    q.requeue_after_oom(ctx.db, job_id, "host:1:runner", safer, note, {"device": "cuda"})
    refreshed(qtbot, ctx, view)
    tip = view.model.data(
        view.model.index(view.model.row_of(job_id), 0), Qt.ItemDataRole.ToolTipRole
    )
    if lang == "en":
        assert note in tip
    else:
        assert note not in tip and "GPU 显存不足；已预留 20% 的 GPU 显存空闲并重试" in tip


def test_a_job_that_ran_out_of_memory_is_retried_with_a_smaller_plan(qtbot, ctx, view):
    """Only a job that failed out of GPU memory offers "Retry with less GPU memory"; it queues
    the job again with 20 % of the GPU kept free, which on this 24 GiB GPU plans smaller."""
    from wan22_desktop.runtime.planning import plan_request

    runner = "host:1:runner"
    other = add(ctx, "a crash")
    oom = add(ctx, "a storm")
    for job_id, kind in ((other, "worker_crashed"), (oom, "out_of_memory")):
        job = q.claim_next(ctx.db, runner)
        assert job is not None and job.id == job_id
        req = GenerationRequest.from_json(job.request_json)
        q.set_plan(ctx.db, job_id, runner, plan_request(req, ctx.hardware(), {}).to_dict())
        q.fail_job(ctx.db, job_id, runner, kind=kind, message="it failed")
    refreshed(qtbot, ctx, view)
    select(view, other)
    assert view.retry.isEnabled() and view.retry_safer.isHidden()
    assert "retrySaferJob" not in [a.objectName() for a in view.context_menu().actions()]
    select(view, oom)
    assert not view.retry_safer.isHidden()
    assert "retrySaferJob" in [a.objectName() for a in view.context_menu().actions()]
    failed = plan_request(
        GenerationRequest.from_json(q.get_job(ctx.db, oom).request_json), ctx.hardware(), {}
    )
    qtbot.mouseClick(view.retry_safer, Qt.MouseButton.LeftButton)
    drain(qtbot, ctx)
    again = q.get_job(ctx.db, oom)
    assert again.status == "queued"
    safer = GenerationRequest.from_json(again.request_json)
    assert safer.memory.vram_headroom == 20
    assert plan_request(safer, ctx.hardware(), {}).est_vram_gib < failed.est_vram_gib
    assert "20 % of the GPU kept free" in ctx.notifier.last.message
