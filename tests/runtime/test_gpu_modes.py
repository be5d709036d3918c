"""``wan22 queue run --gpu-mode``: throughput (one runner process per GPU), latency (every job on
all GPUs), auto. No GPU here: the hardware probe reports fake cards (``WAN22_FAKE_GPUS``) and the
tiny loop checkpoint runs on the CPU (the jobs pin ``device=cpu``)."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import psutil
import pytest

from tests.runtime.helpers import TASK, cli, make_home, wait_for
from wan22_desktop.db import history
from wan22_desktop.db import queue as q
from wan22_desktop.db.database import Database, open_database
from wan22_desktop.db.lease import RunnerIdentity, RunnerInfo, list_runners, register_runner
from wan22_desktop.downloader.installed import register
from wan22_desktop.paths import app_paths
from wan22_desktop.request import GenerationRequest
from wan22_desktop.runtime.hardware import GPU, Hardware, fake_gpus
from wan22_desktop.runtime.planner import InstalledModel
from wan22_desktop.runtime.planning import latency_overrides, overrides_for, plan_request
from wan22_desktop.runtime.runner_group import child_argv, child_env, summarize
from wan22_desktop.settings import Settings


def _hardware(n: int, gib: float = 80.0) -> Hardware:
    gpus = tuple(GPU(i, "NVIDIA H100 80GB HBM3", gib, gib - 1, (9, 0)) for i in range(n))
    return Hardware(gpus=gpus, ram_total_gib=512.0, ram_available_gib=400.0, cpu_count=32)


def _request(task: str = "t2v-A14B", **kw) -> GenerationRequest:
    values = dict(prompt="a red fox", size="1280*720", frame_num=81, seed=1)
    values.update(kw)
    return GenerationRequest.for_task(task, **values)


INSTALLED = {
    "t2v-A14B": InstalledModel("t2v-A14B", "/models/t2v", 60 * 1024**3),
    "ti2v-5B": InstalledModel("ti2v-5B", "/models/ti2v", 10 * 1024**3),
}


# ---- pure: fake GPUs, latency plans, the group's children --------------------------------------


def test_fake_gpus_follow_cuda_visible_devices_like_real_cards() -> None:
    assert [(g.index, g.total_gib) for g in fake_gpus("2x24")] == [(0, 24.0), (1, 24.0)]
    assert [g.index for g in fake_gpus("4x80", "2")] == [0]  # one visible card is cuda:0
    assert len(fake_gpus("4x80", "1,3")) == 2
    assert fake_gpus("2x24", "") == ()
    with pytest.raises(ValueError, match="2x24"):
        fake_gpus("two")


def test_latency_mode_plans_every_job_across_all_gpus() -> None:
    hw = _hardware(4)
    for task in ("t2v-A14B", "ti2v-5B"):
        request = _request(task, size="1280*704" if task == "ti2v-5B" else "1280*720")
        plan = plan_request(request, hw, INSTALLED, gpu_mode="latency")
        assert plan.nproc == 4 and plan.ulysses_size == 4, (task, plan.summary())
        assert plan.device == "cuda" and plan.to_dict()["nproc"] == 4  # what set_plan records
    a14b = plan_request(_request(), hw, INSTALLED, gpu_mode="latency")
    assert a14b.dit_fsdp and a14b.t5_fsdp  # the official multi-GPU layout for A14B


def test_latency_mode_rounds_down_to_what_the_heads_allow_and_respects_pins() -> None:
    # 24 heads (5B) on 5 GPUs: Ulysses 4 (the largest size <= 5 that divides 24).
    five = plan_request(
        _request("ti2v-5B", size="1280*704"), _hardware(5), INSTALLED, gpu_mode="latency"
    )
    assert five.nproc == 4 and "4 of 5 GPUs" in five.reasons["gpus"]
    pinned = _request("ti2v-5B", size="1280*704", gpus=1)
    assert plan_request(pinned, _hardware(4), INSTALLED, gpu_mode="latency").nproc == 1
    ov = overrides_for(_request(device="cpu"))
    assert latency_overrides(ov, _hardware(4)) == ov
    one = overrides_for(_request())
    assert latency_overrides(one, _hardware(1)) == one


def test_latency_mode_falls_back_to_the_planner_s_layout_when_the_split_does_not_fit() -> None:
    # A14B 720p on 3 x 80 GiB: Ulysses 2 (40 heads) leaves a decode over 80 GiB on each card.
    hw = _hardware(3)
    auto = plan_request(_request(), hw, INSTALLED)
    latency = plan_request(_request(), hw, INSTALLED, gpu_mode="latency")
    assert latency.nproc == auto.nproc
    assert latency.reasons["gpus"].startswith("latency mode: all 3 GPUs do not fit")


def test_auto_mode_is_the_planner_s_choice() -> None:
    hw = _hardware(4)
    for task in ("t2v-A14B", "ti2v-5B"):
        request = _request(task, size="1280*704" if task == "ti2v-5B" else "1280*720")
        auto = plan_request(request, hw, INSTALLED)
        assert plan_request(request, hw, INSTALLED, gpu_mode="auto") == auto
        assert plan_request(request, hw, INSTALLED, gpu_mode="throughput") == auto


def test_each_child_runner_sees_only_its_own_gpu() -> None:
    gpu = GPU(3, "card", 24.0, 23.0, (8, 9))
    env = child_env({"PATH": "/bin", "CUDA_VISIBLE_DEVICES": "0,1,2,3"}, gpu)
    assert env == {"PATH": "/bin", "CUDA_VISIBLE_DEVICES": "3"}
    argv = child_argv("/data", ["--forever"], 4242)
    assert argv[argv.index("--home") + 1] == "/data"
    tail = argv[argv.index("queue") :]
    assert tail == [
        "queue",
        "run",
        "--forever",
        "--gpu-mode",
        "throughput",
        "--group-supervisor",
        "4242",
    ]
    assert "--home" not in child_argv(None, [], 1)


def test_a_child_that_died_is_named_in_the_summary() -> None:
    class _Proc:
        def __init__(self, pid: int, rc: int) -> None:
            self.pid, self.returncode = pid, rc

    from wan22_desktop.runtime.runner_group import Child

    ok = Child("0", _Proc(10, 0))  # type: ignore[arg-type]
    ok.summary = {"done": [1, 3], "failed": [], "stopped_reason": "the queue is empty"}
    dead = Child("1", _Proc(11, -9), last_error="Killed")  # type: ignore[arg-type]
    s = summarize([ok, dead], still_queued=2)
    assert s["done"] == [1, 3] and s["queued"] == 2
    assert s["runners"][1]["runner"] == "gpu1"
    assert s["runners"][1]["stopped_reason"] == "died without a summary (exit code -9): Killed"


def test_the_runner_row_records_its_mode_and_gpu_devices(tmp_path: Path, capsys) -> None:
    from wan22_desktop.cli import main
    from wan22_desktop.services.queue import list_runners as runner_rows

    home = make_home(tmp_path / "home")
    try:
        me = RunnerIdentity.current()
        gpus = [{"name": "card", "vram_bytes": 24 * 2**30, "device": "1"}]
        register_runner(home.db, me, RunnerInfo(gpus=gpus, mode="throughput"))
        [row] = list_runners(home.db)
        assert row.mode == "throughput" and row.gpus[0]["device"] == "1"
        [shown] = runner_rows(home.db)  # what the Queue view lists
        assert shown.mode == "throughput" and shown.gpus == ("gpu1: card (24 GiB)",)
        assert main(["--home", str(home.root), "db", "status"]) == 0
        assert "gpu1 card, throughput mode" in capsys.readouterr().out
        assert main(["--home", str(home.root), "--json", "db", "status"]) == 0
        [listed] = json.loads(capsys.readouterr().out)["runners"]
        assert listed["mode"] == "throughput" and listed["gpus"][0]["device"] == "1"
    finally:
        home.db.close()


# ---- real processes: a parent and one child runner per fake GPU ---------------------------------


def _cpu_request(steps: int) -> GenerationRequest:
    return GenerationRequest.for_task(
        TASK, prompt="a red fox", size="128*128", frame_num=5, sample_steps=steps, device="cpu"
    )


def _children(pid: int) -> list[psutil.Process]:
    try:
        return [
            c
            for c in psutil.Process(pid).children()
            if "--group-supervisor" in " ".join(c.cmdline())
        ]
    except psutil.NoSuchProcess:
        return []


def _run_throughput_to_the_end(db: Database, root: Path) -> None:
    ids = [j.id for j in q.enqueue(db, _cpu_request(6), count=6)]
    env = {"WAN22_FAKE_GPUS": "2x24", "LOOP_STEP_S": "0.3"}
    parent = cli(
        root, "--json", "queue", "run", "--gpu-mode", "throughput", "--no-keep-awake", env=env
    )
    try:
        kids = wait_for(lambda: len(_children(parent.pid)) == 2 and _children(parent.pid))
        seen = sorted(k.environ().get("CUDA_VISIBLE_DEVICES") for k in kids)  # type: ignore[union-attr]
        assert seen == ["0", "1"]
        rows = wait_for(lambda: len(list_runners(db)) == 2 and list_runners(db), timeout=60)
        assert {r.mode for r in rows} == {"throughput"}  # type: ignore[union-attr]
        out, err = parent.communicate(timeout=240)
    finally:
        if parent.poll() is None:
            parent.kill()
    assert parent.returncode == 0, err
    summary = json.loads(out.splitlines()[-1])["summary"]
    assert summary["done"] == ids and summary["failed"] == [] and summary["queued"] == 0
    per_runner = [r["done"] for r in summary["runners"]]
    assert sorted(sum(per_runner, [])) == ids  # each job done once, by one runner
    assert all(per_runner), per_runner  # both GPUs worked
    events = [json.loads(line) for line in out.splitlines()[:-1]]
    runners = {e.get("runner") for e in events if e.get("event") == "done"}
    assert runners == {"gpu0", "gpu1"}
    for job_id in ids:
        job = q.get_job(db, job_id)
        assert (job.status, job.attempts) == ("done", 1)
        assert history.get_generation(db, job.generation_id).video_path
    assert list_runners(db) == []  # every child unregistered on its way out


@pytest.mark.slow
def test_throughput_two_gpus_two_runners_every_job_once_sqlite(tmp_path, worker_env) -> None:
    home = make_home(tmp_path / "home")
    try:
        _run_throughput_to_the_end(home.db, home.root)
    finally:
        home.db.close()


@pytest.mark.slow
def test_throughput_two_gpus_two_runners_every_job_once_postgres(
    pg_url, tmp_path, worker_env
) -> None:
    from tests.runtime.loop_backend import write_checkpoint

    root = tmp_path / "box"
    paths = app_paths(root).ensure()
    settings = Settings.load(paths)
    settings.set_database_url(pg_url)
    settings.save()
    db = open_database(pg_url)
    try:
        ckpt = write_checkpoint(tmp_path / "models" / "loop-ti2v")
        db.transact(
            lambda s: register(
                s, "Wan-AI/Wan2.2-TI2V-5B", ckpt, origin="import", tasks=(TASK,), size=1
            )
        )
        _run_throughput_to_the_end(db, root)
    finally:
        db.close()


@pytest.mark.slow
def test_ctrl_c_stops_both_runners_and_leaves_their_jobs_queued(tmp_path, worker_env) -> None:
    home = make_home(tmp_path / "home")
    try:
        ids = [j.id for j in q.enqueue(home.db, _cpu_request(200), count=3)]
        env = {"WAN22_FAKE_GPUS": "2x24", "LOOP_STEP_S": "0.1"}
        parent = cli(home.root, "queue", "run", "--gpu-mode", "throughput", "--forever", env=env)
        try:
            kids = wait_for(lambda: len(_children(parent.pid)) == 2 and _children(parent.pid))
            wait_for(
                lambda: sum((q.get_job(home.db, i).progress_step or 0) > 0 for i in ids) == 2,
                timeout=90,
            )
            parent.send_signal(signal.SIGINT)
            out, err = parent.communicate(timeout=90)
        finally:
            if parent.poll() is None:
                parent.kill()
        assert parent.returncode == 130, err
        assert "interrupted" in out.splitlines()[-1] and "3 left queued" in out.splitlines()[-1]
        for kid in kids:  # type: ignore[union-attr]
            assert not kid.is_running() or kid.status() == psutil.STATUS_ZOMBIE
        for i in ids:
            job = q.get_job(home.db, i)
            assert job.status == "queued" and job.runner_id is None
        assert list_runners(home.db) == []
        assert "runner stopped" in out and "DIED" not in out
        # The folder's lease went with the group: a plain runner may start now.
        assert q.counts_by_status(home.db) == {"queued": 3}
    finally:
        home.db.close()


@pytest.mark.slow
def test_one_gpu_throughput_is_one_runner_and_says_so(tmp_path, worker_env) -> None:
    home = make_home(tmp_path / "home")
    try:
        [job_id] = [j.id for j in q.enqueue(home.db, _cpu_request(2))]
        env = {"WAN22_FAKE_GPUS": "1x24"}
        p = cli(home.root, "queue", "run", "--gpu-mode", "throughput", "--no-keep-awake", env=env)
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        assert "this machine has 1 GPU, so it runs one runner" in out
        assert q.get_job(home.db, job_id).status == "done"
    finally:
        home.db.close()


@pytest.mark.slow
def test_a_runner_that_dies_is_reported_not_restarted_and_its_job_is_done_by_the_other(
    tmp_path, worker_env
) -> None:
    home = make_home(tmp_path / "home")
    try:
        ids = [j.id for j in q.enqueue(home.db, _cpu_request(20), count=3)]
        env = {"WAN22_FAKE_GPUS": "2x24", "LOOP_STEP_S": "0.1"}
        parent = cli(
            home.root, "queue", "run", "--gpu-mode", "throughput", "--no-keep-awake", env=env
        )
        try:
            wait_for(lambda: len(_children(parent.pid)) == 2)
            running = wait_for(
                lambda: [
                    j
                    for j in (q.get_job(home.db, i) for i in ids)
                    if j.status == "running" and (j.progress_step or 0) > 0
                ],
                timeout=90,
            )
            victim_pid = int(running[0].runner_id.split(":")[1])  # type: ignore[index]
            victim_job = running[0].id  # type: ignore[index]
            psutil.Process(victim_pid).kill()
            out, err = parent.communicate(timeout=180)
        finally:
            if parent.poll() is None:
                parent.kill()
        assert parent.returncode == 1, err  # a runner died: not a clean run
        assert f"runner pid {victim_pid} DIED" in out and "died: gpu" in out.splitlines()[-1]
        assert len([c for c in out.splitlines() if "started (CUDA_VISIBLE_DEVICES=" in c]) == 2
        for i in ids:  # the survivor took the dead runner's job back and finished everything
            assert q.get_job(home.db, i).status == "done"
        assert q.get_job(home.db, victim_job).attempts == 2
    finally:
        home.db.close()


@pytest.mark.slow
def test_runners_stop_by_themselves_when_their_supervisor_is_killed(tmp_path, worker_env) -> None:
    home = make_home(tmp_path / "home")
    try:
        ids = [j.id for j in q.enqueue(home.db, _cpu_request(200), count=2)]
        env = {"WAN22_FAKE_GPUS": "2x24", "LOOP_STEP_S": "0.1"}
        parent = cli(home.root, "queue", "run", "--gpu-mode", "throughput", "--forever", env=env)
        try:
            kids = wait_for(lambda: len(_children(parent.pid)) == 2 and _children(parent.pid))
            wait_for(
                lambda: all((q.get_job(home.db, i).progress_step or 0) > 0 for i in ids),
                timeout=90,
            )
            parent.kill()
            parent.communicate(timeout=30)
            _gone, alive = psutil.wait_procs(kids, timeout=60)  # type: ignore[arg-type]
        finally:
            if parent.poll() is None:
                parent.kill()
        assert alive == []
        for i in ids:  # each runner put its job back on its way out
            job = q.get_job(home.db, i)
            assert (job.status, job.runner_id) == ("queued", None)
        assert list_runners(home.db) == []
    finally:
        home.db.close()
