"""Every source failing (offline, blocked, a dead mirror): one error naming each source tried and
what failed there, no library chatter on stderr, and no empty model folder after a first try."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from wan22_desktop.downloader import remote
from wan22_desktop.downloader.manager import DownloadManager
from wan22_desktop.downloader.transfer import RetryPolicy
from wan22_desktop.errors import OperationError

ROOT = Path(__file__).resolve().parents[2]
FAST = RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.02, timeout=5)


def _closed_port() -> str:
    """A local URL nothing listens on: connection refused at once, as when a proxy blocks."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def quick_modelscope(monkeypatch):
    """modelscope_hub retries a failed listing page 4 times with backoff (15 s); once is enough."""
    import modelscope_hub._legacy_api as legacy
    import modelscope_hub.constants as constants

    for mod in (legacy, constants):
        if hasattr(mod, "REPO_TREE_PAGE_MAX_ATTEMPTS"):
            monkeypatch.setattr(mod, "REPO_TREE_PAGE_MAX_ATTEMPTS", 1)


def test_every_source_failing_names_each_with_its_reason(
    hub, online, sessions, tmp_path, monkeypatch, capfd, quick_modelscope
):
    hub.faults.fail_listing = 400  # the mirror answers, with an error
    monkeypatch.setenv("MODELSCOPE_DOMAIN", _closed_port())  # ModelScope unreachable
    mgr = DownloadManager(sessions, tmp_path / "models", retry=FAST, auto_fallback=True)
    did = mgr.create("ti2v-5B", source="hf", endpoint=hub.url)
    with pytest.raises(OperationError) as exc:
        mgr.run(did)
    lines = exc.value.message.splitlines()
    assert lines[0].startswith("could not download") and len(lines) == 3, lines
    assert lines[1].startswith(f"  Hugging Face mirror {hub.url}: "), lines
    assert lines[2].startswith("  ModelScope: ") and lines[2].endswith("connection refused")
    assert mgr.get(did).error_message == exc.value.message  # the GUI's row says the same
    assert not (tmp_path / "models" / "Wan2.2-TI2V-5B").exists()
    err = capfd.readouterr().err
    assert "modelscope_hub" not in err and "retry in" not in err, err


def test_offline_hint_when_nothing_answers(
    online, sessions, tmp_path, monkeypatch, quick_modelscope
):
    monkeypatch.setenv("MODELSCOPE_DOMAIN", _closed_port())
    mgr = DownloadManager(sessions, tmp_path / "models", retry=FAST, auto_fallback=True)
    did = mgr.create("ti2v-5B", source="modelscope")
    target = Path(mgr.get(did).target_dir)
    monkeypatch.setenv("HF_ENDPOINT", _closed_port())
    import huggingface_hub.constants as c

    monkeypatch.setattr(c, "ENDPOINT", os.environ["HF_ENDPOINT"])
    with pytest.raises(OperationError) as exc:
        mgr.run(did)
    assert "  ModelScope: " in exc.value.message and "  Hugging Face: " in exc.value.message
    assert exc.value.message.count("connection refused") == 2, exc.value.message
    assert "offline" in exc.value.hint
    assert not target.exists()


def test_a_later_failed_try_keeps_the_folder_and_its_partial_files(
    online, sessions, tmp_path, monkeypatch, quick_modelscope
):
    monkeypatch.setenv("MODELSCOPE_DOMAIN", _closed_port())
    mgr = DownloadManager(sessions, tmp_path / "models", retry=FAST)
    did = mgr.create("ti2v-5B", source="modelscope")
    target = Path(mgr.get(did).target_dir)
    target.mkdir(parents=True)
    (target / "Wan2.2_VAE.pth.part").write_bytes(b"x" * 10)  # what an earlier try left
    with pytest.raises(OperationError):
        mgr.run(did)
    assert (target / "Wan2.2_VAE.pth.part").read_bytes() == b"x" * 10
    empty = tmp_path / "models" / "Empty"
    empty.mkdir()  # a folder the user made: not ours to remove
    did2 = mgr.create("ti2v-5B", source="modelscope", target_dir=empty)
    with pytest.raises(OperationError):
        mgr.run(did2)
    assert empty.is_dir()


@pytest.mark.parametrize(
    ("exc", "plain"),
    [
        (socket.gaierror(-2, "Name or service not known"), "host name not found"),
        (ConnectionRefusedError(111, "Connection refused"), "connection refused"),
        (OSError(101, "Network is unreachable"), "network unreachable"),
        (TimeoutError("timed out"), "timed out"),
        (RuntimeError("HTTP 451: blocked\nmore detail"), "HTTP 451: blocked"),
    ],
)
def test_failure_reason_is_one_plain_line(exc, plain):
    wrapped = RuntimeError("Max retries exceeded (Caused by NewConnectionError(...))")
    wrapped.__cause__ = exc
    assert remote.failure_reason(exc).startswith(plain)
    if not isinstance(exc, RuntimeError):
        assert remote.failure_reason(wrapped).startswith(plain)


@pytest.mark.slow  # a real `wan22` process
def test_cli_offline_download_prints_one_error_and_no_library_noise(tmp_path):
    home = tmp_path / "home"
    env = dict(
        os.environ,
        PYTHONPATH=str(ROOT),
        HF_HUB_OFFLINE="0",
        MODELSCOPE_DOMAIN=_closed_port(),
        MODELSCOPE_REPO_TREE_PAGE_MAX_ATTEMPTS="1",
    )
    mirror = _closed_port()
    out = subprocess.run(
        [sys.executable, "-m", "wan22_desktop.cli", "--home", str(home), "models", "download",
         "ti2v-5B", "--endpoint", mirror, "--fallback"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 1, out
    err = out.stderr
    lines = err.splitlines()
    assert lines[0].startswith("error: could not download") and lines[-1].startswith("hint: ")
    assert lines[1].startswith(f"  Hugging Face mirror {mirror}: "), err
    assert lines[2].startswith("  ModelScope: ") and len(lines) == 4, err
    assert "hint:" in err and "Traceback" not in err and "WARNING" not in err, err
    assert "modelscope_hub" not in err and "NewConnectionError" not in err, err
    assert not (home / "models" / "Wan2.2-TI2V-5B").exists()
