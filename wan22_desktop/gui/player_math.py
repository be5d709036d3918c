"""Frame and time arithmetic for the player (pure; positions are QMediaPlayer milliseconds)."""

from __future__ import annotations

import math

SPEEDS = (0.25, 0.5, 1.0, 1.5, 2.0)
DEFAULT_FPS = 16.0  # the A14B tasks' rate; used until the file's own rate is known


def frame_at(position_ms: int, fps: float) -> int:
    """The frame shown at ``position_ms`` (frame n covers [n, n+1) / fps seconds)."""
    return max(0, int(position_ms * fps / 1000.0 + 1e-6))


def position_of(frame: int, fps: float) -> int:
    """The first millisecond at which ``frame`` is shown (rounded up, so it lands inside it)."""
    return max(0, math.ceil(frame * 1000.0 / fps - 1e-6))


def frame_count(duration_ms: int, fps: float) -> int:
    return max(1, round(duration_ms * fps / 1000.0))


def step_position(position_ms: int, fps: float, step: int, duration_ms: int) -> int:
    """Where a +/- ``step`` frame step lands, clamped to the first and last frame."""
    if fps <= 0:
        fps = DEFAULT_FPS
    last = frame_count(duration_ms, fps) - 1 if duration_ms > 0 else 0
    target = min(max(frame_at(position_ms, fps) + step, 0), max(last, 0))
    return position_of(target, fps)


def format_time(ms: int) -> str:
    """``m:ss.mmm`` (clips are seconds long; the milliseconds matter when stepping frames)."""
    ms = max(0, int(ms))
    minutes, rest = divmod(ms, 60_000)
    return f"{minutes}:{rest // 1000:02d}.{rest % 1000:03d}"
