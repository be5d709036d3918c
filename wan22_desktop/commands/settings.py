"""``wan22 settings``: list, read, change and reset the options in ``settings.json``.

For headless machines (a runner box reached over SSH), where no Settings view exists: every option
of ``settings.OPTIONS``, parsed and checked as the Settings view checks it, saved with the same
atomic write. A corrupt file is reported (and backed up) by ``Settings.load``, never overwritten.

``wan22 queue run`` reads ``settings.json`` when it starts. The app window polls the file and
takes a change saved here within seconds (``AppContext.check_settings_file``; folders, language
and theme when it starts again), and a save writes only what that process changed over the file
as it is then (``Settings.save``), so neither undoes the other. ``set`` and ``reset`` name an
open window (its lock file) so the user knows which process they changed.
"""

from __future__ import annotations

import argparse
import difflib
import json
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wan22_desktop.errors import UserInputError

if TYPE_CHECKING:
    from wan22_desktop.settings import Option, Settings

# The single-instance lock of the app window (gui/app.py ``_single_instance_lock``), a QLockFile:
# its first lines are the holder's pid, application name and host name.
GUI_LOCK_NAME = "gui.lock"
# Key names that mean a credential: those live in the OS keyring (``wan22 keys``), never here.
SECRET_WORDS = ("key", "token", "secret", "password", "passwd", "dashscope", "credential")
KEYS_HINT = (
    "the DashScope API key is kept in the OS keyring, not in settings.json: store it with "
    "`wan22 keys set dashscope` (it asks for the key; nothing was saved)"
)
KEYS_STATUS_HINT = (
    "the DashScope API key is kept in the OS keyring, not in settings.json: "
    "`wan22 keys status` says whether one is stored"
)
RESTART_NOTE = (
    "a running `wan22 queue run` reads settings when it starts: restart it to use this "
    "(an open app window picks it up within seconds; folders, language and theme when it "
    "starts again)"
)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "settings", help="list, get, set and reset the app's settings (settings.json)"
    )
    sub = p.add_subparsers(dest="settings_command", metavar="ACTION", required=True)

    p_list = sub.add_parser(
        "list", help="every setting: its value, default, allowed values and what it does"
    )
    p_list.set_defaults(func=cmd_list)

    p_get = sub.add_parser("get", help="print one setting's value")
    p_get.add_argument("key", metavar="KEY")
    p_get.set_defaults(func=cmd_get)

    p_set = sub.add_parser(
        "set",
        help="change one setting (true/false, a number, one of its choices, an absolute folder; "
        "VALUE - reads it from stdin)",
    )
    p_set.add_argument("key", metavar="KEY", help="a setting's name (`wan22 settings list`)")
    p_set.add_argument(
        "value", metavar="VALUE", help='the new value; "" for an empty text or folder; - for stdin'
    )
    p_set.set_defaults(func=cmd_set)

    p_reset = sub.add_parser(
        "reset", help="set KEYs (or, without one, every setting) back to the default"
    )
    p_reset.add_argument("keys", metavar="KEY", nargs="*")
    p_reset.set_defaults(func=cmd_reset)


# ---- helpers


def _load(args: argparse.Namespace) -> Settings:
    """The data folder's settings; a corrupt file raises OperationError (after a backup copy)."""
    from wan22_desktop.paths import app_paths
    from wan22_desktop.settings import Settings

    return Settings.load(app_paths(args.home))


def looks_secret(key: str) -> bool:
    folded = key.lower()
    return any(word in folded for word in SECRET_WORDS)


def find_option(key: str, *, keys_hint: str = KEYS_HINT) -> Option:
    """The option named ``key`` (``-`` taken for ``_``, any case); UserInputError naming the
    close matches otherwise, or pointing at ``wan22 keys`` for a credential's name."""
    from wan22_desktop.settings import OPTIONS

    name = key.strip().lower().replace("-", "_")
    if name in OPTIONS:
        return OPTIONS[name]
    shown = _shown(key)
    if looks_secret(name):
        raise UserInputError(f"{shown} is not a setting", keys_hint)
    close = difflib.get_close_matches(name, OPTIONS, n=3, cutoff=0.6)
    close += [k for k in OPTIONS if name and name in k and k not in close][: 3 - len(close)]
    hint = "`wan22 settings list` shows every setting"
    if close:
        hint = f"did you mean {' or '.join(close)}? " + hint
    raise UserInputError(f"unknown setting {shown}", hint)


def _shown(text: str) -> str:
    from wan22_desktop.logs import redact
    from wan22_desktop.terminal_text import escape_control

    return escape_control(redact(repr(text)))


