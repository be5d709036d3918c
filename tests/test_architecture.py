"""The walls between the parts: GUI without torch, engine without Qt, db/downloader without either.

Two checks: import-linter contracts (``[tool.importlinter]`` in pyproject.toml, every import
statement, function-level ones included), and a real import in a fresh interpreter, which also
catches imports made by package ``__init__`` files and dynamic imports.
"""

from __future__ import annotations

import os
import pkgutil
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import wan22_desktop

REPO = Path(__file__).resolve().parents[1]
LINT = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"


def _lint(cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run(
        [sys.executable, "-c", LINT, "--no-cache"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_import_contracts_are_kept():
    p = _lint(REPO)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "0 broken" in p.stdout


def test_contracts_catch_a_violation(tmp_path):
    """The linter is not vacuous: a GUI module importing torch inside a function breaks it."""
    shutil.copy(REPO / "pyproject.toml", tmp_path)
    shutil.copytree(
        REPO / "wan22_desktop",
        tmp_path / "wan22_desktop",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    (tmp_path / "wan22_desktop" / "gui" / "sneaky.py").write_text(
        "def preview():\n    import torch\n    return torch.zeros(1)\n"
    )
    p = _lint(tmp_path)
    assert p.returncode != 0
    assert "The GUI never imports torch" in p.stdout and "BROKEN" in p.stdout


def test_views_reaching_for_sqlalchemy_break_the_services_wall(tmp_path):
    """A view that queries the database itself (not through services/) breaks a contract."""
    shutil.copy(REPO / "pyproject.toml", tmp_path)
    shutil.copytree(
        REPO / "wan22_desktop",
        tmp_path / "wan22_desktop",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    (tmp_path / "wan22_desktop" / "gui" / "views" / "sneaky.py").write_text(
        "from sqlalchemy import select\n"
        "from wan22_desktop.db.models import Job\n\n"
        "def jobs(db):\n    return db.read(lambda s: list(s.scalars(select(Job))))\n"
    )
    p = _lint(tmp_path)
    assert p.returncode != 0
    assert "The GUI gets its data only through services/" in p.stdout and "BROKEN" in p.stdout


def _modules(package: str) -> list[str]:
    pkg = __import__(package, fromlist=["_"])
    names = [package]
    for info in pkgutil.walk_packages(pkg.__path__, prefix=f"{package}."):
        # Alembic scripts run inside alembic, not on import (the linter still checks them).
        if ".migrations." not in f"{info.name}.":
            names.append(info.name)
    return names


def _top_level_modules() -> list[str]:
    """Plain modules right under wan22_desktop (tasks, request, settings, sizes, secrets, ...).

    They are shared by every part, so they must stay pure; ``__main__`` starts the GUI.
    """
    return sorted(
        f"wan22_desktop.{m.name}"
        for m in pkgutil.iter_modules(wan22_desktop.__path__)
        if not m.ispkg and m.name != "__main__"
    )


CORE = _top_level_modules()


def _import_all_and_report(modules: list[str]) -> set[str]:
    code = textwrap.dedent(f"""
        import importlib, json, sys
        for name in {modules!r}:
            importlib.import_module(name)
        heavy = {{"torch", "PySide6", "shiboken6"}}
        print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in heavy and "." not in m)))
    """)
    env = {**os.environ, "PYTHONPATH": str(REPO), "QT_QPA_PLATFORM": "offscreen"}
    p = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    assert p.returncode == 0, p.stderr
    import json

    return set(json.loads(p.stdout.strip().splitlines()[-1]))


def test_gui_db_downloader_and_core_leave_torch_out():
    modules = (
        _modules("wan22_desktop.gui")
        + _modules("wan22_desktop.db")
        + _modules("wan22_desktop.downloader")
        + _modules("wan22_desktop.services")
    )
    loaded = _import_all_and_report(modules + CORE)
    assert "torch" not in loaded


def test_command_modules_import_torch_lazily():
    """cli imports every command module to build its parser: torch there would slow every command."""
    loaded = _import_all_and_report(_modules("wan22_desktop.commands") + ["wan22_desktop.cli"])
    assert "torch" not in loaded, "import torch inside the command's function, not at module level"


def test_db_downloader_and_core_leave_qt_out():
    modules = (
        _modules("wan22_desktop.db")
        + _modules("wan22_desktop.downloader")
        + _modules("wan22_desktop.services")
    )
    loaded = _import_all_and_report(modules + CORE)
    assert not loaded & {"torch", "PySide6", "shiboken6"}


def test_engine_leaves_qt_out():
    loaded = _import_all_and_report(_modules("wan22_desktop.engine"))
    assert not loaded & {"PySide6", "shiboken6"}


def test_every_package_is_behind_a_wall():
    """A new sub-package must be placed: in a contract in pyproject.toml, or named here as free.

    (Plain top-level modules need no entry: the live import checks above hold them pure.)
    """
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "importlinter"
    ]
    covered = {m for c in config["contracts"] for m in c["source_modules"]}
    free = {"wan22_desktop.commands"}  # CLI glue; checked for lazy torch imports above
    packages = {
        f"wan22_desktop.{m.name}" for m in pkgutil.iter_modules(wan22_desktop.__path__) if m.ispkg
    }
    assert packages - covered - free == set(), "add the new package to a contract in pyproject.toml"


def _readme_commands() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    return [
        line.strip()
        for line in text.splitlines()
        if line.strip().startswith("python3 -m venv .venv")
    ]


def test_readme_has_exactly_two_setup_commands():
    commands = _readme_commands()
    assert len(commands) == 2, commands
    start, test = commands
    assert "wan22" in start and "pytest" in test
    assert "-c constraints.txt" in start and "-c constraints.txt" in test


def test_ci_runs_the_readme_test_command_verbatim():
    ci = REPO / ".ci" / "run"
    assert os.access(ci, os.X_OK), ".ci/run must be executable"
    assert _readme_commands()[1] in ci.read_text(encoding="utf-8")
    if shutil.which("bash"):
        assert subprocess.run(["bash", "-n", str(ci)], capture_output=True).returncode == 0
