"""Generate view: the form builds, validates, plans and queues requests."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage

from tests.gui.conftest import drain, install_model
from wan22_desktop.db import queue as q
from wan22_desktop.gui.views.generate import SPLITTER_KEY, STATE_KEY, GenerateView
from wan22_desktop.request import GenerationRequest


@pytest.fixture
def view(qtbot, ctx):
    install_model(ctx, "ti2v-5B", "/models/ti2v")
    v = GenerateView(ctx)
    qtbot.addWidget(v)
    v.resize(1200, 800)
    v.show()
    drain(qtbot, ctx)
    return v


def choose(combo, data):
    combo.setCurrentIndex(combo.findData(data))


def jobs(ctx):
    return q.list_jobs(ctx.db)


def test_form_builds_and_queues_a_request(qtbot, ctx, view):
    choose(view.task, "ti2v-5B")
    view.prompt.setPlainText("A corgi runs along the beach")
    view.seconds.setValue(2.0)  # 24 fps -> 49 frames (4n+1)
    assert view.frames.value() == 49
    choose(view.quality, "draft")
    view.seed_random.setChecked(False)
    view.seed.setText("1234")
    view.refresh_preview()
    assert view.message.text() == ""
    qtbot.mouseClick(view.add_to_queue, Qt.MouseButton.LeftButton)
    drain(qtbot, ctx)
    [job] = jobs(ctx)
    req = GenerationRequest.from_json(job.request_json)
    assert (req.task, req.prompt, req.frame_num, req.sample_steps, req.seed) == (
        "ti2v-5B",
        "A corgi runs along the beach",
        49,
        20,
        1234,
    )
    assert job.lane == "normal" and req.size == "1280*704"


def test_batch_with_consecutive_seeds_and_generate_now(qtbot, ctx, view):
    choose(view.task, "ti2v-5B")
    view.prompt.setPlainText("rain on a window")
    view.seed_random.setChecked(False)
    view.seed.setText("10")
    view.count.setValue(3)
    assert view.add_to_queue.text() == "Add 3 to queue"
    view.refresh_preview()
    qtbot.mouseClick(view.generate_now, Qt.MouseButton.LeftButton)
    drain(qtbot, ctx)
    rows = jobs(ctx)
    assert sorted(GenerationRequest.from_json(j.request_json).seed for j in rows) == [10, 11, 12]
    assert {j.lane for j in rows} == {"now"}


def test_validation_messages_block_queueing(qtbot, ctx, view):
    choose(view.task, "ti2v-5B")
    view.prompt.setPlainText("")
    view.refresh_preview()
    assert view.message.text().startswith("the prompt is empty")
    assert not view.add_to_queue.isEnabled()
    choose(view.task, "i2v-A14B")
    view.prompt.setPlainText("the cat turns its head")
    view.refresh_preview()
    assert "needs a start image" in view.message.text()
    assert not view.generate_now.isEnabled()


def test_chips_insert_and_remove_phrases(qtbot, view):
    view.prompt.setPlainText("A cat sleeps.")
    qtbot.mouseClick(view.chips.buttons["close"], Qt.MouseButton.LeftButton)
    assert view.prompt.toPlainText() == "A cat sleeps, close-up shot."
    assert view.chips.buttons["close"].isChecked()
    qtbot.mouseClick(view.chips.buttons["close"], Qt.MouseButton.LeftButton)
    assert view.prompt.toPlainText() == "A cat sleeps."
    view.prompt.setPlainText("一只猫在睡觉。")
    qtbot.mouseClick(view.chips.buttons["warm"], Qt.MouseButton.LeftButton)
    assert view.prompt.toPlainText() == "一只猫在睡觉，暖色调。"


def test_seed_dice(qtbot, view):
    view.seed_random.setChecked(True)
    qtbot.mouseClick(view.dice, Qt.MouseButton.LeftButton)
    first = view.seed.text()
    assert not view.seed_random.isChecked() and first.isdigit()
    seeds = {first}
    for _ in range(3):
        qtbot.mouseClick(view.dice, Qt.MouseButton.LeftButton)
        seeds.add(view.seed.text())
    assert len(seeds) > 1
    assert view.values().seed == int(view.seed.text())


def test_plan_preview_with_probed_hardware_and_installed_model(qtbot, ctx, view):
    choose(view.task, "ti2v-5B")
    view.prompt.setPlainText("a lighthouse in a storm")
    view.refresh_preview()
    text = view.plan_panel.body.text()
    plan = view.last_preview.plan
    assert plan.task == "ti2v-5B" and plan.checkpoint == "/models/ti2v"
    assert "/models/ti2v" in text and "GiB VRAM" in text and "Estimated time" in text
    assert view.last_preview.eta.low_s < view.last_preview.eta.high_s
    choose(view.task, "auto")  # one 24 GiB GPU: A14B does not fit, the 5B does
    view.refresh_preview()
    assert view.last_preview.request.task == "ti2v-5B"
    assert "TI2V-5B does" in view.task_note.text()


def test_image_shows_output_size(qtbot, view, tmp_path):
    image = QImage(1280, 720, QImage.Format.Format_RGB32)
    image.fill(QColor("teal"))
    path = tmp_path / "start.png"
    assert image.save(str(path))
    choose(view.task, "ti2v-5B")
    view.prompt.setPlainText("waves")
    view.image.set_image(str(path))
    view.refresh_preview()
    assert view.last_preview.output_size == (1248, 704)  # the official TI2V rule for 16:9
    assert "1248×704" in view.image.caption.text()
    assert view.last_preview.request.image == str(path)


def test_edit_a_queued_job(qtbot, ctx, view):
    [job] = q.enqueue(ctx.db, GenerationRequest.for_task("ti2v-5B", prompt="old", seed=5))
    ctx.events.sig_generate_prefill_requested.emit(
        GenerationRequest.from_json(job.request_json), job.id
    )
    assert view.save_edit.isVisible() and not view.add_to_queue.isVisible()
    assert view.prompt.toPlainText() == "old"
    view.prompt.setPlainText("new prompt")
    view.refresh_preview()
    qtbot.mouseClick(view.save_edit, Qt.MouseButton.LeftButton)
    drain(qtbot, ctx)
    edited = GenerationRequest.from_json(q.get_job(ctx.db, job.id).request_json)
    assert edited.prompt == "new prompt" and edited.seed == 5
    assert view.editing_job is None


def test_last_used_values_persist(qtbot, ctx, view):
    choose(view.task, "t2v-A14B")
    view.prompt.setPlainText("remember me")
    view.advanced.guidance_low.setValue(2.5)
    view.save_state()
    assert ctx.settings.get_state(STATE_KEY)["prompt"] == "remember me"
    again = GenerateView(ctx)
    qtbot.addWidget(again)
    assert again.task.currentData() == "t2v-A14B"
    assert again.prompt.toPlainText() == "remember me"
    assert again.advanced.guidance_low.value() == 2.5 and not again.advanced.guidance_low.isHidden()


def test_unusable_saved_values_fall_back_to_defaults(qtbot, ctx):
    ctx.settings.set_state(
        STATE_KEY,
        {"task": "ti2v-5B", "count": "many", "prompt": 5, "seed": True, "shift": "x", "steps": 7},
    )
    v = GenerateView(ctx)
    qtbot.addWidget(v)
    assert v.count.value() == 1 and v.task.currentData() == "ti2v-5B"
    got = v.values()  # the mistyped entries are dropped one by one, the usable ones kept
    assert (got.prompt, got.seed, got.steps) == ("", -1, 7)


def test_plan_is_shown_even_while_the_form_is_invalid(qtbot, view):
    choose(view.task, "ti2v-5B")
    view.prompt.setPlainText("")
    view.refresh_preview()
    assert view.last_preview.error is not None and view.last_preview.plan is not None
    assert "GiB VRAM" in view.plan_panel.body.text()


def test_missing_model_is_an_error_that_blocks_queueing(qtbot, ctx):
    """A job for a model that is not installed used to be queued and then fail with "no CUDA GPU
    found"; the plan panel now says the model is missing and how to get it, and blocks queueing."""
    view = GenerateView(ctx)  # nothing installed
    qtbot.addWidget(view)
    view.show()
    drain(qtbot, ctx)
    choose(view.task, "ti2v-5B")
    view.prompt.setPlainText("a city at night")
    view.refresh_preview()
    text = view.plan_panel.body.text()
    assert "the ti2v-5B model is not installed" in text
    assert "Models view" in text and "wan22 models download ti2v-5B" in text
    assert view.message.text() == ""  # the form itself is fine
    assert not view.add_to_queue.isEnabled() and not view.generate_now.isEnabled()
    qtbot.mouseClick(view.add_to_queue, Qt.MouseButton.LeftButton)
    drain(qtbot, ctx)
    assert jobs(ctx) == []
    install_model(ctx, "ti2v-5B", "/models/ti2v")
    ctx.events.sig_models_changed.emit()  # what the Models view says after an install
    drain(qtbot, ctx)
    assert "not installed" not in view.plan_panel.body.text()
    assert view.add_to_queue.isEnabled() and view.generate_now.isEnabled()


