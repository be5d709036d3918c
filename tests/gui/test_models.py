"""Models view: catalogue, readiness, import of a real tiny official-layout folder, cache copies,
and downloads from the downloader's fake hub with progress, pause/resume and cancel."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest

from tests.downloader.fake_hub import FakeHub, make_tiny_ti2v_repo
from wan22_desktop.downloader.catalog import MODELS
from wan22_desktop.downloader.manager import DownloadManager
from wan22_desktop.downloader.progress import DownloadEvent
from wan22_desktop.downloader.transfer import RetryPolicy
from wan22_desktop.gui.models_events import DownloadEventBridge
from wan22_desktop.gui.models_table import ProgressRole
from wan22_desktop.gui.views.models import ModelsView
from wan22_desktop.model_layout import check_layout

REPO_ID = "Wan-AI/Wan2.2-TI2V-5B"
FAST = RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.02, timeout=5)


@pytest.fixture(scope="module")
def tiny_repo(tmp_path_factory) -> Path:
    return make_tiny_ti2v_repo(tmp_path_factory.mktemp("hubrepo") / "Wan2.2-TI2V-5B")


@pytest.fixture
def hub(tiny_repo):
    with FakeHub({REPO_ID: tiny_repo}) as h:
        yield h


@pytest.fixture
def online(monkeypatch):
    """The suite runs with HF_HUB_OFFLINE=1; these tests talk to the local fake hub only."""
    import huggingface_hub.constants as c

    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr(c, "HF_HUB_OFFLINE", False)


def idle(qtbot, ctx, timeout: int = 5000) -> None:
    qtbot.waitUntil(lambda: not ctx.tasks.busy, timeout=timeout)
    qtbot.wait(5)


def open_view(qtbot, ctx, **kwargs) -> ModelsView:
    view = ModelsView(ctx, **kwargs)
    qtbot.addWidget(view)
    view.resize(1000, 700)
    view.show()
    qtbot.waitUntil(lambda: len(view.readiness) == 3, timeout=5000)
    idle(qtbot, ctx)
    return view


def readiness(view: ModelsView) -> dict[str, bool]:
    return {r.task: r.ready for r in view.readiness}


def test_lists_the_catalogue_with_nothing_installed(qtbot, ctx):
    view = open_view(qtbot, ctx)
    assert [r.model.key for r in view.rows] == [m.key for m in MODELS]
    model = view.table_model
    assert model.data(model.index(0, 1)) == "Not installed"
    assert model.data(model.index(2, 3)) == "~34.2 GB"  # the catalogue's expected size
    assert readiness(view) == {"t2v-A14B": False, "i2v-A14B": False, "ti2v-5B": False}
    assert "free" in view.disk_label.text() and str(ctx.paths.models) in view.disk_label.text()
    assert view.readiness_list.count() == 3
    view.shutdown()


def test_import_folder_registers_it_and_the_task_becomes_ready(qtbot, ctx, tiny_repo, tmp_path):
    folder = tmp_path / "my models" / "Wan2.2-TI2V-5B"
    shutil.copytree(tiny_repo, folder)
    assert check_layout(folder, "ti2v-5B").ok
    view = open_view(qtbot, ctx)
    with qtbot.waitSignals([view.sig_refreshed, view.sig_models_changed], timeout=5000):
        view.import_folder(folder)
    idle(qtbot, ctx)
    row = view.rows[view.table_model.row_for_key("ti2v-5B")]
    assert [c.path for c in row.installed] == [str(folder)] and row.installed[0].origin == "import"
    assert row.installed_bytes > 3_000_000
    assert readiness(view)["ti2v-5B"] and not readiness(view)["t2v-A14B"]
    assert view.table_model.data(view.table_model.index(2, 1)) == "Installed"
    assert "ready" in ctx.notifier.last.message or "added" in ctx.notifier.last.message

    (folder / "Wan2.2_VAE.pth").unlink()  # a broken folder is not ready, and says why
    with qtbot.waitSignal(view.sig_refreshed, timeout=5000):
        view.refresh()
    state = {r.task: r for r in view.readiness}["ti2v-5B"]
    assert not state.ready and "Wan2.2_VAE.pth" in state.problem
    view.shutdown()


def test_import_of_an_incomplete_folder_is_refused(qtbot, ctx, tmp_path):
    (tmp_path / "junk").mkdir()
    view = open_view(qtbot, ctx)
    view.import_folder(tmp_path / "junk")
    idle(qtbot, ctx)
    assert ctx.notifier.last.level == "error" and "junk" in ctx.notifier.last.message
    assert all(not r.installed for r in view.rows)
    view.shutdown()


def test_copies_in_the_hf_cache_are_found_and_registered(qtbot, ctx, tiny_repo, tmp_path):
    hf = tmp_path / "hf"
    repo = hf / "models--Wan-AI--Wan2.2-TI2V-5B"
    snap = repo / "snapshots" / ("a" * 40)
    shutil.copytree(tiny_repo, snap)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("a" * 40)
    view = open_view(qtbot, ctx)
    view.hf_cache, view.ms_cache = hf, tmp_path / "ms"
    with qtbot.waitSignal(view.sig_copies_found, timeout=5000) as sig:
        view.scan_caches()
    (found,) = sig.args[0]
    assert (found.repo_id, found.path, found.origin) == (REPO_ID, snap, "hf-cache")
    assert view.found_list.count() == 1 and view.register_button.isEnabled()
    view.found_list.setCurrentRow(0)
    with qtbot.waitSignal(view.sig_refreshed, timeout=5000):
        view.register_button.click()
    idle(qtbot, ctx)
    row = view.rows[view.table_model.row_for_key("ti2v-5B")]
    assert [(c.path, c.origin) for c in row.installed] == [(str(snap.resolve()), "hf-cache")]
    assert readiness(view)["ti2v-5B"]
    view.shutdown()


def make_view_with_manager(qtbot, ctx, **manager_kwargs) -> ModelsView:
    manager = DownloadManager(ctx.db, ctx.paths.models, retry=FAST, **manager_kwargs)
    return open_view(qtbot, ctx, manager=manager)


@pytest.mark.parametrize("source", ["hf", "modelscope"])
def test_download_shows_progress_and_completes(qtbot, ctx, hub, online, tiny_repo, source):
    hub.faults.throttle = 0.01  # ~0.5 s, so progress is seen on the way
    view = make_view_with_manager(qtbot, ctx, event_interval=0)
    batches: list[list[DownloadEvent]] = []
    view.bridge.sig_events.connect(batches.append)
    seen_progress: list[int] = []

    def record(*_args) -> None:
        seen_progress.append(view.table_model.data(view.table_model.index(2, 2), ProgressRole) or 0)

    view.table_model.dataChanged.connect(record)
    view.table_model.modelReset.connect(record)
    view.select_model("ti2v-5B")
    view.source_combo.setCurrentIndex(view.source_combo.findData(source))
    view.endpoint_edit.setText(hub.url)
    start = time.monotonic()
    view.download_button.click()
    qtbot.waitUntil(lambda: readiness(view)["ti2v-5B"], timeout=30000)
    elapsed = time.monotonic() - start
    row = view.rows[view.table_model.row_for_key("ti2v-5B")]
    assert row.download.status == "done" and row.download.source == source
    assert [c.origin for c in row.installed] == ["download"]
    assert check_layout(Path(row.installed[0].path), "ti2v-5B").ok
    assert any(0 < p < 100 for p in seen_progress)  # the bar moved before it finished
    events = [e for b in batches for e in b]
    assert any(e.kind == "progress" for e in events) and events[-1].status == "done"
    # Coalesced: at most ~10 batches a second reached the GUI thread (+1 for the first).
    assert len(batches) <= elapsed * 10 + 2
    assert view.table_model.data(view.table_model.index(2, 1)) == "Installed"
    view.shutdown()


def test_pause_resume_and_cancel(qtbot, ctx, hub, online):
    hub.faults.throttle = 0.01  # ~0.5 s for the 3 MB shard
    view = make_view_with_manager(qtbot, ctx, event_interval=0.05)
    view.select_model("ti2v-5B")
    view.download("ti2v-5B", "hf", hub.url)
    qtbot.waitUntil(
        lambda: (
            (view.selected_row().download or None) is not None
            and view.selected_row().download.done_bytes > 200_000
        ),
        timeout=10000,
    )
    assert view.pause_button.isEnabled()
    view.pause_button.click()
    qtbot.waitUntil(lambda: view.selected_row().download.status == "paused", timeout=10000)
    assert view.resume_button.isEnabled() and not view.pause_button.isEnabled()
    assert view.table_model.data(view.table_model.index(2, 1)) == "Paused"
    view.resume_button.click()
    qtbot.waitUntil(lambda: view.selected_row().download.status == "running", timeout=10000)
    view.cancel_button.click()
    qtbot.waitUntil(lambda: view.selected_row().download.status == "cancelled", timeout=10000)
    assert not view.selected_row().installed
    view.shutdown()


def test_bad_mirror_endpoint_is_refused(qtbot, ctx):
    view = open_view(qtbot, ctx)
    view.download("ti2v-5B", "hf", "ftp://mirror")
    assert ctx.notifier.last.level == "error" and "http" in ctx.notifier.last.message
    idle(qtbot, ctx)
    assert all(r.download is None for r in view.rows)
    view.shutdown()


def test_bridge_coalesces_a_flood_of_events(qtbot):
    bridge = DownloadEventBridge(interval_ms=100)
    batches: list[list[DownloadEvent]] = []
    bridge.sig_events.connect(batches.append)

    def flood() -> None:
        for i in range(5000):
            bridge.push(DownloadEvent("progress", i % 2, "running", i, 5000))
        bridge.push(DownloadEvent("status", 0, "done", 5000, 5000))

    t0 = time.monotonic()
    worker = threading.Thread(target=flood)
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: any(e.kind == "status" for b in batches for e in b), timeout=3000)
    qtbot.wait(250)
    elapsed = time.monotonic() - t0
    events = [e for b in batches for e in b]
    assert len(batches) <= elapsed * 10 + 2 and len(events) <= 3 * len(batches)
    last = {e.download_id: e for e in events}
    assert last[0].status == "done" and last[1].done == 4999  # nothing final is lost


def test_the_models_view_names_the_source(qapp) -> None:
    from wan22_desktop.downloader.catalog import MODELS
    from wan22_desktop.gui.models_state import ModelRow
    from wan22_desktop.gui.models_table import status_text
    from wan22_desktop.services.models import InstalledCopy

    copy = InstalledCopy(MODELS[0].repo_id, "/m/x", "diffusers", MODELS[0].tasks, 1)
    assert (
        status_text(ModelRow(MODELS[0], (copy,), None)) == "Installed (diffusers format, in place)"
    )
    comfy = InstalledCopy(MODELS[0].repo_id, "/m/z", "comfyui", MODELS[0].tasks, 1)
    assert status_text(ModelRow(MODELS[0], (comfy,), None)) == "Installed (ComfyUI files, in place)"
    plain = InstalledCopy(MODELS[0].repo_id, "/m/y", "download", MODELS[0].tasks, 1)
    assert status_text(ModelRow(MODELS[0], (plain,), None)) == "Installed"


def test_the_comfyui_folder_named_in_settings_is_scanned(qtbot, ctx, tmp_path):
    from tests.engine.foreign_layouts import write_comfyui_layout
    from tests.gui.conftest import install_model
    from wan22_desktop.engine.wan.tiny import make_tiny_checkpoint

    official = make_tiny_checkpoint("ti2v-5B", tmp_path / "official", dim=256, num_heads=2)
    install_model(ctx, "ti2v-5B", str(official))  # its tokenizer serves the ComfyUI set
    comfy = write_comfyui_layout(official, tmp_path / "ComfyUI", "ti2v-5B")
    ctx.settings.set("comfyui_dir", str(comfy))
    view = open_view(qtbot, ctx)
    view.hf_cache, view.ms_cache = tmp_path / "hf", tmp_path / "ms"
    view.scan_caches()
    qtbot.waitUntil(lambda: ctx.notifier.last is not None, timeout=10000)
    assert ctx.notifier.last.message == "ComfyUI models used in place: ti2v-5B"
    idle(qtbot, ctx)
    qtbot.waitUntil(
        lambda: any(
            c.origin == "comfyui"
            for c in view.rows[view.table_model.row_for_key("ti2v-5B")].installed
        ),
        timeout=10000,
    )
    view.shutdown()
