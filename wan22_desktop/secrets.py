"""The DashScope API key: kept in the OS keyring, handed to workers only through their environment.

Where the key may live: the OS keyring (service ``wan22-desktop``, user ``dashscope``) or the
``DASH_API_KEY`` environment variable, which wins, as in the official Wan2.2 code. Nothing here
writes the key anywhere else: not to files, the database, logs, argv or error messages. When no
usable keyring backend exists (a headless Linux box) we say so and how to fix it; we never fall
back to storing the key in plain text.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from wan22_desktop.errors import OperationError, UserInputError
from wan22_desktop.logs import register_secret

log = logging.getLogger(__name__)

SERVICE_NAME = "wan22-desktop"
DASHSCOPE_USER = "dashscope"
ENV_KEY = "DASH_API_KEY"
KEYRING_HINT = (
    "install and unlock an OS keyring (macOS Keychain and Windows Credential Locker work out of the "
    "box; on Linux run a Secret Service such as gnome-keyring or KWallet), or set the DASH_API_KEY "
    "environment variable instead"
)


class KeyringUnavailable(OperationError):
    """No usable keyring backend: the key can be neither stored nor read there."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"no usable OS keyring: {reason}", KEYRING_HINT)


@dataclass(frozen=True)
class KeyStatus:
    """Whether a DashScope key is available and from where; never the key itself."""

    source: Literal["env", "keyring"] | None
    masked: str | None
    backend: str
    keyring_error: str | None = None


def mask(key: str | None) -> str:
    """A form of the key safe to show: a short prefix and suffix only for long keys."""
    if not key:
        return ""
    key = key.strip()
    if len(key) < 16:  # too short to reveal any part without giving most of it away
        return "****"
    return f"{key[:3]}****{key[-4:]}"


def _keyring():  # noqa: ANN202 - the keyring module, imported late to keep start-up light
    import keyring

    return keyring


def backend_name() -> str:
    """The active keyring backend, for status lines and bug reports."""
    try:
        kr = _keyring().get_keyring()
    except Exception as exc:  # noqa: BLE001 - a broken keyring config must not crash a status call
        return f"unavailable ({type(exc).__name__})"
    return f"{type(kr).__module__}.{type(kr).__name__}"


def _check_backend() -> None:
    """Raise ``KeyringUnavailable`` for backends that cannot keep a secret (fail / null)."""
    kr = _keyring().get_keyring()
    module = type(kr).__module__
    if module.endswith("backends.fail"):
        raise KeyringUnavailable("no recommended keyring backend is installed")
    if module.endswith("backends.null"):
        raise KeyringUnavailable("the keyring is disabled (null backend)")


def _keyring_call(op: str, *args: str) -> str | None:
    """Run one keyring operation, turning every keyring failure into ``KeyringUnavailable``.

    The exception's text comes from the backend and never contains the password (we never pass
    it to a message), but the reason is kept short in case a backend is chatty.
    """
    from keyring.errors import KeyringError, PasswordDeleteError

    try:
        _check_backend()
    except KeyringUnavailable:
        raise
    except Exception as exc:  # noqa: BLE001 - a broken keyring config (bad PYTHON_KEYRING_BACKEND)
        raise KeyringUnavailable(f"the keyring cannot start ({type(exc).__name__})") from None
    try:
        return getattr(_keyring(), op)(*args)
    except PasswordDeleteError:
        raise
    except KeyringError as exc:
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise KeyringUnavailable(reason) from None
    except Exception as exc:  # noqa: BLE001 - e.g. D-Bus errors a backend does not wrap
        log.debug("keyring %s failed", op, exc_info=True)
        raise KeyringUnavailable(f"the keyring backend failed ({type(exc).__name__})") from None


def _keyring_key() -> str | None:
    value = _keyring_call("get_password", SERVICE_NAME, DASHSCOPE_USER)
    if not value or not value.strip():
        return None
    register_secret(value)  # from now on no log line or event of this process can carry it
    return value.strip()


