"""Generate view: the LoRA list queues ``loras`` with per-expert strengths (one for TI2V-5B),
pairs ``*high_noise*``/``*low_noise*`` files, survives edit and saved state, and marks a
missing file."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.gui.conftest import drain, install_model
from tests.lora_helpers import lora_tensors, write_lora
from wan22_desktop.db import queue as q
from wan22_desktop.engine.wan.dit_config import tiny_dit_config
from wan22_desktop.gui.views.generate import STATE_KEY, GenerateView
from wan22_desktop.lora_library import library_folder, sha256_file
from wan22_desktop.request import GenerationRequest


@pytest.fixture
def hardware():
    """One 80 GiB GPU and 256 GiB RAM, so an A14B job plans (the default: 24 GiB, 64 GiB)."""
    from tests.gui.conftest import big_gpu

    return big_gpu()


@pytest.fixture
def view(qtbot, ctx):
    install_model(ctx, "t2v-A14B", "/models/t2v")
    install_model(ctx, "ti2v-5B", "/models/ti2v")
    v = GenerateView(ctx)
    qtbot.addWidget(v)
    v.resize(1200, 800)
    v.show()
    drain(qtbot, ctx)
    return v


def _lora(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_lora(path, lora_tensors(tiny_dit_config("t2v-A14B")), "official_ab")


def test_pair_and_strengths_are_queued(qtbot, ctx, view, tmp_path):
    high = _lora(library_folder(ctx.paths.data) / "fast_high_noise.safetensors")
    _lora(library_folder(ctx.paths.data) / "fast_low_noise.safetensors")
    view.task.setCurrentIndex(view.task.findData("t2v-A14B"))
    view.prompt.setPlainText("a fox")
    view.loras.add.menu().aboutToShow.emit()  # the library menu lists both files
    names = [a.text() for a in view.loras.add.menu().actions() if a.text()]
    assert any(n.startswith("fast_high_noise.safetensors") for n in names)
    view.loras.add_file(str(high), 0.9)
    assert [(r[1], r[2]) for r in view.loras.rows()] == [(0.9, 0.0), (0.0, 0.9)]
    view.loras._spin(1, 2).setValue(0.75)
    view.refresh_preview()
    assert view.message.text() == "", view.message.text()
    assert view.add_to_queue.isEnabled(), view.last_preview.plan_error
    qtbot.mouseClick(view.add_to_queue, Qt.MouseButton.LeftButton)
    drain(qtbot, ctx)
    [job] = q.list_jobs(ctx.db)
    req = GenerationRequest.from_json(job.request_json)
    assert [(r.strength_high, r.strength_low) for r in req.loras] == [(0.9, 0.0), (0.0, 0.75)]
    assert req.loras[0].sha256 == sha256_file(high)

    view.save_state()
    assert len(ctx.settings.get_state(STATE_KEY)["loras"]) == 2
    again = GenerateView(ctx)
    qtbot.addWidget(again)
    assert again.loras.rows() == view.loras.rows()
    again.prefill(req)
    assert again.loras.rows() == view.loras.rows()


def test_five_b_has_one_strength(qtbot, ctx, view, tmp_path):
    path = _lora(tmp_path / "style.safetensors")
    view.task.setCurrentIndex(view.task.findData("ti2v-5B"))
    view.prompt.setPlainText("a fox")
    view.loras.add_file(str(path), 0.6)
    assert view.loras.table.isColumnHidden(2)
    view.refresh_preview()
    req = view.last_preview.request
    assert [(r.strength_high, r.strength_low) for r in req.loras] == [(0.6, 0.6)]


def test_missing_file_marks_the_list(qtbot, ctx, view, tmp_path):
    path = _lora(tmp_path / "gone.safetensors")
    view.task.setCurrentIndex(view.task.findData("t2v-A14B"))
    view.prompt.setPlainText("a fox")
    view.loras.add_file(str(path))
    path.unlink()
    view.refresh_preview()
    assert "gone.safetensors" in view.message.text()
    assert view.loras.property("invalid") is True
    assert not view.add_to_queue.isEnabled()
