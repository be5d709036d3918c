"""The Generate form carries a job's memory headroom (raised after out of GPU memory): editing
such a job keeps it, and the Advanced field changes it."""

from __future__ import annotations

from PySide6.QtCore import Qt

from tests.gui.conftest import drain, install_model
from wan22_desktop.db import queue as q
from wan22_desktop.gui.views.generate import GenerateView
from wan22_desktop.request import GenerationRequest, MemoryOptions


def test_editing_a_job_keeps_and_changes_its_headroom(qtbot, ctx):
    install_model(ctx, "ti2v-5B", "/models/ti2v")
    view = GenerateView(ctx)
    qtbot.addWidget(view)
    view.show()
    drain(qtbot, ctx)
    memory = MemoryOptions(t5_cpu="on", vram_headroom=20)
    [job] = q.enqueue(
        ctx.db, GenerationRequest.for_task("ti2v-5B", prompt="old", seed=5, memory=memory)
    )
    ctx.events.sig_generate_prefill_requested.emit(
        GenerationRequest.from_json(job.request_json), job.id
    )
    assert view.advanced.vram_headroom.value() == 20
    view.prompt.setPlainText("new prompt")
    view.refresh_preview()
    qtbot.mouseClick(view.save_edit, Qt.MouseButton.LeftButton)
    drain(qtbot, ctx)
    edited = GenerationRequest.from_json(q.get_job(ctx.db, job.id).request_json)
    assert edited.prompt == "new prompt" and edited.memory == memory

    ctx.events.sig_generate_prefill_requested.emit(edited, job.id)
    view.advanced.vram_headroom.setValue(0)
    view.refresh_preview()
    qtbot.mouseClick(view.save_edit, Qt.MouseButton.LeftButton)
    drain(qtbot, ctx)
    again = GenerationRequest.from_json(q.get_job(ctx.db, job.id).request_json)
    assert again.memory == MemoryOptions(t5_cpu="on", vram_headroom=0)
