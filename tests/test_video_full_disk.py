"""A full disk while saving: a clear ``DiskFull`` line (folder, free space), never "saved", and no
file under the final name. On a real, tiny tmpfs where the test may mount one (root on Linux),
else with ffmpeg stand-ins that fail the way ffmpeg does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from wan22_desktop import cli
from wan22_desktop.engine import video_io
from wan22_desktop.engine.video_io import (
    estimate_output_bytes,
    preflight_output,
    read_mp4_frames,
    save_video,
)
from wan22_desktop.errors import DiskFull, OperationError


def _video(frames=9, h=64, w=64):
    rng = np.random.default_rng(1)
    return rng.uniform(-1, 1, (3, frames, h, w)).astype(np.float32)  # noise: compresses badly


@pytest.fixture
def full_disk(tmp_path):
    """A real filesystem with no free space left (a tmpfs filled up); skipped where we may not
    mount one."""
    mnt = tmp_path / "full"
    mnt.mkdir()
    if sys.platform != "linux" or os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root on Linux")
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mnt)], capture_output=True
    )
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.decode().strip()}")
    try:
        out = mnt / "out"
        out.mkdir()
        fd = os.open(mnt / "filler", os.O_WRONLY | os.O_CREAT)
        try:
            while os.write(fd, b"\0" * 4096):
                pass
        except OSError:
            pass
        finally:
            os.close(fd)
        yield out
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


@pytest.mark.parametrize("name", ["clip.mp4", "clip.npy", "frames"])
def test_real_full_disk_raises_disk_full_and_leaves_nothing(full_disk, name) -> None:
    with pytest.raises(DiskFull) as info:
        save_video(_video(), full_disk / name, fps=16)
    assert str(full_disk) in info.value.message and "free" in info.value.message
    assert "\n" not in info.value.message
    assert list(full_disk.iterdir()) == []


@pytest.mark.parametrize(
    ("when", "said"),
    [
        ("before rendering", "error: not enough disk space for v.mp4"),  # the preflight estimate
        ("while writing", "error: No space left"),  # the disk filled up during the render
    ],
)
def test_generate_on_a_full_disk_exits_1_without_saying_saved(
    full_disk, tmp_path, capsys, monkeypatch, when, said
) -> None:
    if when == "while writing":  # another program takes the space after the preflight check
        monkeypatch.setattr(video_io, "preflight_output", lambda *a, **k: None)
    ckpt = tmp_path / "ckpt"
    assert cli.main(["dev", "make-tiny-checkpoint", "--task", "ti2v-5B", "--out", str(ckpt)]) == 0
    capsys.readouterr()
    rc = cli.main(
        [
            "generate",
            "--task",
            "ti2v-5B",
            "--ckpt_dir",
            str(ckpt),
            "--size",
            "32*32",
            "--frame_num",
            "5",
            "--sample_steps",
            "1",
            "--device",
            "cpu",
            "--prompt",
            "a cat",
            "--save_file",
            str(full_disk / "v.mp4"),
        ]
    )
    out, err = capsys.readouterr()
    assert rc == 1 and "saved" not in out
    assert said in err and "free" in err and "hint:" in err
    assert (
        str(full_disk) in err
        and len([ln for ln in err.splitlines() if ln.startswith("error:")]) == 1
    )
    assert list(full_disk.iterdir()) == []


def _fake_ffmpeg(tmp_path: Path, body: str) -> str:
    exe = tmp_path / "fake-ffmpeg"
    exe.write_text(f"#!{sys.executable}\nimport sys\n{body}\n")
    exe.chmod(0o755)
    return str(exe)


@pytest.mark.skipif(sys.platform == "win32", reason="a script as an executable: POSIX")
def test_ffmpeg_reporting_no_space_is_disk_full(tmp_path, monkeypatch) -> None:
    exe = _fake_ffmpeg(
        tmp_path,
        "sys.stdin.buffer.read(100)\nopen(sys.argv[-1], 'wb').write(b'half')\n"
        "sys.stderr.write('av_interleaved_write_frame(): No space left on device\\n')\n"
        "sys.exit(1)",
    )
    monkeypatch.setattr(video_io, "_ffmpeg_exe", lambda: exe)
    out = tmp_path / "out"
    with pytest.raises(DiskFull, match="No space left to write clip.mp4"):
        save_video(_video(), out / "clip.mp4", fps=16)
    assert list(out.iterdir()) == []


@pytest.mark.skipif(sys.platform == "win32", reason="a script as an executable: POSIX")
def test_ffmpeg_that_exits_0_with_a_truncated_file_is_caught_by_the_read_back(
    tmp_path, monkeypatch
) -> None:
    good = tmp_path / "good.mp4"
    save_video(_video(), good, fps=16)
    half = good.read_bytes()[: good.stat().st_size // 2]
    (tmp_path / "half.bin").write_bytes(half)
    exe = _fake_ffmpeg(
        tmp_path,
        "sys.stdin.buffer.read()\n"
        f"open(sys.argv[-1], 'wb').write(open({str(tmp_path / 'half.bin')!r}, 'rb').read())",
    )
    monkeypatch.setattr(video_io, "_ffmpeg_exe", lambda: exe)
    out = tmp_path / "out"
    with pytest.raises(OperationError, match="frames|read back"):
        save_video(_video(), out / "clip.mp4", fps=16)
    assert list(out.iterdir()) == []
    assert read_mp4_frames(good).shape[0] == 9  # the real writer's file reads back whole


def test_preflight_refuses_what_cannot_fit(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(video_io, "free_bytes", lambda folder: 10 * 1024**2)
    with pytest.raises(DiskFull, match="not enough disk space") as info:
        preflight_output(tmp_path / "v.mp4", 1280, 720, 81)
    assert str(tmp_path) in info.value.message and "10.5 MB free" in info.value.message
    preflight_output(tmp_path / "tiny.mp4", 32, 32, 5, "mp4")  # fits: no error
    monkeypatch.setattr(video_io, "free_bytes", lambda folder: 10**12)
    preflight_output(tmp_path / "v.npy", 1280, 720, 81)


@pytest.mark.parametrize("name, fmt", [("v.npy", "npy"), ("v.mp4", "mp4"), ("frames", "png")])
def test_estimate_is_an_upper_bound_and_exact_for_npy(tmp_path, name, fmt) -> None:
    video = _video(frames=5, h=48, w=64)
    out = save_video(video, tmp_path / name, fps=16)
    size = sum(p.stat().st_size for p in out.iterdir()) if out.is_dir() else out.stat().st_size
    bound = estimate_output_bytes(64, 48, 5, fmt)
    assert size <= bound
    if fmt == "npy":
        assert size == bound
