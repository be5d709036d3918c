"""The queue runner in-process, driving real worker subprocesses (loop backend, tiny sizes)."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

import psutil
import pytest

from tests.runtime.helpers import make_home, wait_for
from tests.runtime.loop_backend import write_checkpoint
from wan22_desktop.db import history
from wan22_desktop.db import queue as q
from wan22_desktop.request import GenerationRequest, MemoryOptions
from wan22_desktop.runtime import protocol as P
from wan22_desktop.runtime.hardware import Hardware
from wan22_desktop.runtime.planning import (
    installed_models,
    overrides_for,
    plan_request,
    safer_request,
)
from wan22_desktop.runtime.runner import QueueRunner, RunnerOptions, hang_limit, output_paths

NO_GPU = Hardware(ram_total_gib=64.0, ram_available_gib=32.0, cpu_count=2)


@pytest.fixture
def home(tmp_path, worker_env):
    h = make_home(tmp_path / "home")
    yield h
    h.db.close()


def _runner(home, events=None, **opts) -> QueueRunner:
    env = opts.pop("env", {})
    options = RunnerOptions(
        keep_awake=False, poll_s=0.05, preview_every=2, worker_env={**env}, **opts
    )
    return QueueRunner(
        home.db,
        home.paths,
        options,
        hardware=NO_GPU,
        on_event=(events.append if events is not None else None),
    )


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _in_thread(runner: QueueRunner) -> threading.Thread:
    t = threading.Thread(target=runner.run, daemon=True)
    t.start()
    return t


def test_job_end_to_end_into_history(home):
    [job_id] = home.enqueue("a red fox running")
    events = []
    summary = _runner(home, events).run()
    assert summary.done == [job_id] and summary.stopped_reason == "the queue is empty"
    job = home.job(job_id)
    assert job.status == "done" and job.progress_step == 4
    plan = json.loads(job.plan_json)
    assert plan["device"] == "cpu" and plan["checkpoint"] == str(home.checkpoint)
    # The preview the GUI shows before the job (same inputs) is the plan that ran.
    request = GenerationRequest.from_json(job.request_json)
    assert plan_request(request, NO_GPU, installed_models(home.db)).to_dict() == plan
    gen = history.get_generation(home.db, job.generation_id)
    assert Path(gen.video_path).is_file() and Path(gen.video_path).parent == home.paths.outputs
    assert Path(gen.thumbnail_path).is_file()
    assert gen.final_prompt == "a red fox running" and gen.seed == 11
    assert (gen.frames, gen.width, gen.height, gen.fps) == (5, 128, 128, 24.0)
    timings = json.loads(gen.timings_json)
    assert {"loading", "sampling", "decoding", "saving", "total", "claim_to_first_step"} <= set(
        timings
    )
    stored_plan = json.loads(gen.plan_json)
    # The plan, plus what the sampler did with it (expert per step, steps skipped by caching).
    assert stored_plan.pop("sampling") == {"experts": ["model"] * 4, "skipped_steps": []}
    assert gen.peak_memory_bytes > 0 and stored_plan == plan
    kinds = [e.kind for e in events]
    assert kinds[0] == "started" and kinds[-1] == "stopped"
    previews = [e.data for e in events if isinstance(e.data, P.Preview)]
    assert previews and not Path(previews[-1].path).exists()  # shown while running, then dropped
    assert kinds.index("claimed") < kinds.index("planned") < kinds.index("done")


def test_second_job_runs_on_the_warm_worker(home):
    ids = home.enqueue(count=2)
    events = []
    assert _runner(home, events).run().done == ids
    assert sum(e.kind == "worker" for e in events) == 1
    t1, t2 = (
        json.loads(history.get_generation(home.db, home.job(i).generation_id).timings_json)
        for i in ids
    )
    assert "loading" in t1 and "loading" not in t2


@pytest.mark.slow  # real processes: in `make test`, not `make test-fast`
def test_cancel_from_the_database_during_sampling(home):
    [job_id] = home.enqueue(steps=60)
    runner = _runner(home, env={"LOOP_STEP_S": "0.1"})
    t = _in_thread(runner)
    wait_for(lambda: (home.job(job_id).progress_step or 0) >= 2)
    at_cancel = home.job(job_id).progress_step or 0
    q.cancel_job(home.db, job_id)
    wait_for(lambda: home.job(job_id).status == "cancelled", timeout=10)
    # Bounded by steps, not seconds: the runner polls the cancel between progress writes and the
    # worker stops at the next step, so only a few steps run after the request.
    assert (home.job(job_id).progress_step or 0) <= at_cancel + 5
    t.join(20)
    assert not t.is_alive() and runner.summary.cancelled == [job_id]


@pytest.mark.slow  # real processes: in `make test`, not `make test-fast`
def test_hang_watchdog_kills_and_records_hang(home):
    hung, ok = home.enqueue("please hang", steps=6)[0], home.enqueue("fine", steps=3)[0]
    runner = _runner(
        home, env={"LOOP_HANG_AT": "3", "LOOP_STEP_S": "0.05"}, hang_floor_s=1.5, hang_factor=3.0
    )
    summary = runner.run()  # the hung step never ends: returning at all means the watchdog fired
    job = home.job(hung)
    assert job.status == "failed" and job.error_kind == "hang", job.error_message
    assert "after step 2 of 6" in job.error_message
    assert summary.done == [ok]


def test_an_engine_note_reaches_the_runner_log_and_the_history_row(home, caplog):
    """A fallback the engine made while running (an attention kernel replaced by SDPA) is
    logged by the runner and kept with the generation's plan warnings, which history shows."""
    note = "attention: FlashAttention 2 failed (RuntimeError: boom); this job ran on SDPA"
    [job_id] = home.enqueue("a red fox running")
    with caplog.at_level(logging.WARNING, logger="wan22_desktop.runtime.runner"):
        summary = _runner(home, env={"LOOP_NOTE": note}).run()
    assert summary.done == [job_id]
    gen = history.get_generation(home.db, home.job(job_id).generation_id)
    assert json.loads(gen.plan_json)["warnings"] == [note]
    assert json.loads(home.job(job_id).plan_json)["warnings"] == []  # the plan as planned
    assert any(note in r.getMessage() and str(job_id) in r.getMessage() for r in caplog.records)


