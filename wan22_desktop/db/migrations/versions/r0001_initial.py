"""First schema: queue, history, downloads, settings, queue state and runner lease.

Written out by hand (not from the ORM) so that later changes to the models never change what
revision 1 creates.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "generations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_json", sa.Text(), nullable=False),
        sa.Column("task", sa.String(32), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("final_prompt", sa.Text(), nullable=True),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("video_path", sa.Text(), nullable=False),
        sa.Column("thumbnail_path", sa.Text(), nullable=True),
        sa.Column("frames", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("fps", sa.Float(), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("timings_json", sa.Text(), nullable=True),
        sa.Column("plan_json", sa.Text(), nullable=True),
        sa.Column("peak_memory_bytes", sa.BigInteger(), nullable=True),
        sa.Column("model_path", sa.Text(), nullable=True),
        sa.Column("model_task", sa.String(32), nullable=True),
        sa.Column("favourite", sa.Boolean(), nullable=False),
        sa.Column("tags_json", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_generations"),
    )
    op.create_index("ix_generations_task", "generations", ["task"])
    op.create_index("ix_generations_favourite", "generations", ["favourite"])
    op.create_index("ix_generations_created_at", "generations", ["created_at"])

    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_json", sa.Text(), nullable=False),
        sa.Column("task", sa.String(32), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("interruptions", sa.Integer(), nullable=False),
        sa.Column("runner_id", sa.String(200), nullable=True),
        _ts("created_at"),
        _ts("updated_at"),
        _ts("started_at", True),
        _ts("finished_at", True),
        sa.Column("progress_step", sa.Integer(), nullable=True),
        sa.Column("progress_total", sa.Integer(), nullable=True),
        sa.Column("progress_phase", sa.String(40), nullable=True),
        sa.Column("progress_eta_s", sa.Float(), nullable=True),
        sa.Column("plan_json", sa.Text(), nullable=True),
        sa.Column("error_kind", sa.String(40), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("error_hint", sa.Text(), nullable=True),
        sa.Column("generation_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["generation_id"],
            ["generations.id"],
            ondelete="SET NULL",
            name="fk_jobs_generation_id_generations",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_jobs"),
    )
    op.create_index("ix_jobs_claim", "jobs", ["status", "priority", "position"])

    op.create_table(
        "downloads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.String(200), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("endpoint", sa.String(500), nullable=True),
        sa.Column("revision", sa.String(100), nullable=True),
        sa.Column("target_dir", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("total_bytes", sa.BigInteger(), nullable=False),
        sa.Column("done_bytes", sa.BigInteger(), nullable=False),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("error_hint", sa.Text(), nullable=True),
        _ts("created_at"),
        _ts("updated_at"),
        _ts("finished_at", True),
        sa.PrimaryKeyConstraint("id", name="pk_downloads"),
    )
    op.create_index("ix_downloads_model_id", "downloads", ["model_id"])
    op.create_index("ix_downloads_status", "downloads", ["status"])

    op.create_table(
        "download_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("download_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("etag", sa.String(200), nullable=True),
        sa.Column("done_bytes", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["download_id"],
            ["downloads.id"],
            ondelete="CASCADE",
            name="fk_download_files_download_id_downloads",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_download_files"),
        sa.UniqueConstraint("download_id", "path", name="uq_download_files_download_id"),
    )
    op.create_index("ix_download_files_download_id", "download_files", ["download_id"])

    op.create_table(
        "installed_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.String(200), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("origin", sa.String(32), nullable=False),
        sa.Column("tasks", sa.String(200), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        _ts("verified_at", True),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_installed_models"),
        sa.UniqueConstraint("path", name="uq_installed_models_path"),
    )
    op.create_index("ix_installed_models_model_id", "installed_models", ["model_id"])

    op.create_table(
        "settings_kv",
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("value_json", sa.Text(), nullable=False),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("key", name="pk_settings_kv"),
    )
    op.create_table(
        "queue_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        _ts("paused_at", True),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_queue_state"),
    )
    op.create_table(
        "runner_lease",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("host", sa.String(200), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        _ts("acquired_at"),
        _ts("heartbeat_at"),
        _ts("expires_at"),
        sa.PrimaryKeyConstraint("name", name="pk_runner_lease"),
    )


def downgrade() -> None:
    for table in (
        "runner_lease",
        "queue_state",
        "settings_kv",
        "installed_models",
        "download_files",
        "downloads",
        "jobs",
        "generations",
    ):
        op.drop_table(table)
