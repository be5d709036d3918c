"""The queue runner in-process on a shared PostgreSQL queue: a job this machine cannot run is
left, with the reason, for another runner instead of being failed; cancelling from another
machine reaches the runner that holds the job."""

from __future__ import annotations

import threading

import pytest

from tests.runtime.helpers import TASK, wait_for
from tests.runtime.loop_backend import write_checkpoint
from wan22_desktop.db import queue as q
from wan22_desktop.db.database import open_database
from wan22_desktop.downloader.installed import register
from wan22_desktop.paths import app_paths
from wan22_desktop.request import GenerationRequest
from wan22_desktop.runtime.hardware import Hardware
from wan22_desktop.runtime.runner import QueueRunner, RunnerOptions

NO_GPU = Hardware(ram_total_gib=64.0, ram_available_gib=32.0, cpu_count=2)


@pytest.fixture
def box(pg_url, tmp_path, worker_env):
    paths = app_paths(tmp_path / "box").ensure()
    db = open_database(pg_url)
    ckpt = write_checkpoint(paths.models / "loop-ti2v")
    db.transact(
        lambda s: register(s, "Wan-AI/Wan2.2-TI2V-5B", ckpt, origin="import", tasks=(TASK,), size=1)
    )
    yield db, paths
    db.close()


def _request(task: str = TASK, **kw) -> GenerationRequest:
    size = "128*128" if task == TASK else "832*480"
    values = dict(prompt="a red fox", size=size, frame_num=5, sample_steps=3, seed=1)
    values.update(kw)
    return GenerationRequest.for_task(task, **values)


def _runner(db, paths, **opts) -> QueueRunner:  # noqa: ANN001
    options = RunnerOptions(keep_awake=False, poll_s=0.05, **opts)
    return QueueRunner(db, paths, options, hardware=NO_GPU)


def test_a_job_this_machine_cannot_run_waits_for_another_runner(box) -> None:  # noqa: ANN001
    db, paths = box
    [big] = q.enqueue(db, _request("t2v-A14B"))  # no GPU here: it fits nowhere on this box
    [small] = q.enqueue(db, _request())
    summary = _runner(db, paths).run()
    assert summary.done == [small.id] and summary.failed == []
    left = q.get_job(db, big.id)
    assert (left.status, left.attempts, left.runner_id) == ("queued", 0, None)
    assert left.status_reason.startswith("waiting for a runner that can run it")
    assert "GPU" in left.status_reason


@pytest.mark.slow  # real processes: in `make test`, not `make test-fast`
def test_cancel_from_another_machine_reaches_the_runner(box, pg_url) -> None:  # noqa: ANN001
    db, paths = box
    [job] = q.enqueue(db, _request(sample_steps=200))
    runner = _runner(db, paths, worker_env={"LOOP_STEP_S": "0.05"})
    t = threading.Thread(target=runner.run, daemon=True)
    t.start()
    wait_for(lambda: (q.get_job(db, job.id).progress_step or 0) >= 2, timeout=120)
    with open_database(pg_url) as laptop:  # another machine's own connection
        q.cancel_job(laptop, job.id)
    wait_for(lambda: q.get_job(db, job.id).status == "cancelled", timeout=30)
    t.join(timeout=60)
    assert not t.is_alive()


def test_a_runner_refuses_to_start_without_a_writable_outputs_folder(box, tmp_path) -> None:  # noqa: ANN001
    import dataclasses

    from wan22_desktop.errors import UserInputError

    db, paths = box
    below_a_file = tmp_path / "not-a-folder"
    below_a_file.write_text("x")
    runner = _runner(db, dataclasses.replace(paths, outputs=below_a_file / "outputs"))
    with pytest.raises(UserInputError, match="output folder") as info:
        runner.run()
    assert "shared outputs folder" in info.value.hint
    from wan22_desktop.db.lease import list_runners

    assert list_runners(db) == []  # it never registered, so it claimed nothing