def refuse_secret_value(option: Option, text: str) -> None:
    """A value shaped like an API key (``sk-…``, a bearer token) or a URL with a password is
    refused before anything echoes it: settings.json is plain text."""
    from wan22_desktop.logs import redact

    if not option.is_path and redact(text) != text:  # a folder may well be called sk-renders
        raise UserInputError(f"the value for {option.key} looks like an API key", KEYS_HINT)
    if _url_password(text):
        raise UserInputError(
            f"the value for {option.key} holds a password (user:password@ in a URL)",
            "settings.json is plain text: give the URL without the password (a Hugging Face "
            "token goes in $HF_TOKEN); nothing was saved",
        )


def _url_password(text: str) -> bool:
    rest = text.strip().split("://", 1)
    if len(rest) != 2:
        return False
    userinfo = rest[1].split("/", 1)[0].rpartition("@")[0]
    return ":" in userinfo


def show_value(value: Any) -> str:
    """A value as a user writes it: true/false, numbers bare, text as is (quoted when empty or
    when spaces or line breaks would hide where it ends)."""
    from wan22_desktop.logs import redact
    from wan22_desktop.terminal_text import escape_control

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if not text or text != text.strip() or any(c in text for c in " \n\t\r"):
        text = json.dumps(text, ensure_ascii=False)
    return escape_control(redact(text))


def raw_value(value: Any) -> str:
    """A value unquoted (an empty text is an empty line), safe for a terminal."""
    from wan22_desktop.logs import redact
    from wan22_desktop.terminal_text import escape_control

    if isinstance(value, str):
        return escape_control(redact(value), keep_newlines=True)
    return show_value(value)


def _json_value(value: Any) -> Any:
    from wan22_desktop.logs import redact

    return redact(value) if isinstance(value, str) else value


def allowed(option: Option) -> str:
    """What ``set`` accepts for ``option``, in words."""
    if option.choices is not None:
        return "one of: " + ", ".join(map(str, option.choices))
    if option.type is bool:
        return "true or false"
    if option.minimum is not None and option.maximum is not None:
        kind = "a whole number" if option.type is int else "a number"
        return f"{kind} from {option.minimum:g} to {option.maximum:g}"
    if option.is_path:
        return "an absolute folder"  # the title says what "" means
    if option.key == "path_mappings":
        return 'FROM => TO pairs, separated by ";" or line breaks'
    if option.key == "hf_endpoint":
        return 'an http(s) URL, or "" for huggingface.co'
    return "text"


def open_window(data_dir: Path) -> str | None:
    """Who holds the app window's lock on this data folder, in words; None when nobody does
    (no lock file, or one left by a process that is gone)."""
    import psutil

    try:
        lines = (data_dir / GUI_LOCK_NAME).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    fields = lines.splitlines()
    try:
        pid = int(fields[0])
    except (IndexError, ValueError):
        return None
    host = fields[2].strip() if len(fields) > 2 else ""
    if host and host != socket.gethostname():
        return f"on {host} (pid {pid})"
    try:
        if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
            return None
    except psutil.NoSuchProcess:
        return None
    except psutil.AccessDenied:
        pass  # another user's live process
    return f"(pid {pid})"


def _warn_open_window(settings: Settings) -> str | None:
    where = open_window(settings.path.parent)
    if where is None:
        return None
    warning = (
        f"Wan22 Desktop is open for this data folder {where}: it picks this up within seconds "
        "(folders, language and theme when it starts again)"
    )
    print(f"warning: {warning}", file=sys.stderr)
    return warning


def _dropped(settings: Settings, saved: bool) -> str | None:
    """Values ``Settings.load`` ignored (bad ones in a hand-edited file) are not written back."""
    others = [k for k in settings.ignored if settings.is_default(k)]
    if not saved or not others:
        return None
    return (
        f"invalid values in the file were dropped, their defaults are in use: {', '.join(others)}"
    )


def _folder_warning(option: Option, value: Any) -> str | None:
    """A folder that cannot be used is worth a warning, not a refusal: it may be a mount that is
    not there yet (the Settings view does not check either)."""
    from wan22_desktop.paths import folder_problem

    if not option.is_path or not value:
        return None
    folder = Path(value)
    if option.key == "comfyui_dir":
        return None if folder.is_dir() else f"{folder} is not a folder here (yet)"
    return folder_problem(folder)


# ---- commands


