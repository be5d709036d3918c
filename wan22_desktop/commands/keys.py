"""``wan22 keys``: store, check and remove the DashScope API key in the OS keyring.

The key is read from a hidden prompt (or from stdin when piped), never from argv, so it does not
end up in shell history or process listings.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys

from wan22_desktop import secrets
from wan22_desktop.errors import UserInputError

PROVIDERS = ("dashscope",)


def register(subparsers: argparse._SubParsersAction) -> None:
    keys = subparsers.add_parser("keys", help="manage API keys (DashScope) in the OS keyring")
    sub = keys.add_subparsers(dest="keys_command", metavar="ACTION", required=True)

    p_set = sub.add_parser(
        "set",
        help="store a key (read from a hidden prompt or stdin, never from the command line)",
    )
    p_set.add_argument("provider", choices=PROVIDERS)
    p_set.set_defaults(func=cmd_set)

    p_status = sub.add_parser("status", help="say whether a key is available (masked)")
    p_status.set_defaults(func=cmd_status)

    p_rm = sub.add_parser("rm", help="remove a stored key")
    p_rm.add_argument("provider", choices=PROVIDERS)
    p_rm.set_defaults(func=cmd_rm)


def read_secret(prompt: str) -> str:
    """A hidden prompt on a terminal; one line from stdin when piped (scripts, tests)."""
    if sys.stdin is not None and sys.stdin.isatty():
        return getpass.getpass(prompt)
    line = sys.stdin.readline() if sys.stdin is not None else ""
    return line.strip()


def cmd_set(args: argparse.Namespace) -> int:
    key = read_secret("DashScope API key (input hidden): ")
    if not key:
        raise UserInputError(
            "no key was entered", "type or pipe the key, e.g. `wan22 keys set dashscope < keyfile`"
        )
    secrets.set_dashscope_key(key)
    masked = secrets.mask(key)
    if args.json:
        print(
            json.dumps(
                {
                    "stored": True,
                    "provider": "dashscope",
                    "masked": masked,
                    "service": secrets.SERVICE_NAME,
                }
            )
        )
    else:
        print(f"DashScope key {masked} stored in the OS keyring (service {secrets.SERVICE_NAME!r})")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    st = secrets.key_status()
    if args.json:
        print(
            json.dumps(
                {
                    "provider": "dashscope",
                    "source": st.source,
                    "masked": st.masked,
                    "backend": st.backend,
                    "keyring_error": st.keyring_error,
                    "service": secrets.SERVICE_NAME,
                }
            )
        )
        return 0
    if st.source == "env":
        print(f"dashscope: {st.masked} from ${secrets.ENV_KEY} (takes precedence over the keyring)")
    elif st.source == "keyring":
        print(f"dashscope: {st.masked} in the OS keyring ({st.backend})")
    else:
        print("dashscope: no key (set one with `wan22 keys set dashscope` or $DASH_API_KEY)")
    if st.keyring_error:
        print(f"keyring: {st.keyring_error}\nhint: {secrets.KEYRING_HINT}")
    return 0


def cmd_rm(args: argparse.Namespace) -> int:
    removed = secrets.delete_dashscope_key()
    if args.json:
        print(json.dumps({"provider": "dashscope", "removed": removed}))
    else:
        print(
            "DashScope key removed from the OS keyring"
            if removed
            else "no DashScope key was stored in the OS keyring"
        )
    return 0
