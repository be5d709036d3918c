"""The tiny-VAE live preview in the GUI: the Settings choice round-trips, offers the missing
files through the Models view's downloader, and the Queue view loops the preview clip."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtGui import QMovie

from tests.gui.conftest import drain
from tests.taehv_helpers import write_taehv
from wan22_desktop.db import queue as q
from wan22_desktop.db.lease import RunnerIdentity
from wan22_desktop.downloader.catalog import PREVIEW_FOLDER
from wan22_desktop.engine.taehv_preview import write_taehv_preview
from wan22_desktop.gui.runner_controller import _progress_fields
from wan22_desktop.gui.views.queue import QueueView
from wan22_desktop.gui.views.settings import SettingsView
from wan22_desktop.request import GenerationRequest
from wan22_desktop.runtime import protocol as P
from wan22_desktop.runtime.runner import RunnerEvent


@pytest.fixture
def settings_view(qtbot, ctx):
    v = SettingsView(ctx)
    qtbot.addWidget(v)
    v.show()
    drain(qtbot, ctx)
    return v


def test_preview_choice_round_trips_and_offers_the_download(qtbot, ctx, settings_view):
    combo = settings_view.editors["live_preview"]
    assert combo.currentData() == "rgb" and settings_view.preview_row.isHidden()
    assert [combo.itemData(i) for i in range(combo.count())] == ["rgb", "taehv"]
    combo.setCurrentIndex(combo.findData("taehv"))
    saved = json.loads(ctx.settings.path.read_text())["settings"]
    assert saved["live_preview"] == "taehv"
    assert not settings_view.preview_row.isHidden()
    assert "taew2_1, taew2_2" in settings_view.preview_files.text()
    asked: list[str] = []
    ctx.events.sig_model_download_requested.connect(asked.append)
    settings_view.preview_download.click()
    assert asked == ["taew2_1", "taew2_2"]
    assert "Models view" in settings_view.preview_files.text()
    # Installed (one downloaded, one from the models folder's ComfyUI-style layout): no offer.
    write_taehv(
        ctx.paths.models / PREVIEW_FOLDER / "taew2_1" / "safetensors" / "taew2_1.safetensors"
    )
    write_taehv(ctx.paths.models / PREVIEW_FOLDER / "taew2_2.pth", 48, 2)
    settings_view.refresh_preview_files()
    assert settings_view.preview_download.isHidden()
    assert "installed" in settings_view.preview_files.text()
    # A new view (next start) shows the saved choice.
    again = SettingsView(ctx)
    qtbot.addWidget(again)
    assert again.editors["live_preview"].currentData() == "taehv"


def test_queue_view_loops_the_tiny_vae_clip(qtbot, ctx, tmp_path):
    view = QueueView(ctx)
    qtbot.addWidget(view)
    view.show()
    try:
        [job] = q.enqueue(ctx.db, GenerationRequest.for_task("ti2v-5B", prompt="fox", seed=1))
        me = RunnerIdentity.current()
        q.start_runner(ctx.db, me)
        q.claim_next(ctx.db, me.holder)
        drain(qtbot, ctx)
        view.refresh()
        drain(qtbot, ctx)
        frames = np.random.default_rng(0).integers(0, 255, (9, 64, 96, 3), dtype=np.uint8)
        files = write_taehv_preview(frames, tmp_path / f"job-{job.id}.png")
        event = RunnerEvent(
            "progress", job.id, "", P.Preview(job.id, 2, str(files.image), str(files.animation))
        )
        fields = _progress_fields(event)
        assert fields["preview_animation"] == str(files.animation) and fields["preview_step"] == 2
        view._on_live_progress(job.id, fields)
        drain(qtbot, ctx)
        movie = view.preview.movie()
        assert isinstance(movie, QMovie) and movie.frameCount() == 9
        assert movie.state() == QMovie.MovieState.Running
        # A colour preview (no animation) at a later step replaces the clip with the still.
        plain = {"step": 4, "preview_path": str(files.image), "preview_step": 4}
        plain["preview_animation"] = ""
        view._on_live_progress(job.id, plain)
        drain(qtbot, ctx)
        assert view.preview.movie() is None and not view.preview.pixmap().isNull()
    finally:
        view.shutdown()
        drain(qtbot, ctx)
