"""The views the main window shows, in sidebar order, imported lazily by dotted name.

A view module that does not exist yet (another branch) shows a placeholder instead of breaking
start-up, so the shell and each view can land independently. To add a view, add one line here;
the class is constructed as ``ViewClass(ctx, parent)``.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ViewSpec:
    key: str  # stable id: state keys, ``sig_view_requested`` argument
    title: str  # English; translated in the "Views" context
    target: str  # "package.module:ClassName"

    def translated_title(self) -> str:
        return QCoreApplication.translate("Views", self.title)

    def load(self) -> type | None:
        """The view class, or None when its module is not there (logged, not raised)."""
        module_name, _, class_name = self.target.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                log.info("view %s not available: %s", self.key, exc)
                return None
            raise
        return getattr(module, class_name)


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