def get_dashscope_key() -> str | None:
    """The key to use: ``$DASH_API_KEY`` first (as official), else the keyring, else None.

    An unusable keyring is not an error here: having no key is a normal state that callers
    report in their own words. The reason is logged (never the key).
    """
    env = os.environ.get(ENV_KEY, "").strip()
    if env:
        register_secret(env)
        return env
    try:
        return _keyring_key()
    except KeyringUnavailable as exc:
        log.info("DashScope key not read from the keyring: %s", exc.message)
        return None


def set_dashscope_key(key: str) -> None:
    """Store the key in the OS keyring; raise ``KeyringUnavailable`` when there is none."""
    key = key.strip()
    if not key:
        raise UserInputError(
            "the DashScope API key is empty", "paste the key from the DashScope console"
        )
    if any(c.isspace() for c in key) or not key.isprintable():
        raise UserInputError(
            "the DashScope API key contains spaces or control characters",
            "paste only the key itself (it usually starts with sk-)",
        )
    register_secret(key)
    _keyring_call("set_password", SERVICE_NAME, DASHSCOPE_USER, key)
    log.info("DashScope key stored in the keyring (%s)", backend_name())


def delete_dashscope_key() -> bool:
    """Remove the key from the keyring; True if one was there."""
    from keyring.errors import PasswordDeleteError

    try:
        if _keyring_call("get_password", SERVICE_NAME, DASHSCOPE_USER) is None:
            return False
        _keyring_call("delete_password", SERVICE_NAME, DASHSCOPE_USER)
    except PasswordDeleteError:
        return False
    log.info("DashScope key removed from the keyring")
    return True


def key_status() -> KeyStatus:
    """Where the key would come from now, masked; the keyring's problem, if it has one."""
    backend = backend_name()
    keyring_error: str | None = None
    try:
        stored = _keyring_key()
    except KeyringUnavailable as exc:
        stored, keyring_error = None, exc.message
    env = os.environ.get(ENV_KEY, "").strip()
    if env:
        return KeyStatus("env", mask(env), backend, keyring_error)
    if stored:
        return KeyStatus("keyring", mask(stored), backend, keyring_error)
    return KeyStatus(None, None, backend, keyring_error)


def worker_env(base: Mapping[str, str]) -> dict[str, str]:
    """The environment for a worker process: ``base`` plus ``DASH_API_KEY`` from the keyring.

    This is the only way the key reaches a worker (never argv or job files). A key already in
    ``base`` is kept, so an explicit environment variable still wins.
    """
    env = dict(base)
    if env.get(ENV_KEY, "").strip():
        register_secret(env[ENV_KEY])
        return env
    try:
        key = _keyring_key()
    except KeyringUnavailable as exc:
        log.info("worker gets no DashScope key from the keyring: %s", exc.message)
        return env
    if key:
        env[ENV_KEY] = key
    return env


# ---- database passwords (a shared PostgreSQL queue): keyring only, never settings.json or argv

DATABASE_USER_PREFIX = "database:"


def _database_user(account: str) -> str:
    return DATABASE_USER_PREFIX + account


def set_database_password(account: str, password: str) -> None:
    """Store the password of ``account`` ("user@host:port/database") in the OS keyring."""
    if not password:
        raise UserInputError("the database password is empty", "type the password, or leave it out")
    _keyring_call("set_password", SERVICE_NAME, _database_user(account), password)
    log.info("database password for %s stored in the keyring (%s)", account, backend_name())


def get_database_password(account: str) -> str | None:
    """The stored password, or None (none stored, or no usable keyring: said in the log)."""
    try:
        return _keyring_call("get_password", SERVICE_NAME, _database_user(account)) or None
    except KeyringUnavailable as exc:
        log.info("database password not read from the keyring: %s", exc.message)
        return None


def delete_database_password(account: str) -> bool:
    from keyring.errors import PasswordDeleteError

    try:
        if _keyring_call("get_password", SERVICE_NAME, _database_user(account)) is None:
            return False
        _keyring_call("delete_password", SERVICE_NAME, _database_user(account))
    except PasswordDeleteError:
        return False
    return True
