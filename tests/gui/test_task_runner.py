"""TaskRunner: DB work serialized on one thread, callbacks on the GUI thread, errors delivered."""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import QThread

from wan22_desktop.gui.task_runner import TaskRunner


def test_db_tasks_run_in_order_on_one_thread_and_call_back_on_the_gui_thread(qtbot):
    runner = TaskRunner()
    try:
        seen, callbacks = [], []
        gui = QThread.currentThread()
        for i in range(20):
            runner.run_db(
                lambda i=i: (time.sleep(0.001), seen.append((i, threading.current_thread().name)))[
                    1
                ],
                lambda _r: callbacks.append(QThread.currentThread() is gui),
            )
        qtbot.waitUntil(lambda: not runner.busy, timeout=5000)
        assert [i for i, _ in seen] == list(range(20))
        assert len({name for _, name in seen}) == 1 and seen[0][1].startswith("wan22-db")
        assert callbacks == [True] * 20
    finally:
        runner.shutdown()


def test_errors_go_to_on_error_or_the_failure_signal(qtbot):
    runner = TaskRunner()
    try:
        errors, unhandled = [], []
        runner.sig_task_failed.connect(unhandled.append)
        runner.run(lambda: 1 / 0, on_error=errors.append)
        runner.run(lambda: [][1])
        qtbot.waitUntil(lambda: not runner.busy, timeout=5000)
        assert isinstance(errors[0], ZeroDivisionError)
        assert isinstance(unhandled[0], IndexError)
    finally:
        runner.shutdown()


def test_nothing_runs_after_shutdown(qtbot):
    runner = TaskRunner()
    runner.shutdown()
    assert runner.run(lambda: 1) is None and not runner.busy


def test_callbacks_never_run_inside_the_submitting_call(qtbot):
    """A task that finished before its done-callback was attached reports from the submitting
    (GUI) thread; that report must still wait for the event loop, never run re-entrantly."""
    runner = TaskRunner()
    try:
        done = []
        runner.post(lambda: done.append("posted"))  # what such a callback does, on this thread
        assert done == []
        qtbot.waitUntil(lambda: done == ["posted"], timeout=2000)
    finally:
        runner.shutdown()
