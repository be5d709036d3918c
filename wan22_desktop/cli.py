"""``wan22``: the command line. Each command group lives in ``wan22_desktop/commands/``.

Exit codes: 0 ok, 2 bad input, 1 failure. Errors are one line plus a hint; the traceback goes to
the log file (and to the terminal with ``--debug``).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
from collections.abc import Sequence

from wan22_desktop import __version__
from wan22_desktop.errors import Wan22Error

log = logging.getLogger(__name__)


def command_modules() -> list[str]:
    """Every module in ``wan22_desktop.commands``; each has ``register(subparsers)`` that adds its
    parsers and sets ``func(args) -> int`` on them. Discovered, so command groups stay independent."""
    import wan22_desktop.commands as pkg

    return sorted(m.name for m in pkgutil.iter_modules(pkg.__path__) if not m.name.startswith("_"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wan22", description="Wan22 Desktop command line")
    parser.add_argument("--version", action="version", version=f"wan22 {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--home", help="data folder to use (default: $WAN22_HOME or the OS's)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in command_modules():
        importlib.import_module(f"wan22_desktop.commands.{name}").register(sub)
    return parser


def _print_error(err: Wan22Error) -> None:
    from wan22_desktop.logs import redact  # a message may quote a server reply

    print(f"error: {redact(err.message)}", file=sys.stderr)
    if err.hint:
        print(f"hint: {redact(err.hint)}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from wan22_desktop.logs import setup_fallback_logging, setup_logging
    from wan22_desktop.paths import app_paths, folder_problem

    logs_dir = app_paths(args.home).logs
    try:
        setup_logging(logs_dir, verbose=args.debug)
    except OSError as exc:  # an unwritable log dir must not stop the command: one warning
        why = folder_problem(logs_dir) or f"{exc.strerror or exc}"
        print(f"warning: no log file ({why}); logging to this terminal only", file=sys.stderr)
        setup_fallback_logging(verbose=args.debug)
    try:
        return int(args.func(args) or 0)
    except Wan22Error as err:
        log.error("%s: %s (hint: %s)", type(err).__name__, err.message, err.hint, exc_info=True)
        if args.debug:
            raise
        _print_error(err)
        return err.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - last line of defence: one line, details in the log
        log.exception("unexpected error")
        if args.debug:
            raise
        print(f"error: unexpected {type(exc).__name__}: {exc}", file=sys.stderr)
        print(
            "hint: the log file has the details; run again with --debug to see them here",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
