"""The worker subprocess through the launcher: protocol, warm pipeline, cancel, failures."""

from __future__ import annotations

import os
import signal
import time
from dataclasses import replace

import pytest

from tests.runtime.helpers import cpu_plan
from tests.runtime.loop_backend import write_checkpoint
from wan22_desktop.errors import (
    Cancelled,
    CheckpointError,
    DiskFull,
    OutOfMemory,
    UserInputError,
)
from wan22_desktop.request import GenerationRequest
from wan22_desktop.runtime import protocol as P
from wan22_desktop.runtime.launcher import Exited, WorkerProcess, describe_exit, worker_command
from wan22_desktop.runtime.planner import Plan
from wan22_desktop.runtime.worker import classify

CPU_PLAN = cpu_plan()


def _request(prompt: str = "a cat", steps: int = 4) -> dict:
    return GenerationRequest.for_task(
        "ti2v-5B", prompt=prompt, size="128*128", frame_num=5, sample_steps=steps, seed=5
    ).to_dict()


def _run(
    w: WorkerProcess,
    job_id: int,
    ckpt,
    tmp_path,
    *,
    prompt="a cat",
    steps=4,
    on_event=None,
    timeout=60.0,
) -> list[P.Message]:
    w.send(
        P.RunJob(
            job_id,
            _request(prompt, steps),
            CPU_PLAN,
            str(ckpt),
            str(tmp_path / f"out{job_id}.mp4"),
            str(tmp_path / f"thumb{job_id}.jpg"),
            str(tmp_path / "previews"),
            2,
        )
    )
    events: list[P.Message] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ev = w.next_event(1.0)
        if ev is None:
            continue
        events.append(ev)
        if on_event:
            on_event(ev)
        if isinstance(ev, (P.Done, P.Failed, Exited)):
            return events
    raise AssertionError(f"job {job_id} did not finish: {events}")


@pytest.fixture
def worker(worker_env, tmp_path):
    w = WorkerProcess(log_path=tmp_path / "worker.log", env={**os.environ, **worker_env})
    w.wait_ready(60)
    yield w
    w.kill()


@pytest.fixture
def ckpt(tmp_path):
    return write_checkpoint(tmp_path / "ckpt")


def test_ready_ping_release_and_clean_shutdown(worker):
    assert worker.ready.pid == worker.pid and worker.ready.torch_version
    assert worker.send(P.Ping())
    assert isinstance(worker.next_event(10), P.Pong)
    worker.send(P.Release())
    ev = worker.next_event(10)
    assert isinstance(ev, P.Log) and "released" in ev.message
    worker.shutdown(grace=10)
    assert worker.proc.returncode == 0


def test_bad_command_is_reported_not_fatal(worker):
    worker.proc.stdin.write(b'{"v": 99, "type": "ping"}\n')
    worker.proc.stdin.flush()
    ev = worker.next_event(10)
    assert isinstance(ev, P.Log) and ev.level == "error" and "protocol version" in ev.message
    worker.send(P.Ping())
    assert isinstance(worker.next_event(10), P.Pong)


def test_job_end_to_end_then_warm_job_skips_loading(worker, ckpt, tmp_path):
    first = _run(worker, 1, ckpt, tmp_path)
    second = _run(worker, 2, ckpt, tmp_path)
    done1, done2 = first[-1], second[-1]
    assert isinstance(done1, P.Done) and isinstance(done2, P.Done), (first, second)
    started1, started2 = first[0], second[0]
    assert isinstance(started1, P.JobStarted) and not started1.warm
    assert isinstance(started2, P.JobStarted) and started2.warm
    phases1 = [e.phase for e in first if isinstance(e, P.Phase)]
    phases2 = [e.phase for e in second if isinstance(e, P.Phase)]
    assert phases1 == ["loading", "text_encoding", "sampling", "decoding", "saving"]
    assert phases2 == ["text_encoding", "sampling", "decoding", "saving"]
    assert "loading" in done1.timings and "loading" not in done2.timings
    steps = [e for e in first if isinstance(e, P.Step)]
    assert [s.step for s in steps] == [1, 2, 3, 4] and all(s.total == 4 for s in steps)
    assert steps[-1].eta_s == 0 and steps[0].it_per_s > 0
    previews = [e for e in first if isinstance(e, P.Preview)]
    assert [p.step for p in previews] == [2, 4] and os.path.getsize(previews[-1].path) > 0
    assert os.path.getsize(done1.outputs[0]) > 0 and os.path.getsize(done1.thumbnail) > 0
    assert (done1.frames, done1.width, done1.height, done1.fps, done1.seed) == (5, 128, 128, 24, 5)
    assert done1.final_prompt == "a cat" and done1.peak_cpu_bytes > 0


