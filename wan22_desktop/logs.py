"""Logging: a rotating log file in the data dir receives everything, tracebacks included.

Every handler we install carries one redaction filter: known secrets (the DashScope key, as
registered at runtime), ``Authorization``/``Bearer`` header values and ``sk-…`` key shapes never
reach a log line, not even inside a chained traceback a server reply ended up in. The message part
of each line also has its control characters escaped, so a prompt cannot fake log lines or drive
the terminal. ``redact`` is the same rule for text that leaves a process another way (protocol
events, stderr).
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
import sys
import threading
import traceback
from pathlib import Path
from types import TracebackType
from typing import TextIO

from wan22_desktop.terminal_text import escape_control

LOG_FILE_NAME = "wan22.log"
_FORMAT = "%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"
REDACTED = "[REDACTED]"
SECRET_ENV_VARS = ("DASH_API_KEY",)

_secrets: set[str] = set()
_secrets_lock = threading.Lock()

_TOKEN = r"[A-Za-z0-9._~+/=\-]+"
_AUTH_HEADER = re.compile(
    r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?)((?:bearer|basic|token)\s+)?" + _TOKEN
)
_BEARER = re.compile(r"(?i)\b(bearer\s+)" + _TOKEN)
_SK_KEY = re.compile(r"\bsk-[A-Za-z0-9_\-]{6,}")


def register_secret(value: str | None) -> None:
    """Remember ``value`` so every later log line and event has it replaced by ``[REDACTED]``."""
    if value and len(value.strip()) >= 6:  # shorter: too likely to match ordinary text
        with _secrets_lock:
            _secrets.add(value.strip())


def register_env_secrets(env: os._Environ[str] | dict[str, str] | None = None) -> None:
    """Register the secrets this process has in its environment (``DASH_API_KEY``)."""
    source = os.environ if env is None else env
    for name in SECRET_ENV_VARS:
        register_secret(source.get(name))


def redact(text: str) -> str:
    """``text`` with known secrets, authorization header values and ``sk-…`` keys replaced."""
    if not text:
        return text
    with _secrets_lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, REDACTED)
    text = _AUTH_HEADER.sub(lambda m: f"{m.group(1)}{m.group(2) or ''}{REDACTED}", text)
    text = _BEARER.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    return _SK_KEY.sub(REDACTED, text)


class RedactFilter(logging.Filter):
    """Redacts a record in place (message, traceback, stack) before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string must not lose the line
            message = f"{record.msg!r} {record.args!r}"
        record.msg = redact(escape_control(message, keep_newlines=True))
        record.args = None
        if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class RedactingFormatter(logging.Formatter):
    """A formatter whose whole output (exceptions included) goes through ``redact``."""

    def formatException(self, ei) -> str:  # noqa: N802, ANN001 - logging's naming
        return redact(super().formatException(ei))

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def _guard(handler: logging.Handler, fmt: str) -> logging.Handler:
    if not any(isinstance(f, RedactFilter) for f in handler.filters):
        handler.addFilter(RedactFilter())
    handler.setFormatter(RedactingFormatter(fmt))
    return handler


def guard_all_handlers() -> None:
    """Put the redaction filter on every handler the root logger has (third-party ones too)."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactFilter) for f in handler.filters):
            handler.addFilter(RedactFilter())


def setup_logging(logs_dir: Path, *, verbose: bool = False, name: str = LOG_FILE_NAME) -> Path:
    """Attach a rotating file handler (5 x 5 MB) to the root logger; return the log file path.

    Console output is left to the callers (CLI, GUI): users see one-line messages, the log keeps
    the details. Calling it twice for the same file does not add a second handler. Raises OSError
    when the folder cannot be written (see ``setup_stderr_logging`` for the fallback).
    """
    register_env_secrets()
    install_excepthook()
    logs_dir.mkdir(parents=True, exist_ok=True)
    path = logs_dir / name
    root = logging.getLogger()
    for h in root.handlers:
        if isinstance(h, logging.handlers.RotatingFileHandler) and Path(h.baseFilename) == path:
            return path
    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=5 * 1024 * 1024, backupCount=5, encoding="utf-8"
    )
    root.addHandler(_guard(handler, _FORMAT))
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    guard_all_handlers()
    return path


def setup_stream_logging(
    stream: TextIO | None = None,
    *,
    level: int | str = logging.INFO,
    fmt: str = _FORMAT,
) -> logging.Handler:
    """Log to a stream (the worker's stderr, which is its log file; the CLI's fallback when the
    logs folder cannot be written), with the same redaction as the file log."""
    register_env_secrets()
    install_excepthook()
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    root = logging.getLogger()
    root.addHandler(_guard(handler, fmt))
    root.setLevel(level)
    guard_all_handlers()
    return handler


def install_excepthook() -> None:
    """Uncaught exceptions (``--debug`` re-raises; a worker crash) are printed redacted."""
    if getattr(sys.excepthook, "_wan22_redacting", False):
        return

    def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        text = "".join(traceback.format_exception(exc_type, exc, tb))
        try:
            sys.stderr.write(redact(text))
            sys.stderr.flush()
        except (OSError, ValueError):
            pass

    hook._wan22_redacting = True  # type: ignore[attr-defined]
    sys.excepthook = hook


class _NoTraceback(logging.Formatter):
    """One line per record: the fallback console log must not print tracebacks at users."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(
            f"{record.levelname.lower()}: {(record.getMessage().splitlines() or [''])[0]}"
        )


def setup_fallback_logging(*, verbose: bool = False) -> logging.Handler:
    """The logs folder cannot be written: warnings (everything with ``--debug``) go to stderr.

    Without ``--debug`` no traceback reaches the terminal, and error reports that carry one are
    left out (the CLI prints its own ``error:``/``hint:`` lines).
    """
    register_env_secrets()
    install_excepthook()
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactFilter())
    # records with a traceback are error reports the CLI sums up itself in error:/hint: lines
    handler.addFilter(lambda r: verbose or not r.exc_info)
    if verbose:
        handler.setFormatter(RedactingFormatter(_FORMAT))
    else:
        handler.setFormatter(_NoTraceback())
        handler.setLevel(logging.WARNING)
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    return handler
