"""Downloads as rows in the DB, worked on by background threads (or the caller's thread).

The truth about progress is on disk (``.part`` files); the DB holds what to fetch, from where, and the
status a GUI lists after a restart. A file lock per target folder keeps two processes from writing
the same download, and tells a fresh process which "running" rows were really interrupted.
"""

from __future__ import annotations

import builtins
import logging
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from filelock import FileLock, Timeout
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from wan22_desktop.db.base import utcnow
from wan22_desktop.db.downloads import Download, DownloadFile
from wan22_desktop.downloader import hub_hf, hub_modelscope
from wan22_desktop.downloader.catalog import CatalogModel, check_source, get_model
from wan22_desktop.downloader.installed import register
from wan22_desktop.downloader.local_scan import check_folder
from wan22_desktop.downloader.progress import DownloadEvent, RateMeter, eta, human_bytes
from wan22_desktop.downloader.remote import RemoteFile, target_path
from wan22_desktop.downloader.transfer import (
    ChecksumMismatch,
    DiskFull,
    RetryPolicy,
    StopFlag,
    Stopped,
    fetch_file,
    partial_bytes,
)
from wan22_desktop.errors import OperationError, UserInputError, Wan22Error

if TYPE_CHECKING:
    from wan22_desktop.db.database import Database

log = logging.getLogger(__name__)

Lister = Callable[..., tuple[str, list[RemoteFile]]]
LISTERS: dict[str, Lister] = {"hf": hub_hf.list_files, "modelscope": hub_modelscope.list_files}
DISK_MARGIN = 64 * 1024 * 1024  # room for the DB, logs and filesystem overhead
LOCK_NAME = ".wan22-download.lock"
ACTIVE = ("queued", "running", "verifying")
SOURCE_NAMES = {"hf": "Hugging Face", "modelscope": "ModelScope"}


def source_label(source: str, endpoint: str | None) -> str:
    """How a user knows a source: "Hugging Face", "ModelScope", or "... mirror <url>"."""
    name = SOURCE_NAMES.get(source, source)
    return f"{name} mirror {endpoint}" if endpoint else name


def all_sources_failed(model_id: str, failures: list[tuple[str, Wan22Error]]) -> OperationError:
    """One error naming every source tried, a line each, with what failed there."""
    lines = "".join(f"\n  {label}: {err.message}" for label, err in failures)
    offline = all(
        any(w in err.message for w in ("host name not found", "unreachable", "refused", "offline"))
        for _, err in failures
    )
    return OperationError(
        f"could not download {model_id} from any source tried:{lines}",
        hint=(
            "this machine seems to be offline or the hubs are blocked: check the network or "
            "proxy, or import a model folder you already have (`wan22 models import`)"
            if offline
            else "run the download again later, or try a mirror with --endpoint"
        ),
    )


@dataclass(frozen=True)
class DownloadInfo:
    id: int
    model_id: str
    source: str
    endpoint: str | None
    status: str
    revision: str | None
    done_bytes: int
    total_bytes: int
    target_dir: str
    error_message: str | None
    error_hint: str | None


def _info(d: Download) -> DownloadInfo:
    return DownloadInfo(
        d.id,
        d.model_id,
        d.source,
        d.endpoint,
        d.status,
        d.revision,
        d.done_bytes,
        d.total_bytes,
        d.target_dir,
        d.error_message,
        d.error_hint,
    )


def _row(s: Session, download_id: int) -> Download:
    """The download's row, for the writers that run only while it exists (``remove`` stops the
    download's thread before it deletes the row)."""
    d = s.get(Download, download_id)
    assert d is not None, f"download #{download_id} vanished while running"
    return d


@dataclass
class _Tally:
    """A running download's byte count and when it last sent a progress event."""

    done: int = 0
    last_emit: float = 0.0


def _existing_parent(p: Path) -> Path:
    while not p.exists() and p.parent != p:
        p = p.parent
    return p


