"""``wan22 db``: use a shared PostgreSQL database (password in the keyring only), status,
migrate, and copy a data folder's SQLite queue and history into PostgreSQL."""

from __future__ import annotations

import io
import json
import socket
from pathlib import Path

import keyring
import pytest

from tests.db.conftest import add_generation, make_request
from tests.memory_keyring import MemoryKeyring
from wan22_desktop.cli import main
from wan22_desktop.db import history, location
from wan22_desktop.db import queue as q
from wan22_desktop.db.database import open_app_database, open_database
from wan22_desktop.db.installed import installed_checkpoints
from wan22_desktop.db.models import Generation
from wan22_desktop.downloader.installed import register
from wan22_desktop.paths import app_paths

SECRET = "pw-d0-not-leak-7f3a"


@pytest.fixture(autouse=True)
def memory_keyring():
    previous = keyring.get_keyring()
    kr = MemoryKeyring()
    keyring.set_keyring(kr)
    yield kr
    keyring.set_keyring(previous)


def _run(capsys: pytest.CaptureFixture[str], *argv: str, stdin: str | None = None) -> tuple:
    if stdin is not None:
        import sys

        old, sys.stdin = sys.stdin, io.StringIO(stdin)
        try:
            code = main(list(argv))
        finally:
            sys.stdin = old
    else:
        code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_use_stores_the_url_without_its_password_and_every_command_follows_it(
    pg_url: str, capsys: pytest.CaptureFixture[str], memory_keyring: MemoryKeyring, wan22_home
) -> None:
    plain = pg_url.replace("postgresql+psycopg://", "postgresql://") + "?sslmode=disable"
    code, out, err = _run(capsys, "db", "use", plain, "--password-stdin", stdin=SECRET + "\n")
    assert code == 0, err
    settings_text = (app_paths(None).settings_file).read_text()
    assert SECRET not in settings_text and "sslmode=disable" in settings_text
    assert SECRET not in out + err
    assert list(memory_keyring.store.values()) == [SECRET]
    # The engine gets the password from the keyring, in memory only.
    url = location.configured(app_paths(None))
    assert url.password == SECRET and url.query["sslmode"] == "disable"

    # `queue add` and `history` now work on the shared database, not the data folder's file.
    with open_database(pg_url) as shared:
        add_generation(shared, prompt="a lighthouse at dusk")
    code, out, err = _run(capsys, "--json", "history", "search", "LIGHTHOUSE")
    assert code == 0, err
    assert [g["prompt"] for g in json.loads(out)["items"]] == ["a lighthouse at dusk"]
    assert not app_paths(None).database.exists()

    code, out, err = _run(capsys, "--json", "db", "status")
    assert code == 0, err
    status = json.loads(out)
    assert status["shared"] is True and status["backend"] == "postgresql"
    assert status["schema"] == status["app_schema"]
    assert SECRET not in out

    code, out, err = _run(capsys, "db", "use", "--local")
    assert code == 0, err
    assert str(app_paths(None).database) in out
    with open_app_database(app_paths(None)) as db:
        assert not db.shared


def test_a_password_in_the_url_goes_to_the_keyring_never_to_settings(
    pg_url: str, capsys: pytest.CaptureFixture[str], memory_keyring: MemoryKeyring
) -> None:
    with_pw = pg_url.replace("wan22@", f"wan22:{SECRET}@")
    code, out, err = _run(capsys, "db", "use", with_pw)
    assert code == 0, err
    assert SECRET not in app_paths(None).settings_file.read_text() + out
    assert "shell history" in err
    assert SECRET in memory_keyring.store.values()
    # A password on other commands' command lines is refused.
    code, out, err = _run(capsys, "db", "migrate", "--url", with_pw)
    assert code == 2 and "contains a password" in err and SECRET not in err


@pytest.mark.parametrize(
    "url", ["mysql://h/db", "postgresql:///nohost", "just-words", "sqlite:/bad"]
)
def test_bad_urls_are_one_error_and_one_hint(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "db", "use", url, "--no-check")
    lines = err.strip().splitlines()
    assert code == 2 and lines[0].startswith("error:") and lines[1].startswith("hint:")
    assert not app_paths(None).settings_file.exists()


