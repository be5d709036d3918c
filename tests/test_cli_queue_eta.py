"""``wan22 queue list`` says when each job and the whole queue will be done (text and --json)."""

from __future__ import annotations

import json
import socket
from datetime import datetime

import pytest

from wan22_desktop.cli import main
from wan22_desktop.commands import queue as queue_cmd
from wan22_desktop.db import queue as q
from wan22_desktop.db.database import open_app_database
from wan22_desktop.paths import app_paths
from wan22_desktop.request import GenerationRequest
from wan22_desktop.services.queue_eta import work_units

NOW = datetime(2026, 12, 6, 1, 30)


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(queue_cmd, "now_utc", lambda: NOW)


def request(steps: int = 50) -> GenerationRequest:
    return GenerationRequest.for_task("ti2v-5B", prompt="a paper boat", seed=1, sample_steps=steps)


def finished_on_this_machine(rate: float) -> None:
    """A job this machine's runner finished, sampling at ``rate`` seconds per unit."""
    with open_app_database(app_paths()) as db:
        [job] = q.enqueue(db, request())
        runner = f"{socket.gethostname()}:1:t"
        q.claim_next(db, runner)
        sampling = rate * work_units(request())
        timings = {"loading": 20.0, "sampling": sampling, "decoding": 10.0, "total": sampling + 30}
        result = q.GenerationResult(video_path="/out/1.mp4", timings=timings)
        q.finish_job(db, job.id, runner, result)


def test_queue_list_shows_each_finish_and_the_total(capsys: pytest.CaptureFixture[str]) -> None:
    rate = 3e-6
    finished_on_this_machine(rate)
    with open_app_database(app_paths()) as db:
        ids = [q.enqueue(db, request(steps))[0].id for steps in (50, 25)]
    assert main(["--json", "queue", "list"]) == 0
    est = json.loads(capsys.readouterr().out)["estimate"]
    one, two = (30 + rate * work_units(request(s)) for s in (50, 25))
    assert est["total_s"] == pytest.approx(one + two, abs=0.1)
    assert [j["id"] for j in est["jobs"]] == ids
    assert est["jobs"][1]["start_s"] == pytest.approx(one, abs=0.1)
    assert est["finish_at"].startswith("2026-12-06T") and est["finish_at"].endswith("Z")
    assert est["basis"] == "from 1 finished job" and est["paused"] is False
    print(f"queue of 2 after 1 finished job: total {est['total_s']} s, done {est['finish_at']}")

    assert main(["queue", "list"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "done at" in out and "Queue done about" in out and "from 1 finished job" in out

    assert main(["queue", "pause"]) == 0
    capsys.readouterr()
    assert main(["--json", "queue", "list"]) == 0
    est = json.loads(capsys.readouterr().out)["estimate"]
    assert est["paused"] is True and est["total_s"] is None and est["finish_at"] is None
    assert main(["queue", "list"]) == 0
    assert "Queue paused" in " ".join(capsys.readouterr().out.split())


def test_without_a_finished_job_or_a_gpu_the_finish_is_unknown(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with open_app_database(app_paths()) as db:
        q.enqueue(db, request())
    assert main(["--json", "queue", "list"]) == 0
    est = json.loads(capsys.readouterr().out)["estimate"]
    assert est["total_s"] is None and est["jobs"][0]["finish_at"] is None
    assert main(["queue", "list"]) == 0
    assert "unknown" in capsys.readouterr().out


def test_db_status_says_when_the_queue_is_done(capsys: pytest.CaptureFixture[str]) -> None:
    finished_on_this_machine(3e-6)
    with open_app_database(app_paths()) as db:
        q.enqueue(db, request())
    assert main(["--json", "db", "status"]) == 0
    finish = json.loads(capsys.readouterr().out)["queue_finish"]
    assert finish["total_s"] == pytest.approx(30 + 3e-6 * work_units(request()), abs=0.1)
    assert main(["db", "status"]) == 0
    assert "queue:    Queue done about" in capsys.readouterr().out
