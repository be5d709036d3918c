"""Alembic migration scripts, run programmatically by ``wan22_desktop.db.migrate`` (no alembic.ini)."""
