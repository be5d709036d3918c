"""Job ids are never reused: the jobs table gets SQLite's AUTOINCREMENT.

Without it SQLite hands out max(id) + 1, so after ``wan22 queue rm`` of the newest job the next
job gets the removed one's id, and anything that remembered that id (a terminal, a script, the
GUI's selection) now points at another job. Batch mode copies the table with its rows, indexes
and foreign key; the copy's explicit ids seed ``sqlite_sequence`` with the current maximum.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":  # other databases never reuse identity values
        return
    with op.batch_alter_table(
        "jobs", recreate="always", table_kwargs={"sqlite_autoincrement": True}
    ):
        pass


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "jobs", recreate="always", table_kwargs={"sqlite_autoincrement": False}
    ):
        pass
