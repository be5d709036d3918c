"""GUI fixtures: one AppContext per test on its own data dir; threads are always shut down."""

from __future__ import annotations

import threading

import pytest

from wan22_desktop.gui.qt_check import pyside_problem
from wan22_desktop.runtime.hardware import GPU, Hardware

# A PySide6 build known to crash the interpreter would abort the whole test run (not just fail):
# collect only the test that names the problem, so the rest of the suite still reports.
if pyside_problem():
    collect_ignore_glob = ["test_[!q]*.py", "test_queue*.py"]

PROBED = Hardware(
    gpus=(
        GPU(
            index=0,
            name="NVIDIA GeForce RTX 4090",
            total_gib=24.0,
            free_gib=23.0,
            capability=(8, 9),
        ),
    ),
    ram_total_gib=64.0,
    ram_available_gib=48.0,
    cpu_count=16,
    disk_free_gib={},
    flash_attn=None,
    torch_version="2.13.0",
    cuda_version="12.8",
)


@pytest.fixture
def hardware() -> Hardware:
    """A real ``Hardware`` value as the probe would return it (one 24 GiB GPU)."""
    return PROBED


def big_gpu() -> Hardware:
    """``PROBED`` with one 80 GiB GPU and 256 GiB RAM, so an A14B job plans resident."""
    from dataclasses import replace

    gpus = tuple(replace(g, total_gib=80.0, free_gib=79.0) for g in PROBED.gpus)
    return replace(PROBED, gpus=gpus, ram_total_gib=256.0, ram_available_gib=200.0)


@pytest.fixture
def ctx(qapp, wan22_home, hardware):
    """An ``AppContext`` with real threads; closed (threads joined, DB closed) after the test."""
    from wan22_desktop.gui.context import AppContext

    before = set(threading.enumerate())
    context = AppContext.open(str(wan22_home), hardware=hardware)
    yield context
    context.close()
    leaked = [t for t in threading.enumerate() if t not in before and t.is_alive() and not t.daemon]
    assert not leaked, f"threads left running: {leaked}"


def install_model(ctx, task: str, path: str, size_bytes: int = 20 * 1024**3) -> None:
    """Record ``path`` as the installed checkpoint folder of ``task`` (as a download would)."""
    from wan22_desktop.db.downloads import InstalledModel

    ctx.db.transact(
        lambda s: s.add(
            InstalledModel(model_id=f"test/{task}", path=path, tasks=task, size_bytes=size_bytes)
        )
    )


def drain(qtbot, ctx, timeout: int = 5000) -> None:
    """Wait until every background task has finished and its callback ran."""
    qtbot.waitUntil(lambda: not ctx.tasks.busy, timeout=timeout)
    qtbot.wait(1)


@pytest.fixture
def chinese(qapp):
    """The zh_CN translations installed for one test."""
    from PySide6.QtCore import QCoreApplication, QTranslator

    from wan22_desktop.gui.i18n import I18N_DIR

    translator = QTranslator()
    assert translator.load("zh_CN", str(I18N_DIR))
    QCoreApplication.installTranslator(translator)
    yield
    QCoreApplication.removeTranslator(translator)
