"""`wan22 queue` and `wan22 history` at the command-line boundary."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_helpers import make_tiny_checkpoint, register_installed
from wan22_desktop.cli import main
from wan22_desktop.db import queue as q
from wan22_desktop.db.database import open_app_database
from wan22_desktop.paths import app_paths

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tiny_ti2v(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_checkpoint(tmp_path_factory.mktemp("ckpts"), "ti2v-5B")


@pytest.fixture(autouse=True)
def ti2v_installed(tiny_ti2v: Path) -> Path:
    """`queue add` refuses jobs for models that are not installed: install the tiny one."""
    register_installed("ti2v-5B", tiny_ti2v)
    return tiny_ti2v


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> object:
    code, out, err = run(capsys, "--json", *argv)
    assert code == 0, err
    return json.loads(out)


def add(capsys: pytest.CaptureFixture[str], *extra: str) -> list[dict]:
    return run_json(capsys, "queue", "add", "--task", "ti2v-5B", "--prompt", "a paper boat", *extra)


def finish_next(prompt_final: str | None = None) -> int:
    """Play the runner: claim the next job and finish it; returns the generation id."""
    with open_app_database(app_paths()) as db:
        job = q.claim_next(db, "test-runner")
        gen = q.finish_job(
            db,
            job.id,
            "test-runner",
            q.GenerationResult(
                video_path=str(app_paths().outputs / f"{job.id}.mp4"),
                final_prompt=prompt_final,
                width=1280,
                height=704,
            ),
        )
        return gen.id


def test_add_maps_the_official_flags(capsys: pytest.CaptureFixture[str]) -> None:
    jobs = add(
        capsys,
        "--size",
        "704*1280",
        "--frame_num",
        "81",
        "--base_seed",
        "10",
        "--sample_steps",
        "30",
        "--sample_shift",
        "4.5",
        "--sample_guide_scale",
        "4",
        "--sample_solver",
        "dpm++",
        "--offload_model",
        "false",
        "--convert_model_dtype",
        "--t5_cpu",
        "--negative_prompt",
        "blurry",
        "--count",
        "3",
    )
    assert [j["seed"] for j in jobs] == [10, 11, 12]
    req = jobs[0]["request"]
    assert (req["size"], req["frame_num"], req["sample_steps"], req["sample_shift"]) == (
        "704*1280",
        81,
        30,
        4.5,
    )
    assert req["guidance"] == {"low": 4.0, "high": 4.0}
    assert (req["solver"], req["negative_prompt"]) == ("dpm++", "blurry")
    assert req["memory"] == {
        "offload_model": "off",
        "convert_model_dtype": "on",
        "t5_cpu": "on",
        "vram_headroom": 0,
    }


def test_add_stores_the_image_as_an_absolute_path(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PIL import Image

    Image.new("RGB", (64, 48), (200, 30, 30)).save(tmp_path / "start.png")
    monkeypatch.chdir(tmp_path)
    (job,) = add(capsys, "--image", "start.png")
    assert job["request"]["image"] == str(tmp_path / "start.png")
    code, _, err = run(capsys, "queue", "add", "--task", "i2v-A14B", "--prompt", "x")
    assert code == 2 and "needs a start image" in err


def test_add_bad_input_exits_2_and_writes_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "queue", "add", "--task", "ti2v-5B", "--prompt", "x", "--frame_num", "80"
    )
    assert code == 2 and err.startswith("error: frame count 80") and "hint:" in err
    code, _, err = run(capsys, "queue", "add", "--task", "nope-9B", "--prompt", "x")
    assert code == 2
    assert run_json(capsys, "queue", "list")["jobs"] == []


def test_list_move_cancel_retry_rm(capsys: pytest.CaptureFixture[str]) -> None:
    add(capsys, "--count", "3", "--base_seed", "1")
    (urgent,) = add(capsys, "--now")
    listed = run_json(capsys, "queue", "list")
    assert [j["id"] for j in listed["jobs"]] == [urgent["id"], 1, 2, 3]
    run_json(capsys, "queue", "move", "3", "top")
    assert [j["id"] for j in run_json(capsys, "queue", "list")["jobs"]] == [4, 3, 1, 2]
    code, out, _ = run(capsys, "queue", "list")
    assert code == 0 and "boat" in out and "normal" in out and "now" in out
    cancelled = run_json(capsys, "queue", "cancel", "1", "2")
    assert {j["status"] for j in cancelled} == {"cancelled"}
    assert run_json(capsys, "queue", "retry", "2")[0]["status"] == "queued"
    run_json(capsys, "queue", "rm", "1")
    everything = run_json(capsys, "queue", "list", "--all")["jobs"]
    assert sorted(j["id"] for j in everything) == [2, 3, 4]
    code, _, err = run(capsys, "queue", "move", "3", "sideways")
    assert code == 2 and "hint:" in err
    code, _, err = run(capsys, "queue", "cancel", "42")
    assert code == 2 and "no job 42" in err


def test_reroll_stops_a_job_and_queues_it_first_with_a_new_seed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    add(capsys, "--count", "2", "--base_seed", "7")
    out = run_json(capsys, "queue", "reroll", "2")
    assert out["stopped"] == 2 and out["seed"] != 8
    jobs = run_json(capsys, "queue", "list")["jobs"]
    assert [j["id"] for j in jobs] == [out["queued"], 1]
    code, text, _ = run(capsys, "queue", "reroll", "1")
    assert code == 0 and "job 1 stopped" in text and "queued first with seed" in text
    code, _, err = run(capsys, "queue", "reroll", "1")
    assert code == 2 and "only a queued or running job" in err


def test_pause_resume_and_edit(capsys: pytest.CaptureFixture[str]) -> None:
    add(capsys, "--base_seed", "5")
    assert run_json(capsys, "queue", "pause") == {"paused": True}
    assert run_json(capsys, "queue", "list")["paused"] is True
    with open_app_database(app_paths()) as db:
        assert q.claim_next(db, "r") is None
    run_json(capsys, "queue", "resume")
    (edited,) = run_json(
        capsys, "queue", "edit", "1", "--prompt", "a glass boat", "--size", "704*1280"
    )
    assert (edited["prompt"], edited["request"]["size"], edited["seed"]) == (
        "a glass boat",
        "704*1280",
        5,
    )
    code, _, err = run(capsys, "queue", "edit", "1", "--frame_num", "6")
    assert code == 2 and "frame count" in err
    code, _, err = run(capsys, "queue", "edit", "1")
    assert code == 2 and "nothing to change" in err


def test_history_list_search_show_fav_rerun_rm(capsys: pytest.CaptureFixture[str]) -> None:
    add(capsys, "--base_seed", "3")
    run_json(capsys, "queue", "add", "--task", "ti2v-5B", "--prompt", "一只白鹭站在稻田里")
    boat, egret = finish_next("a folded paper boat drifts"), finish_next()
    page = run_json(capsys, "history", "list")
    assert [g["id"] for g in page["items"]] == [egret, boat] and page["total"] == 2
    assert [g["id"] for g in run_json(capsys, "history", "search", "白鹭站")["items"]] == [egret]
    assert [g["id"] for g in run_json(capsys, "history", "search", "drifts")["items"]] == [boat]
    code, out, _ = run(capsys, "history", "search", "白鹭")
    assert code == 0 and "一只白鹭" in out
    assert run_json(capsys, "history", "fav", str(boat))["favourite"] is True
    assert [g["id"] for g in run_json(capsys, "history", "list", "--fav")["items"]] == [boat]
    assert run_json(capsys, "history", "tag", str(boat), "sea")["tags"] == ["sea"]
    assert run_json(capsys, "history", "show", str(boat))["seed"] == 3
    (same,) = run_json(capsys, "history", "rerun", str(boat))
    (fresh,) = run_json(capsys, "history", "rerun", str(boat), "--new_seed")
    assert same["seed"] == 3 and fresh["seed"] != 3
    video = app_paths().outputs / f"{1}.mp4"
    video.parent.mkdir(parents=True, exist_ok=True)
    video.write_bytes(b"mp4")
    res = run_json(capsys, "history", "rm", str(boat), "--files")
    assert res["deleted_files"] == [str(video)] and not video.exists()
    code, _, err = run(capsys, "history", "show", str(boat))
    assert code == 2 and "no generation" in err


def test_cli_subprocess_exit_codes_and_home_flag(tmp_path: Path, tiny_ti2v: Path) -> None:
    home = tmp_path / "elsewhere"
    register_installed("ti2v-5B", tiny_ti2v, home=home)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    base = [sys.executable, "-m", "wan22_desktop.cli", "--home", str(home)]
    ok = subprocess.run(
        [*base, "--json", "queue", "add", "--task", "ti2v-5B", "--prompt", "hi"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)[0]["status"] == "queued"
    assert (home / "data" / "wan22.sqlite3").is_file()
    bad = subprocess.run(
        [*base, "history", "fav", "77"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and bad.stderr.startswith("error: there is no generation 77")
    (home / "data" / "wan22.sqlite3").unlink()
    for extra in ("-wal", "-shm"):
        (home / "data" / f"wan22.sqlite3{extra}").unlink(missing_ok=True)
    (home / "data" / "wan22.sqlite3").write_bytes(b"garbage" * 100)
    broken = subprocess.run(
        [*base, "queue", "list"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert broken.returncode == 1
    assert str(home / "data" / "wan22.sqlite3") in broken.stderr and "hint:" in broken.stderr
