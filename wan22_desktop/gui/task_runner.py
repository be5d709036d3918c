"""Background work for the GUI: DB work serialized on one thread, the rest on a small pool.

Like Anki's ``TaskManager``: SQLite work goes through ``run_db`` (one worker thread, so writes
never race each other and the GUI thread never waits on a lock), anything else through ``run``.
``on_done``/``on_error`` always run on the GUI thread: results travel back as a queued Qt signal,
so callbacks may touch widgets, and ``fn`` must never do so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Qt, Signal, Slot

log = logging.getLogger(__name__)

T = TypeVar("T")
OnDone = Callable[[Any], None]
OnError = Callable[[BaseException], None]


class TaskRunner(QObject):
    """Two executors and a bridge back to the GUI thread. Create it on the GUI thread."""

    # ---- Signals
    sig_call_posted = Signal(object)
    """Internal: a zero-argument callable to run on the GUI thread (queued across threads)."""

    sig_task_failed = Signal(object)
    """A task raised and no ``on_error`` was given. Args: the exception."""

    def __init__(
        self, parent: QObject | None = None, *, pool_size: int = 4, synchronous: bool = False
    ) -> None:
        super().__init__(parent)
        # synchronous=True runs everything inline: deterministic tests of the views (picard's
        # FakeThreadPool); the threaded path has its own tests.
        self.synchronous = synchronous
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wan22-db")
        self._pool = ThreadPoolExecutor(max_workers=pool_size, thread_name_prefix="wan22-bg")
        self._pending: set[Future[Any]] = set()
        self._closed = False
        # Always queued: even a task that finished before its done-callback was attached (which
        # then runs on the submitting thread) reports on a later event-loop turn, never re-entrantly.
        self.sig_call_posted.connect(self._on_call_posted, Qt.ConnectionType.QueuedConnection)

    def run_db(
        self, fn: Callable[[], T], on_done: OnDone | None = None, on_error: OnError | None = None
    ) -> Future[T] | None:
        """Run ``fn`` on the database thread (one at a time, in submission order)."""
        return self._submit(self._db, fn, on_done, on_error)

    def run(
        self, fn: Callable[[], T], on_done: OnDone | None = None, on_error: OnError | None = None
    ) -> Future[T] | None:
        """Run ``fn`` on the general pool (network, subprocesses, file scans)."""
        return self._submit(self._pool, fn, on_done, on_error)

    def post(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the GUI thread soon; safe to call from any thread."""
        if not self._closed:
            self.sig_call_posted.emit(fn)

    @property
    def busy(self) -> bool:
        """True until every submitted task has finished *and* its callback has run."""
        return bool(self._pending)

    def shutdown(self, wait: bool = True) -> None:
        """Stop accepting work and wait for running tasks (callbacks after this are dropped)."""
        self._closed = True
        self._db.shutdown(wait=wait, cancel_futures=True)
        self._pool.shutdown(wait=wait, cancel_futures=True)

    # ---- internals

    def _submit(
        self,
        executor: ThreadPoolExecutor,
        fn: Callable[[], T],
        on_done: OnDone | None,
        on_error: OnError | None,
    ) -> Future[T] | None:
        if self._closed:
            log.debug("task submitted after shutdown; ignored")
            return None
        if self.synchronous:
            try:
                result = fn()
            except Exception as exc:  # noqa: BLE001 - delivered to on_error like the threaded path
                self._deliver_error(exc, on_error)
            else:
                if on_done is not None:
                    on_done(result)
            return None
        future = executor.submit(fn)
        self._pending.add(future)

        def finished(f: Future[T]) -> None:  # on the worker thread
            self.post(lambda: self._finish(f, on_done, on_error))

        future.add_done_callback(finished)
        return future

    def _finish(self, f: Future[Any], on_done: OnDone | None, on_error: OnError | None) -> None:
        self._pending.discard(f)
        if f.cancelled():
            return
        exc = f.exception()
        if exc is not None:
            self._deliver_error(exc, on_error)
        elif on_done is not None:
            on_done(f.result())

    def _deliver_error(self, exc: BaseException, on_error: OnError | None) -> None:
        if on_error is not None:
            on_error(exc)
        else:
            self.sig_task_failed.emit(exc)

    @Slot(object)
    def _on_call_posted(self, fn: Callable[[], None]) -> None:
        if self._closed:
            return
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - a callback bug must not kill the event loop
            log.exception("GUI callback failed")
            self.sig_task_failed.emit(exc)
