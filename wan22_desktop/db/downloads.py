"""Tables for model downloads and installed model folders (used by ``wan22_desktop.downloader``).

A download is one model repo from one source; its files are rows of their own so that progress,
verification and resume are per file and survive restarts.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wan22_desktop.db.base import Base, utcnow


class Download(Base):
    __tablename__ = "downloads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[str] = mapped_column(
        String(200), index=True
    )  # catalogue key, e.g. "Wan-AI/Wan2.2-TI2V-5B"
    source: Mapped[str] = mapped_column(String(32))  # "hf" | "modelscope"
    endpoint: Mapped[str | None] = mapped_column(String(500), nullable=True)  # mirror URL, if any
    revision: Mapped[str | None] = mapped_column(String(100), nullable=True)
    target_dir: Mapped[str] = mapped_column(Text)
    # queued | running | paused | verifying | done | failed | cancelled
    status: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    total_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    done_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    error_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    error_hint: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    files: Mapped[list[DownloadFile]] = relationship(
        back_populates="download", cascade="all, delete-orphan", order_by="DownloadFile.id"
    )


class DownloadFile(Base):
    __tablename__ = "download_files"
    __table_args__ = (UniqueConstraint("download_id", "path"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    download_id: Mapped[int] = mapped_column(
        ForeignKey("downloads.id", ondelete="CASCADE"), index=True
    )
    path: Mapped[str] = mapped_column(Text)  # relative, validated against traversal
    size: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    etag: Mapped[str | None] = mapped_column(String(200), nullable=True)
    done_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    # pending | downloading | verifying | done | failed
    status: Mapped[str] = mapped_column(String(20), default="pending")
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    error_message: Mapped[str | None] = mapped_column(Text, nullable=True)

    download: Mapped[Download] = relationship(back_populates="files")


class InstalledModel(Base):
    __tablename__ = "installed_models"
    __table_args__ = (UniqueConstraint("host", "path"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[str] = mapped_column(String(200), index=True)
    path: Mapped[str] = mapped_column(Text)
    # The machine that has the folder on a shared queue; "" on a data folder's own SQLite file
    # (the one machine). See db.installed.this_host / visible_here.
    host: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # "download" (ours) | "import" (registered in place) | "hf-cache" | "modelscope-cache"
    origin: Mapped[str] = mapped_column(String(32), default="download")
    tasks: Mapped[str] = mapped_column(String(200), default="")  # comma-separated task names
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    verified_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
