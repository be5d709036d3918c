"""What a hub tells us about one file, and the one check every remote name passes before use."""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from wan22_desktop.errors import OperationError

_DRIVE = re.compile(r"^[A-Za-z]:")
_ERRNO = re.compile(r"\[Errno (-?\d+)\] ([^'\")\]\n]+)")
# What a network failure means to a user, by the OS error's text (the same on every library).
_PLAIN = (
    (
        (
            "Name or service not known",
            "Temporary failure in name resolution",
            "nodename nor servname",
            "No address associated with hostname",
            "getaddrinfo failed",
        ),
        "host name not found (offline, or DNS blocked)",
    ),
    (("Connection refused",), "connection refused"),
    (("Network is unreachable", "No route to host"), "network unreachable (offline?)"),
    (("timed out", "Timeout", "TimeoutError"), "timed out"),
    (("CERTIFICATE_VERIFY_FAILED", "SSLError", "SSL:"), "TLS/SSL error (a proxy or blocked site?)"),
)


def failure_reason(exc: BaseException) -> str:
    """One short line for why a hub call failed, instead of a library's nested repr."""
    chain: list[BaseException] = []
    e: BaseException | None = exc
    while e is not None and e not in chain and len(chain) < 10:
        chain.append(e)
        e = e.__cause__ or e.__context__
    text = " ".join(f"{type(x).__name__}: {x}" for x in chain)
    for needles, plain in _PLAIN:
        if any(n in text for n in needles):
            return plain
    m = _ERRNO.search(text)
    if m:
        return m.group(2).strip()
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return first if len(first) <= 200 else first[:197] + "..."


def quiet_library_loggers(*names: str) -> None:
    """Route a hub library's log records to our log file instead of its own stderr handler: a
    download that fails must say so in one message, not in a library's retry chatter."""
    known = list(logging.Logger.manager.loggerDict)
    for name in names:
        top = logging.getLogger(name)
        for sub in [name, *(k for k in known if k.startswith(name + "."))]:
            logger = logging.getLogger(sub)
            for h in list(logger.handlers):
                if isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler):
                    logger.removeHandler(h)
            logger.propagate = True
        if not any(isinstance(h, logging.NullHandler) for h in top.handlers):
            top.addHandler(logging.NullHandler())  # no "last resort" stderr print either


@dataclass(frozen=True)
class RemoteFile:
    """A file in a hub repo, with what we need to fetch and verify it.

    ``sha256`` is the LFS hash when the hub has one; small files kept in git have only a git blob id
    (``git_sha1``), which we verify instead.
    """

    path: str
    size: int | None
    url: str
    headers: dict[str, str] = field(default_factory=dict, compare=False, repr=False)
    sha256: str | None = None
    git_sha1: str | None = None
    etag: str | None = None


def safe_relpath(name: str) -> str:
    """Normalise a remote file name, refusing anything that could land outside the target folder."""
    if not name or "\x00" in name:
        raise OperationError(
            f"refusing remote file name {name!r}", hint="the repository listing is invalid"
        )
    unified = name.replace("\\", "/")
    p = PurePosixPath(unified)
    if p.is_absolute() or _DRIVE.match(unified) or any(part in ("..",) for part in p.parts):
        raise OperationError(
            f"refusing remote file name {name!r}: it would be written outside the model folder",
            hint="the hub or mirror sent an unsafe listing; try another source",
        )
    parts = [x for x in p.parts if x not in ("", ".")]
    if not parts:
        raise OperationError(
            f"refusing remote file name {name!r}", hint="the repository listing is invalid"
        )
    return "/".join(parts)


def target_path(root: Path, name: str) -> Path:
    """Absolute path of a remote file inside ``root``; checked again after resolving symlinks."""
    rel = safe_relpath(name)
    base = root.resolve()
    dest = (base / rel).resolve()
    if dest != base and base not in dest.parents:
        raise OperationError(
            f"refusing remote file name {name!r}: it resolves outside {base}",
            hint="remove the symlink in the model folder or choose another folder",
        )
    return dest


def git_blob_sha1(data_len: int) -> hashlib._Hash:
    """A sha1 primed with git's blob header, so feeding the content yields the git blob id."""
    h = hashlib.sha1()
    h.update(f"blob {data_len}\0".encode())
    return h
