"""The first-run guide in the window: shown with no model installed, skipped for good, reopened
from Models; its Download buttons start the download service; the CUDA-wheel command runs in a
QProcess (a fake command here: nothing is pip-installed)."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import pytest
from PySide6.QtCore import QObject, Signal

from tests.gui.conftest import install_model
from tests.gui.test_models import hub, make_view_with_manager, online, tiny_repo  # noqa: F401
from wan22_desktop.downloader.progress import DownloadEvent
from wan22_desktop.gui.first_run_state import SKIPPED_STATE
from wan22_desktop.gui.main_window import MainWindow
from wan22_desktop.gui.views import first_run
from wan22_desktop.gui.views.first_run import FirstRunView
from wan22_desktop.runtime.hardware import Hardware

NO_GPU_CPU_TORCH = Hardware(
    ram_total_gib=32.0, ram_available_gib=20.0, cpu_count=8, torch_version="2.7.1+cpu"
)
SMI = "NVIDIA GeForce RTX 4090, 570.133.07\n"


@pytest.fixture(autouse=True)
def no_nvidia_smi(monkeypatch):
    """Tests never run the real nvidia-smi; the ones that want a driver patch this again."""
    monkeypatch.setattr(first_run, "query_nvidia_smi", lambda: None)


class FakeBridge(QObject):
    sig_events = Signal(list)


class FakeModels:
    """What the guide uses of the Models view: download(), its event bridge and its rows."""

    def __init__(self) -> None:
        self.bridge = FakeBridge()
        self.calls: list[tuple[str, str, str]] = []
        self.rows: list[SimpleNamespace] = []

    def download(self, key: str, source: str | None = None, endpoint: str | None = None) -> None:
        self.calls.append((key, source or "", endpoint or ""))
        self.rows.append(
            SimpleNamespace(model=SimpleNamespace(key=key), download=SimpleNamespace(id=7))
        )


def idle(qtbot, ctx) -> None:
    qtbot.waitUntil(lambda: not ctx.tasks.busy, timeout=5000)
    qtbot.wait(5)


def open_guide(qtbot, ctx, models=None) -> FirstRunView:
    guide = FirstRunView(ctx, models=models)
    qtbot.addWidget(guide)
    guide.resize(1000, 800)
    guide.show()
    guide.on_shown()
    qtbot.waitUntil(lambda: len(guide.fits) == 3, timeout=5000)
    idle(qtbot, ctx)
    return guide


def open_window(qtbot, ctx) -> MainWindow:
    win = MainWindow(ctx)
    qtbot.addWidget(win)
    win.show()
    return win


def test_shown_with_no_model_then_skipped_then_reopened_from_models(qtbot, ctx):
    win = open_window(qtbot, ctx)
    qtbot.waitUntil(lambda: win.first_run is not None, timeout=10000)
    assert win.stack.currentWidget() is win.first_run
    guide = win.first_run
    assert isinstance(guide, FirstRunView)
    qtbot.waitUntil(lambda: len(guide.fits) == 3, timeout=5000)
    assert "NVIDIA GeForce RTX 4090" in guide.hardware_label.text()

    guide.skip_button.click()
    assert win.stack.currentWidget() is not guide and win.current_key() == "generate"
    assert ctx.settings.get_state(SKIPPED_STATE) is True

    models = win.view("models")
    win.show_view("models")
    models.guide_button.click()
    assert win.stack.currentWidget() is guide
    idle(qtbot, ctx)


def test_not_shown_after_skip_or_with_a_model_installed(qtbot, ctx, tmp_path):
    ctx.settings.set_state(SKIPPED_STATE, True)
    win = open_window(qtbot, ctx)
    win._build_all()
    idle(qtbot, ctx)
    assert win.first_run is None

    ctx.settings.set_state(SKIPPED_STATE, False)
    install_model(ctx, "ti2v-5B", str(tmp_path / "ti2v"))
    win._check_first_run()
    idle(qtbot, ctx)
    assert win.first_run is None


def test_fit_lines_disk_and_download_button_calls_the_service(qtbot, ctx):
    models = FakeModels()
    guide = open_guide(qtbot, ctx, models)
    fit_5b = guide._rows["ti2v-5B"]["fit"].text()
    assert fit_5b.startswith("✓ Fits this computer:") and "of 24.0 GiB" in fit_5b
    assert str(ctx.paths.models) in guide.disk_label.text() and "free" in guide.disk_label.text()
    assert "34.2 GB" in guide._rows["ti2v-5B"]["name"].text()

    guide.source_combo.setCurrentIndex(guide.source_combo.findData("modelscope"))
    guide.mirror_edit.setText("https://mirror.example")
    guide._rows["ti2v-5B"]["button"].click()
    assert models.calls == [("ti2v-5B", "modelscope", "https://mirror.example")]
    assert ctx.settings.get("download_source") == "modelscope"
    assert ctx.settings.get("hf_endpoint") == "https://mirror.example"

    bar = guide._rows["ti2v-5B"]["progress"]
    models.bridge.sig_events.emit([DownloadEvent("progress", 7, "running", 500, 1000)])
    assert bar.isVisible() and bar.value() == 500
    assert not guide._rows["ti2v-5B"]["button"].isEnabled()


def test_bad_mirror_is_refused(qtbot, ctx):
    models = FakeModels()
    guide = open_guide(qtbot, ctx, models)
    guide.mirror_edit.setText("hf-mirror.com")
    guide._rows["ti2v-5B"]["button"].click()
    assert models.calls == []
    assert ctx.settings.get("hf_endpoint") == ""


def test_installed_model_offers_a_first_prompt(qtbot, ctx, tmp_path):
    install_model(ctx, "ti2v-5B", str(tmp_path / "ti2v"))
    guide = open_guide(qtbot, ctx, FakeModels())
    assert guide.prompt_box.isVisible()
    assert guide.intro.text().startswith("This guide shows")  # not "no model is installed"
    assert not guide._rows["ti2v-5B"]["button"].isEnabled()
    assert guide._rows["t2v-A14B"]["button"].isEnabled()
    got = []
    ctx.events.sig_generate_prefill_requested.connect(lambda req, job: got.append((req, job)))
    guide.prompt_button.click()
    [(request, job)] = got
    assert job is None and request.task == "ti2v-5B" and request.prompt in guide.prompt_label.text()


@pytest.mark.parametrize("hardware", [NO_GPU_CPU_TORCH])
def test_cpu_torch_with_nvidia_driver_offers_the_cuda_wheel_and_runs_it(qtbot, ctx, monkeypatch):
    monkeypatch.setattr(first_run, "query_nvidia_smi", lambda: SMI)
    guide = open_guide(qtbot, ctx)
    qtbot.waitUntil(lambda: guide.install_argv is not None, timeout=5000)
    assert "PyTorch cannot use the NVIDIA GPU yet" in guide.hardware_label.text()
    assert guide.cuda_box.isVisible()
    command = guide.cuda_command.text()
    assert (
        "-m pip install torch==2.7.1+cu128 --index-url https://download.pytorch.org/whl/cu128"
        in command
    )
    assert guide._rows["ti2v-5B"]["fit"].text().startswith("✗ Does not fit:")

    guide.install_argv = [sys.executable, "-c", "print('fake pip: done')"]  # never a real pip
    guide.cuda_run_button.click()
    qtbot.waitUntil(lambda: guide.cuda_run_button.isEnabled(), timeout=10000)
    output = guide.cuda_output.toPlainText()
    assert "fake pip: done" in output and "Restart Wan22 Desktop" in output

    guide.install_argv = [sys.executable, "-c", "import sys; print('no'); sys.exit(3)"]
    guide.cuda_run_button.click()
    qtbot.waitUntil(lambda: guide.cuda_run_button.isEnabled(), timeout=10000)
    assert "exit code 3" in guide.cuda_output.toPlainText()


@pytest.mark.parametrize("hardware", [NO_GPU_CPU_TORCH])
def test_no_cuda_hint_without_a_driver(qtbot, ctx):
    guide = open_guide(qtbot, ctx)
    assert guide.install_argv is None and not guide.cuda_box.isVisible()
    assert "No NVIDIA GPU found: only tiny test models run here." in guide.hardware_label.text()


@pytest.mark.usefixtures("online")
def test_download_journey_with_the_models_views_service(qtbot, ctx, request):
    """The guide's button drives the real download service (against the local fake hub): the bar
    moves, the model installs, and the first prompt appears."""
    fake_hub = request.getfixturevalue("hub")
    fake_hub.faults.throttle = 0.01  # ~0.5 s, so progress is seen on the way
    models = make_view_with_manager(qtbot, ctx, event_interval=0)
    guide = open_guide(qtbot, ctx, models)
    bar = guide._rows["ti2v-5B"]["progress"]
    seen: list[int] = []
    bar.valueChanged.connect(seen.append)
    guide.mirror_edit.setText(fake_hub.url)
    guide._rows["ti2v-5B"]["button"].click()
    qtbot.waitUntil(lambda: guide.prompt_box.isVisible(), timeout=30000)
    assert guide.installed.keys() == {"ti2v-5B"}
    assert any(0 < v < 1000 for v in seen) and seen[-1] == 1000
    assert guide._rows["ti2v-5B"]["button"].text() == "Installed"
    idle(qtbot, ctx)
    models.shutdown()
