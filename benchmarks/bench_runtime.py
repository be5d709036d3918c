"""Runtime overheads: cancel latency, the warm-worker saving, and claim -> first step.

Everything runs for real: a ``QueueRunner`` on a temporary data dir, a worker subprocess, the
database. The worker runs the small torch loop of the supervision tests (``tests/runtime/
loop_backend.py``) with ``--extra-mb`` of weights to load, so the figures are the runtime's own
costs, not a model's. References measured in the same run: the worker's own phase timings.

    python benchmarks/bench_runtime.py [--runs 5] [--extra-mb 256] [--step-s 0.05] [--real]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.runtime.helpers import make_home  # noqa: E402
from tests.runtime.loop_backend import write_checkpoint  # noqa: E402
from wan22_desktop.db import history  # noqa: E402
from wan22_desktop.db import queue as q  # noqa: E402
from wan22_desktop.runtime import protocol as P  # noqa: E402
from wan22_desktop.runtime.hardware import Hardware  # noqa: E402
from wan22_desktop.runtime.launcher import WorkerProcess  # noqa: E402
from wan22_desktop.runtime.runner import QueueRunner, RunnerOptions  # noqa: E402

BACKEND = {
    "WAN22_WORKER_BACKEND": "tests.runtime.loop_backend:LoopBackend",
    "PYTHONPATH": str(REPO),
}
NO_GPU = Hardware(ram_total_gib=64.0, ram_available_gib=32.0, cpu_count=os.cpu_count() or 1)


def _med(xs: list[float]) -> str:
    return f"median {statistics.median(xs) * 1000:7.1f} ms  (min {min(xs) * 1000:.1f}, max {max(xs) * 1000:.1f})"


def cancel_latency_worker(root: Path, runs: int, step_s: float) -> list[float]:
    """Cancel command written -> ``failed: cancelled`` read, on one warm worker."""
    from tests.runtime.test_worker import _request

    ckpt = write_checkpoint(root / "ckpt-cancel")
    w = WorkerProcess(env={**os.environ, **BACKEND, "LOOP_STEP_S": str(step_s)})
    w.wait_ready()
    out = []
    try:
        for i in range(runs):
            w.send(
                P.RunJob(
                    i + 1,
                    _request(steps=200),
                    {"device": "cpu", "task": "ti2v-5B"},
                    str(ckpt),
                    str(root / f"c{i}.mp4"),
                )
            )
            while not (isinstance(ev := w.next_event(30), P.Step) and ev.step == 3):
                assert ev is not None
            t0 = time.perf_counter()
            w.send(P.Cancel(i + 1))
            while not isinstance(ev := w.next_event(30), P.Failed):
                assert ev is not None
            out.append(time.perf_counter() - t0)
    finally:
        w.shutdown()
    return out


def _real_home(root: Path) -> tuple:
    """A data dir with a tiny official-layout TI2V-5B checkpoint and the real pipelines."""
    from wan22_desktop.downloader.installed import register
    from wan22_desktop.engine.wan.tiny import make_tiny_checkpoint

    home = make_home(root / "home")
    ckpt = Path(make_tiny_checkpoint("ti2v-5B", home.paths.models / "tiny-ti2v"))
    size = sum(f.stat().st_size for f in ckpt.rglob("*") if f.is_file())
    home.db.transact(
        lambda s: register(
            s, "Wan-AI/Wan2.2-TI2V-5B", ckpt, origin="import", tasks=("ti2v-5B",), size=size
        )
    )
    return home, {"PYTHONPATH": str(REPO)}


def runner_figures(root: Path, runs: int, extra_mb: int, step_s: float, real: bool) -> dict:
    if real:
        home, backend = _real_home(root)
    else:
        home, backend = make_home(root / "home"), BACKEND
        write_checkpoint(home.checkpoint, extra_mb=extra_mb)
    ids = home.enqueue(steps=4, count=runs)
    runner = QueueRunner(
        home.db,
        home.paths,
        RunnerOptions(keep_awake=False, poll_s=0.05, worker_env=backend),
        hardware=NO_GPU,
    )
    runner.run()
    timings = [
        json.loads(history.get_generation(home.db, home.job(i).generation_id).timings_json)
        for i in ids
    ]
    # Cancel from the database (what the GUI and `wan22 queue cancel` do): includes the poll.
    [cid] = home.enqueue(steps=200)
    runner = QueueRunner(
        home.db,
        home.paths,
        RunnerOptions(
            keep_awake=False, poll_s=0.05, worker_env={**backend, "LOOP_STEP_S": str(step_s)}
        ),
        hardware=NO_GPU,
    )
    t = threading.Thread(target=runner.run)
    t.start()
    while (home.job(cid).progress_step or 0) < 3:
        time.sleep(0.01)
    t0 = time.perf_counter()
    q.cancel_job(home.db, cid)
    while home.job(cid).status != "cancelled":
        time.sleep(0.005)
    db_cancel = time.perf_counter() - t0
    t.join()
    home.db.close()
    return {"timings": timings, "db_cancel": db_cancel}


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--extra-mb", type=int, default=256, help="weights the loop backend loads")
    ap.add_argument("--step-s", type=float, default=0.05, help="seconds per sampling step (loop)")
    ap.add_argument(
        "--real",
        action="store_true",
        help="the real Wan pipelines on a tiny TI2V-5B checkpoint (runner figures)",
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        lat = cancel_latency_worker(root, args.runs, args.step_s)
        fig = runner_figures(root, args.runs, args.extra_mb, args.step_s, args.real)
    cold, warm = fig["timings"][0], fig["timings"][1:]
    what = (
        "real pipelines, tiny TI2V-5B checkpoint"
        if args.real
        else f"loop backend, {args.extra_mb} MB of weights"
    )
    print(
        f"runtime benchmark: CPU, {what}, 128x128, 5 frames, 4 steps, {args.runs} jobs "
        "(worker cancel latency: loop backend)"
    )
    print(
        f"cancel latency, worker (Cancel sent -> Failed read), step {args.step_s * 1000:.0f} ms: {_med(lat)}"
    )
    print(
        f"cancel latency, from the database (queue cancel -> job row cancelled): "
        f"{fig['db_cancel'] * 1000:.1f} ms"
    )
    warm_total = statistics.median(t["total"] for t in warm)
    print(
        f"job wall time, cold worker: {cold['total'] * 1000:.0f} ms (worker start + loading "
        f"{cold['loading'] * 1000:.0f} ms); warm worker: median {warm_total * 1000:.0f} ms "
        f"-> saving {(cold['total'] - warm_total) * 1000:.0f} ms per job "
        f"({cold['total'] / warm_total:.1f}x)"
    )
    warm_first = [t["claim_to_first_step"] for t in warm]
    inner = [t.get("text_encoding", 0.0) + t["sampling"] / 4 for t in warm]  # worker's own share
    overhead = [a - b for a, b in zip(warm_first, inner)]
    print(
        f"claim -> first step, cold: {cold['claim_to_first_step'] * 1000:.0f} ms; warm: {_med(warm_first)}"
    )
    print(
        f"  of which runtime overhead, estimated (minus the worker's text encoding + one step): {_med(overhead)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
