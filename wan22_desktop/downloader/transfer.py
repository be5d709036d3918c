"""Fetch one file over HTTP so that no byte is fetched twice: a ``.part`` file that outlives the
process, Range + If-Range to continue it, retries with backoff, and size/sha256 checks before the
file gets its real name.

Why our own transfer: huggingface_hub >= 1.18 throws away ``.incomplete`` files between runs, and
ModelScope's downloader does not resume across processes either. We take the URL and headers each
library resolves and do the byte moving here.
"""

from __future__ import annotations

import errno
import hashlib
import http.client
import json
import logging
import os
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from wan22_desktop.downloader.remote import RemoteFile, git_blob_sha1
from wan22_desktop.errors import DiskFull, OperationError

log = logging.getLogger(__name__)

PART_SUFFIX = ".part"
META_SUFFIX = ".part.json"
CHUNK = 1 << 20  # for reading local files (hashing a kept prefix)
# Network reads take what has arrived, up to this much, and write it at once: a process killed
# mid-file loses at most this (plus what sits in the socket), so a resume re-sends little.
READ_BLOCK = 64 * 1024
QUARANTINE_DIR = "bad-downloads"  # under the app's cache folder: one bad copy, for diagnosis
_DISK_FULL = {errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)}
_RETRY_STATUS = {408, 425, 429, 500, 502, 503, 504}


class Stopped(Exception):
    """The user paused or cancelled; the partial file is kept as it is."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ChecksumMismatch(OperationError):
    pass


class StopFlag:
    """Cooperative stop signal, checked between chunks (set from another thread). A child flag
    also stops when its parent does, so one failed file can stop its siblings without touching
    the user's pause/cancel flag."""

    def __init__(self, parent: StopFlag | None = None) -> None:
        self._reason: str | None = None
        self.parent = parent

    @property
    def reason(self) -> str | None:
        return self._reason or (self.parent.reason if self.parent else None)

    def stop(self, reason: str) -> None:
        self._reason = reason

    def check(self) -> None:
        if self.reason:
            raise Stopped(self.reason)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6  # consecutive failures without progress before giving up
    base_delay: float = 1.0
    max_delay: float = 30.0
    timeout: float = 30.0

    def delay(self, failures: int) -> float:
        return min(self.max_delay, self.base_delay * (2 ** max(0, failures - 1)))


class _NoAuthAcrossHosts(urllib.request.HTTPRedirectHandler):
    """Follow redirects (hub -> CDN) but never send the hub token to another host."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if (
            new is not None
            and urllib.parse.urlsplit(newurl).netloc != urllib.parse.urlsplit(req.full_url).netloc
        ):
            for h in ("Authorization", "Cookie"):
                new.remove_header(h)
        return new


_OPENER = urllib.request.build_opener(_NoAuthAcrossHosts())


def part_path(dest: Path) -> Path:
    return dest.with_name(dest.name + PART_SUFFIX)


def partial_bytes(dest: Path) -> int:
    """Bytes already on disk for ``dest`` (complete file or kept prefix)."""
    if dest.exists():
        return dest.stat().st_size
    p = part_path(dest)
    return p.stat().st_size if p.exists() else 0


def _identity(rf: RemoteFile) -> dict[str, object]:
    # What the kept prefix belongs to; a different upstream file means the prefix is useless.
    return {"size": rf.size, "sha256": rf.sha256, "git_sha1": rf.git_sha1, "etag": rf.etag}


def _new_hashers(rf: RemoteFile) -> list[hashlib._Hash]:
    hashers = []
    if rf.sha256:
        hashers.append(hashlib.sha256())
    elif rf.git_sha1 and rf.size is not None:
        hashers.append(git_blob_sha1(rf.size))
    return hashers


def _hash_prefix(path: Path, hashers: list[hashlib._Hash], flag: StopFlag | None) -> None:
    if not hashers:
        return
    with path.open("rb") as f:
        while block := f.read(8 * CHUNK):
            for h in hashers:
                h.update(block)
            if flag:
                flag.check()


def hash_matches(rf: RemoteFile, hashers: list[hashlib._Hash]) -> bool:
    if not hashers:
        return True
    digest = hashers[0].hexdigest()
    return digest == (rf.sha256 or rf.git_sha1 or "").lower()


def verify_file(path: Path, rf: RemoteFile, flag: StopFlag | None = None) -> str | None:
    """None if ``path`` has the hub's size and hash, else a one-line reason."""
    size = path.stat().st_size
    if rf.size is not None and size != rf.size:
        return f"size {size} != {rf.size}"
    hashers = _new_hashers(rf)
    _hash_prefix(path, hashers, flag)
    if not hash_matches(rf, hashers):
        kind = "sha256" if rf.sha256 else "git blob id"
        return f"{kind} {hashers[0].hexdigest()} != {rf.sha256 or rf.git_sha1}"
    return None


