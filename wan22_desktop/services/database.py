"""Which database a data folder uses: its own SQLite file or a shared PostgreSQL queue.

One rule for ``wan22 db use`` and the Settings view: the URL is checked by connecting (which
also creates or upgrades the schema), its password goes to the OS keyring and never into
settings.json, and the choice takes effect the next time the app or a runner starts.
"""

from __future__ import annotations

from dataclasses import dataclass

from wan22_desktop import secrets
from wan22_desktop.db import location
from wan22_desktop.db.database import open_database
from wan22_desktop.errors import UserInputError
from wan22_desktop.paths import AppPaths
from wan22_desktop.settings import Settings


@dataclass(frozen=True)
class DatabaseChoice:
    url: str | None  # None: the data folder's own SQLite file
    password_stored: bool = False
    password_in_url: bool = False  # the caller should warn: it may be in a shell history


def current(paths: AppPaths, settings: Settings) -> str:
    """What the data folder uses now, fit to show (never a password)."""
    url = settings.database_url
    return location.display(url) if url else str(paths.database)


def check_reachable(url: str, password: str | None = None) -> None:
    """Connect to ``url`` once (creating or upgrading the schema); raises ``UserInputError`` for
    a URL that is not a database URL, ``DatabaseUnreachableError`` when the server does not
    answer. Network work: the GUI runs it off its thread, then calls ``use_database`` with
    ``check=False``."""
    if not url.strip():
        raise UserInputError("no database URL given", location.URL_HINT, field="url")
    parsed = location.parse(url.strip())
    if parsed.is_postgres:
        open_database(location.with_password(parsed.url, password or parsed.password)).close()


def use_database(
    settings: Settings,
    url: str | None,
    *,
    password: str | None = None,
    check: bool = True,
) -> DatabaseChoice:
    """Point the data folder at ``url`` (None: back to its SQLite file) and save the settings.
    Raises ``UserInputError`` for a URL that is not a database URL and
    ``DatabaseUnreachableError`` when ``check`` cannot connect."""
    if url is None:
        settings.set_database_url(None)
        settings.save()
        return DatabaseChoice(None)
    if not url.strip():
        raise UserInputError("no database URL given", location.URL_HINT, field="url")
    parsed = location.parse(url.strip())
    password = password or parsed.password
    if check:
        check_reachable(parsed.url, password)
    stored = bool(password and parsed.is_postgres)
    if stored:
        secrets.set_database_password(parsed.account, password or "")
    settings.set_database_url(parsed.url)
    settings.save()
    return DatabaseChoice(parsed.url, stored, bool(parsed.password))
