"""Events a download reports, and the speed/ETA arithmetic behind them (pure, clock injected)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from wan22_desktop.units import format_bytes


@dataclass(frozen=True)
class DownloadEvent:
    """One thing a GUI or CLI shows. ``kind``: listed | progress | file_done | status.

    Bytes already on disk from earlier runs count in ``done``/``file_done``; ``speed`` counts only
    bytes moved now, so the ETA is honest after a resume.
    """

    kind: str
    download_id: int
    status: str
    done: int
    total: int
    speed: float = 0.0
    eta: float | None = None
    path: str | None = None
    file_done: int = 0
    file_total: int | None = None
    message: str | None = None
    hint: str | None = None

    def to_json(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items()}


class RateMeter:
    """Bytes per second over a sliding window; recent speed matters more than the average since
    start, which a resume (a big instant prefix) or a stall would distort."""

    def __init__(self, window: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.window = window
        self.clock = clock
        self.samples: deque[tuple[float, int]] = deque()
        self.moved = 0

    def add(self, n: int) -> None:
        self.moved += n
        now = self.clock()
        self.samples.append((now, self.moved))
        while len(self.samples) > 2 and now - self.samples[0][0] > self.window:
            self.samples.popleft()

    def speed(self) -> float:
        if len(self.samples) < 2:
            return 0.0
        (t0, b0), (t1, b1) = self.samples[0], self.samples[-1]
        return (b1 - b0) / (t1 - t0) if t1 > t0 else 0.0


def eta(remaining: int, speed: float) -> float | None:
    return remaining / speed if speed > 0 and remaining >= 0 else None


def human_bytes(n: float) -> str:
    """Decimal units (1 KB = 1000 B), as disks and download sizes are counted."""
    return format_bytes(n)


def human_eta(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    s = int(seconds)
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"