def cmd_list(args: argparse.Namespace) -> int:
    from wan22_desktop.logs import redact
    from wan22_desktop.settings import OPTIONS
    from wan22_desktop.terminal_text import escape_control

    settings = _load(args)
    rows = []
    for key, option in OPTIONS.items():
        value = settings.get(key)
        rows.append(
            {
                "key": key,
                "value": _json_value(value),
                "default": option.default,
                "is_default": value == option.default,
                "stored": not settings.is_default(key),
                "type": option.type.__name__,
                "choices": list(option.choices) if option.choices is not None else None,
                "minimum": option.minimum,
                "maximum": option.maximum,
                "is_path": option.is_path,
                "title": option.title,
            }
        )
    unknown = sorted(settings.unknown_keys())
    if args.json:
        data = {
            "file": str(settings.path),
            "exists": settings.path.exists(),
            "read_only": settings.read_only_reason,
            "settings": rows,
            "unknown_keys": unknown,  # names only: their values are not ours to print
            "ignored": {k: redact(why) for k, why in settings.ignored.items()},
        }
        print(json.dumps(data, ensure_ascii=False))
        return 0
    where = "" if settings.path.exists() else " (no file yet: every setting is at its default)"
    print(f"settings file: {settings.path}{where}")
    if settings.read_only_reason:
        print(f"read-only: {settings.read_only_reason}")
    for row, option in zip(rows, OPTIONS.values(), strict=True):
        default = "[default]" if row["is_default"] else f"[default: {show_value(option.default)}]"
        print(f"{option.key} = {show_value(settings.get(option.key))}  {default}")
        print(f"    {option.title}; {allowed(option)}")
    for why in settings.ignored.values():
        print(f"ignored in the file, the default is used: {escape_control(redact(why))}")
    if unknown:
        print(f"kept for another version: {', '.join(map(_shown, unknown))}")
    return 0


def cmd_get(args: argparse.Namespace) -> int:
    option = find_option(args.key, keys_hint=KEYS_STATUS_HINT)
    settings = _load(args)
    value = settings.get(option.key)
    if args.json:
        data = {
            "key": option.key,
            "value": _json_value(value),
            "default": option.default,
            "is_default": value == option.default,
        }
        print(json.dumps(data, ensure_ascii=False))
    else:
        print(raw_value(value))  # as is, for scripts: `$(wan22 settings get live_preview)`
    return 0


def cmd_set(args: argparse.Namespace) -> int:
    from wan22_desktop.settings import parse_text

    option = find_option(args.key)
    text = sys.stdin.read() if args.value == "-" else args.value
    refuse_secret_value(option, text)
    value = parse_text(option, text)
    settings = _load(args)
    old = settings.get(option.key)
    changed = settings.is_default(option.key) or old != value
    if changed:
        settings.set(option.key, value)
        settings.save()
    warnings = [w for w in (_folder_warning(option, value), _dropped(settings, changed)) if w]
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    if changed and (window := _warn_open_window(settings)):
        warnings.append(window)
    return _report(args, settings, [(option, old, value)] if changed else [], warnings)


def cmd_reset(args: argparse.Namespace) -> int:
    from wan22_desktop.settings import OPTIONS

    options = [find_option(k) for k in args.keys] or list(OPTIONS.values())
    settings = _load(args)
    changes = []
    for option in options:
        if settings.is_default(option.key):
            continue
        old = settings.get(option.key)
        settings.reset(option.key)
        changes.append((option, old, option.default))
    warnings = []
    if changes:
        settings.save()
        if dropped := _dropped(settings, True):
            print(f"warning: {dropped}", file=sys.stderr)
            warnings.append(dropped)
        if window := _warn_open_window(settings):
            warnings.append(window)
    return _report(args, settings, changes, warnings, reset=True)


def _report(
    args: argparse.Namespace,
    settings: Settings,
    changes: list[tuple[Option, Any, Any]],
    warnings: list[str],
    *,
    reset: bool = False,
) -> int:
    if args.json:
        data = {
            "file": str(settings.path),
            "changed": [
                {"key": o.key, "old": _json_value(old), "value": _json_value(new)}
                for o, old, new in changes
            ],
            "note": RESTART_NOTE if changes else None,
            "warnings": warnings,
        }
        print(json.dumps(data, ensure_ascii=False))
        return 0
    if not changes:
        if not reset:
            print("unchanged: it already has that value")
        else:
            print("already at the default" if args.keys else "every setting is at its default")
        return 0
    for option, old, new in changes:
        print(f"{option.key} = {show_value(new)} (was {show_value(old)})")
    print(f"saved to {settings.path}; {RESTART_NOTE}")
    return 0
