"""Player: in-app playback of finished videos with QtMultimedia.

Play/pause, loop, scrub, frame step (using the file's frame rate), speed 0.25x-2x, full screen and
"export this frame as PNG" (the frame is taken from the video sink, i.e. exactly what is shown).
Opened from the history (``ctx.events.sig_play_requested``) or on its own with "Open…"; with
``ctx=None`` it works as a standalone widget and shows errors in its own status line.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtMultimedia import QMediaMetaData, QMediaPlayer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from wan22_desktop.errors import OperationError, UserInputError
from wan22_desktop.gui.player_math import DEFAULT_FPS, SPEEDS, format_time, frame_at, step_position
from wan22_desktop.gui.player_surface import VideoSurface

log = logging.getLogger(__name__)


class PlayerView(QWidget):
    """A video player. ``open(path, fps=None)`` loads a file; the rest are the user's controls."""

    # ---- Signals
    sig_media_loaded = Signal(str, int)
    """A file is ready to play. Args: path, duration in milliseconds."""

    sig_frame_exported = Signal(str)
    """The current frame was saved. Args: PNG path."""

    def __init__(self, ctx: Any | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.path: Path | None = None
        self.fps = DEFAULT_FPS
        self._fps_given = False
        self._scrubbing = False

        self._player: QMediaPlayer | None = None  # see ``player``
        self._loop = True
        self._rate = 1.0
        self.video = VideoSurface(self)
        self.video.setObjectName("playerVideo")
        self.video.setMinimumSize(320, 180)
        self.video.sig_double_clicked.connect(self.toggle_full_screen)
        self.video.sig_key_pressed.connect(self._on_full_screen_key)

        style = self.style()
        self.open_button = QPushButton(self.tr("Open…"), self)
        self.open_button.clicked.connect(self._choose_file)
        self.play_button = QToolButton(self)
        self.play_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay))
        self.play_button.setToolTip(self.tr("Play / pause (Space)"))
        self.play_button.clicked.connect(self.toggle_play)
        self.back_button = QToolButton(self)
        self.back_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_MediaSeekBackward))
        self.back_button.setToolTip(self.tr("Previous frame (Left)"))
        self.back_button.clicked.connect(lambda: self.step_frames(-1))
        self.forward_button = QToolButton(self)
        self.forward_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_MediaSeekForward))
        self.forward_button.setToolTip(self.tr("Next frame (Right)"))
        self.forward_button.clicked.connect(lambda: self.step_frames(1))
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setObjectName("playerScrub")
        self.slider.sliderPressed.connect(self._scrub_started)
        self.slider.sliderReleased.connect(self._scrub_finished)
        self.slider.sliderMoved.connect(self.seek)
        self.time_label = QLabel(format_time(0), self)
        self.loop_check = QCheckBox(self.tr("Loop"), self)
        self.loop_check.setChecked(True)
        self.loop_check.toggled.connect(self.set_loop)
        self.speed_combo = QComboBox(self)
        for s in SPEEDS:
            self.speed_combo.addItem(f"{s:g}×", s)
        self.speed_combo.setCurrentIndex(SPEEDS.index(1.0))
        self.speed_combo.currentIndexChanged.connect(
            lambda _i: self.set_speed(self.speed_combo.currentData())
        )
        self.full_button = QToolButton(self)
        self.full_button.setText(self.tr("Full screen"))
        self.full_button.setToolTip(self.tr("Full screen (F, Esc to leave)"))
        self.full_button.clicked.connect(self.toggle_full_screen)
        self.export_button = QPushButton(self.tr("Export frame…"), self)
        self.export_button.clicked.connect(self._choose_export)
        self.status = QLabel(self)
        self.status.setObjectName("playerStatus")

        controls = QHBoxLayout()
        for w in (self.open_button, self.back_button, self.play_button, self.forward_button):
            controls.addWidget(w)
        controls.addWidget(self.slider, 1)
        for widget in (
            self.time_label,
            self.loop_check,
            self.speed_combo,
            self.full_button,
            self.export_button,
        ):
            controls.addWidget(widget)
        layout = QVBoxLayout(self)
        layout.addWidget(self.video, 1)
        layout.addLayout(controls)
        layout.addWidget(self.status)

        for key, slot in (
            (Qt.Key.Key_Space, self.toggle_play),
            (Qt.Key.Key_Left, lambda: self.step_frames(-1)),
            (Qt.Key.Key_Right, lambda: self.step_frames(1)),
            (Qt.Key.Key_F, self.toggle_full_screen),
        ):
            QShortcut(QKeySequence(key), self, slot)
        if ctx is not None:
            ctx.events.sig_play_requested.connect(lambda path: self.open(path, autoplay=True))
        self._set_enabled(False)

    @property
    def player(self) -> QMediaPlayer:
        """Created on first use, not with the view: creating the first QMediaPlayer loads the FFmpeg
        backend (dlopen), and at start-up that raced a worker thread's first import of an extension
        module (keyring -> cryptography) into a GIL/loader-lock deadlock."""
        if self._player is None:
            p = QMediaPlayer(self)
            p.setVideoOutput(self.video.item)
            p.setLoops(QMediaPlayer.Loops.Infinite if self._loop else QMediaPlayer.Loops.Once)
            p.setPlaybackRate(self._rate)
            p.durationChanged.connect(self._on_duration)
            p.positionChanged.connect(self._on_position)
            p.playbackStateChanged.connect(self._on_state)
            p.mediaStatusChanged.connect(self._on_media_status)
            p.errorOccurred.connect(self._on_error)
            self._player = p
        return self._player

    # ---- loading

    def open(self, path: str | Path, fps: float | None = None, *, autoplay: bool = True) -> None:
        """Load ``path``; ``fps`` is used for frame steps until the file reports its own rate."""
        p = Path(path)
        if not p.is_file():
            self._report(
                UserInputError(
                    self.tr("Video not found: %1").replace("%1", str(p)),
                    self.tr("it was moved or deleted"),
                )
            )
            return
        self.path = p
        self.fps, self._fps_given = (float(fps), True) if fps else (DEFAULT_FPS, False)
        self.player.setSource(QUrl.fromLocalFile(str(p)))
        self.status.setText(p.name)
        self._set_enabled(True)
        if autoplay:
            self.player.play()

    def _choose_file(self) -> None:
        start = str(self.ctx.paths.outputs) if self.ctx is not None else ""
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Open video"), start, self.tr("Videos (*.mp4 *.mov *.mkv *.webm)")
        )
        if path:
            self.open(path)

    # ---- controls

    def toggle_play(self) -> None:
        if self.path is None:
            return
        if self.player.playbackState() == QMediaPlayer.PlaybackState.PlayingState:
            self.player.pause()
        else:
            self.player.play()

    def set_loop(self, on: bool) -> None:
        self._loop = on
        if self._player is not None:
            self._player.setLoops(QMediaPlayer.Loops.Infinite if on else QMediaPlayer.Loops.Once)
        if self.loop_check.isChecked() != on:
            self.loop_check.setChecked(on)

    def set_speed(self, rate: float) -> None:
        self._rate = float(rate)
        if self._player is not None:
            self._player.setPlaybackRate(self._rate)
        i = self.speed_combo.findData(rate)
        if i >= 0 and i != self.speed_combo.currentIndex():
            self.speed_combo.setCurrentIndex(i)

    def seek(self, position_ms: int) -> None:
        if self._player is not None:
            self._player.setPosition(int(position_ms))

    def step_frames(self, step: int) -> None:
        """Pause and move ``step`` frames (negative: back)."""
        if self.path is None:
            return
        self.player.pause()
        self.seek(step_position(self.player.position(), self.fps, step, self.player.duration()))

    def current_frame(self) -> int:
        return frame_at(self._player.position(), self.fps) if self._player is not None else 0

    def set_full_screen(self, on: bool) -> None:
        self.video.set_full_screen(on)

    def toggle_full_screen(self) -> None:
        self.set_full_screen(not self.video.isFullScreen())

    def _on_full_screen_key(self, key: int) -> None:
        actions = {
            Qt.Key.Key_Space: self.toggle_play,
            Qt.Key.Key_Left: lambda: self.step_frames(-1),
            Qt.Key.Key_Right: lambda: self.step_frames(1),
            Qt.Key.Key_F: self.toggle_full_screen,
        }
        for k, action in actions.items():
            if int(k.value) == key:
                action()

    # ---- export

    def export_frame(self, target: str | Path) -> Path:
        """Save the frame on screen as a PNG. Raises OperationError when there is none yet."""
        frame = self.video.videoSink().videoFrame()
        image = frame.toImage() if frame.isValid() else None
        if image is None or image.isNull():
            raise OperationError(
                self.tr("There is no frame to export yet"),
                self.tr("play the video or step to a frame first"),
            )
        target = Path(target)
        if target.suffix.lower() != ".png":
            target = target.with_suffix(".png")
        target.parent.mkdir(parents=True, exist_ok=True)
        # PySide6 takes the format as str; its stubs say bytes (which it rejects)
        if not image.save(str(target), "PNG"):  # type: ignore[call-overload]
            raise OperationError(
                self.tr("Cannot write %1").replace("%1", str(target)),
                self.tr("choose a folder you can write to"),
            )
        self.sig_frame_exported.emit(str(target))
        return target

    def default_export_path(self) -> Path:
        stem = self.path.stem if self.path else "frame"
        folder = self.path.parent if self.path else Path.home()
        return folder / f"{stem}-frame{self.current_frame():04d}.png"

    def _choose_export(self) -> None:
        if self._player is not None:
            self._player.pause()
        path, _ = QFileDialog.getSaveFileName(
            self,
            self.tr("Export frame"),
            str(self.default_export_path()),
            self.tr("PNG image (*.png)"),
        )
        if not path:
            return
        try:
            saved = self.export_frame(path)
        except OperationError as exc:
            self._report(exc)
            return
        self._info(self.tr("Frame saved: %1").replace("%1", saved.name))

    # ---- main-window hooks

    def shutdown(self) -> None:
        self.set_full_screen(False)
        if self._player is not None:
            self._player.stop()
            self._player.setSource(QUrl())

    # ---- player events

    def _on_duration(self, duration: int) -> None:
        self.slider.setRange(0, max(0, duration))
        self._update_time(self.player.position())

    def _on_position(self, position: int) -> None:
        if not self._scrubbing:
            self.slider.setValue(position)
        self._update_time(position)

    def _update_time(self, position: int) -> None:
        self.time_label.setText(
            f"{format_time(position)} / {format_time(self.player.duration())}"
            f"  #{frame_at(position, self.fps)}"
        )

    def _on_state(self, state: QMediaPlayer.PlaybackState) -> None:
        playing = state == QMediaPlayer.PlaybackState.PlayingState
        icon = (
            QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        )
        self.play_button.setIcon(self.style().standardIcon(icon))

    def _on_media_status(self, status: QMediaPlayer.MediaStatus) -> None:
        if status == QMediaPlayer.MediaStatus.LoadedMedia:
            rate = self.player.metaData().value(QMediaMetaData.Key.VideoFrameRate)
            if not self._fps_given and isinstance(rate, (int, float)) and rate > 0:
                self.fps = float(rate)
            self.sig_media_loaded.emit(str(self.path), self.player.duration())

    def _on_error(self, _error: QMediaPlayer.Error, message: str) -> None:
        self._report(
            OperationError(
                self.tr("Cannot play this video: %1").replace("%1", message),
                self.tr("the file may be damaged or use an unsupported codec"),
            )
        )

    def _scrub_started(self) -> None:
        self._scrubbing = True

    def _scrub_finished(self) -> None:
        self._scrubbing = False
        self.seek(self.slider.value())

    # ---- helpers

    def _set_enabled(self, on: bool) -> None:
        for w in (
            self.play_button,
            self.back_button,
            self.forward_button,
            self.slider,
            self.export_button,
            self.full_button,
        ):
            w.setEnabled(on)

    def _report(self, exc: BaseException) -> None:
        if self.ctx is not None:
            self.ctx.notifier.error(exc)
        self.status.setText(str(getattr(exc, "message", exc)))

    def _info(self, message: str) -> None:
        if self.ctx is not None:
            self.ctx.notifier.info(message)
        self.status.setText(message)


def main(argv: list[str] | None = None) -> int:
    """``python -m wan22_desktop.gui.views.player [VIDEO]``: the player on its own window."""
    import sys

    from PySide6.QtWidgets import QApplication

    args = sys.argv[1:] if argv is None else argv
    app = QApplication.instance() or QApplication(sys.argv[:1])
    view = PlayerView()
    view.setWindowTitle(QApplication.translate("PlayerView", "Wan22 Player"))
    view.resize(960, 600)
    view.show()
    if args:
        view.open(args[0])
    code = app.exec()
    view.shutdown()
    return code


if __name__ == "__main__":
    raise SystemExit(main())
