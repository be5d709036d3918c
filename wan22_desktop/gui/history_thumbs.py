"""Thumbnails and hover previews for the history grid, loaded off the GUI thread and cached.

Images are decoded on the task pool as QImages and turned into QPixmaps on the GUI thread (QPixmap
is GUI-thread only). Each is requested once; the model repaints its row when it arrives.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QPixmap

from wan22_desktop.gui.history_frames import sample_frames, to_qimage
from wan22_desktop.services.rows import GenerationRow

log = logging.getLogger(__name__)

THUMB_SIZE = QSize(192, 108)
PREVIEW_FRAMES = 8
PREVIEW_INTERVAL_MS = 150


def load_thumbnail_image(gen: GenerationRow, size: QSize = THUMB_SIZE) -> QImage:
    """The stored thumbnail, else the first frame of the video; scaled to fit ``size``."""
    thumb = gen.thumbnail_path
    img = QImage(thumb) if thumb and Path(thumb).is_file() else QImage()
    if img.isNull():
        frames = sample_frames(gen.video_path, 1, 1, max_side=max(size.width(), size.height()))
        if not frames:
            return QImage()
        img = to_qimage(frames[0])
    return img.scaled(
        size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
    )


def load_preview_images(
    gen: GenerationRow, size: QSize = THUMB_SIZE, count: int = PREVIEW_FRAMES
) -> list[QImage]:
    frames = sample_frames(
        gen.video_path,
        count,
        gen.frames or count,
        max_side=max(size.width(), size.height()),
    )
    return [
        to_qimage(f).scaled(
            size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
        )
        for f in frames
    ]


class ThumbnailCache(QObject):
    """``get(gen)`` returns the pixmap or None and starts loading it; LRU-bounded."""

    # ---- Signals
    sig_thumbnail_ready = Signal(int)
    """A thumbnail finished loading (or failed: then a blank one is cached). Args: generation id."""

    def __init__(
        self,
        tasks: Any,
        size: QSize = THUMB_SIZE,
        capacity: int = 600,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._tasks = tasks  # TaskRunner: .run(fn, on_done, on_error)
        self.size = size
        self.capacity = capacity
        self._cache: OrderedDict[int, QPixmap] = OrderedDict()
        self._pending: set[int] = set()

    def get(self, gen: GenerationRow) -> QPixmap | None:
        gid = gen.id
        pix = self._cache.get(gid)
        if pix is not None:
            self._cache.move_to_end(gid)
            return pix
        if gid not in self._pending:
            self._pending.add(gid)
            self._tasks.run(
                lambda: load_thumbnail_image(gen, self.size),
                lambda img, gid=gid: self._store(gid, img),
                lambda exc, gid=gid: self._failed(gid, exc),
            )
        return None

    def forget(self, gid: int) -> None:
        self._cache.pop(gid, None)

    def _store(self, gid: int, img: QImage) -> None:
        self._pending.discard(gid)
        self._cache[gid] = QPixmap.fromImage(img) if not img.isNull() else QPixmap()
        while len(self._cache) > self.capacity:
            self._cache.popitem(last=False)
        self.sig_thumbnail_ready.emit(gid)

    def _failed(self, gid: int, exc: BaseException) -> None:
        log.info("no thumbnail for generation %s: %s", gid, exc)
        self._store(gid, QImage())


class HoverPreview(QObject):
    """Cycles a few frames of the hovered generation; the model shows ``frame(gid)`` instead of
    its thumbnail while one is set."""

    # ---- Signals
    sig_frame_changed = Signal(int)
    """The preview frame of a generation changed (or the preview stopped). Args: generation id."""

    def __init__(self, tasks: Any, size: QSize = THUMB_SIZE, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self.size = size
        self._frames: dict[int, list[QPixmap]] = {}  # small: only recently hovered clips
        self._gid: int | None = None
        self._index = 0
        self._timer = QTimer(self)
        self._timer.setInterval(PREVIEW_INTERVAL_MS)
        self._timer.timeout.connect(self._advance)

    @property
    def active_id(self) -> int | None:
        return self._gid

    def start(self, gen: GenerationRow) -> None:
        gid = gen.id
        if gid == self._gid:
            return
        self.stop()
        self._gid, self._index = gid, 0
        if gid in self._frames:
            self._timer.start()
            return
        self._tasks.run(
            lambda: load_preview_images(gen, self.size),
            lambda imgs, gid=gid: self._loaded(gid, imgs),
            lambda exc, gid=gid: log.info("no preview for %s: %s", gid, exc),
        )

    def stop(self) -> None:
        gid, self._gid = self._gid, None
        self._timer.stop()
        if gid is not None:
            self.sig_frame_changed.emit(gid)

    def frame(self, gid: int) -> QPixmap | None:
        frames = self._frames.get(gid)
        if gid != self._gid or not frames:
            return None
        return frames[self._index % len(frames)]

    def _loaded(self, gid: int, images: list[QImage]) -> None:
        if len(self._frames) > 16:
            self._frames.pop(next(iter(self._frames)))
        self._frames[gid] = [QPixmap.fromImage(i) for i in images if not i.isNull()]
        if gid == self._gid and self._frames[gid]:
            self._timer.start()
            self.sig_frame_changed.emit(gid)

    def _advance(self) -> None:
        if self._gid is None:
            self._timer.stop()
            return
        self._index += 1
        self.sig_frame_changed.emit(self._gid)