class DownloadManager:
    """Create, run, pause, resume and cancel downloads. Thread-safe; events come from worker threads
    (a GUI must hand them to its main thread)."""

    def __init__(
        self,
        db: sessionmaker | Engine | Database,
        models_dir: Path,
        *,
        on_event: Callable[[DownloadEvent], None] | None = None,
        retry: RetryPolicy = RetryPolicy(),
        auto_fallback: bool = False,
        listers: dict[str, Lister] | None = None,
        free_space: Callable[[Path], int] = lambda p: shutil.disk_usage(p).free,
        token: str | None = None,
        event_interval: float = 0.2,
        parallel_files: int = 3,
        quarantine: Path | None = None,  # where a copy failing its checksum goes (one kept)
    ) -> None:
        self.quarantine = quarantine
        self._database: Database | None = None
        self.sessions: sessionmaker[Session]
        if isinstance(db, sessionmaker):
            self.sessions = db
        elif isinstance(db, Engine):
            self.sessions = sessionmaker(db, expire_on_commit=False)
        else:  # a db.database.Database
            self._database = db
            self.sessions = sessionmaker(db.engine, expire_on_commit=False)
        # One writer at a time in this process: SQLite cannot upgrade two deferred transactions'
        # read locks at once ("database is locked" without waiting), and file threads write often.
        self._db_lock = threading.Lock()
        self.models_dir = Path(models_dir)
        self.on_event = on_event or (lambda e: None)
        self.retry = retry
        self.auto_fallback = auto_fallback
        self.listers = listers or LISTERS
        self.free_space = free_space
        self.token = token
        self.event_interval = event_interval
        # A few files at once: one connection per file rarely fills a fast line, and the big
        # repos are a dozen similar-sized shards.
        self.parallel_files = max(1, parallel_files)
        self._flags: dict[int, StopFlag] = {}
        self._threads: dict[int, threading.Thread] = {}
        self._lock = threading.Lock()

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with self._db_lock:
            if self._database is not None:
                # Takes the write lock up front, so another process's writer is waited for.
                with self._database.session(write=True) as s:
                    yield s
            else:
                with self.sessions() as s, s.begin():
                    yield s

    # ---- Queries and intents

    def create(
        self,
        model: str,
        *,
        source: str = "hf",
        endpoint: str | None = None,
        revision: str | None = None,
        target_dir: Path | None = None,
    ) -> int:
        """Add a download (or return the unfinished one for the same model and folder)."""
        m = get_model(model)
        check_source(source)
        target = Path(target_dir) if target_dir else m.default_target(self.models_dir)
        target = target.expanduser().resolve()
        with self._session() as s:
            old = s.scalars(
                select(Download).where(
                    Download.model_id == m.model_id,
                    Download.target_dir == str(target),
                    Download.status != "done",
                )
            ).first()
            if old is not None:
                # A pinned commit belongs to one hub; switching source starts from the asked revision.
                pinned = old.revision if old.source == source else None
                old.source, old.endpoint, old.revision = source, endpoint, revision or pinned
                return old.id
            d = Download(
                model_id=m.model_id,
                source=source,
                endpoint=endpoint,
                revision=revision,
                target_dir=str(target),
                status="queued",
                total_bytes=m.fallback_size,
            )
            s.add(d)
            s.flush()
            return d.id

    def list(self) -> list[DownloadInfo]:
        with self._session() as s:
            return [_info(d) for d in s.scalars(select(Download).order_by(Download.id))]

    def get(self, download_id: int) -> DownloadInfo:
        with self._session() as s:
            d = s.get(Download, download_id)
            if d is None:
                raise UserInputError(f"no download #{download_id}", hint="see `wan22 models list`")
            return _info(d)

    def start(self, download_id: int) -> threading.Thread:
        """Run a download in a background thread (resume = start again)."""
        with self._lock:
            t = self._threads.get(download_id)
            if t is not None and t.is_alive():
                return t
            t = threading.Thread(
                target=self._run_quietly,
                args=(download_id,),
                name=f"download-{download_id}",
                daemon=True,
            )
            self._threads[download_id] = t
        t.start()
        return t

    def pause(self, download_id: int) -> None:
        self._stop(download_id, "paused")

    def cancel(self, download_id: int) -> None:
        """Stop and mark cancelled; partial files stay so a later download continues them."""
        if not self._stop(download_id, "cancelled"):
            self._set_status(download_id, "cancelled")

    def wait(self, download_id: int, timeout: float | None = None) -> DownloadInfo:
        t = self._threads.get(download_id)
        if t is not None:
            t.join(timeout)
        return self.get(download_id)

    def recover(self) -> builtins.list[int]:
        """At start-up: rows left running by a process that died become ``paused`` (resumable)."""
        fixed = []
        with self._session() as s:
            for d in s.scalars(select(Download).where(Download.status.in_(ACTIVE))):
                if d.id in self._threads and self._threads[d.id].is_alive():
                    continue
                if d.status == "queued":
                    continue
                lock = FileLock(str(Path(d.target_dir) / LOCK_NAME))
                if Path(d.target_dir).exists():
                    try:
                        lock.acquire(timeout=0)
                    except Timeout:
                        continue  # another process is working on it
                    lock.release()
                d.status = "paused"
                d.error_message = "interrupted (the app or computer stopped); resume to continue"
                fixed.append(d.id)
        return fixed

    def remove(self, download_id: int) -> None:
        self._stop(download_id, "cancelled")
        self.wait(download_id, 10)
        with self._session() as s:
            d = s.get(Download, download_id)
            if d is not None:
                s.delete(d)

    # ---- Work

    def _stop(self, download_id: int, reason: str) -> bool:
        flag = self._flags.get(download_id)
        t = self._threads.get(download_id)
        if flag is not None and t is not None and t.is_alive():
            flag.stop(reason)
            return True
        return False

    def _run_quietly(self, download_id: int) -> None:
        try:
            self.run(download_id)
        except Wan22Error:
            pass  # already recorded in the row and reported as an event
        except Exception:  # noqa: BLE001 - a worker thread must record, not vanish
            log.exception("download %s crashed", download_id)

    def run(self, download_id: int) -> DownloadInfo:
        """Do the download in this thread. Raises the user-facing error after recording it."""
        flag = StopFlag()
        self._flags[download_id] = flag
        info = self.get(download_id)
        target = Path(info.target_dir)
        first = not target.exists()  # a failed first try must not leave an empty model folder
        target.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(target / LOCK_NAME))
        try:
            lock.acquire(timeout=0)
        except Timeout as exc:
            err = OperationError(
                f"{target} is being downloaded by another process",
                hint="wait for it, or stop it there",
            )
            # The row is left as it is: the other process owns it.
            self.on_event(
                DownloadEvent(
                    "status",
                    download_id,
                    info.status,
                    info.done_bytes,
                    info.total_bytes,
                    message=err.message,
                    hint=err.hint,
                )
            )
            raise err from exc
        try:
            return self._run_locked(download_id, flag, target)
        except Wan22Error:
            raise
        except Exception as exc:  # a bug or an unforeseen error: the row must not stay "running"
            log.exception("download %s failed unexpectedly", download_id)
            err = OperationError(
                f"download failed: unexpected {type(exc).__name__}: {exc}",
                hint="the log file has the details; run the download again to continue",
            )
            self._fail(download_id, err)
            raise err from exc
        finally:
            lock.release()
            Path(lock.lock_file).unlink(missing_ok=True)
            if first and not any(p.is_file() for p in target.rglob("*")):
                shutil.rmtree(target, ignore_errors=True)

    def _run_locked(self, download_id: int, flag: StopFlag, target: Path) -> DownloadInfo:
        info = self.get(download_id)
        model = get_model(info.model_id)
        sources = [info.source] + (
            [s for s in self.listers if s != info.source] if self.auto_fallback else []
        )
        self._set_status(download_id, "running", clear_error=True)
        last: Wan22Error | None = None
        failures: builtins.list[tuple[str, Wan22Error]] = []
        for i, source in enumerate(sources):
            same = source == info.source
            endpoint = info.endpoint if same else None
            revision = info.revision if same else None  # a commit id means nothing to the other hub
            if i:
                log.warning(
                    "download %s: %s failed (%s); trying %s",
                    download_id,
                    sources[i - 1],
                    last,
                    source,
                )
                with self._session() as s:
                    d = _row(s, download_id)
                    d.source, d.endpoint = source, None
            try:
                self._download(download_id, model, source, endpoint, revision, target, flag)
                return self.get(download_id)
            except Stopped as stop:
                self._set_status(download_id, stop.reason)
                return self.get(download_id)
            except (DiskFull, ChecksumMismatch, UserInputError) as err:
                last = err
                break  # another source would not help
            except Wan22Error as err:
                last = err
                failures.append((source_label(source, endpoint), err))
        assert last is not None
        if len(failures) > 1 and failures[-1][1] is last:
            last = all_sources_failed(info.model_id, failures)
        self._fail(download_id, last)
        raise last

    def _list(
        self,
        model: CatalogModel,
        source: str,
        endpoint: str | None,
        revision: str | None,
    ) -> tuple[str, builtins.list[RemoteFile]]:
        commit, files = self.listers[source](
            model.repo_id,
            revision=revision,
            endpoint=endpoint,
            token=self.token if source == "hf" else None,
        )
        wanted = [f for f in files if model.wants(f.path)]
        if not wanted:
            raise OperationError(
                f"{model.repo_id} on {source} has none of the expected files",
                hint="the source may hold a different repo; try another source",
            )
        return commit, wanted

    def _download(
        self,
        download_id: int,
        model: CatalogModel,
        source: str,
        endpoint: str | None,
        revision: str | None,
        target: Path,
        flag: StopFlag,
    ) -> None:
        # Listing at the pinned commit on a resume keeps all files from one version of the repo.
        commit, files = self._list(model, source, endpoint, revision)
        dests = {f.path: target_path(target, f.path) for f in files}  # rejects traversal names
        total = sum(f.size or 0 for f in files)
        self._save_manifest(download_id, files, total, commit)
        remaining = sum(max(0, (f.size or 0) - partial_bytes(dests[f.path])) for f in files)
        free = self.free_space(_existing_parent(target))
        if free < remaining + DISK_MARGIN:
            raise DiskFull(
                f"not enough disk space in {target}: {human_bytes(remaining)} to download, "
                f"{human_bytes(free)} free",
                hint="free some space or download into another folder (--target)",
            )
        meter = RateMeter()
        lock = threading.RLock()  # one writer of counters and one emitter at a time
        per_file = {f.path: 0 for f in files}
        sizes = {f.path: f.size for f in files}
        state = _Tally()

        def emit(
            kind: str, path: str | None = None, status: str = "running", force: bool = False
        ) -> None:
            with lock:
                now = time.monotonic()
                if not force and now - state.last_emit < self.event_interval:
                    return
                state.last_emit = now
                speed = meter.speed()
                self.on_event(
                    DownloadEvent(
                        kind=kind,
                        download_id=download_id,
                        status=status,
                        done=state.done,
                        total=total,
                        speed=speed,
                        eta=eta(total - state.done, speed),
                        path=path,
                        file_done=per_file.get(path, 0) if path else 0,
                        file_total=sizes.get(path) if path else None,
                    )
                )

        self.on_event(
            DownloadEvent(
                "listed",
                download_id,
                "running",
                0,
                total,
                message=f"{len(files)} files from {source}",
            )
        )
        attempt = StopFlag(parent=flag)  # stops the siblings when one file fails

        def fetch_one(f: RemoteFile) -> None:
            first = True
            last_db = 0.0

            def on_bytes(n: int) -> None:
                nonlocal first, last_db
                with lock:
                    state.done += n
                    per_file[f.path] += n
                    if first:
                        first = False  # the kept prefix: no network bytes, no speed
                    else:
                        meter.add(max(n, 0))
                    emit("progress", f.path)
                    done, file_done = state.done, per_file[f.path]
                if time.monotonic() - last_db > 1.0:
                    last_db = time.monotonic()
                    self._save_progress(download_id, f.path, file_done, done)

            self._set_file(download_id, f.path, status="downloading")
            try:
                fetch_file(
                    f,
                    dests[f.path],
                    on_bytes=on_bytes,
                    flag=attempt,
                    retry=self.retry,
                    quarantine=self.quarantine,
                )
            except Stopped:
                self._save_progress(
                    download_id, f.path, per_file[f.path], state.done, status="pending"
                )
                raise
            except Wan22Error as err:
                self._set_file(download_id, f.path, status="failed", error=err.message)
                raise
            self._set_file(download_id, f.path, status="done", verified=True, done=f.size or 0)
            emit("file_done", f.path, force=True)

        errors: list[BaseException] = []
        with ThreadPoolExecutor(
            max_workers=self.parallel_files, thread_name_prefix=f"dl{download_id}"
        ) as pool:
            for fut in as_completed([pool.submit(fetch_one, f) for f in files]):
                exc = fut.exception()
                if exc is not None and not isinstance(exc, Stopped):
                    errors.append(exc)
                    attempt.stop("failed")
        if errors:
            raise errors[0]
        if flag.reason:
            emit("status", None, flag.reason, force=True)
            raise Stopped(flag.reason)
        if model.tasks:  # every file matched the hub; now the folder must be one the engine loads
            layout = check_folder(target, model.tasks[0])
            if not layout.ok:
                raise OperationError(
                    f"downloaded {model.key} but the folder is incomplete: {layout.summary}",
                    hint="the source's repo differs from the official layout; try another source",
                )
        self._finish(download_id, model, target, total)
        emit("status", None, "done", force=True)

    # ---- DB writes (short transactions; each thread its own session)

    def _save_manifest(
        self, download_id: int, files: builtins.list[RemoteFile], total: int, revision: str
    ) -> None:
        with self._session() as s:
            d = _row(s, download_id)
            d.total_bytes, d.revision = total, revision
            rows = {r.path: r for r in d.files}
            for f in files:
                r = rows.get(f.path)
                if r is None:
                    r = DownloadFile(path=f.path)
                    d.files.append(r)
                if (r.sha256, r.size) != (f.sha256 or f.git_sha1, f.size):
                    r.verified = False
                r.size, r.sha256, r.etag = f.size, f.sha256 or f.git_sha1, f.etag
                if not r.verified:
                    r.status = "pending"

    def _save_progress(
        self, download_id: int, path: str, file_done: int, done: int, status: str | None = None
    ) -> None:
        with self._session() as s:
            d = _row(s, download_id)
            d.done_bytes = done
            for r in d.files:
                if r.path == path:
                    r.done_bytes = file_done
                    if status:
                        r.status = status

    def _set_file(
        self,
        download_id: int,
        path: str,
        *,
        status: str,
        verified: bool | None = None,
        done: int | None = None,
        error: str | None = None,
    ) -> None:
        with self._session() as s:
            r = s.scalars(
                select(DownloadFile).where(
                    DownloadFile.download_id == download_id, DownloadFile.path == path
                )
            ).one()
            r.status, r.error_message = status, error
            if verified is not None:
                r.verified = verified
            if done is not None:
                r.done_bytes = done

    def _set_status(self, download_id: int, status: str, clear_error: bool = False) -> None:
        with self._session() as s:
            d = _row(s, download_id)
            d.status = status
            if clear_error:
                d.error_message = d.error_hint = None

    def _fail(self, download_id: int, err: Wan22Error) -> None:
        with self._session() as s:
            d = _row(s, download_id)
            d.status, d.error_message, d.error_hint = "failed", err.message, err.hint
            done, total = d.done_bytes, d.total_bytes
        self.on_event(
            DownloadEvent(
                "status", download_id, "failed", done, total, message=err.message, hint=err.hint
            )
        )

    def _finish(self, download_id: int, model: CatalogModel, target: Path, total: int) -> None:
        with self._session() as s:
            d = _row(s, download_id)
            d.status, d.done_bytes, d.finished_at = "done", total, utcnow()
            register(s, model.model_id, target, origin="download", tasks=model.tasks, size=total)
