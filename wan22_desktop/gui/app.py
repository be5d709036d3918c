"""``wan22-desktop``: start the GUI for one data dir.

Start-up order matters for speed and safety: logging first (so any failure is in the log), then
the QApplication and translations, the context (settings, database), then the window; the runner
and the hardware probe start after the window is shown.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
import time
import traceback
from pathlib import Path
from types import TracebackType
from typing import cast

from PySide6.QtCore import QLockFile, QTimer
from PySide6.QtGui import QGuiApplication, QIcon
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from wan22_desktop.errors import Wan22Error
from wan22_desktop.gui.context import AppContext
from wan22_desktop.gui.i18n import choose_language, install_translators
from wan22_desktop.gui.notifier import notice_for
from wan22_desktop.gui.qt_check import HINT as QT_HINT
from wan22_desktop.gui.qt_check import no_display_problem, pyside_problem
from wan22_desktop.gui.theme import apply_theme
from wan22_desktop.logs import setup_logging
from wan22_desktop.paths import app_paths
from wan22_desktop.resources import APP_ID as DESKTOP_ID
from wan22_desktop.resources import icon_files

log = logging.getLogger(__name__)

APP_ID = "Wan22Desktop"


def app_icon() -> QIcon:
    """Every shipped size plus the SVG (a missing file is a warning from ``resources``)."""
    icon = QIcon()
    for path in icon_files():
        icon.addFile(str(path))
    return icon


def install_excepthook(ctx: AppContext | None) -> None:
    """Uncaught exceptions: traceback to the log, message + hint to the status area, app lives on."""

    def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            QApplication.quit()
            return
        log.error("uncaught exception:\n%s", "".join(traceback.format_exception(exc_type, exc, tb)))
        if ctx is not None:
            notice = notice_for(exc)
            ctx.notifier._post(notice)  # noqa: SLF001 - already logged above
        else:
            print(notice_for(exc).text(), file=sys.stderr)

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        exc = args.exc_value  # typed Optional; a raised exception always has its value
        log.error(
            "uncaught exception in thread %s",
            getattr(args.thread, "name", "?"),
            exc_info=(args.exc_type, exc, args.exc_traceback) if exc is not None else None,
        )

    sys.excepthook = hook
    threading.excepthook = thread_hook


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="wan22-desktop", description="Wan22 Desktop (the window).")
    p.add_argument("--home", help="keep everything under this folder (like WAN22_HOME)")
    p.add_argument("--debug", action="store_true", help="verbose logging")
    p.add_argument(
        "--no-runner",
        action="store_true",
        help="do not run the queue in this window (only show it)",
    )
    p.add_argument(
        "--install-desktop-entry",
        action="store_true",
        help="add the app to this user's menus (Linux: XDG entry, icons, metainfo; "
        "Windows: Start menu), then exit",
    )
    p.add_argument(
        "--uninstall-desktop-entry",
        action="store_true",
        help="remove what --install-desktop-entry added, then exit",
    )
    p.add_argument(
        "--smoke-test",
        action="store_true",
        help="show the window without running the queue, print one WAN22_SMOKE line "
        "(title, language, view names) and quit (for checks of an installation)",
    )
    p.add_argument("--quit-after-shown", action="store_true", help=argparse.SUPPRESS)  # benchmarks
    args, _qt_args = p.parse_known_args(argv)
    return args


def _single_instance_lock(data_dir: Path) -> QLockFile | None:
    lock = QLockFile(str(data_dir / "gui.lock"))
    lock.setStaleLockTime(0)
    return lock if lock.tryLock(0) else None


def desktop_entry(args: argparse.Namespace) -> int:
    """``--install-desktop-entry`` / ``--uninstall-desktop-entry``: no QApplication, no display."""
    from wan22_desktop import desktop_entry as entry

    icon_folder = app_paths(args.home).data
    try:
        if args.install_desktop_entry:
            outcome = entry.install(icon_folder)
        else:
            outcome = entry.uninstall(icon_folder)
    except Wan22Error as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"hint: {exc.hint}", file=sys.stderr)
        return exc.exit_code
    print(outcome.message)
    for path in outcome.paths:
        print(f"  {path}")
    return 0


def smoke_report(window: QWidget, language: str, translators: int) -> str:
    """One line an installation check can read: what the user would see, in their language."""
    sidebar = window.sidebar  # type: ignore[attr-defined]
    report = {
        "title": window.windowTitle(),
        "language": language,
        "translators": translators,
        "views": [sidebar.item(i).text() for i in range(sidebar.count())],
        "desktop_file": QGuiApplication.desktopFileName(),
        "icon_sizes": sorted({s.width() for s in window.windowIcon().availableSizes()}),
    }
    return "WAN22_SMOKE " + json.dumps(report, ensure_ascii=False)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.install_desktop_entry or args.uninstall_desktop_entry:
        return desktop_entry(args)
    if problem := no_display_problem():
        print(f"wan22-desktop: {problem}", file=sys.stderr)
        return 1
    paths = app_paths(args.home).ensure()
    log_file = setup_logging(paths.logs, verbose=args.debug)
    log.info("wan22-desktop starting; data dir %s", paths.data)

    if problem := pyside_problem():
        log.error("%s", problem)
        print(f"wan22-desktop: {problem}\nhint: {QT_HINT}", file=sys.stderr)
        return 1
    QApplication.setApplicationName(APP_ID)
    QApplication.setApplicationDisplayName("Wan22 Desktop")
    QApplication.setDesktopFileName(DESKTOP_ID)  # the installed .desktop: taskbar grouping
    # instance() is typed as the QCoreApplication base; a GUI process only ever makes a QApplication
    app = cast("QApplication | None", QApplication.instance()) or QApplication(sys.argv[:1])
    install_excepthook(None)
    app.setWindowIcon(app_icon())

    lock = _single_instance_lock(paths.data)
    if lock is None:
        QMessageBox.information(
            None,
            "Wan22 Desktop",
            app.translate("App", "Wan22 Desktop is already open for this data folder."),
        )
        return 0
    try:
        ctx = AppContext.open(args.home)
    except Wan22Error as exc:
        log.exception("cannot open the data folder")
        QMessageBox.critical(None, "Wan22 Desktop", f"{exc.message}\n\n{exc.hint or ''}")
        return exc.exit_code
    language = choose_language(ctx.settings)
    translators = install_translators(app, language)
    apply_theme(app, ctx.settings.get("theme"))
    install_excepthook(ctx)

    from wan22_desktop.gui.main_window import MainWindow  # after translators: titles translate
    from wan22_desktop.gui.runner_controller import RunnerController
    from wan22_desktop.gui.tray import Tray

    window = MainWindow(ctx, icon=app.windowIcon())
    window.show()
    ctx.watch_settings_file()  # `wan22 settings set` while the window is open
    log.info("window shown; log file %s", log_file)
    ctx.runner = RunnerController(ctx, start=not (args.no_runner or args.smoke_test))
    window.attach_runner(ctx.runner)
    tray = Tray(ctx, app.windowIcon())
    tray.attach_runner(ctx.runner)

    def show_window() -> None:
        window.showNormal()
        window.raise_()
        window.activateWindow()

    tray.sig_show_requested.connect(show_window)
    tray.sig_quit_requested.connect(window.close)
    if args.quit_after_shown:  # benchmarks/bench_gui.py: report when the first frame is up

        def shown() -> None:
            print(f"WAN22_SHOWN {time.time():.6f}", flush=True)
            window.close()

        QTimer.singleShot(0, shown)
    if args.smoke_test:
        loaded = len(translators)

        def report() -> None:
            print(smoke_report(window, language, loaded), flush=True)
            window.close()

        QTimer.singleShot(0, report)
    app.setQuitOnLastWindowClosed(True)
    try:
        code = app.exec()
    finally:
        ctx.close()
        del translators
        lock.unlock()
    return code


if __name__ == "__main__":
    sys.exit(main())
