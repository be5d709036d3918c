"""The one phase clock of a job: seconds per phase, and a listener told when a phase begins.

Phases are flat and consecutive (prompt_extension, loading, text_encoding, image_encoding,
sampling, decoding, saving): a phase ends when the next begins or when the job finishes. The
pipeline, the job orchestration, the worker and ``wan22 generate`` all time the same clock, so a
phase is measured once, in one place. No torch here.
"""

from __future__ import annotations

import time
from collections.abc import Callable

PhaseCallback = Callable[[str], None]


class PhaseClock:
    """``clock.phase("sampling")`` ends the running phase and starts the next one."""

    def __init__(self, on_phase: PhaseCallback | None = None) -> None:
        self.on_phase = on_phase
        self.timings: dict[str, float] = {}
        self.current: str | None = None  # stays set after a failure: the phase that failed
        self._started = 0.0

    def phase(self, name: str) -> None:
        self._close()
        self.current = name
        self._started = time.perf_counter()
        if self.on_phase is not None:
            self.on_phase(name)

    def _close(self) -> None:
        if self.current is not None:
            took = time.perf_counter() - self._started
            self.timings[self.current] = self.timings.get(self.current, 0.0) + took
            self._started = time.perf_counter()

    def finish(self) -> dict[str, float]:
        """End the running phase; the seconds per phase, rounded for records."""
        self._close()
        self.current = None
        return {k: round(v, 4) for k, v in self.timings.items()}
