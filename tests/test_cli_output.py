"""What the CLI prints: user text cannot drive the terminal, failed jobs keep the prompt in its
column, and `queue run` says why it stopped and how many jobs wait."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli_helpers import make_tiny_checkpoint, register_installed
from wan22_desktop.cli import main
from wan22_desktop.db import queue as q
from wan22_desktop.db.database import open_app_database
from wan22_desktop.paths import app_paths

NASTY = "\x1b[2J\x1b[31mred [bold]markup[/bold] \x9b2J \u202eevil\x07 end"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_checkpoint(tmp_path_factory.mktemp("ckpts"), "ti2v-5B")


@pytest.fixture(autouse=True)
def installed(tiny: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    register_installed("ti2v-5B", tiny)
    monkeypatch.setenv("COLUMNS", "300")  # rich: wide enough that no cell folds


def _add(*extra: str) -> None:
    assert main(["queue", "add", "--task", "ti2v-5B", *extra]) == 0


def _no_controls(text: str) -> None:
    for ch in ("\x1b", "\x9b", "\x07", "\u202e"):
        assert ch not in text, repr(ch)


def test_control_characters_in_a_prompt_are_escaped_in_every_listing(capsys, tmp_path) -> None:
    _add("--prompt", NASTY)
    with open_app_database(app_paths()) as db:
        job = q.claim_next(db, "test")
        q.finish_job(db, job.id, "test", q.GenerationResult(video_path=str(tmp_path / "v.mp4")))
    _add("--prompt", NASTY)
    capsys.readouterr()
    for argv in (
        ["queue", "list", "--all"],
        ["queue", "show", "2"],
        ["history", "list"],
        ["history", "search", "red"],
        ["history", "show", "1"],
        ["--json", "history", "show", "1"],
        ["--json", "queue", "list", "--all"],
        ["--json", "history", "list"],
    ):
        assert main(argv) == 0, argv
        out, err = capsys.readouterr()
        _no_controls(out + err)
        if "--json" in argv or argv[:2] == ["queue", "show"]:  # JSON stays valid, loses nothing
            data = json.loads(out)
            nasty = json.dumps(NASTY, ensure_ascii=False)[1:-1]
            assert nasty in json.dumps(data, ensure_ascii=False)
        else:
            assert "\\x1b[2J" in out, argv
            assert "[bold]markup" in out, argv  # rich markup is shown, not applied


def test_a_failed_job_shows_its_prompt_and_its_error_in_separate_columns(capsys) -> None:
    _add("--prompt", "a paper boat")
    with open_app_database(app_paths()) as db:
        job = q.claim_next(db, "test")
        q.fail_job(db, job.id, "test", kind="out_of_memory", message="CUDA out of memory")
    capsys.readouterr()
    assert main(["queue", "list", "--all"]) == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if "prompt" in line)
    row = next(line for line in out.splitlines() if "failed" in line)
    assert "error" in header
    assert "a paper boat" in row and "CUDA out of memory" in row
    assert row.index("a paper boat") < row.index("CUDA out of memory")


def test_a_paused_runner_counts_the_jobs_left_queued(capsys) -> None:
    _add("--prompt", "one", "--count", "3")
    assert main(["queue", "pause"]) == 0
    capsys.readouterr()
    assert main(["queue", "run", "--no-keep-awake"]) == 0
    out = capsys.readouterr().out
    assert "runner stopped (the queue is paused)" in out and "3 left queued" in out
    capsys.readouterr()
    assert main(["--json", "queue", "run", "--no-keep-awake"]) == 0
    summary = json.loads(capsys.readouterr().out.splitlines()[-1])["summary"]
    assert summary["queued"] == 3


def test_ctrl_c_says_interrupted_not_stopped_stopped(monkeypatch, capsys) -> None:
    from wan22_desktop.runtime.runner import QueueRunner

    def interrupted_run(self: QueueRunner):
        self.interrupted = True  # what the SIGINT handler sets before stop()
        self.summary.stopped_reason = "stopped"
        self._emit("stopped", message=self.summary.stopped_reason)
        return self.summary

    monkeypatch.setattr(QueueRunner, "run", interrupted_run)
    _add("--prompt", "one")
    capsys.readouterr()
    assert main(["queue", "run", "--no-keep-awake"]) == 130
    out = capsys.readouterr().out
    assert "stopped: stopped" not in out and "(stopped)" not in out
    assert "runner stopped: interrupted" in out and "1 left queued" in out


def test_doctor_escapes_control_characters_in_paths(tmp_path, capsys) -> None:
    home = tmp_path / "home \x1b[2J here"
    for argv in (["doctor", "--home", str(home)], ["doctor", "--json", "--home", str(home)]):
        assert main(argv) == 0
        out = capsys.readouterr().out
        _no_controls(out)
        assert "home \\x1b[2J here" in out or "home \\u001b[2J here" in out
