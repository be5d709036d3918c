"""Writing finished videos: mp4 (H.264, as the official writer), a PNG frame folder, or raw ``.npy``.

Works on numpy arrays so that it needs no torch. Every format is written under a temporary name in
the target folder (``.<stem>.<random>.part<suffix>``, see ``PART_MARKER``) and renamed into place
only when complete and verified (an mp4 is read back and its frames counted), so a failed or
interrupted run never leaves a file that looks finished. ffmpeg's exit status and messages are
checked: a full disk is ``DiskFull`` naming the folder and its free space, never "saved".
The job's settings go inside the mp4 (``comment`` tag), each PNG frame (``wan22`` iTXt) and the
JPEG thumbnail (its comment): ``video_metadata`` builds and reads them.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from wan22_desktop.errors import DiskFull, OperationError, UserInputError
from wan22_desktop.units import format_bytes

OUTPUT_FORMATS = ("mp4", "png", "npy")

# The official writer: imageio's ffmpeg plugin with libx264, quality 8, yuv420p.
MP4_QUALITY = 8
PART_MARKER = ".part"  # in every temporary name we write; runtime/leftovers.py cleans them up
DISK_FULL_ERRNOS = frozenset(
    e for e in (errno.ENOSPC, getattr(errno, "EDQUOT", None), errno.EFBIG) if e is not None
)
DISK_FULL_HINT = "free some disk space or choose an output folder on another disk, then try again"
PREFLIGHT_MARGIN = 8 * 1024**2  # temp files, the thumbnail, the log: room beyond the video itself


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


def save_video(
    video: np.ndarray,
    path: str | os.PathLike[str],
    fps: int,
    metadata: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``video`` ([3, F, H, W] float in [-1, 1]) to ``path``; the suffix picks the format.

    ``.npy`` keeps the raw floats exactly as decoded (no clamping); a path without a suffix becomes a
    folder of ``frame_00000.png`` files; ``.mp4`` is H.264 yuv420p at ``fps``. ``metadata`` (the
    settings payload, ``video_metadata.build_payload``) goes into the mp4's ``comment`` tag and
    each PNG's ``wan22`` text chunk (a ``.npy`` has no place for it).
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
            _write_atomic_file(target, lambda tmp: _write_mp4(tmp, frames, fps, metadata))
        else:
            _write_png_folder(target, to_uint8_frames(video), metadata)
    except OSError as exc:
        raise write_error(target, exc) from exc
    return target


def write_error(target: Path, exc: OSError) -> OperationError:
    """The error to show for ``exc`` raised while writing ``target``: ``DiskFull`` (one line with
    the folder and its free space) for a full disk or quota, else a plain ``OperationError``."""
    if exc.errno in DISK_FULL_ERRNOS:
        folder = target.parent
        return DiskFull(
            f"No space left to write {target.name}: {folder} has "
            f"{format_bytes(free_bytes(folder))} free",
            DISK_FULL_HINT,
        )
    return OperationError(
        f"could not write {target}: {exc.strerror or exc}",
        "check free disk space and permissions of the output folder",
    )


def free_bytes(folder: Path) -> int:
    """Free bytes for us on the disk holding ``folder`` (its nearest existing ancestor)."""
    probe = Path(folder)
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    try:
        return int(shutil.disk_usage(probe).free)
    except OSError:
        return 0


def estimate_output_bytes(width: int, height: int, frame_num: int, fmt: str) -> int:
    """A safe upper bound of the file a render writes: exact for npy, generous for mp4 and PNG.

    mp4: H.264 at our quality never comes near the raw yuv420 size (1.5 bytes a pixel), so that is
    the bound; PNG: raw RGB plus per-file overhead (zlib can only lose a little on noise).
    """
    pixels = width * height
    if fmt == "npy":
        return 3 * frame_num * pixels * 4 + 128  # float32 [3, F, H, W] plus the .npy header
    if fmt == "png":
        return frame_num * (pixels * 3 + pixels // 64 + 4096)
    return frame_num * (pixels * 3 // 2) + 64 * 1024  # mp4: container headers and index


def preflight_output(
    path: str | os.PathLike[str], width: int, height: int, frame_num: int, fmt: str | None = None
) -> None:
    """Raise ``DiskFull`` before rendering when the output cannot fit where it is to be written."""
    target = Path(path)
    fmt = fmt or output_format_for(target)
    need = estimate_output_bytes(width, height, frame_num, fmt) + PREFLIGHT_MARGIN
    free = free_bytes(target.parent)
    if free < need:
        raise DiskFull(
            f"not enough disk space for {target.name}: {target.parent} has {format_bytes(free)} "
            f"free and this video needs up to {format_bytes(need)}",
            DISK_FULL_HINT,
        )


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _write_atomic_file(target: Path, write) -> None:
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{target.stem}.", suffix=f"{PART_MARKER}{target.suffix}", dir=target.parent
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


def _ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def mp4_command(
    path: Path, width: int, height: int, fps: int, metadata_file: Path | None = None
) -> list[str]:
    """The command imageio-ffmpeg's ``write_frames`` runs for the official writer (libx264,
    quality 8 -> crf 10, yuv420p, sizes padded to 16), which we run ourselves so that ffmpeg's exit
    status and messages are ours to check. ``metadata_file``: an FFMETADATA file whose tags the
    mp4 gets (a file, not ``-metadata``: a long prompt must not meet the argument-size limit)."""
    crf = int((1 - MP4_QUALITY / 10.0) * 51)
    cmd = [_ffmpeg_exe(), "-y", "-f", "rawvideo", "-vcodec", "rawvideo", "-s", f"{width}x{height}"]
    cmd += ["-pix_fmt", "rgb24", "-r", str(Fraction(fps).limit_denominator()), "-i", "-"]
    if metadata_file is not None:
        cmd += ["-f", "ffmetadata", "-i", str(metadata_file), "-map", "0:v", "-map_metadata", "1"]
    cmd += ["-an"]
    cmd += ["-vcodec", "libx264", "-pix_fmt", "yuv420p", "-crf", str(crf)]
    if width % 16 or height % 16:
        cmd += ["-vf", f"scale={-(-width // 16) * 16}:{-(-height // 16) * 16}"]
    return [*cmd, "-v", "error", str(path)]


def ffmetadata_text(tags: Mapping[str, str]) -> str:
    """An FFMETADATA1 file: ``key=value`` lines with ``=``, ``;``, ``#``, ``\\`` and newlines
    escaped by a backslash (ffmpeg's rules)."""
    lines = [";FFMETADATA1"]
    for key, value in tags.items():
        for ch in ("\\", "=", ";", "#", "\n"):
            value = value.replace(ch, "\\" + ch)
        lines.append(f"{key}={value}")
    return "\n".join(lines) + "\n"


def _write_mp4(
    path: Path, frames: np.ndarray, fps: int, metadata: Mapping[str, Any] | None = None
) -> None:
    meta_file = (
        None if metadata is None else path.with_suffix(".ffmeta")
    )  # a .part name: cleaned up too
    try:
        if metadata is not None and meta_file is not None:
            from wan22_desktop.video_metadata import comment_text

            text = ffmetadata_text({"comment": comment_text(metadata)})
            meta_file.write_text(text, "utf-8")
        _run_ffmpeg_mp4(path, frames, fps, meta_file)
    finally:
        if meta_file is not None:
            meta_file.unlink(missing_ok=True)


def _run_ffmpeg_mp4(path: Path, frames: np.ndarray, fps: int, meta_file: Path | None) -> None:
    n, h, w, _ = frames.shape
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            mp4_command(path, w, h, fps, meta_file),
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
        assert proc.stdin is not None
        try:
            for i in range(n):
                proc.stdin.write(np.ascontiguousarray(frames[i]).tobytes())
            proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass  # ffmpeg stopped early: its exit status and message say why
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        code = proc.wait()
        err.seek(0)
        message = err.read().decode("utf-8", errors="replace").strip()
    if code != 0 or message:
        _raise_ffmpeg_error(path, code, message)
    check_mp4(path, n)


def _raise_ffmpeg_error(path: Path, code: int, message: str) -> None:
    last = message.splitlines()[-1] if message else f"exit status {code}"
    if "No space left" in message:
        raise OSError(errno.ENOSPC, "No space left on device", str(path))
    if "Disk quota exceeded" in message and hasattr(errno, "EDQUOT"):
        raise OSError(errno.EDQUOT, "Disk quota exceeded", str(path))
    if code == 0:
        return  # a warning-level message with a good exit: the read-back check decides
    raise OSError(errno.EIO, f"ffmpeg failed: {last[:300]}", str(path))


def check_mp4(path: Path, expected_frames: int) -> None:
    """Read ``path`` back (as ffprobe would) and raise OSError unless it has every frame."""
    import imageio_ffmpeg

    if not path.exists() or path.stat().st_size == 0:
        raise OSError(errno.EIO, "ffmpeg wrote an empty file", str(path))
    try:
        frames, _ = imageio_ffmpeg.count_frames_and_secs(str(path))
    except (RuntimeError, OSError, ValueError) as exc:
        raise OSError(
            errno.EIO, f"the written video cannot be read back ({exc})", str(path)
        ) from exc
    if frames != expected_frames:
        raise OSError(
            errno.EIO,
            f"the written video has {frames} of {expected_frames} frames",
            str(path),
        )


def _write_png_folder(
    target: Path, frames: np.ndarray, metadata: Mapping[str, Any] | None = None
) -> None:
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    info = None
    if metadata is not None:
        from wan22_desktop.video_metadata import FIELD, png_text

        info = PngInfo()
        info.add_itxt(FIELD, png_text(metadata))
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=PART_MARKER, dir=target.parent))
    try:
        for i, frame in enumerate(frames):
            Image.fromarray(frame).save(tmp / f"frame_{i:05d}.png", pnginfo=info)
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def save_thumbnail(
    video: np.ndarray,
    path: str | os.PathLike[str],
    max_side: int = 320,
    metadata: Mapping[str, Any] | None = None,
) -> Path:
    """A small JPEG of the first frame for history grids (written atomically); ``metadata`` goes
    into its comment (``{"wan22": ...}``) when it fits one JPEG comment segment."""
    from PIL import Image

    extra: dict[str, Any] = {}
    if metadata is not None:
        from wan22_desktop.video_metadata import JPEG_COMMENT_MAX, comment_text

        comment = comment_text(metadata).encode("utf-8")
        if len(comment) <= JPEG_COMMENT_MAX:
            extra["comment"] = comment

    first = to_uint8_frames(video[:, :1])[0]
    img = Image.fromarray(first)
    img.thumbnail((max_side, max_side))
    target = Path(path)
    check_writable(target.parent)
    try:
        _write_atomic_file(target, lambda tmp: img.save(tmp, format="JPEG", quality=90, **extra))
    except OSError as exc:
        raise write_error(target, exc) from exc
    return target


def read_mp4_frames(path: str | os.PathLike[str]) -> np.ndarray:
    """Decode an mp4 to [F, H, W, 3] uint8 (tests, previews, 'last frame as image')."""
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(str(path))
    meta = reader.__next__()
    w, h = meta["size"]
    frames = [np.frombuffer(buf, dtype=np.uint8).reshape(h, w, 3) for buf in reader]
    return np.stack(frames)