def default_quarantine() -> Path:
    from wan22_desktop.paths import app_paths

    return app_paths().cache / QUARANTINE_DIR


def _move_aside(path: Path, quarantine: Path | None = None) -> Path | None:
    """Move a file that failed verification out of the model folder, into ``quarantine`` (the
    app's cache by default), keeping only the newest such copy there: a bad 10 GB shard must not
    pile up. Where the quarantine is on another disk the copy is deleted instead (None)."""
    folder = quarantine if quarantine is not None else default_quarantine()
    name = path.name.removesuffix(PART_SUFFIX)
    bad = folder / f"{name}.bad-{time.strftime('%Y%m%d-%H%M%S')}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.iterdir():
            if old.is_file() and ".bad-" in old.name:
                old.unlink(missing_ok=True)
        os.replace(path, bad)
    except OSError as exc:
        log.warning("bad file %s deleted (cannot keep it in %s: %s)", path, folder, exc)
        path.unlink(missing_ok=True)
        return None
    log.warning("moved bad file aside: %s", bad)
    return bad


class _Restart(Exception):
    """The server ignored our range (the file changed); start the file again."""


def fetch_file(
    rf: RemoteFile,
    dest: Path,
    *,
    on_bytes: Callable[[int], None] = lambda n: None,
    flag: StopFlag | None = None,
    retry: RetryPolicy = RetryPolicy(),
    sleep: Callable[[float], None] = time.sleep,
    quarantine: Path | None = None,
) -> int:
    """Make ``dest`` a verified copy of ``rf``; returns the bytes received over the network.

    ``on_bytes(n)`` reports newly written bytes (also the kept prefix, once, at the start), so a
    caller can show totals that include earlier runs. A copy that fails verification goes to
    ``quarantine`` (default: the app cache's ``bad-downloads``), never stays in the model folder.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.exists():
        if verify_file(dest, rf, flag) is None:
            on_bytes(dest.stat().st_size)
            return 0
        _move_aside(dest, quarantine)
    part, meta = part_path(dest), dest.with_name(dest.name + META_SUFFIX)
    ident = _identity(rf)
    state: dict[str, object] = {"ident": ident, "etag": None}
    if part.exists():
        try:
            old = json.loads(meta.read_text())
        except (OSError, ValueError):
            old = {}
        old_ident = old.get("ident") or {}
        # Keep the prefix if it belongs to the same upstream file (or we cannot tell otherwise).
        if any(old_ident.get(k) and ident.get(k) and old_ident[k] != ident[k] for k in ident):
            log.info("upstream file changed, starting %s again", rf.path)
            part.unlink()
        else:
            state["etag"] = old.get("etag")
    meta.write_text(json.dumps(state))
    received = 0
    kept: Path | None = None
    for _ in range(2):  # a second round only after a checksum mismatch
        got, hashers = _download_into(
            rf, part, meta, state, on_bytes, flag, retry, sleep, quarantine
        )
        received += got
        problem = _problem(part, rf, hashers)
        if problem is None:
            os.replace(part, dest)
            meta.unlink(missing_ok=True)
            return received
        kept = _move_aside(part, quarantine)
        log.warning("%s failed verification (%s); fetching it again", rf.path, problem)
        on_bytes(-(rf.size or 0))
    meta.unlink(missing_ok=True)
    where = f"; the last bad copy is kept for diagnosis at {kept}" if kept else ""
    raise ChecksumMismatch(
        f"{rf.path} does not match the hub's checksum after two downloads{where}",
        hint="the source may be serving a broken file; try another source or mirror",
    )


def _problem(part: Path, rf: RemoteFile, hashers: list[hashlib._Hash]) -> str | None:
    size = part.stat().st_size
    if rf.size is not None and size != rf.size:
        return f"size {size} != {rf.size}"
    if not hash_matches(rf, hashers):
        return f"{'sha256' if rf.sha256 else 'git blob id'} {hashers[0].hexdigest()} != {rf.sha256 or rf.git_sha1}"
    return None


def _download_into(
    rf,
    part: Path,
    meta: Path,
    state: dict,
    on_bytes,
    flag,
    retry: RetryPolicy,
    sleep,
    quarantine: Path | None = None,
) -> tuple[int, list[hashlib._Hash]]:
    """Bring ``part`` to full size. The hash is computed as bytes arrive (the kept prefix is read
    once at the start), so a 57 GB shard is not read back from disk to be verified."""
    received = 0
    failures = 0
    have = part.stat().st_size if part.exists() else 0
    if rf.size is not None and have > rf.size:  # cannot be ours; the hash check would fail anyway
        _move_aside(part, quarantine)
        have = 0
    hashers = _new_hashers(rf)
    if have:
        _hash_prefix(part, hashers, flag)
    on_bytes(have)
    while True:
        if flag:
            flag.check()
        if rf.size is not None and have == rf.size:
            return received, hashers
        try:
            got = _one_request(rf, part, have, meta, state, on_bytes, flag, retry.timeout, hashers)
            received += got
            have = part.stat().st_size
            if rf.size is None:
                return received, hashers
            if got:
                failures = 0
                continue
            failures += 1
            err: Exception = OperationError(f"{rf.path}: the server sent no data")
        except _Restart:
            on_bytes(-have)
            part.unlink(missing_ok=True)
            state["etag"] = None
            hashers[:] = _new_hashers(rf)
            have = 0
            continue
        except (
            urllib.error.URLError,
            http.client.HTTPException,
            ConnectionError,
            TimeoutError,
        ) as exc:
            if isinstance(exc, urllib.error.HTTPError) and exc.code not in _RETRY_STATUS:
                raise _http_error(rf, exc) from exc
            new_have = part.stat().st_size if part.exists() else 0
            failures = 0 if new_have > have else failures + 1
            received += new_have - have
            have = new_have
            err = exc
        if failures >= retry.attempts:
            raise OperationError(
                f"network error while downloading {rf.path}: {err}",
                hint="the partial file is kept; run the download again to continue",
            ) from err
        delay = retry.delay(max(failures, 1))
        log.info("retrying %s in %.1fs after: %s", rf.path, delay, err)
        sleep(delay)


def _http_error(rf: RemoteFile, exc: urllib.error.HTTPError) -> OperationError:
    if exc.code in (401, 403):
        return OperationError(
            f"access denied to {rf.path} (HTTP {exc.code})",
            hint="log in to the hub or set a token with access to this repo",
        )
    if exc.code == 404:
        return OperationError(
            f"{rf.path} not found on the source (HTTP 404)",
            hint="the mirror may be incomplete; try another source",
        )
    return OperationError(
        f"download of {rf.path} failed: HTTP {exc.code}", hint="try another source"
    )


def _one_request(
    rf: RemoteFile,
    part: Path,
    have: int,
    meta: Path,
    state: dict,
    on_bytes,
    flag,
    timeout: float,
    hashers: list[hashlib._Hash],
) -> int:
    """One GET continuing at ``have``. If-Range carries the validator this server gave us for the
    kept prefix, so a changed file comes back whole (200) instead of being spliced."""
    headers = dict(rf.headers)
    headers["Accept-Encoding"] = "identity"
    if have:
        headers["Range"] = f"bytes={have}-"
        etag = state.get("etag")
        if isinstance(etag, str) and etag and not etag.startswith("W/"):
            headers["If-Range"] = etag
    req = urllib.request.Request(rf.url, headers=headers)
    try:
        resp = _OPENER.open(req, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have and rf.size == have:
            return 0
        raise
    with resp:
        if have and resp.status == 200:
            raise _Restart()
        if have and resp.status == 206:
            start = _range_start(resp.headers.get("Content-Range"))
            if start != have:
                raise _Restart()
        server_etag = resp.headers.get("ETag")
        if server_etag and server_etag != state.get("etag"):
            state["etag"] = server_etag
            meta.write_text(json.dumps(state))
        written = 0
        # Unbuffered: what write() returned is on its way to disk, so a kill loses nothing we counted.
        with part.open("ab", buffering=0) as f:
            try:
                while True:
                    if flag and flag.reason:
                        os.fsync(f.fileno())
                        raise Stopped(flag.reason)
                    block = _read_some(resp)
                    if not block:
                        break
                    _write_all(f, block)
                    for h in hashers:  # only after the write: hash and file hold the same bytes
                        h.update(block)
                    written += len(block)
                    on_bytes(len(block))
            except OSError as exc:
                if exc.errno not in _DISK_FULL:
                    raise
                # Drop a torn tail so the kept prefix is exactly the bytes we counted.
                f.truncate(have + written)
                free = shutil.disk_usage(part.parent).free
                raise DiskFull(
                    f"the disk is full while writing {part.name} ({free // 1_000_000} MB free)",
                    hint="free some space or choose another models folder; the download continues "
                    "where it stopped",
                ) from exc
        return written


def _read_some(resp) -> bytes:  # noqa: ANN001 - an http.client.HTTPResponse
    """What has arrived, up to ``READ_BLOCK`` bytes (waiting only when nothing has)."""
    read1 = getattr(resp, "read1", None)
    return read1(READ_BLOCK) if read1 is not None else resp.read(READ_BLOCK)


def _write_all(f, block: bytes) -> None:
    view = memoryview(block)
    while view:
        n = f.write(view)
        view = view[n:]


def _range_start(content_range: str | None) -> int | None:
    # "bytes 100-199/200"
    if not content_range or not content_range.startswith("bytes "):
        return None
    try:
        return int(content_range[6:].split("-", 1)[0])
    except ValueError:
        return None
