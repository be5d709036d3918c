"""Which database a data folder uses: its own SQLite file, or a shared PostgreSQL queue.

The URL lives in ``settings.json`` without its password (``wan22 db use``); the password lives in
the OS keyring under an account named after the user, host, port and database, and is joined to
the URL only in memory, when the engine is created. ``sslmode`` and other query options pass
through untouched. Every command, the runner and the GUI open their database through
``open_configured`` (``database.open_app_database``), so they all use the configured one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from wan22_desktop.db import postgres
from wan22_desktop.errors import UserInputError
from wan22_desktop.paths import AppPaths

URL_HINT = (
    "use postgresql://USER@HOST[:PORT]/DATABASE[?sslmode=require] for a shared queue, "
    "or sqlite:///PATH for a file"
)


@dataclass(frozen=True)
class DatabaseUrl:
    """A parsed database URL, password split off."""

    url: str  # without the password: safe for settings, logs and status lines
    password: str | None
    is_postgres: bool

    @property
    def account(self) -> str:
        """The keyring account of this URL's password."""
        return keyring_account(self.url)


def parse(raw: str) -> DatabaseUrl:
    """Check a user's URL; raise ``UserInputError`` naming what is wrong (never echoing a
    password)."""
    raw = raw.strip()
    if not (postgres.is_postgres_url(raw) or raw.startswith("sqlite:///")):
        raise UserInputError(f"not a database URL: {_scheme(raw)}", URL_HINT, field="url")
    if raw.startswith("sqlite:///"):
        return DatabaseUrl(raw, None, False)
    try:
        url = make_url(postgres.driver_url(raw))
    except (ArgumentError, ValueError):
        raise UserInputError("the database URL cannot be read", URL_HINT, field="url") from None
    if not url.host or not url.database:
        raise UserInputError(
            "the database URL needs a host and a database name", URL_HINT, field="url"
        )
    password = url.password if url.password else None
    clean = url._replace(password=None).render_as_string(hide_password=False)  # set() keeps it
    return DatabaseUrl(_plain_scheme(clean), str(password) if password else None, True)


def keyring_account(url: str) -> str:
    u = make_url(postgres.driver_url(url))
    return f"{u.username or ''}@{u.host or ''}:{u.port or 5432}/{u.database or ''}"


def with_password(url: str, password: str | None) -> str | URL:
    """The URL the engine gets: the driver's scheme, plus the password (kept out of strings)."""
    if not postgres.is_postgres_url(url):
        return url
    u = make_url(postgres.driver_url(url))
    return u.set(password=password) if password else u


def display(url: str) -> str:
    """A URL safe to show: the password masked if one slipped in."""
    if not postgres.is_postgres_url(url):
        return url
    return _plain_scheme(make_url(postgres.driver_url(url)).render_as_string(hide_password=True))


def _plain_scheme(url: str) -> str:
    return url.replace(postgres.DRIVER + "://", "postgresql://", 1)


def _scheme(raw: str) -> str:
    # Only the scheme is shown: the rest may hold a password.
    return repr(raw.split("://", 1)[0] + "://...") if "://" in raw else "(no scheme)"


def configured_url(paths: AppPaths) -> str | None:
    """The URL set for this data folder (without password), or None for its SQLite file."""
    from wan22_desktop.settings import read_database_url

    return read_database_url(paths)


def configured(paths: AppPaths) -> str | URL | os.PathLike[str]:
    """What ``open_database`` gets for this data folder: the configured URL with its password
    joined from the keyring, or the data folder's SQLite file."""
    url = configured_url(paths)
    if not url:
        return paths.database
    if not postgres.is_postgres_url(url):
        return url
    from wan22_desktop import secrets

    return with_password(url, secrets.get_database_password(keyring_account(url)))
