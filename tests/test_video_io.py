"""Video output: formats, the official uint8 conversion, and no partial files on failure."""

from pathlib import Path

import numpy as np
import pytest

from wan22_desktop.engine.video_io import (
    read_mp4_frames,
    save_thumbnail,
    save_video,
    to_uint8_frames,
)
from wan22_desktop.errors import OperationError, UserInputError


def _video(frames=5, h=64, w=96, seed=0):
    rng = np.random.default_rng(seed)
    # A smooth gradient plus noise, slightly outside [-1, 1] to exercise clamping.
    base = np.linspace(-1.1, 1.1, w, dtype=np.float32)[None, None, None, :]
    return (base + 0.05 * rng.standard_normal((3, frames, h, w))).astype(np.float32)


def test_uint8_conversion_truncates_like_official():
    v = np.array([-2.0, -1.0, 0.0, 0.999, 1.0, 3.0], dtype=np.float32).reshape(1, 1, 1, 6)
    v = np.repeat(v, 3, axis=0)
    out = to_uint8_frames(v)[0, 0, :, 0]
    # (x + 1) / 2 * 255 truncated: 0 -> 127 (127.5 truncated), 0.999 -> 254 (254.87...)
    assert out.tolist() == [0, 0, 127, 254, 255, 255]


def test_mp4_roundtrip_is_close(tmp_path):
    video = _video()
    out = save_video(video, tmp_path / "clip.mp4", fps=16)
    frames = read_mp4_frames(out)
    assert frames.shape == (5, 64, 96, 3)
    expected = to_uint8_frames(video).astype(np.float32)
    assert np.abs(frames.astype(np.float32) - expected).mean() < 6.0  # lossy, but close
    assert not list(tmp_path.glob(".*part*"))


def test_npy_keeps_raw_floats(tmp_path):
    video = _video()
    out = save_video(video, tmp_path / "clip.npy", fps=16)
    assert np.array_equal(np.load(out), video)  # before any clamping


def test_png_folder(tmp_path):
    video = _video(frames=3)
    out = save_video(video, tmp_path / "frames", fps=16)
    files = sorted(p.name for p in out.iterdir())
    assert files == ["frame_00000.png", "frame_00001.png", "frame_00002.png"]
    from PIL import Image

    assert np.array_equal(np.asarray(Image.open(out / files[1])), to_uint8_frames(video)[1])


def test_thumbnail(tmp_path):
    out = save_thumbnail(_video(h=64, w=96), tmp_path / "t.jpg", max_side=48)
    from PIL import Image

    assert Image.open(out).size == (48, 32)


def test_bad_suffix_and_unwritable(tmp_path):
    with pytest.raises(UserInputError, match="unsupported output file type"):
        save_video(_video(), tmp_path / "clip.avi", fps=16)
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        if not __import__("os").access(ro, __import__("os").W_OK):
            with pytest.raises(UserInputError, match="not writable"):
                save_video(_video(), ro / "clip.mp4", fps=16)
    finally:
        ro.chmod(0o700)


def test_failure_leaves_no_partial_file(tmp_path, monkeypatch):
    import wan22_desktop.engine.video_io as vio

    def boom(path, frames, fps, metadata=None):
        Path(path).write_bytes(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(vio, "_write_mp4", boom)
    with pytest.raises(OperationError, match="No space left"):
        save_video(_video(), tmp_path / "clip.mp4", fps=16)
    assert list(tmp_path.iterdir()) == []


def test_finished_files_get_normal_permissions(tmp_path):
    import os
    import stat

    old = os.umask(0o022)
    try:
        mp4 = save_video(_video(), tmp_path / "clip.mp4", fps=16)
        frames = save_video(_video(frames=1), tmp_path / "frames", fps=16)
    finally:
        os.umask(old)
    assert stat.S_IMODE(mp4.stat().st_mode) == 0o644
    assert stat.S_IMODE(frames.stat().st_mode) == 0o755
