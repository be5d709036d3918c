"""Installed models belong to a machine: ``installed_models.host``.

On a shared (PostgreSQL) queue every machine records the folders it has; a runner plans and
registers with its own, not with a folder that exists only on another machine. ``''`` means
"the machine of this data folder" (SQLite, and every row written before this revision), so a
single-machine user sees no change, even after renaming the computer. The path is unique per
host: two machines may keep a model at the same path.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("installed_models") as batch:
        batch.add_column(sa.Column("host", sa.String(200), nullable=False, server_default=""))
        batch.drop_constraint("uq_installed_models_path", type_="unique")
        batch.create_unique_constraint("uq_installed_models_host", ["host", "path"])


def downgrade() -> None:
    with op.batch_alter_table("installed_models") as batch:
        batch.drop_constraint("uq_installed_models_host", type_="unique")
        batch.create_unique_constraint("uq_installed_models_path", ["path"])
        batch.drop_column("host")