def test_migrate_creates_the_schema_on_a_new_database(
    pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(capsys, "--json", "db", "migrate", "--url", pg_url)
    assert code == 0, err
    from wan22_desktop.db.database import HEAD_REVISION

    assert json.loads(out)["schema"] == HEAD_REVISION


def test_copy_moves_queue_and_history_with_their_ids(
    pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src_path = tmp_path / "old.sqlite3"
    with open_database(src_path) as src:
        gen = add_generation(src, prompt="一只熊猫在竹林里吃竹子")
        jobs = q.enqueue(src, make_request(seed=3), count=3)
        q.delete_job(src, jobs[0].id)  # a gap in the ids stays a gap
        q.claim_next(src, "old-runner")  # running when copied: arrives queued
        with src.session(write=True) as s:
            register(s, "Wan-AI/x", tmp_path / "m", origin="import", tasks=("ti2v-5B",), size=9)
    code, out, err = _run(
        capsys, "--json", "db", "copy", "--from", f"sqlite:///{src_path}", "--to", pg_url
    )
    assert code == 0, err
    assert json.loads(out) == {"generations": 1, "jobs": 2, "requeued": 1, "models": 1}
    with open_database(pg_url) as dst:
        assert [j.id for j in q.list_jobs(dst)] == [2, 3]
        assert {j.status for j in q.list_jobs(dst)} == {"queued"}
        assert history.search(dst, "熊猫").items[0].id == gen.id
        (new,) = q.enqueue(dst, make_request(seed=9))
        assert new.id == 4  # the sequence moved past the copied ids
        with dst.session() as s:
            assert s.query(Generation).count() == 1
        # The model folder is this machine's in the shared database.
        assert installed_checkpoints(dst)["ti2v-5B"].path == str(tmp_path / "m")
    # A second copy into a non-empty database is refused.
    code, out, err = _run(capsys, "db", "copy", "--from", f"sqlite:///{src_path}", "--to", pg_url)
    assert code == 2 and "already holds" in err


def test_a_corrupt_settings_file_leaves_commands_on_the_local_database(
    capsys: pytest.CaptureFixture[str],
) -> None:
    paths = app_paths(None).ensure()
    paths.settings_file.write_text("{not json")
    code, out, err = _run(capsys, "--json", "db", "status")
    assert code == 0, err
    assert json.loads(out)["shared"] is False
    assert list(paths.settings_file.parent.glob("settings.json.corrupt-*")) == []  # no side effect


def test_status_lists_every_runner_with_its_gpus_and_job(
    pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from wan22_desktop.db.lease import RunnerIdentity, RunnerInfo

    with open_database(pg_url) as shared:
        q.enqueue(shared, make_request(), count=2)
        a, b = RunnerIdentity("gpu-box-a", 11, "a"), RunnerIdentity("gpu-box-b", 22, "b")
        gpu = {"name": "NVIDIA RTX 4090", "vram_bytes": 24 * 2**30}
        q.start_runner(shared, a, info=RunnerInfo(gpus=[gpu], models=["ti2v-5B"]))
        q.start_runner(shared, b)
        job = q.claim_next(shared, a.holder)
    assert _run(capsys, "db", "use", pg_url)[0] == 0
    code, out, err = _run(capsys, "db", "status")
    assert code == 0, err
    lines = {line.split()[1]: line for line in out.splitlines() if line.startswith("runner:")}
    assert f"job {job.id}" in lines["gpu-box-a"] and "RTX 4090" in lines["gpu-box-a"]
    assert "idle" in lines["gpu-box-b"] and "no GPU" in lines["gpu-box-b"]
    assert "1 queued, 1 running" in out


def test_installed_models_are_per_machine_on_a_shared_queue(pg_url: str, tmp_path: Path) -> None:
    """Each machine plans with the folders it has: another machine's row is not installed here,
    and two machines may keep a model at the same path."""
    from wan22_desktop.db.downloads import InstalledModel

    with open_database(pg_url) as db:
        with db.session(write=True) as s:
            s.add(
                InstalledModel(
                    model_id="Wan-AI/a",
                    path="/models/A14B",
                    tasks="t2v-A14B",
                    size_bytes=1,
                    host="render-box-2",
                )
            )
            s.add(
                InstalledModel(
                    model_id="Wan-AI/5",
                    path="/models/5B",
                    tasks="ti2v-5B",
                    size_bytes=1,
                    host="render-box-2",
                )
            )
        with db.session(write=True) as s:
            register(s, "Wan-AI/5", Path("/models/5B"), origin="import", tasks=("ti2v-5B",), size=2)
        here = installed_checkpoints(db)
        assert set(here) == {"ti2v-5B"} and here["ti2v-5B"].size_bytes == 2
        with db.session() as s:
            hosts = sorted(r.host for r in s.query(InstalledModel))
        assert hosts == sorted(["render-box-2", "render-box-2", socket.gethostname()])


def test_a_single_machine_records_no_host(tmp_path: Path) -> None:
    from wan22_desktop.db.downloads import InstalledModel

    with open_database(tmp_path / "db.sqlite3") as db:
        with db.session(write=True) as s:
            register(s, "Wan-AI/5", tmp_path / "m", origin="import", tasks=("ti2v-5B",), size=2)
        with db.session() as s:
            assert [r.host for r in s.query(InstalledModel)] == [""]
        assert set(installed_checkpoints(db)) == {"ti2v-5B"}
