"""The start-image drop zone: drop or choose a file, see a preview; emits the chosen path.

Reading the image size uses ``QImageReader`` (header only); the scaled preview is loaded once.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QImageReader, QPixmap
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp")
PREVIEW = QSize(320, 180)


def image_size(path: str) -> tuple[int, int] | None:
    reader = QImageReader(path)
    size = reader.size()
    if not size.isValid():
        return None
    return size.width(), size.height()


class ImageDropZone(QFrame):
    # ---- Signals
    sig_image_changed = Signal(object)
    """The start image changed. Args: path (str) or None when cleared."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("imageDropZone")
        self.setAcceptDrops(True)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setMinimumHeight(120)
        self.path: str | None = None
        self.preview = QLabel(self)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumSize(QSize(160, 90))
        self.caption = QLabel(self)
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.caption.setWordWrap(True)
        self.choose = QPushButton(self.tr("Choose image…"), self)
        self.clear_button = QPushButton(self.tr("Remove"), self)
        self.choose.clicked.connect(self._choose)
        self.clear_button.clicked.connect(lambda: self.set_image(None))
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.choose)
        buttons.addWidget(self.clear_button)
        buttons.addStretch(1)
        lay = QVBoxLayout(self)
        lay.addWidget(self.preview, 1)
        lay.addWidget(self.caption)
        lay.addLayout(buttons)
        self._show_empty()

    def set_image(self, path: str | None, *, emit: bool = True) -> None:
        path = path or None
        if path == self.path:
            return
        self.path = path
        if path is None:
            self._show_empty()
        else:
            self._show(path)
        if emit:
            self.sig_image_changed.emit(path)

    def set_caption(self, text: str) -> None:
        self.caption.setText(text)

    def _show_empty(self) -> None:
        self.preview.setPixmap(QPixmap())
        self.preview.setText(self.tr("Drop a start image here"))
        self.caption.clear()
        self.clear_button.setEnabled(False)

    def _show(self, path: str) -> None:
        reader = QImageReader(path)
        reader.setAutoTransform(True)
        size = reader.size()
        if size.isValid():
            reader.setScaledSize(size.scaled(PREVIEW, Qt.AspectRatioMode.KeepAspectRatio))
        image = reader.read()
        if image.isNull():
            self.preview.setPixmap(QPixmap())
            self.preview.setText(self.tr("Cannot read %1").replace("%1", Path(path).name))
        else:
            self.preview.setPixmap(QPixmap.fromImage(image))
        self.clear_button.setEnabled(True)

    def _choose(self) -> None:
        patterns = " ".join(f"*{s}" for s in IMAGE_SUFFIXES)
        path, _ = QFileDialog.getOpenFileName(
            self,
            self.tr("Choose a start image"),
            "",
            self.tr("Images (%1)").replace("%1", patterns),
        )
        if path:
            self.set_image(path)

    # ---- drag and drop

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        if _dropped_image(event) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        path = _dropped_image(event)
        if path is not None:
            self.set_image(path)
            event.acceptProposedAction()


def _dropped_image(event: QDragEnterEvent | QDropEvent) -> str | None:
    urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
    for url in urls:
        if url.isLocalFile() and url.toLocalFile().lower().endswith(IMAGE_SUFFIXES):
            return url.toLocalFile()
    return None
