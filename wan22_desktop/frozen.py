"""Running from the PyInstaller bundle (ADR 0023): which interpreter runs our Python subprocesses.

In a wheel install every subprocess is ``sys.executable -m <module>``. The bundle's executable is
not a Python interpreter and carries no torch, so there the worker and the hardware probe run with
the interpreter of ``<data>/runtime/worker-venv`` (made by ``wan22 runtime setup``), and torch-free
helpers that start ``wan22_desktop.cli`` run the bundle's own ``wan22``. Torch-free, Qt-free.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from wan22_desktop.errors import OperationError

WORKER_PYTHON_ENV = "WAN22_WORKER_PYTHON"  # an interpreter with torch and this app, to use instead
READY_MARKER = ".wan22-ready"  # written last by `wan22 runtime setup`: the venv is complete
SETUP_HINT = "run `wan22 runtime setup` once (it downloads torch, a few GB, with progress)"


def is_frozen() -> bool:
    """True inside the PyInstaller bundle."""
    return bool(getattr(sys, "frozen", False))


def bundle_dir() -> Path:
    """The bundle's top folder (where ``wan22`` and ``wan22-desktop`` are)."""
    return Path(sys.executable).resolve().parent


def worker_venv(data: Path | None = None) -> Path:
    """``<data>/runtime/worker-venv``; ``data`` defaults to the app's data folder."""
    if data is None:
        from wan22_desktop.paths import app_paths

        data = app_paths().data
    return data / "runtime" / "worker-venv"


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def worker_env_ready(data: Path | None = None) -> bool:
    venv = worker_venv(data)
    return (venv / READY_MARKER).is_file() and venv_python(venv).exists()


def worker_python(data: Path | None = None) -> str:
    """The interpreter that runs the worker and the hardware probe (both import torch)."""
    explicit = os.environ.get(WORKER_PYTHON_ENV)
    if explicit:
        return explicit
    if not is_frozen():
        return sys.executable
    venv = worker_venv(data)
    if not worker_env_ready(data):
        raise OperationError(
            f"the worker environment is not set up ({venv} is missing or incomplete)",
            hint=SETUP_HINT,
        )
    return str(venv_python(venv))


def needs_worker_env(exc: ModuleNotFoundError) -> OperationError | None:
    """In the bundle, a command that imports torch in-process (``generate``, ``dev``) says where
    rendering happens instead of an import error; None elsewhere."""
    name = exc.name or ""
    if not is_frozen() or not name.startswith(("torch", "wan22_desktop.engine.wan")):
        return None
    return OperationError(
        "this command needs torch in its own process, which the bundle does not carry",
        hint="render through the queue (`wan22 queue add ...`, then `wan22 queue run`), which "
        "uses the worker environment; " + SETUP_HINT + " if it is not set up yet",
    )


def module_command(module: str) -> list[str]:
    """argv that runs ``python -m module`` with the right interpreter for this install."""
    if is_frozen() and module == "wan22_desktop.cli":
        return [str(bundle_dir() / "wan22")]
    if module == "wan22_desktop.cli":
        return [sys.executable, "-m", module]
    return [worker_python(), "-m", module]
