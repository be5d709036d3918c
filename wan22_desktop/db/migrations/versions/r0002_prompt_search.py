"""Prompt search: an FTS5 trigram index over generation prompts (SQLite), and an index for finished-job lists.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

from wan22_desktop.db import sqlite

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if sqlite.is_sqlite(bind):
        sqlite.create_prompt_fts(bind)
    # Lists of finished jobs are sorted newest first; without this they scan the whole table.
    op.create_index("ix_jobs_finished_at", "jobs", ["finished_at"])


def downgrade() -> None:
    op.drop_index("ix_jobs_finished_at", table_name="jobs")
    bind = op.get_bind()
    if sqlite.is_sqlite(bind):
        sqlite.drop_prompt_fts(bind)