def test_out_of_memory_then_retry_with_a_safer_plan(home):
    [job_id] = home.enqueue("oom here")
    _runner(home, env={"LOOP_OOM_AT": "1"}).run()
    job = home.job(job_id)
    assert job.status == "failed" and job.error_kind == "out_of_memory"
    assert "offload" in job.error_hint
    q.retry_job(home.db, job_id)
    req = safer_request(GenerationRequest.from_json(home.job(job_id).request_json))
    q.edit_job(home.db, job_id, memory=req.memory)
    # On the CPU the runner did not retry by itself (GPU headroom changes nothing there); the
    # user's retry-safer keeps 20 % of the GPU free.
    assert job.attempts == 1
    assert GenerationRequest.from_json(home.job(job_id).request_json).memory == MemoryOptions(
        vram_headroom=20
    )


@pytest.mark.slow  # real processes: in `make test`, not `make test-fast`
def test_pause_finishes_the_job_then_frees_the_worker(home):
    first, second = home.enqueue(steps=12, count=2)
    runner = _runner(home, env={"LOOP_STEP_S": "0.1"})
    t = _in_thread(runner)
    wait_for(lambda: (home.job(first).progress_step or 0) >= 1)
    worker_pid = runner.worker.pid
    q.set_paused(home.db, True)
    t.join(30)
    assert not t.is_alive() and runner.summary.stopped_reason == "the queue is paused"
    assert home.job(first).status == "done" and home.job(second).status == "queued"
    assert runner.worker is None and _gone(worker_pid)


def test_pause_with_pause_cancels_leaves_the_job_queued(home):
    [job_id] = home.enqueue(steps=60)
    runner = _runner(home, env={"LOOP_STEP_S": "0.1"}, pause_cancels=True)
    t = _in_thread(runner)
    wait_for(lambda: (home.job(job_id).progress_step or 0) >= 1)
    q.set_paused(home.db, True)
    t.join(20)
    job = home.job(job_id)
    assert job.status == "queued" and runner.summary.requeued == [job_id]


def test_stop_leaves_the_current_job_queued(home):
    [job_id] = home.enqueue(steps=60)
    runner = _runner(home, env={"LOOP_STEP_S": "0.1"})
    t = _in_thread(runner)
    wait_for(lambda: (home.job(job_id).progress_step or 0) >= 1)
    runner.stop()
    t.join(20)
    assert not t.is_alive() and home.job(job_id).status == "queued"
    assert home.job(job_id).progress_step is None


def test_a_job_for_a_model_that_is_not_installed_fails_cleanly(home):
    req = GenerationRequest.for_task("t2v-A14B", prompt="x", size="832*480", frame_num=5, seed=1)
    [job] = q.enqueue(home.db, req)
    [ok] = home.enqueue()
    summary = _runner(home).run()
    failed = home.job(job.id)
    assert failed.status == "failed" and failed.error_kind == "bad_input"
    assert "GPU" in failed.error_message
    assert summary.done == [ok]