def test_other_plan_reloads(worker, ckpt, tmp_path):
    _run(worker, 1, ckpt, tmp_path)
    worker.send(
        P.RunJob(2, _request(), cpu_plan(offload_model=True), str(ckpt), str(tmp_path / "o2.mp4"))
    )
    assert worker.next_event(10) == P.JobStarted(2, warm=False)


def test_cancel_during_sampling_stops_a_few_steps_later(ckpt, tmp_path, worker_env):
    def cancel_at_step_2(ev):
        if isinstance(ev, P.Step) and ev.step == 2:
            w.send(P.Cancel(7))

    w = WorkerProcess(env={**os.environ, **worker_env, "LOOP_STEP_S": "0.2"})
    try:
        w.wait_ready(60)
        events = _run(w, 7, ckpt, tmp_path, steps=40, on_event=cancel_at_step_2)
        failed = events[-1]
        assert isinstance(failed, P.Failed) and failed.kind == "cancelled", events
        # Bounded by steps, not seconds: the worker checks for a cancel after every step.
        assert failed.phase == "sampling" and failed.step is not None and failed.step < 20
        assert not (tmp_path / "out7.mp4").exists()
        # The worker is still usable (and still warm) after a cancel.
        w.send(P.Ping())
        assert isinstance(w.next_event(10), P.Pong)
    finally:
        w.kill()


def test_out_of_memory_is_classified_and_frees_the_pipeline(ckpt, tmp_path, worker_env):
    w = WorkerProcess(env={**os.environ, **worker_env, "LOOP_OOM_AT": "2"})
    try:
        w.wait_ready(60)
        failed = _run(w, 1, ckpt, tmp_path, prompt="oom please")[-1]
        assert isinstance(failed, P.Failed) and failed.kind == "out_of_memory"
        assert failed.phase == "sampling" and failed.step == 1
        assert "offload" in failed.hint and "5B" in failed.hint and "retry-safer" in failed.hint
        again = _run(w, 2, ckpt, tmp_path)
        assert again[0] == P.JobStarted(2, warm=False) and isinstance(again[-1], P.Done)
    finally:
        w.kill()


def test_missing_checkpoint_fails_as_checkpoint(worker, tmp_path):
    failed = _run(worker, 1, tmp_path / "nowhere", tmp_path)[-1]
    assert (
        isinstance(failed, P.Failed) and failed.kind == "checkpoint" and failed.phase == "loading"
    )


def test_sigkill_ends_the_event_stream_with_the_signal(worker):
    os.kill(worker.pid, signal.SIGKILL)
    ev = worker.next_event(10)
    assert isinstance(ev, Exited) and ev.returncode == -signal.SIGKILL
    assert describe_exit(ev.returncode) == "the worker was killed by SIGKILL"


def test_worker_exits_when_its_control_pipe_closes(ckpt, tmp_path, worker_env):
    """The parent died: stdin closes; the running job stops at its next step and the worker ends."""
    w = WorkerProcess(env={**os.environ, **worker_env, "LOOP_STEP_S": "0.2"})
    try:
        w.wait_ready(60)
        w.send(P.RunJob(1, _request(steps=100), CPU_PLAN, str(ckpt), str(tmp_path / "o.mp4")))
        while not isinstance(ev := w.next_event(10), P.Step):
            assert ev is not None
        w.proc.stdin.close()
        w.proc.wait(timeout=15)  # 100 steps of 0.2 s would take 20 s: it stopped at a step
        assert not (tmp_path / "o.mp4").exists()
    finally:
        w.kill()


def test_classify_table():
    """Failures are classified by their type; the kind is the error class's ``kind``."""
    assert classify(Cancelled("stop")) == ("cancelled", "cancelled by the user", None)
    oom = classify(OutOfMemory("the GPU ran out of memory while decoding", "offload"))
    assert oom == ("out_of_memory", "the GPU ran out of memory while decoding", "offload")
    assert classify(CheckpointError("shard missing", "download")) == (
        "checkpoint",
        "shard missing",
        "download",
    )
    assert classify(UserInputError("bad image", "another"))[0] == "bad_input"
    assert classify(DiskFull("disk full", "free space"))[0] == "disk_full"
    kind, message, hint = classify(ZeroDivisionError("boom"))
    assert kind == "internal" and "ZeroDivisionError" in message and hint
    # A message that merely mentions memory is not an out-of-memory failure.
    assert classify(RuntimeError("CUDA out of memory."))[0] == "internal"
    assert all(k in P.FAILURE_KINDS for k in ("cancelled", "out_of_memory", "checkpoint"))


