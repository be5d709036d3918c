"""``wan22-desktop``: start the GUI for one data dir.

Start-up order matters for speed and safety: logging first (so any failure is in the log), then
the QApplication and translations, the context (settings, database), then the window; the runner
and the hardware probe start after the window is shown.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import time
import traceback
from pathlib import Path
from types import TracebackType
from typing import cast

from PySide6.QtCore import QLockFile, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from wan22_desktop.errors import Wan22Error
from wan22_desktop.gui.context import AppContext
from wan22_desktop.gui.i18n import RESOURCES, choose_language, install_translators
from wan22_desktop.gui.notifier import notice_for
from wan22_desktop.gui.qt_check import HINT as QT_HINT
from wan22_desktop.gui.qt_check import pyside_problem
from wan22_desktop.gui.theme import apply_theme
from wan22_desktop.logs import setup_logging
from wan22_desktop.paths import app_paths

log = logging.getLogger(__name__)

APP_ID = "Wan22Desktop"


def app_icon() -> QIcon:
    icon = QIcon()
    for png in sorted((RESOURCES / "icons").glob("wan22-desktop-*.png")):
        icon.addFile(str(png))
    svg = RESOURCES / "wan22-desktop.svg"
    if svg.exists():
        icon.addFile(str(svg))
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
    p.add_argument("--quit-after-shown", action="store_true", help=argparse.SUPPRESS)  # benchmarks
    args, _qt_args = p.parse_known_args(argv)
    return args


def _single_instance_lock(data_dir: Path) -> QLockFile | None:
    lock = QLockFile(str(data_dir / "gui.lock"))
    lock.setStaleLockTime(0)
    return lock if lock.tryLock(0) else None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    paths = app_paths(args.home).ensure()
    log_file = setup_logging(paths.logs, verbose=args.debug)
    log.info("wan22-desktop starting; data dir %s", paths.data)

    if problem := pyside_problem():
        log.error("%s", problem)
        print(f"wan22-desktop: {problem}\nhint: {QT_HINT}", file=sys.stderr)
        return 1
    QApplication.setApplicationName(APP_ID)
    QApplication.setApplicationDisplayName("Wan22 Desktop")
    QApplication.setDesktopFileName("wan22-desktop")
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
    translators = install_translators(app, choose_language(ctx.settings))
    apply_theme(app, ctx.settings.get("theme"))
    install_excepthook(ctx)

    from wan22_desktop.gui.main_window import MainWindow  # after translators: titles translate
    from wan22_desktop.gui.runner_controller import RunnerController
    from wan22_desktop.gui.tray import Tray

    window = MainWindow(ctx, icon=app.windowIcon())
    window.show()
    log.info("window shown; log file %s", log_file)
    ctx.runner = RunnerController(ctx, start=not args.no_runner)
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
