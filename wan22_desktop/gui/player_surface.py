"""The player's video surface: a QGraphicsVideoItem in a QGraphicsView.

Chosen over QVideoWidget because it paints through QPainter like any widget, so the picture shows
up in ``grab()`` (screenshots, offscreen tests) and over remote desktops, and it can leave its
layout to go full screen and come back.
"""

from __future__ import annotations

from typing import cast

from PySide6.QtCore import QSizeF, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent, QMouseEvent, QResizeEvent
from PySide6.QtMultimedia import QVideoSink
from PySide6.QtMultimediaWidgets import QGraphicsVideoItem
from PySide6.QtWidgets import QBoxLayout, QFrame, QGraphicsScene, QGraphicsView, QWidget


class VideoSurface(QGraphicsView):
    # ---- Signals
    sig_full_screen_changed = Signal(bool)
    """Full screen was entered or left. Args: whether it is full screen now."""

    sig_key_pressed = Signal(int)
    """A key was pressed while full screen (the player's shortcuts live in its own window).
    Args: ``Qt.Key`` value."""

    sig_double_clicked = Signal()
    """The picture was double-clicked (the player toggles full screen)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._scene = QGraphicsScene(self)
        self.item = QGraphicsVideoItem()
        self.item.setAspectRatioMode(Qt.AspectRatioMode.KeepAspectRatio)
        self._scene.addItem(self.item)
        self.setScene(self._scene)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setBackgroundBrush(QColor("#111111"))
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        # parent and layout slot while full screen
        self._home: tuple[QWidget | None, int] | None = None

    def videoSink(self) -> QVideoSink:  # noqa: N802 - mirrors QVideoWidget's API
        return self.item.videoSink()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        size = self.viewport().size()
        self.item.setSize(QSizeF(size))
        self._scene.setSceneRect(0, 0, size.width(), size.height())

    # ---- full screen (the view leaves its layout as a top-level window, then goes back)

    def isFullScreen(self) -> bool:  # noqa: N802 - mirrors QWidget
        return self._home is not None

    def set_full_screen(self, on: bool) -> None:
        if on == self.isFullScreen():
            return
        if on:
            parent = self.parentWidget()
            layout = parent.layout() if parent is not None else None
            index = layout.indexOf(self) if layout is not None else -1
            self._home = (parent, index)
            self.setParent(None)
            self.setWindowFlag(Qt.WindowType.Window, True)
            self.showFullScreen()
        else:
            assert self._home is not None  # on != isFullScreen()
            parent, index = self._home
            self._home = None
            self.setWindowFlag(Qt.WindowType.Window, False)
            self.showNormal()
            self.setParent(parent)
            layout = parent.layout() if parent is not None else None
            if layout is not None:  # the player puts the surface in a box layout
                cast(QBoxLayout, layout).insertWidget(max(index, 0), self, 1)
            self.show()
        self._fit()
        self.sig_full_screen_changed.emit(on)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        if self.isFullScreen():
            if event.key() == Qt.Key.Key_Escape:
                self.set_full_screen(False)
            else:
                key = event.key()
                self.sig_key_pressed.emit(int(getattr(key, "value", key)))
            event.accept()
            return
        super().keyPressEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        self.sig_double_clicked.emit()
        event.accept()
