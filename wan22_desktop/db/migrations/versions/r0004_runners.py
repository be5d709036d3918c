"""Several runners on one queue: a ``runners`` table (registration and per-runner lease), and
trigram indexes for prompt search on PostgreSQL.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from wan22_desktop.db import postgres

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "runners",
        sa.Column("id", sa.String(200), nullable=False),
        sa.Column("host", sa.String(200), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(40), nullable=False),
        sa.Column("gpus_json", sa.Text(), nullable=False),
        sa.Column("vram_bytes", sa.BigInteger(), nullable=True),
        sa.Column("models_json", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_runners"),
    )
    op.create_index("ix_runners_expires_at", "runners", ["expires_at"])
    bind = op.get_bind()
    if postgres.is_postgres(bind):
        postgres.create_prompt_trigram_index(bind)


def downgrade() -> None:
    bind = op.get_bind()
    if postgres.is_postgres(bind):
        postgres.drop_prompt_trigram_index(bind)
    op.drop_index("ix_runners_expires_at", table_name="runners")
    op.drop_table("runners")
