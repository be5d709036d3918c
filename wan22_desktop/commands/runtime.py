"""``wan22 runtime setup``: the worker's torch environment for the bundle (ADR 0023).

The bundle carries the torch-free app; rendering needs torch, a few GB that differ per CUDA version.
This makes ``<data>/runtime/worker-venv`` with a Python 3.10+ found on the machine, installs the
pinned torch and the bundle's own app wheel into it with pip (its progress shown), checks that both
import, and marks it ready. Running it again finishes or repairs an interrupted setup.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
from pathlib import Path

from wan22_desktop.errors import OperationError, UserInputError

PYTHON_NAMES = ("python3.13", "python3.12", "python3.11", "python3.10", "python3")
_CHECK = "import sys, venv, ensurepip; print('%d.%d' % sys.version_info[:2])"
STEPS = 4


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "runtime",
        help="set up the worker's torch environment (the Linux bundle)",
        description="The worker environment the bundle renders with (torch + this app).",
    )
    sub = p.add_subparsers(dest="runtime_cmd", required=True)
    s = sub.add_parser(
        "setup",
        help="create <data>/runtime/worker-venv and install torch and the app into it",
        description=__doc__,
    )
    s.add_argument("--python", help="base interpreter, Python 3.10+ (default: found on PATH)")
    s.add_argument("--wheel", help="app wheel to install (default: the one inside the bundle)")
    s.add_argument(
        "--pip-arg",
        action="append",
        default=[],
        help="extra argument for pip install, repeatable (e.g. --pip-arg=--index-url=URL)",
    )
    s.set_defaults(func=run_setup)


def _step(n: int, text: str) -> None:
    print(f"runtime setup [{n}/{STEPS}] {text}", flush=True)


def find_python(explicit: str | None) -> tuple[str, str]:
    """(interpreter, version) of a Python 3.10+ that has venv and ensurepip."""
    names = [explicit] if explicit else [n for n in PYTHON_NAMES if shutil.which(n)]
    tried = []
    for name in names:
        try:
            out = subprocess.run(
                [name, "-c", _CHECK], capture_output=True, text=True, timeout=60, check=True
            )
        except (OSError, subprocess.SubprocessError):
            tried.append(f"{name} (no venv/ensurepip)")
            continue
        version = out.stdout.strip()
        if tuple(int(x) for x in version.split(".")) >= (3, 10):
            return str(shutil.which(name) or name), version
        tried.append(f"{name} ({version})")
    raise UserInputError(
        "no Python 3.10 or newer with venv found to build the worker environment"
        + (f" (tried: {', '.join(tried)})" if tried else ""),
        hint="install python3 and python3-venv from your distribution, or pass --python PATH",
        field="python",
    )


def bundled_wheel() -> Path | None:
    from wan22_desktop.frozen import bundle_dir, is_frozen

    if not is_frozen():
        return None
    wheels = sorted((bundle_dir() / "wheels").glob("wan22_desktop-*.whl"))
    return wheels[-1] if wheels else None


def _pip_install(python: Path, args: list[str]) -> None:
    cmd = [str(python), "-m", "pip", "install", "--progress-bar", "on", *args]
    # pip draws its own progress bars on a terminal and plain lines otherwise.
    if subprocess.run(cmd).returncode != 0:
        raise OperationError(
            "pip could not install the worker environment",
            hint="see pip's message above; check the network, then run `wan22 runtime setup` again",
        )


def run_setup(args: argparse.Namespace) -> int:
    from wan22_desktop import __version__
    from wan22_desktop.frozen import READY_MARKER, venv_python, worker_venv
    from wan22_desktop.paths import app_paths

    paths = app_paths(args.home)
    venv = worker_venv(paths.data)
    wheel = Path(args.wheel) if args.wheel else bundled_wheel()
    if wheel is None or not wheel.is_file():
        raise UserInputError(
            f"no app wheel to install{f' at {wheel}' if wheel else ''}",
            hint="pass --wheel PATH to the wan22_desktop wheel (the bundle carries its own)",
            field="wheel",
        )
    base, version = find_python(args.python)
    _step(1, f"creating {venv} with Python {version} ({base})")
    (venv / READY_MARKER).unlink(missing_ok=True)
    venv.parent.mkdir(parents=True, exist_ok=True)
    if subprocess.run([base, "-m", "venv", str(venv)]).returncode != 0:
        raise OperationError(f"could not create {venv}", hint="see the message above")
    python = venv_python(venv)
    constraints = [a for c in _constraints() for a in ("-c", str(c))]
    _step(2, "updating pip")
    _pip_install(python, ["-q", "--upgrade", "pip"])
    _step(3, f"installing torch and wan22-desktop {__version__} (a few GB on the first run)")
    _pip_install(python, [*constraints, *args.pip_arg, "torch", str(wheel)])
    _step(4, "checking that torch and the app import")
    check = subprocess.run(
        [str(python), "-c", "import torch, wan22_desktop.runtime.worker; print(torch.__version__)"],
        capture_output=True,
        text=True,
    )
    if check.returncode != 0:
        raise OperationError(
            f"the worker environment does not import: {check.stderr.strip().splitlines()[-1:]}",
            hint="run `wan22 runtime setup` again; if it repeats, delete " + str(venv),
        )
    (venv / READY_MARKER).write_text(f"torch {check.stdout.strip()}\n")
    print(f"runtime setup: done, torch {check.stdout.strip()} in {venv}", flush=True)
    return 0


def _constraints() -> list[Path]:
    """The bundle's constraints.txt (the same torch pin CI tests with)."""
    from wan22_desktop.frozen import bundle_dir, is_frozen

    here = bundle_dir() / "constraints.txt" if is_frozen() else None
    env = os.environ.get("WAN22_CONSTRAINTS")
    return [p for p in (here, Path(env) if env else None) if p is not None and p.is_file()]