def test_pipeline_key_ignores_what_does_not_change_the_load():
    pytest.importorskip("torch")
    from wan22_desktop.engine.wan.pipelines.job import pipeline_key

    plan = Plan.from_dict(CPU_PLAN)
    a = pipeline_key("/m", replace(plan, reasons={"x": "1"}, est_vram_gib=1.0))
    assert a == pipeline_key("/m", replace(plan, reasons={}, est_vram_gib=2.0))
    assert a != pipeline_key("/m", replace(plan, t5_cpu=True))
    assert a != pipeline_key("/m", replace(plan, dtype="bf16"))
    assert a != pipeline_key("/m", replace(plan, attention="flash2"))
    assert a != pipeline_key("/other", plan)


def test_worker_command_single_and_torchrun():
    assert worker_command(1, python="py", parent_pid=42) == [
        "py",
        "-m",
        "wan22_desktop.runtime.worker",
        "--parent-pid",
        "42",
    ]
    cmd = worker_command(4, python="py")
    assert cmd[:3] == ["py", "-m", "torch.distributed.run"] and "--standalone" in cmd
    assert "--nproc_per_node=4" in cmd and cmd[-2:] == ["-m", "wan22_desktop.runtime.worker"]


def test_prompt_extension_runs_in_the_worker_with_the_key_from_its_environment(
    ckpt, tmp_path, worker_env
):
    from tests.prompt_extend.fake_dashscope import FakeDashScope, FakeDashScopeServer

    fake = FakeDashScope()
    with FakeDashScopeServer(fake) as server:
        env = {
            **os.environ,
            **worker_env,
            "DASH_API_URL": server.base_url,
            "DASH_API_KEY": fake.valid_key,
        }
        w = WorkerProcess(env=env)
        try:
            w.wait_ready(60)
            req = GenerationRequest.for_task(
                "ti2v-5B",
                prompt="a koi pond",
                size="128*128",
                frame_num=5,
                sample_steps=2,
                seed=5,
                prompt_extend={"enabled": True, "method": "dashscope", "target_lang": "en"},
            )
            w.send(P.RunJob(1, req.to_dict(), CPU_PLAN, str(ckpt), str(tmp_path / "o.mp4")))
            events = []
            while not isinstance(ev := w.next_event(30), (P.Done, P.Failed)):
                assert ev is not None
                events.append(ev)
        finally:
            w.kill()
    assert isinstance(ev, P.Done), ev
    # Extension runs before anything heavy is loaded (a local Qwen needs the GPU memory).
    phases = [e.phase for e in events if isinstance(e, P.Phase)]
    assert phases == [
        "prompt_extension",
        "loading",
        "text_encoding",
        "sampling",
        "decoding",
        "saving",
    ]
    assert list(ev.timings)[:2] == ["prompt_extension", "loading"]
    assert ev.final_prompt.startswith("Extended by") and "a koi pond" in ev.final_prompt
    assert ev.prompt_warning is None and len(fake.requests) == 1


def test_rotate_log_keeps_one_previous_file(tmp_path):
    from wan22_desktop.runtime.launcher import rotate_log

    log = tmp_path / "logs" / "worker.log"
    rotate_log(log)  # nothing yet: creates the folder
    log.write_bytes(b"x" * 100)
    rotate_log(log, max_bytes=200)
    assert log.exists()
    rotate_log(log, max_bytes=50)
    assert not log.exists() and (tmp_path / "logs" / "worker.log.1").stat().st_size == 100


@pytest.mark.parametrize(
    "code, text",
    [
        (-signal.SIGKILL, "killed by SIGKILL"),
        (-signal.SIGSEGV, "killed by SIGSEGV"),
        (3, "exited with code 3"),
        (None, "stopped answering"),
    ],
)
def test_describe_exit(code, text):
    assert text in describe_exit(code)


def test_library_output_on_stdout_never_reaches_the_protocol(ckpt, tmp_path, worker_env, caplog):
    w = WorkerProcess(
        env={**os.environ, **worker_env, "LOOP_PRINT": "1"}, log_path=tmp_path / "worker.log"
    )
    try:
        w.wait_ready(60)
        with caplog.at_level("WARNING", logger="wan22_desktop.runtime.launcher"):
            events = _run(w, 1, ckpt, tmp_path)
        assert isinstance(events[-1], P.Done)
        assert not [r for r in caplog.records if "not JSON" in r.getMessage()]
    finally:
        w.kill()
    text = (tmp_path / "worker.log").read_text()
    assert "noise from a library" in text and "raw noise on fd 1" in text


def test_cancel_that_arrives_before_the_job_starts_still_cancels_it(worker, ckpt, tmp_path):
    worker.send(P.RunJob(3, _request(steps=50), CPU_PLAN, str(ckpt), str(tmp_path / "o3.mp4")))
    worker.send(P.Cancel(3))
    events = []
    while not isinstance(ev := worker.next_event(30), (P.Done, P.Failed)):
        assert ev is not None
        events.append(ev)
    assert isinstance(ev, P.Failed) and ev.kind == "cancelled"
    assert not [e for e in events if isinstance(e, P.Step)] or ev.step < 50