def test_preview_plans_with_the_runners_function(ctx, view, hardware):
    """The preview's plan is ``plan_request(request, hardware, installed_models(db))``."""
    from wan22_desktop.runtime.planning import installed_models, plan_request

    choose(view.task, "ti2v-5B")
    view.prompt.setPlainText("a lighthouse in a storm")
    # (Offload pinned off no longer fits 24 GB: the fp32 VAE decode beside the resident 5B
    # needs ~28 GiB, so pin another switch.)
    view.advanced.memory["t5_cpu"].setCurrentIndex(view.advanced.memory["t5_cpu"].findData("on"))
    view.refresh_preview()
    pv = view.last_preview
    assert pv.plan == plan_request(pv.request, hardware, installed_models(ctx.db))
    assert pv.plan.t5_cpu is True and pv.plan.reasons["t5_cpu"].endswith("set by you")


def test_an_error_that_names_its_field_marks_that_field(view):
    """Typed errors: ``UserInputError.field`` picks the widget, whatever the message says."""
    from wan22_desktop.errors import UserInputError
    from wan22_desktop.gui.generate_form import Preview

    view._show_validation(Preview(error=UserInputError("too long", "use 81", field="frame_num")))
    assert view.frames.property("invalid") is True
    assert view.prompt.property("invalid") is False
    assert not view.add_to_queue.isEnabled()


