"""``wan22``: the command line. Each command group lives in ``wan22_desktop/commands/``.

Exit codes: 0 ok, 2 bad input, 1 failure. Errors are one line plus a hint; the traceback goes to
the log file (and to the terminal with ``--debug``).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import pkgutil
import re
import sys
from collections.abc import Sequence
from typing import NoReturn

from wan22_desktop import __version__
from wan22_desktop.errors import Wan22Error

log = logging.getLogger(__name__)


def command_modules() -> list[str]:
    """Every module in ``wan22_desktop.commands``; each has ``register(subparsers)`` that adds its
    parsers and sets ``func(args) -> int`` on them. Discovered, so command groups stay independent."""
    import wan22_desktop.commands as pkg

    return sorted(m.name for m in pkgutil.iter_modules(pkg.__path__) if not m.name.startswith("_"))


class Parser(argparse.ArgumentParser):
    """argparse with the CLI's error form: one ``error:`` line naming the flag, one ``hint:``
    line, exit code 2 (argparse's default prints the whole usage first). Sub-command parsers
    inherit it (``add_subparsers`` uses the parent's class)."""

    def error(self, message: str) -> NoReturn:
        from wan22_desktop.terminal_text import escape_control

        print(f"error: {escape_control(message)}", file=sys.stderr)
        print(f"hint: see `{self.prog} --help` for the flags and their values", file=sys.stderr)
        sys.exit(2)


GLOBAL_FLAGS = ("--debug", "--json", "--home")


def _add_global_flags(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """--debug, --json and --home; on sub-commands with SUPPRESS defaults, so that given after
    the sub-command they count and not given they keep what was given before it."""
    g = parser.add_argument_group("global options") if suppress else parser
    off: object = argparse.SUPPRESS if suppress else False
    unset: object = argparse.SUPPRESS if suppress else None
    g.add_argument("--debug", action="store_true", default=off, help="show tracebacks on errors")
    g.add_argument("--json", action="store_true", default=off, help="machine-readable output")
    g.add_argument(
        "--home", default=unset, help="data folder to use (default: $WAN22_HOME or the OS's)"
    )


_RST = (
    (re.compile(r":[a-z]+:`~?([^`]+)`"), r"\1"),  # :class:`X`, :func:`~m.f`
    (re.compile(r"``([^`]+)``"), r"\1"),  # ``literal``
    (re.compile(r"\*\*([^*]+)\*\*"), r"\1"),  # **bold**
)


def plain_help(text: str | None) -> str | None:
    """Help text without reStructuredText markup (descriptions often come from docstrings)."""
    if not text:
        return text
    for pattern, repl in _RST:
        text = pattern.sub(repl, text)
    return text


def _subparser_actions(parser: argparse.ArgumentParser) -> list[argparse._SubParsersAction]:
    return [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]


def _finish(parser: argparse.ArgumentParser, *, root: bool) -> None:
    """Walk every (sub-)parser: global flags on each, plain-text help everywhere."""
    if not root:
        taken = {s for a in parser._actions for s in a.option_strings}
        if not taken & set(GLOBAL_FLAGS):
            _add_global_flags(parser, suppress=True)
    parser.description = plain_help(parser.description)
    for action in parser._actions:
        if isinstance(action.help, str):
            action.help = plain_help(action.help)
    for sub in _subparser_actions(parser):
        for choice in sub._choices_actions:
            choice.help = plain_help(choice.help)
        for child in sub.choices.values():
            _finish(child, root=False)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="wan22", description="Wan22 Desktop command line")
    parser.add_argument("--version", action="version", version=f"wan22 {__version__}")
    _add_global_flags(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in command_modules():
        importlib.import_module(f"wan22_desktop.commands.{name}").register(sub)
    _finish(parser, root=True)
    return parser


def _print_error(err: Wan22Error) -> None:
    from wan22_desktop.logs import redact  # a message may quote a server reply
    from wan22_desktop.terminal_text import escape_control

    # A message listing several things (each download source tried) keeps a line each, indented
    # and escaped so that no line can pass for a "hint:" or a control sequence.
    first, *more = redact(err.message).split("\n")
    print(f"error: {escape_control(first)}", file=sys.stderr)
    for line in more:
        print(f"  {escape_control(line.strip())}", file=sys.stderr)
    if err.hint:
        print(f"hint: {escape_control(redact(err.hint))}", file=sys.stderr)


def _quiet_broken_pipe() -> int:
    """The reader went away (``wan22 queue list | head -1``): stop quietly, as a process killed
    by SIGPIPE would, without the interpreter complaining when it flushes stdout at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout may be no real file (tests)
        pass
    return 141


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a flag error already printed
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
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
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, inside the handler, not at exit
        return code
    except BrokenPipeError:
        return _quiet_broken_pipe()
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
        from wan22_desktop.frozen import needs_worker_env

        if isinstance(exc, ModuleNotFoundError) and (no_torch := needs_worker_env(exc)):
            _print_error(no_torch)  # the bundle (ADR 0023) has no torch in this process
            return no_torch.exit_code
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
