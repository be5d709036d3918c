"""Alembic environment: always runs on the connection handed over by ``wan22_desktop.db.migrate``."""

from __future__ import annotations

from alembic import context

from wan22_desktop.db.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reached when someone runs the alembic CLI by hand
    raise RuntimeError("run migrations through wan22_desktop.db.migrate.upgrade()")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies the table instead
    transactional_ddl=True,
)
with context.begin_transaction():
    context.run_migrations()