# ---- a dropped video fills the form


def _drop(view, path):
    from PySide6.QtCore import QMimeData, QPointF, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent
    from PySide6.QtWidgets import QApplication

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    pos = view.prompt.mapTo(view, view.prompt.rect().center())
    actions = Qt.DropAction.CopyAction
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(pos, actions, mime, buttons, mods)
    QApplication.sendEvent(view, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(pos), actions, mime, buttons, mods)
    QApplication.sendEvent(view, drop)
    assert drop.isAccepted()


def test_dropping_one_of_our_videos_fills_the_form(qtbot, ctx, view, tmp_path):
    import numpy as np

    from wan22_desktop.engine.video_io import save_video
    from wan22_desktop.video_metadata import build_payload

    request = GenerationRequest.for_task(
        "ti2v-5B", prompt="一只猫在屋顶上", size="704*1280", frame_num=49, sample_steps=33, seed=77
    )
    video = np.zeros((3, 5, 32, 32), dtype=np.float32)
    out = save_video(video, tmp_path / "ours.mp4", 16, metadata=build_payload(request))
    _drop(view, out)
    values = view.values()
    assert (values.task, values.prompt, values.size, values.frame_num, values.steps) == (
        "ti2v-5B",
        "一只猫在屋顶上",
        "704*1280",
        49,
        33,
    )
    assert values.seed == 77
    notice = ctx.notifier.last
    assert notice.level == "info" and "ours.mp4 (Wan22 Desktop)" in notice.message


def test_a_dropped_wan2gp_video_lists_what_was_not_used(qtbot, ctx, view, tmp_path):
    import json
    import subprocess

    import imageio_ffmpeg

    settings = {
        "model_type": "ti2v_2_2",
        "prompt": "waves at dusk",
        "resolution": "1280x704",
        "video_length": 121,
        "num_inference_steps": 30,
        "guidance_scale": 5.0,
        "flow_shift": 5,
        "seed": 5,
        "activated_loras": ["detail.safetensors"],
    }
    out = tmp_path / "wan2gp.mp4"
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i"]
    cmd += ["color=c=blue:s=32x32:d=0.2", "-metadata", "comment=" + json.dumps(settings), str(out)]
    subprocess.run(cmd, check=True)
    _drop(view, out)
    values = view.values()
    assert (values.prompt, values.frame_num, values.steps, values.seed) == (
        "waves at dusk",
        121,
        30,
        5,
    )
    notice = ctx.notifier.last
    assert notice.level == "warning" and "(Wan2GP)" in notice.message
    assert "activated_loras" in notice.hint  # listed, not blocking
    assert view.add_to_queue.isEnabled()


def test_a_dropped_file_without_settings_says_so(qtbot, ctx, view, tmp_path):
    before = view.values()
    junk = tmp_path / "plain.mp4"
    junk.write_bytes(b"not a video")
    _drop(view, junk)
    assert ctx.notifier.last.level == "error"
    assert "carries no generation settings" in ctx.notifier.last.message
    assert view.values() == before


def test_a_plain_picture_dropped_on_the_form_becomes_the_start_image(qtbot, ctx, view, tmp_path):
    img = QImage(64, 64, QImage.Format.Format_RGB32)
    img.fill(QColor("green"))
    path = tmp_path / "start.png"
    img.save(str(path))
    _drop(view, path)
    assert view.image.path == str(path)


def test_the_splitter_position_is_saved_with_the_form(qtbot, ctx):
    view = GenerateView(ctx)
    qtbot.addWidget(view)
    view.save_state()
    saved = ctx.settings.get_state(SPLITTER_KEY)
    assert isinstance(saved, str) and saved  # base64 of QSplitter.saveState()
