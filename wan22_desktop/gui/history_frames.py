"""Frames out of finished mp4s for the history: hover previews, thumbnails, "last frame as image".

Runs on worker threads (QImage, unlike QPixmap, may be built off the GUI thread). Decoding is
streamed and scaled by ffmpeg, so a long 720p clip never sits in memory whole.
"""

from __future__ import annotations

import collections
import os
from collections.abc import Iterator
from pathlib import Path

import imageio_ffmpeg
import numpy as np
from PySide6.QtGui import QImage

from wan22_desktop.errors import OperationError

# numpy and imageio_ffmpeg are imported here, on the GUI thread, on purpose: a first import of an
# extension module on a worker thread holds the GIL through dlopen, which can deadlock with the
# GUI thread loading a Qt plugin at the same moment.


def _scaled_size(w: int, h: int, max_side: int | None) -> tuple[int, int]:
    """Even sides (yuv420 scalers want them) no larger than ``max_side``, aspect kept."""
    if not max_side or max(w, h) <= max_side:
        return w, h
    k = max_side / max(w, h)
    return max(2, int(w * k) // 2 * 2), max(2, int(h * k) // 2 * 2)


def iter_frames(path: str | os.PathLike[str], max_side: int | None = None) -> Iterator[np.ndarray]:
    """Yield [H, W, 3] uint8 frames, scaled by ffmpeg when ``max_side`` is given."""
    if not Path(path).is_file():
        raise OperationError(f"video not found: {path}", "it was moved or deleted")
    probe = imageio_ffmpeg.read_frames(str(path))
    w, h = probe.__next__()["size"]
    probe.close()
    tw, th = _scaled_size(w, h, max_side)
    params = ["-vf", f"scale={tw}:{th}"] if (tw, th) != (w, h) else None
    reader = imageio_ffmpeg.read_frames(str(path), output_params=params)
    try:
        reader.__next__()
        for buf in reader:
            yield np.frombuffer(buf, dtype=np.uint8).reshape(th, tw, 3)
    finally:
        reader.close()


def sample_indices(total: int, count: int) -> list[int]:
    """``count`` frame indices spread evenly over ``total`` frames, first and last included."""
    if total <= 0 or count <= 0:
        return []
    if count == 1 or total == 1:
        return [0]
    count = min(count, total)
    return sorted({round(i * (total - 1) / (count - 1)) for i in range(count)})


def sample_frames(
    path: str | os.PathLike[str], count: int, total_hint: int, max_side: int | None = 256
) -> list[np.ndarray]:
    """About ``count`` evenly spread frames; ``total_hint`` is the frame count from the history."""
    wanted = set(sample_indices(max(total_hint, 1), count))
    out: list[np.ndarray] = []
    last: np.ndarray | None = None
    for i, frame in enumerate(iter_frames(path, max_side)):
        last = frame
        if i in wanted:
            out.append(frame.copy())
    if not out and last is not None:
        out.append(last.copy())
    return out


def last_frame(path: str | os.PathLike[str]) -> np.ndarray:
    tail = collections.deque(iter_frames(path), maxlen=1)  # reads through, keeps the last
    frame = tail[0] if tail else None
    if frame is None:
        raise OperationError(f"{Path(path).name} has no frames", "the file may be damaged")
    return frame.copy()


def to_qimage(frame: np.ndarray) -> QImage:
    """A QImage that owns its pixels (the numpy buffer may go away)."""
    frame = np.ascontiguousarray(frame)
    h, w, _ = frame.shape
    return QImage(frame.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def save_png(frame: np.ndarray, target: Path) -> Path:
    """Write a PNG atomically (a half-written image never looks finished)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.part")
    # PySide6 takes the format as str; its stubs say bytes (which it rejects)
    if not to_qimage(frame).save(str(tmp), "PNG"):  # type: ignore[call-overload]
        tmp.unlink(missing_ok=True)
        raise OperationError(f"cannot write {target}", "check the data folder is writable")
    os.replace(tmp, target)
    return target
