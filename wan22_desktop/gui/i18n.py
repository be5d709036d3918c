"""Choosing the interface language; loading the translations shipped in the package.

``wan22_desktop/resources/i18n`` (found with ``importlib.resources``, so an installed wheel has
them) holds ``.ts`` sources and compiled ``.qm`` files, both committed (``pyside6-lrelease``
needs the Qt tools, which an installed app may lack): one ``<lang>.qm`` per language
(``zh_CN.qm``), plus Qt's own translation of standard dialogs when PySide6 ships it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

from wan22_desktop.resources import i18n_dir
from wan22_desktop.settings import Settings

if TYPE_CHECKING:

    def QT_TRANSLATE_NOOP(context: str, source: str, /) -> str:
        """Qt's marker for ``pyside6-lupdate``; it returns ``source`` (the stubs say ``object``)."""
        ...

else:
    from PySide6.QtCore import QT_TRANSLATE_NOOP as QT_TRANSLATE_NOOP  # re-exported for the views

log = logging.getLogger(__name__)

I18N_DIR = i18n_dir()
LANGUAGES = {"en": "English", "zh_CN": "简体中文"}


def choose_language(settings: Settings, system_locale: str | None = None) -> str:
    """The user's choice; until they choose, Chinese for a Chinese system locale, else English."""
    if not settings.is_default("language"):
        return settings.get("language")
    name = system_locale if system_locale is not None else QLocale.system().name()
    return "zh_CN" if name.lower().startswith("zh") else "en"


def translation_files(language: str, folder: Path = I18N_DIR) -> list[Path]:
    """The app's ``.qm`` for ``language``; a missing one is a warning (the app stays English)."""
    if language == "en":
        return []
    qm = folder / f"{language}.qm"
    if not qm.is_file():
        log.warning("no translation file %s; the interface stays in English", qm)
        return []
    return [qm]


def install_translators(
    app: QCoreApplication, language: str, folder: Path = I18N_DIR
) -> list[QTranslator]:
    """Install the translators for ``language`` on ``app``; keep the returned list alive."""
    installed: list[QTranslator] = []
    # (folder, stem, ours): a .qm of ours that does not load is a warning; Qt's own is optional.
    candidates = [(p.parent, p.stem, True) for p in translation_files(language, folder)]
    if language != "en":
        qt_dir = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath))
        candidates.append((qt_dir, f"qtbase_{language}", False))
    for directory, stem, ours in candidates:
        translator = QTranslator(app)
        if translator.load(stem, str(directory)):
            app.installTranslator(translator)
            installed.append(translator)
        else:
            log.log(
                logging.WARNING if ours else logging.INFO,
                "no translation %s in %s",
                stem,
                directory,
            )
    if language != "en":
        QLocale.setDefault(QLocale(language))
    return installed


def remove_translators(app: QCoreApplication, translators: list[QTranslator]) -> None:
    for translator in translators:
        app.removeTranslator(translator)
    translators.clear()
