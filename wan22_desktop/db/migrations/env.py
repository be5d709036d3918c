"""Alembic environment: always runs on the connection handed over by ``wan22_desktop.db.migrate``."""

from __future__ import annotations

from alembic import context
from alembic.config import Config

from wan22_desktop.db.base import Base


def run_migrations(config: Config) -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through wan22_desktop.db.migrate.upgrade()")
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies the table
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()


# ``context.config`` exists only while Alembic runs this file; a plain import (tools that walk the
# package, such as the architecture test) must be harmless.
_config: Config | None
try:
    _config = context.config
except AttributeError:
    _config = None
if _config is not None:
    run_migrations(_config)
