"""Logging: a rotating log file in the data dir receives everything, tracebacks included."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

LOG_FILE_NAME = "wan22.log"
_FORMAT = "%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"


def setup_logging(logs_dir: Path, *, verbose: bool = False, name: str = LOG_FILE_NAME) -> Path:
    """Attach a rotating file handler (5 x 5 MB) to the root logger; return the log file path.

    Console output is left to the callers (CLI, GUI): users see one-line messages, the log keeps
    the details. Calling it twice for the same file does not add a second handler.
    """
    logs_dir.mkdir(parents=True, exist_ok=True)
    path = logs_dir / name
    root = logging.getLogger()
    for h in root.handlers:
        if isinstance(h, logging.handlers.RotatingFileHandler) and Path(h.baseFilename) == path:
            return path
    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=5 * 1024 * 1024, backupCount=5, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter(_FORMAT))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    return path
