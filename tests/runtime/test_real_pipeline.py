"""The runner with the real Wan pipelines on tiny official-layout checkpoints.

The worker's default backend (``WanBackend``) end to end: claim -> plan -> worker -> pipeline ->
mp4 -> history row, and a warm second job; a cancel during real MoE sampling; a SIGKILL of the
worker mid-sampling (job ``crashed``, the next job completes on a fresh worker). Fault injection
the real pipeline cannot do (hangs, OOM) is covered with the loop backend in test_runner.py.
Skipped only in a tree without ``engine/wan/pipelines`` and ``engine/wan/tiny``.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pytest

pytest.importorskip("wan22_desktop.engine.wan.pipelines")
tiny = pytest.importorskip("wan22_desktop.engine.wan.tiny")

from tests.runtime.helpers import cpu_plan  # noqa: E402
from wan22_desktop.db import history  # noqa: E402
from wan22_desktop.db import queue as q  # noqa: E402
from wan22_desktop.db.database import open_app_database  # noqa: E402
from wan22_desktop.downloader.installed import register  # noqa: E402
from wan22_desktop.paths import app_paths  # noqa: E402
from wan22_desktop.request import GenerationRequest  # noqa: E402
from wan22_desktop.runtime.hardware import Hardware  # noqa: E402
from wan22_desktop.runtime.runner import QueueRunner, RunnerOptions  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_tiny_ti2v_checkpoint_through_the_runner(tmp_path, monkeypatch):
    monkeypatch.delenv("WAN22_WORKER_BACKEND", raising=False)
    paths = app_paths(tmp_path / "home").ensure()
    ckpt = Path(tiny.make_tiny_checkpoint("ti2v-5B", paths.models / "tiny-ti2v"))
    size = sum(f.stat().st_size for f in ckpt.rglob("*") if f.is_file())
    with open_app_database(paths) as db:
        db.transact(
            lambda s: register(
                s, "Wan-AI/Wan2.2-TI2V-5B", ckpt, origin="import", tasks=("ti2v-5B",), size=size
            )
        )
        req = GenerationRequest.for_task(
            "ti2v-5B", prompt="a tiny test", size="128*128", frame_num=5, sample_steps=2, seed=1
        )
        ids = [j.id for j in q.enqueue(db, req, count=2)]
        options = RunnerOptions(
            keep_awake=False,
            poll_s=0.05,
            worker_env={"PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")},
        )
        summary = QueueRunner(db, paths, options, hardware=Hardware(ram_total_gib=64.0)).run()
        assert summary.done == ids, [q.get_job(db, i).error_message for i in ids]
        gens = [history.get_generation(db, q.get_job(db, i).generation_id) for i in ids]
        assert all(Path(g.video_path).stat().st_size > 0 for g in gens)
        assert gens[0].frames == 5 and json.loads(gens[0].plan_json)["device"] == "cpu"
        assert "loading" in json.loads(gens[0].timings_json)
        assert "loading" not in json.loads(gens[1].timings_json)


@pytest.mark.slow
def test_cancel_a_real_tiny_generation_during_sampling(tmp_path, monkeypatch):
    import threading
    import time

    monkeypatch.delenv("WAN22_WORKER_BACKEND", raising=False)
    paths = app_paths(tmp_path / "home").ensure()
    ckpt = Path(tiny.make_tiny_checkpoint("t2v-A14B", paths.models / "tiny-t2v"))
    size = sum(f.stat().st_size for f in ckpt.rglob("*") if f.is_file())
    with open_app_database(paths) as db:
        db.transact(
            lambda s: register(
                s, "Wan-AI/Wan2.2-T2V-A14B", ckpt, origin="import", tasks=("t2v-A14B",), size=size
            )
        )
        req = GenerationRequest.for_task(
            "t2v-A14B", prompt="cancel me", size="832*480", frame_num=5, sample_steps=200, seed=2
        )
        [job] = q.enqueue(db, req)
        events = []
        options = RunnerOptions(
            keep_awake=False,
            poll_s=0.05,
            progress_interval_s=0.05,
            worker_env={"PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")},
        )
        runner = QueueRunner(
            db, paths, options, hardware=Hardware(ram_total_gib=64.0), on_event=events.append
        )
        t = threading.Thread(target=runner.run)
        t.start()
        deadline = time.monotonic() + 120
        while (q.get_job(db, job.id).progress_step or 0) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        q.cancel_job(db, job.id)
        t.join(60)
        assert q.get_job(db, job.id).status == "cancelled"
        # Bounded by steps, not seconds: the worker stops at the step after the cancel arrives,
        # long before the last of the 200 steps.
        steps = [e.data.step for e in events if e.kind == "progress" and hasattr(e.data, "step")]
        assert steps and max(steps) < 100
        experts = {
            e.data.expert for e in events if e.kind == "progress" and hasattr(e.data, "expert")
        }
        assert "high_noise_model" in experts  # the MoE's first expert ran before the cancel


@pytest.mark.slow
def test_sigkill_of_a_real_worker_mid_sampling_then_a_fresh_worker_runs_the_next(
    tmp_path, monkeypatch
):
    import signal
    import threading
    import time

    monkeypatch.delenv("WAN22_WORKER_BACKEND", raising=False)
    paths = app_paths(tmp_path / "home").ensure()
    ckpt = Path(tiny.make_tiny_checkpoint("ti2v-5B", paths.models / "tiny-ti2v"))
    size = sum(f.stat().st_size for f in ckpt.rglob("*") if f.is_file())
    with open_app_database(paths) as db:
        db.transact(
            lambda s: register(
                s, "Wan-AI/Wan2.2-TI2V-5B", ckpt, origin="import", tasks=("ti2v-5B",), size=size
            )
        )
        base = GenerationRequest.for_task(
            "ti2v-5B", prompt="kill me", size="128*128", frame_num=5, sample_steps=150, seed=3
        )
        [victim] = q.enqueue(db, base)
        [survivor] = q.enqueue(
            db,
            GenerationRequest.for_task(
                "ti2v-5B", prompt="next", size="128*128", frame_num=5, sample_steps=2, seed=4
            ),
        )
        events = []
        options = RunnerOptions(
            keep_awake=False,
            poll_s=0.05,
            progress_interval_s=0.05,
            worker_env={"PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")},
        )
        runner = QueueRunner(
            db, paths, options, hardware=Hardware(ram_total_gib=64.0), on_event=events.append
        )
        t = threading.Thread(target=runner.run)
        t.start()
        deadline = time.monotonic() + 120
        while (q.get_job(db, victim.id).progress_step or 0) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        killed = runner.worker.pid
        os.kill(killed, signal.SIGKILL)
        t.join(120)
        job = q.get_job(db, victim.id)
        assert job.status == "failed" and job.error_kind == "crashed"
        assert "SIGKILL" in job.error_message and "sampling" in job.error_message
        assert q.get_job(db, survivor.id).status == "done"
        pids = [e.data.pid for e in events if e.kind == "worker"]
        assert pids[0] == killed and len(pids) == 2 and pids[1] != killed


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="torchrun process groups: POSIX")
def test_two_rank_ulysses_worker_makes_the_single_process_video(tmp_path, monkeypatch):
    """torchrun with 2 gloo ranks, Ulysses over both, DiT and T5 FSDP-sharded: the raw video
    equals one process's, and each rank holds about half of the DiT."""
    import numpy as np

    from wan22_desktop.runtime import protocol as P
    from wan22_desktop.runtime.launcher import WorkerProcess

    monkeypatch.delenv("WAN22_WORKER_BACKEND", raising=False)
    ckpt = Path(tiny.make_tiny_checkpoint("ti2v-5B", tmp_path / "tiny-ti2v"))
    req = GenerationRequest.for_task(
        "ti2v-5B", prompt="two ranks", size="128*128", frame_num=5, sample_steps=3, seed=7
    ).to_dict()
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    videos = {}
    for nproc in (1, 2):
        plan = cpu_plan("ti2v-5B", nproc, ulysses_size=nproc, dit_fsdp=nproc > 1, t5_fsdp=nproc > 1)
        w = WorkerProcess(nproc=nproc, env=env, log_path=tmp_path / f"worker{nproc}.log")
        try:
            w.wait_ready(120)
            out = tmp_path / f"video{nproc}.npy"
            w.send(P.RunJob(1, req, plan, str(ckpt), str(out)))
            while not isinstance(ev := w.next_event(120), (P.Done, P.Failed)):
                assert ev is not None
            assert isinstance(ev, P.Done), ev
            videos[nproc] = np.load(out)
        finally:
            w.kill()
    log = (tmp_path / "worker2.log").read_text()
    assert "Ulysses sequence parallelism over 2 ranks" in log
    assert "FSDP sharding over 2 ranks (DiT: True, T5: True)" in log
    held, full = map(
        int, re.search(r"FSDP: rank 0 holds (\d+) of (\d+) DiT parameters", log).groups()
    )
    assert 0.45 < held / full < 0.55, (held, full)  # half of every block, plus padding
    assert videos[1].shape == videos[2].shape == (3, 5, 128, 128)
    np.testing.assert_allclose(videos[2], videos[1], atol=1e-5, rtol=0)
    print("max |2 ranks - 1 process| =", float(np.abs(videos[2] - videos[1]).max()))
