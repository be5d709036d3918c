"""The views the main window shows, in sidebar order, imported lazily by dotted name.

Importing on first use keeps cold start fast (the first view shows before the others load). To
add a view, add one line here; the class is constructed as ``ViewClass(ctx, parent)``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication

from wan22_desktop.gui.i18n import QT_TRANSLATE_NOOP


@dataclass(frozen=True)
class ViewSpec:
    key: str  # stable id: state keys, ``sig_view_requested`` argument
    title: str  # English; translated in the "Views" context
    target: str  # "package.module:ClassName"

    def translated_title(self) -> str:
        return QCoreApplication.translate("Views", self.title)

    def load(self) -> type:
        """The view class (imported now)."""
        module_name, _, class_name = self.target.partition(":")
        return getattr(importlib.import_module(module_name), class_name)


VIEWS: tuple[ViewSpec, ...] = (
    ViewSpec(
        "generate",
        QT_TRANSLATE_NOOP("Views", "Generate"),
        "wan22_desktop.gui.views.generate:GenerateView",
    ),
    ViewSpec(
        "queue", QT_TRANSLATE_NOOP("Views", "Queue"), "wan22_desktop.gui.views.queue:QueueView"
    ),
    ViewSpec(
        "history",
        QT_TRANSLATE_NOOP("Views", "History"),
        "wan22_desktop.gui.views.history:HistoryView",
    ),
    ViewSpec(
        "player", QT_TRANSLATE_NOOP("Views", "Player"), "wan22_desktop.gui.views.player:PlayerView"
    ),
    ViewSpec(
        "models", QT_TRANSLATE_NOOP("Views", "Models"), "wan22_desktop.gui.views.models:ModelsView"
    ),
    ViewSpec(
        "settings",
        QT_TRANSLATE_NOOP("Views", "Settings"),
        "wan22_desktop.gui.views.settings:SettingsView",
    ),
)
