"""History inside the main window: double-click plays in the player, "continue from last frame"
fills the Generate view, and a re-run from the history lands in the queue."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtMultimedia import QMediaPlayer

from tests.gui.test_history import add_finished, wait_idle
from wan22_desktop.db import queue as dbq
from wan22_desktop.db.models import QUEUED
from wan22_desktop.gui.main_window import MainWindow


def test_history_to_player_and_generate(qtbot, ctx):
    gen = add_finished(ctx, "a kite over the dunes", task="ti2v-5B", seed=21)
    win = MainWindow(ctx)
    qtbot.addWidget(win)
    win.show()
    ctx.events.sig_view_requested.emit("history")
    history = win.view("history")
    wait_idle(qtbot, ctx)
    assert win.current_key() == "history" and history.model.rowCount() == 1

    history.select_row(0)
    index = history.model.index(0, 0)
    qtbot.waitUntil(lambda: history.grid.visualRect(index).isValid())
    rect = history.grid.visualRect(index)
    # Qt emits doubleClicked for the index that was pressed first, as a real double-click does.
    qtbot.mouseClick(history.grid.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(history.grid.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    player = win.view("player")
    assert win.current_key() == "player"
    qtbot.waitUntil(lambda: player.path == Path(gen.video_path), timeout=5000)
    qtbot.waitUntil(
        lambda: player.player.playbackState() == QMediaPlayer.PlaybackState.PlayingState,
        timeout=10000,
    )
    player.shutdown()

    ctx.events.sig_view_requested.emit("history")
    history.use_last_frame()
    qtbot.waitUntil(lambda: win.current_key() == "generate", timeout=5000)
    values = win.view("generate").values()
    assert values.image and Path(values.image).is_file() and values.prompt == gen.prompt

    ctx.events.sig_view_requested.emit("history")
    history.rerun(new_seed=False)
    wait_idle(qtbot, ctx)
    (job,) = dbq.list_jobs(ctx.db, statuses=[QUEUED])
    assert job.request_dict["seed"] == 21
    win.close()