def test_pure_helpers():
    assert hang_limit([], 3.0, 10.0) == 10.0
    assert hang_limit([1.0, 2.0, 30.0], 3.0, 1.0) == 6.0
    req = GenerationRequest.for_task(
        "ti2v-5B", prompt="p", seed=3, memory=MemoryOptions("on", "off", "auto"), gpus=2
    )
    ov = overrides_for(req)
    assert (ov.offload_model, ov.convert_model_dtype, ov.t5_cpu, ov.gpus) == (True, False, None, 2)
    video, thumb = output_paths(Path("/o"), 9, req)
    assert video.parent == Path("/o") and video.name.endswith("_job9_ti2v-5B_3.mp4")
    assert thumb.parent == Path("/o/.thumbnails") and thumb.suffix == ".jpg"
    npy = output_paths(
        Path("/o"), 9, GenerationRequest.for_task("ti2v-5B", seed=1, output_format="png")
    )[0]
    assert npy.suffix == ""


@pytest.mark.slow  # real processes: in `make test`, not `make test-fast`
def test_release_worker_frees_it_while_waiting_for_jobs(home):
    [first] = home.enqueue()
    runner = _runner(home, forever=True)
    t = _in_thread(runner)
    wait_for(lambda: home.job(first).status == "done", timeout=60)
    pid = runner.worker.pid
    runner.release_worker()
    wait_for(lambda: runner.worker is None, timeout=15)
    assert _gone(pid)
    [second] = home.enqueue()  # the next job starts a fresh worker
    wait_for(lambda: home.job(second).status == "done", timeout=60)
    runner.stop()
    t.join(20)
    assert not t.is_alive()


@pytest.mark.slow  # real processes: in `make test`, not `make test-fast`
def test_a_worker_that_ignores_cancel_is_killed_and_the_job_cancelled(home):
    [stuck] = home.enqueue("hang in here", steps=6)
    [after] = home.enqueue(steps=3)
    events = []
    runner = _runner(home, events, env={"LOOP_HANG_AT": "2"}, cancel_grace_s=1.0, hang_floor_s=60.0)
    t = _in_thread(runner)
    wait_for(lambda: (home.job(stuck).progress_step or 0) >= 1)
    wait_for(lambda: runner.worker is not None)
    stuck_worker = runner.worker.pid
    q.cancel_job(home.db, stuck)
    wait_for(lambda: home.job(stuck).status == "cancelled", timeout=10)
    assert _gone(stuck_worker)
    wait_for(lambda: home.job(after).status == "done", timeout=60)
    runner.stop()
    t.join(20)
    assert any(e.kind == "cancelled" and "killed" in e.message for e in events)


def test_a_worker_that_cannot_start_fails_the_job_with_its_last_words_and_goes_on(home):
    job_ids = home.enqueue(count=2)
    events = []
    runner = _runner(
        home, events, env={"WAN22_WORKER_BACKEND": "no_such_module:Backend"}, start_backoff_s=0.01
    )
    summary = runner.run()  # no exception: the runner itself is fine
    for job_id in job_ids:
        job = home.job(job_id)
        assert job.status == "failed" and job.error_kind == "crashed"
        assert "the worker did not start" in job.error_message
        assert "no_such_module" in job.error_message  # the worker log's last lines
    assert summary.failed == job_ids and summary.stopped_reason == "the queue is empty"
    assert not any("stopped by the user" in e.message for e in events)
    assert (home.paths.logs / "worker.log").read_text().count("no_such_module") >= 1


def test_a_request_with_its_own_checkpoint_and_save_file_runs_there(home, tmp_path):
    """`queue add --ckpt_dir D --save_file F` (and History's copy-as-command) run on D into F."""
    own = write_checkpoint(tmp_path / "own-ckpt", seed=1)
    target = tmp_path / "renders" / "mine.mp4"
    target.parent.mkdir()
    request = GenerationRequest.for_task(
        "ti2v-5B",
        prompt="a fox",
        size="128*128",
        frame_num=5,
        sample_steps=2,
        seed=3,
        ckpt_dir=str(own),
        save_file=str(target),
    )
    [job] = q.enqueue(home.db, request)
    summary = _runner(home).run()
    assert summary.done == [job.id]
    done = home.job(job.id)
    assert json.loads(done.plan_json)["checkpoint"] == str(own)
    assert history.get_generation(home.db, done.generation_id).video_path == str(target)
    assert target.is_file()
