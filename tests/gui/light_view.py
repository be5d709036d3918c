"""A view with nothing in it, for tests of the main window's own behaviour (state, sizes)."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget


class LightView(QWidget):
    """Built as ``LightView(ctx, parent)`` like every view; no minimum size, no timers."""

    def __init__(self, _ctx: object, parent: QWidget | None = None) -> None:
        super().__init__(parent)
