"""Writing finished videos: mp4 (H.264, as the official writer), a PNG frame folder, or raw ``.npy``.

Works on numpy arrays so that it needs no torch. Every format is written under a temporary name in
the target folder and renamed into place only when complete, so a failed or interrupted run never
leaves a file that looks finished.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from wan22_desktop.errors import OperationError, UserInputError

OUTPUT_FORMATS = ("mp4", "png", "npy")

# The official writer: imageio's ffmpeg plugin with libx264, quality 8, yuv420p.
MP4_QUALITY = 8


def output_format_for(path: Path) -> str:
    """The format a path asks for: ``.mp4`` -> mp4, ``.npy`` -> npy, no suffix -> PNG frame folder."""
    suffix = path.suffix.lower()
    if suffix == ".mp4":
        return "mp4"
    if suffix == ".npy":
        return "npy"
    if suffix == "":
        return "png"
    raise UserInputError(
        f"unsupported output file type {suffix!r} for {path}",
        "use a .mp4 file, a .npy file (raw float video) or a folder name (PNG frames)",
    )


def to_uint8_frames(video: np.ndarray) -> np.ndarray:
    """[3, F, H, W] floats in [-1, 1] -> [F, H, W, 3] uint8, exactly as the official ``save_video``:
    clamp, (x + 1) / 2, times 255, then truncate (not round)."""
    if video.ndim != 4 or video.shape[0] != 3:
        raise ValueError(f"expected a video of shape [3, F, H, W], got {tuple(video.shape)}")
    x = np.clip(video.astype(np.float32, copy=False), -1.0, 1.0)
    x = (x - np.float32(-1.0)) / np.float32(2.0)
    x = (x * np.float32(255.0)).astype(np.uint8)
    return np.ascontiguousarray(x.transpose(1, 2, 3, 0))


def check_writable(folder: Path, choose: str = "another output path") -> None:
    """Create ``folder`` if needed; UserInputError (hint: "choose <choose>") when it can't be written."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserInputError(
            f"cannot create the output folder {folder}: {exc.strerror or exc}", f"choose {choose}"
        ) from exc
    if not os.access(folder, os.W_OK):
        raise UserInputError(
            f"the output folder {folder} is not writable", f"choose {choose} or fix its permissions"
        )


def save_video(video: np.ndarray, path: str | os.PathLike[str], fps: int) -> Path:
    """Write ``video`` ([3, F, H, W] float in [-1, 1]) to ``path``; the suffix picks the format.

    ``.npy`` keeps the raw floats exactly as decoded (no clamping); a path without a suffix becomes a
    folder of ``frame_00000.png`` files; ``.mp4`` is H.264 yuv420p at ``fps``.
    """
    target = Path(path)
    fmt = output_format_for(target)
    check_writable(target.parent)
    if target.exists() and fmt == "png" and not target.is_dir():
        raise UserInputError(f"{target} exists and is not a folder", "choose another output path")
    try:
        if fmt == "npy":
            _write_atomic_file(
                target, lambda tmp: np.save(tmp, np.asarray(video, dtype=np.float32))
            )
        elif fmt == "mp4":
            frames = to_uint8_frames(video)
            _write_atomic_file(target, lambda tmp: _write_mp4(tmp, frames, fps))
        else:
            _write_png_folder(target, to_uint8_frames(video))
    except OSError as exc:
        raise OperationError(
            f"could not write {target}: {exc.strerror or exc}",
            "check free disk space and permissions of the output folder",
        ) from exc
    return target


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _write_atomic_file(target: Path, write) -> None:
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{target.stem}.", suffix=f".part{target.suffix}", dir=target.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; finished files get normal modes
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _write_mp4(path: Path, frames: np.ndarray, fps: int) -> None:
    import imageio_ffmpeg

    n, h, w, _ = frames.shape
    writer = imageio_ffmpeg.write_frames(
        str(path),
        (w, h),
        fps=fps,
        codec="libx264",
        quality=MP4_QUALITY,
        pix_fmt_out="yuv420p",
        macro_block_size=16,
        ffmpeg_log_level="error",
    )
    writer.send(None)
    try:
        for i in range(n):
            writer.send(frames[i])
    finally:
        writer.close()
    if path.stat().st_size == 0:
        raise OSError(f"ffmpeg wrote an empty file for {path}")


def _write_png_folder(target: Path, frames: np.ndarray) -> None:
    from PIL import Image

    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent))
    try:
        for i, frame in enumerate(frames):
            Image.fromarray(frame).save(tmp / f"frame_{i:05d}.png")
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def save_thumbnail(video: np.ndarray, path: str | os.PathLike[str], max_side: int = 320) -> Path:
    """A small JPEG of the first frame for history grids (written atomically)."""
    from PIL import Image

    first = to_uint8_frames(video[:, :1])[0]
    img = Image.fromarray(first)
    img.thumbnail((max_side, max_side))
    target = Path(path)
    check_writable(target.parent)
    _write_atomic_file(target, lambda tmp: img.save(tmp, format="JPEG", quality=90))
    return target


def read_mp4_frames(path: str | os.PathLike[str]) -> np.ndarray:
    """Decode an mp4 to [F, H, W, 3] uint8 (tests, previews, 'last frame as image')."""
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(str(path))
    meta = reader.__next__()
    w, h = meta["size"]
    frames = [np.frombuffer(buf, dtype=np.uint8).reshape(h, w, 3) for buf in reader]
    return np.stack(frames)
