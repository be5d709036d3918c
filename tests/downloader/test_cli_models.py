"""`wan22 models …` in real subprocesses: progress, --json, SIGKILL and resume, verify, import, rm."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.downloader.fake_hub import SHARD

ROOT = Path(__file__).resolve().parents[2]


def _env(hub_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(HF_HUB_OFFLINE="0", HF_ENDPOINT=hub_url, PYTHONPATH=str(ROOT))
    return env


def wan22(home: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 60):
    return subprocess.run(
        [sys.executable, "-m", "wan22_desktop.cli", "--home", str(home), *args],
        cwd=ROOT,
        env=env or dict(os.environ, PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.slow  # real processes: in `make test`, not `make test-fast`
def test_download_progress_bar_then_verify_then_rm(hub, tmp_path, tiny_repo):
    home = tmp_path / "home"
    out = wan22(
        home, "models", "download", "ti2v-5B", env=_env(hub.url)
    )  # HF_ENDPOINT picks the hub
    assert out.returncode == 0, out.stderr
    folder = home / "models" / "Wan2.2-TI2V-5B"
    assert f"done: {folder}" in out.stdout
    assert "100.0%" in out.stderr and "ETA" in out.stderr and "11 files from hf" in out.stderr
    assert (folder / SHARD).read_bytes() == (tiny_repo / SHARD).read_bytes()

    ok = wan22(home, "--json", "models", "verify", "ti2v-5B")
    report = json.loads(ok.stdout)
    assert report["checked"] == 11 and report["ok"] and ok.returncode == 0, report
    assert report["layout"].startswith("ti2v-5B")

    data = bytearray((folder / "Wan2.2_VAE.pth").read_bytes())
    data[100] ^= 0xFF
    (folder / "Wan2.2_VAE.pth").write_bytes(bytes(data))
    bad = wan22(home, "models", "verify", str(folder))
    assert bad.returncode == 1 and "Wan2.2_VAE.pth: sha256" in bad.stdout

    listed = json.loads(wan22(home, "--json", "models", "list").stdout)
    assert [i["path"] for i in listed["installed"]] == [str(folder)]
    assert listed["downloads"][0]["status"] == "done"

    rm = wan22(home, "models", "rm", "ti2v-5B")
    assert rm.returncode == 0 and not folder.exists()
    assert json.loads(wan22(home, "--json", "models", "list").stdout)["installed"] == []


def test_sigkill_mid_file_then_new_process_resumes(hub, tmp_path, tiny_repo):
    home = tmp_path / "home"
    hub.faults.throttle = 0.03  # ~1.5 s for the 3 MB shard
    part = home / "models" / "Wan2.2-TI2V-5B" / (SHARD + ".part")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "wan22_desktop.cli",
            "--home",
            str(home),
            "--json",
            "models",
            "download",
            "ti2v-5B",
            "--source",
            "modelscope",
            "--endpoint",
            hub.url,
        ],
        cwd=ROOT,
        env=_env(hub.url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        for _ in range(1500):  # polls of 20 ms: a hang guard of about 30 s
            if part.exists() and part.stat().st_size > 1_000_000:
                break
            assert proc.poll() is None, proc.stderr.read().decode()
            time.sleep(0.02)
        else:
            pytest.fail("the download never got past 1 MB")
        time.sleep(0.3)  # mid-block: the old 1 MiB reads held ~600 KB here, unwritten
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
        proc.stderr.close()
    kept = part.stat().st_size
    size = (tiny_repo / SHARD).stat().st_size
    assert 1_000_000 < kept < size

    hub.faults.throttle = 0
    out = wan22(
        home,
        "--json",
        "models",
        "download",
        "ti2v-5B",
        "--source",
        "modelscope",
        "--endpoint",
        hub.url,
        env=_env(hub.url),
    )
    assert out.returncode == 0, out.stderr
    events = [json.loads(line) for line in out.stdout.splitlines()]
    assert events[-1] == {
        "event": "result",
        "id": 1,
        "status": "done",
        "path": str(home / "models" / "Wan2.2-TI2V-5B"),
    }
    shard_events = [e for e in events if e.get("path") == SHARD]
    assert shard_events[0]["file_done"] >= kept  # the kept prefix counts at once
    resumed = hub.gets(SHARD)[-1]
    assert resumed.range_start == kept and resumed.status == 206
    assert resumed.bytes_sent == size - kept  # the prefix was not fetched again
    # What the killed process had received but not written is sent again: a little only.
    first = hub.gets(SHARD)[0]
    assert first.range_start == 0
    assert first.bytes_sent - kept <= 256 * 1024, first.bytes_sent - kept
    assert (home / "models" / "Wan2.2-TI2V-5B" / SHARD).read_bytes() == (
        tiny_repo / SHARD
    ).read_bytes()


def test_unknown_model_is_a_user_error(tmp_path):
    out = wan22(tmp_path, "models", "download", "nope")
    assert (
        out.returncode == 2
        and "unknown model 'nope'" in out.stderr
        and "hint: choose one of" in out.stderr
    )


def test_disk_full_message_from_cli(hub, tmp_path):
    """Not enough space for what is left: the CLI says so in one line plus a hint, exit 1."""
    code = (
        "import shutil, collections, sys; from wan22_desktop import cli;"
        "U = collections.namedtuple('U', 'total used free');"
        "shutil.disk_usage = lambda p: U(10**9, 10**9 - 1000, 1000);"
        f"sys.exit(cli.main(['--home', {str(tmp_path)!r}, 'models', 'download', 'ti2v-5B']))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=_env(hub.url),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 1
    assert "error: not enough disk space" in out.stderr and "hint: free some space" in out.stderr


def test_import_registers_in_place(tiny_repo, tmp_path):
    pytest.importorskip("wan22_desktop.model_layout")
    out = wan22(tmp_path, "--json", "models", "import", str(tiny_repo))
    assert out.returncode == 0, out.stderr
    listed = json.loads(wan22(tmp_path, "--json", "models", "list").stdout)
    assert listed["installed"][0]["path"] == str(tiny_repo.resolve())
    assert listed["installed"][0]["origin"] == "import"


def test_import_reports_missing_files(tiny_repo, tmp_path):
    pytest.importorskip("wan22_desktop.model_layout")
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(tiny_repo, broken)
    (broken / "Wan2.2_VAE.pth").unlink()
    out = wan22(tmp_path, "models", "import", str(broken), "--model", "ti2v-5B")
    assert out.returncode == 2 and "Wan2.2_VAE.pth" in out.stderr


def test_download_source_and_models_folder_come_from_settings(hub, tmp_path, tiny_repo):
    from wan22_desktop.paths import app_paths
    from wan22_desktop.settings import Settings

    home, models = tmp_path / "home", tmp_path / "elsewhere"
    settings = Settings.load(app_paths(home))
    settings.set("download_source", "modelscope")
    settings.set("models_dir", str(models))
    settings.save()
    env = dict(
        _env("http://127.0.0.1:9"), MODELSCOPE_DOMAIN=hub.url
    )  # HF would fail; it is not asked
    out = wan22(home, "models", "download", "ti2v-5B", env=env)
    assert out.returncode == 0, out.stderr
    assert "11 files from modelscope" in out.stderr
    assert (models / "Wan2.2-TI2V-5B" / SHARD).read_bytes() == (tiny_repo / SHARD).read_bytes()
