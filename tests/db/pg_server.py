"""A throwaway PostgreSQL server for the tests: ``initdb`` + ``pg_ctl`` in a temporary folder.

The binaries are looked up on PATH, then under ``/usr/lib/postgresql/*/bin`` (Debian's packages,
which ``.ci/run`` installs). ``initdb`` refuses to run as root, so as root the cluster is made and
run by the unprivileged ``postgres`` system user (created by the Debian package) in a folder
handed to it. The server listens on 127.0.0.1 on a free port, with trust authentication.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SERVICE_USER = "postgres"


def find_bin_dir() -> Path | None:
    """Where ``initdb`` and ``pg_ctl`` are, or None when PostgreSQL is not installed."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).resolve().parent
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(d) / "initdb").exists() and (Path(d) / "pg_ctl").exists():
            return Path(d)
    return None


def missing_reason() -> str | None:
    """Why PostgreSQL tests cannot run here (None when they can)."""
    if find_bin_dir() is None:
        return (
            "PostgreSQL binaries (initdb, pg_ctl) not found on PATH or under "
            "/usr/lib/postgresql/*/bin; install the 'postgresql' package"
        )
    if os.geteuid() == 0 and not _user_exists(SERVICE_USER):
        return f"running as root and there is no '{SERVICE_USER}' user to run initdb as"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "the psycopg driver is not installed (pip install 'psycopg[binary]')"
    return None


def _user_exists(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PgServer:
    """A running server; ``url(db)`` gives a SQLAlchemy URL for one of its databases."""

    bin_dir: Path
    data_dir: Path
    port: int
    user: str
    as_user: str | None  # run server commands as this system user (when we are root)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"

    def _cmd(self, *args: str) -> list[str]:
        cmd = [str(self.bin_dir / args[0]), *args[1:]]
        return ["runuser", "-u", self.as_user, "--", *cmd] if self.as_user else cmd

    def run(self, *args: str, timeout: float = 60) -> None:
        subprocess.run(self._cmd(*args), check=True, capture_output=True, timeout=timeout)

    def start(self) -> None:
        log = self.data_dir.parent / "server.log"
        self.run(
            "pg_ctl",
            "-D",
            str(self.data_dir),
            "-l",
            str(log),
            "-w",
            "-t",
            "60",
            "-o",
            f"-p {self.port} -h 127.0.0.1 -k {self.data_dir.parent} -F -c max_connections=200",
            "start",
            timeout=90,
        )

    def stop(self, mode: str = "fast") -> None:
        self.run("pg_ctl", "-D", str(self.data_dir), "-m", mode, "-w", "stop", timeout=60)

    def create_database(self, name: str | None = None) -> str:
        """A new empty database; returns its URL."""
        import psycopg

        name = name or "t_" + uuid.uuid4().hex[:16]
        with psycopg.connect(self._dsn("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        import psycopg

        name = url.rsplit("/", 1)[1]
        with psycopg.connect(self._dsn("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _dsn(self, database: str) -> str:
        return f"host=127.0.0.1 port={self.port} user={self.user} dbname={database}"


@contextmanager
def running_server() -> Iterator[PgServer]:
    """Start a fresh cluster in a temporary folder; stop it and delete the folder afterwards."""
    bin_dir = find_bin_dir()
    assert bin_dir is not None, missing_reason()
    as_user = SERVICE_USER if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="wan22-pg-"))
    data = root / "data"
    if as_user:
        shutil.chown(root, user=as_user)
        os.chmod(root, 0o755)
    user = "wan22"
    server = PgServer(bin_dir, data, _free_port(), user, as_user)
    try:
        server.run(
            "initdb",
            "-D",
            str(data),
            "-U",
            user,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
            timeout=120,
        )
        server.start()
        try:
            yield server
        finally:
            try:
                server.stop("immediate")
            except subprocess.SubprocessError:
                pass
    finally:
        shutil.rmtree(root, ignore_errors=True)
