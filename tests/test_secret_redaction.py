"""The DashScope key never reaches a log, a terminal or an event, even when a server quotes it.

A fake DashScope echoes the key it received in its 401/500 bodies and headers; ``wan22 --debug``
(the most a log could ever say: DEBUG level, tracebacks on stderr) runs as a real subprocess, and
afterwards every file under the data dir and both output streams are searched for the key.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.prompt_extend.fake_dashscope import FakeDashScope, FakeDashScopeServer
from wan22_desktop import cli, logs
from wan22_desktop.runtime import protocol as P
from wan22_desktop.runtime.launcher import WorkerProcess

REPO = Path(__file__).resolve().parents[1]
# Not sk-shaped on purpose: only the registered-secret rule can catch it.
SENTINEL = "SENTINEL7f3a9c1e5b2d4068aa11cafe"


def _run(args: list[str], home: Path, server: FakeDashScopeServer) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "WAN22_HOME": str(home),
        "DASH_API_KEY": SENTINEL,
        "DASH_API_URL": server.base_url,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    return subprocess.run(
        [sys.executable, "-m", "wan22_desktop.cli", "--debug", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=240,
    )


def _leaks(home: Path, proc: subprocess.CompletedProcess) -> list[str]:
    found = [
        f"file {p}" for p in home.rglob("*") if p.is_file() and SENTINEL.encode() in p.read_bytes()
    ]
    found += [
        name
        for name, text in (("stdout", proc.stdout), ("stderr", proc.stderr))
        if SENTINEL in text
    ]
    return found


def test_prompt_extend_with_echoing_server_leaks_nothing(tmp_path) -> None:
    fake = FakeDashScope(valid_key=SENTINEL, behaviours=["401"], echo_key=True)
    with FakeDashScopeServer(fake) as server:
        proc = _run(
            ["prompt", "extend", "a red fox", "--method", "dashscope", "--lang", "en"],
            tmp_path,
            server,
        )
    assert fake.requests, "the server was not called"
    assert proc.returncode != 0 and "rejected the API key" in proc.stderr, proc.stderr
    assert (tmp_path / "logs" / "wan22.log").is_file()
    assert _leaks(tmp_path, proc) == []


@pytest.mark.slow  # real processes: in `make test`, not `make test-fast`
def test_generate_with_required_extension_and_echoing_server_leaks_nothing(tmp_path) -> None:
    ckpt = tmp_path / "ckpt"
    assert cli.main(["dev", "make-tiny-checkpoint", "--task", "ti2v-5B", "--out", str(ckpt)]) == 0
    fake = FakeDashScope(valid_key=SENTINEL, behaviours=["500", "401"], echo_key=True)
    home = tmp_path / "home"
    with FakeDashScopeServer(fake) as server:
        proc = _run(
            [
                "generate",
                "--task",
                "ti2v-5B",
                "--ckpt_dir",
                str(ckpt),
                "--size",
                "32*32",
                "--frame_num",
                "5",
                "--sample_steps",
                "1",
                "--device",
                "cpu",
                "--prompt",
                "a cat",
                "--use_prompt_extend",
                "--prompt_extend_method",
                "dashscope",
                "--prompt_extend_required",
                "--save_file",
                str(home / "v.npy"),
            ],
            home,
            server,
        )
    assert len(fake.requests) == 2  # the 500 (retried) and the 401 both quoted the key
    assert proc.returncode != 0 and "prompt extension failed" in proc.stderr, proc.stderr
    assert "Traceback" in proc.stderr  # --debug: the traceback is shown, redacted
    assert _leaks(home, proc) == []


def test_log_lines_redact_secrets_headers_key_shapes_and_chained_tracebacks(tmp_path) -> None:
    path = logs.setup_logging(tmp_path / "logs", verbose=True)
    logs.register_secret(SENTINEL)
    log = logging.getLogger("test.redaction")
    try:
        try:
            raise ValueError(f"server said: key {SENTINEL}")
        except ValueError:
            raise RuntimeError("outer")  # noqa: B904 - chained on purpose
    except RuntimeError:
        log.exception("failed with Authorization: Bearer tok_abcdef123 and sk-live0123456789")
    log.info("prompt with \x1b[2J escape")
    for h in logging.getLogger().handlers:
        h.flush()
    text = path.read_text(encoding="utf-8")
    assert "ValueError" in text and "[REDACTED]" in text  # the chained traceback is there
    for secret in (SENTINEL, "tok_abcdef123", "sk-live0123456789", "\x1b"):
        assert secret not in text
    assert "\\x1b[2J" in text


def test_worker_events_are_redacted_when_they_leave_the_worker(monkeypatch) -> None:
    """A failure message quoting a secret is redacted as the runner receives it."""
    logs.register_secret(SENTINEL)
    script = (
        "import sys, json;"
        f"print(json.dumps({{'v': {P.PROTOCOL_VERSION}, 'type': 'log', 'level': 'error', 'message': 'key {SENTINEL} "
        "Authorization: Bearer abcdefgh'}), flush=True)"
    )
    monkeypatch.setattr(
        "wan22_desktop.runtime.launcher.worker_command",
        lambda *a, **k: [sys.executable, "-c", script],
    )
    worker = WorkerProcess()
    try:
        ev = worker.next_event(timeout=30)
    finally:
        worker.kill()
    assert isinstance(ev, P.Log), ev
    assert SENTINEL not in ev.message and "abcdefgh" not in ev.message
    assert "[REDACTED]" in ev.message


@pytest.fixture(autouse=True)
def _drop_handlers():
    root = logging.getLogger()
    before = list(root.handlers)
    yield
    for h in root.handlers[:]:
        if h not in before:
            root.removeHandler(h)
            h.close()
