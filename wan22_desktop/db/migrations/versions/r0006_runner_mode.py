"""A runner says how it uses the machine's GPUs: ``runners.mode``.

``throughput`` (one runner per GPU, ``queue run --gpu-mode throughput``), ``latency`` (every job
across all GPUs) or ``auto`` (the planner picks per job); NULL for rows written before this
revision. Which GPUs a runner holds is in ``gpus_json`` (each entry's ``device``).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runners") as batch:
        batch.add_column(sa.Column("mode", sa.String(20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runners") as batch:
        batch.drop_column("mode")
