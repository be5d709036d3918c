"""Player: a real tiny mp4 plays under the offscreen platform; controls and frame export work."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtMultimedia import QMediaPlayer

from wan22_desktop.engine.video_io import save_video
from wan22_desktop.errors import OperationError
from wan22_desktop.gui.player_math import format_time, frame_at, position_of, step_position
from wan22_desktop.gui.views.player import PlayerView

W, H, F, FPS = 64, 48, 17, 8


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    t = np.linspace(-1, 1, F, dtype=np.float32)[None, :, None, None]
    video = np.broadcast_to(t, (3, F, H, W)).copy()  # brightness ramps frame by frame
    video[1] *= -1
    return save_video(video, tmp_path / "clip.mp4", FPS)


@pytest.mark.parametrize(
    ("pos", "fps", "step", "dur", "expected"),
    [
        (0, 8, 1, 2125, 125),  # frame 0 -> 1 at 8 fps
        (125, 8, 1, 2125, 250),
        (130, 8, -1, 2125, 0),
        (0, 8, -1, 2125, 0),  # clamped at the first frame
        (2000, 8, 5, 2125, 2000),  # clamped at the last (17 frames: #16 at 2000 ms)
        (0, 24, 1, 5041, 42),  # 41.67 ms rounds up so the position lands inside frame 1
        (0, 16, 3, 5000, 188),
    ],
)
def test_step_positions(pos, fps, step, dur, expected):
    assert step_position(pos, fps, step, dur) == expected
    assert frame_at(expected, fps) == frame_at(pos, fps) + step or expected in (0, 2000)


def test_frame_positions_round_trip():
    for fps in (8, 16, 24, 30):
        for n in range(200):
            assert frame_at(position_of(n, fps), fps) == n
    assert format_time(61_042) == "1:01.042"


def open_player(qtbot, ctx) -> PlayerView:
    view = PlayerView(ctx)
    qtbot.addWidget(view)
    view.resize(640, 400)
    view.show()
    return view


def test_plays_a_real_clip_and_steps_frames(qtbot, ctx, clip):
    view = open_player(qtbot, ctx)
    with qtbot.waitSignal(view.sig_media_loaded, timeout=10000) as loaded:
        view.open(clip)
    assert loaded.args[1] > 0
    qtbot.waitUntil(
        lambda: view.player.playbackState() == QMediaPlayer.PlaybackState.PlayingState, timeout=5000
    )
    qtbot.waitUntil(lambda: view.player.position() > 0, timeout=5000)
    assert view.player.duration() == pytest.approx(F / FPS * 1000, abs=150)
    assert view.fps == pytest.approx(FPS)  # read from the file
    assert view.slider.maximum() == view.player.duration()

    view.seek(0)
    view.step_frames(1)
    assert view.player.playbackState() == QMediaPlayer.PlaybackState.PausedState
    qtbot.waitUntil(lambda: view.current_frame() == 1, timeout=3000)
    view.step_frames(3)
    qtbot.waitUntil(lambda: view.current_frame() == 4, timeout=3000)
    view.step_frames(-2)
    qtbot.waitUntil(lambda: view.current_frame() == 2, timeout=3000)

    view.speed_combo.setCurrentIndex(view.speed_combo.findData(0.5))
    assert view.player.playbackRate() == 0.5
    view.loop_check.setChecked(False)
    assert view.player.loops() == QMediaPlayer.Loops.Once
    view.set_loop(True)
    assert view.player.loops() == QMediaPlayer.Loops.Infinite and view.loop_check.isChecked()
    view.toggle_play()
    qtbot.waitUntil(lambda: view.player.playbackState() == QMediaPlayer.PlaybackState.PlayingState)
    view.toggle_play()
    assert view.player.playbackState() == QMediaPlayer.PlaybackState.PausedState
    view.shutdown()


def test_export_current_frame_as_png(qtbot, ctx, clip, tmp_path):
    view = open_player(qtbot, ctx)
    with pytest.raises(OperationError):
        view.export_frame(tmp_path / "nothing.png")  # nothing shown yet
    with qtbot.waitSignal(view.sig_media_loaded, timeout=10000):
        view.open(clip)
    qtbot.waitUntil(lambda: view.video.videoSink().videoFrame().isValid(), timeout=5000)
    view.player.pause()
    with qtbot.waitSignal(view.sig_frame_exported) as sig:
        saved = view.export_frame(tmp_path / "out" / "frame")
    assert saved == tmp_path / "out" / "frame.png" and sig.args == [str(saved)]
    img = QImage(str(saved))
    assert (img.width(), img.height()) == (W, H)
    assert view.default_export_path().parent == clip.parent
    view.shutdown()


def test_opened_from_the_play_request(qtbot, ctx, clip):
    view = open_player(qtbot, ctx)
    with qtbot.waitSignal(view.sig_media_loaded, timeout=10000):
        ctx.events.sig_play_requested.emit(str(clip))
    assert view.path == clip
    view.open(clip.parent / "missing.mp4")
    assert ctx.notifier.last.level == "error" and "missing.mp4" in ctx.notifier.last.message
    view.shutdown()


def test_full_screen_toggles_and_keeps_the_keys(qtbot, ctx, clip):
    view = open_player(qtbot, ctx)
    with qtbot.waitSignal(view.sig_media_loaded, timeout=10000):
        view.open(clip, autoplay=False)
    view.toggle_full_screen()
    assert view.video.isFullScreen() and view.video.isWindow()
    qtbot.waitUntil(
        lambda: bool(view.video.windowState() & Qt.WindowState.WindowFullScreen), timeout=3000
    )
    qtbot.keyClick(view.video, Qt.Key.Key_Right)  # shortcuts reach the player from full screen
    qtbot.waitUntil(lambda: view.current_frame() == 1, timeout=3000)
    qtbot.keyClick(view.video, Qt.Key.Key_Escape)
    assert not view.video.isFullScreen() and not view.video.isWindow()
    assert view.video.parentWidget() is view and view.layout().indexOf(view.video) == 0
    view.shutdown()


def test_picture_shows_in_a_grab(qtbot, ctx, clip):
    """The surface paints through QPainter, so screenshots and offscreen grabs show the video."""
    view = open_player(qtbot, ctx)
    with qtbot.waitSignal(view.sig_media_loaded, timeout=10000):
        view.open(clip)
    qtbot.waitUntil(lambda: view.video.videoSink().videoFrame().isValid(), timeout=5000)
    view.player.pause()
    qtbot.wait(50)
    img = view.video.grab().toImage()
    centre = img.pixelColor(img.width() // 2, img.height() // 2)
    assert centre.name() != "#111111"  # not the empty background
    view.shutdown()


def test_standalone_without_a_context(qtbot, clip):
    view = PlayerView()
    qtbot.addWidget(view)
    view.show()
    with qtbot.waitSignal(view.sig_media_loaded, timeout=10000):
        view.open(clip, fps=12)
    assert view.fps == 12  # given by the caller, kept
    view.open(clip.parent / "nope.mp4")
    assert "nope.mp4" in view.status.text()
    view.shutdown()
