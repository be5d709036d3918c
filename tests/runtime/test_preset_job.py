"""A Lightning preset job end to end on a tiny A14B checkpoint, through the queue and a real worker.

The request is built from the preset (4 Euler steps, guidance 1/1, shift 5, switch at step 2);
History records the resolved values, the preset's name and the expert of every step.

LoRAs: the preset's LoRA entries are stripped here (``strip_loras``): this branch has no LoRA
loading, and what is under test is the schedule (steps, solver, expert switch, no CFG). After the
LoRA branch is merged, the same job runs with tiny LoRA files in the preset's place.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

pytest.importorskip("wan22_desktop.engine.wan.pipelines")
tiny = pytest.importorskip("wan22_desktop.engine.wan.tiny")

from wan22_desktop.db import history  # noqa: E402
from wan22_desktop.db import queue as q  # noqa: E402
from wan22_desktop.db.database import open_app_database  # noqa: E402
from wan22_desktop.downloader.installed import register  # noqa: E402
from wan22_desktop.engine.wan.pipelines import (  # noqa: E402
    HIGH_NOISE,
    LOW_NOISE,
    STOP,
    Cancelled,
    StepInfo,
    WanPipeline,
    expert_schedule,
)
from wan22_desktop.engine.wan.solvers import make_solver  # noqa: E402
from wan22_desktop.paths import app_paths  # noqa: E402
from wan22_desktop.presets import preset_request  # noqa: E402
from wan22_desktop.request import GenerationRequest  # noqa: E402
from wan22_desktop.runtime.hardware import Hardware  # noqa: E402
from wan22_desktop.runtime.runner import QueueRunner, RunnerOptions  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SWITCHED = [HIGH_NOISE, HIGH_NOISE, LOW_NOISE, LOW_NOISE]


def test_switch_step_overrides_the_boundary() -> None:
    # 4 Euler steps at shift 1 run t = 1000, 750, 500, 250: the t2v boundary (875) would give
    # the high-noise expert one step; switch_step 2 gives it two, as the Lightning recipe wants.
    timesteps = make_solver("euler", 4, 1.0).timesteps.tolist()
    assert timesteps == [1000, 750, 500, 250]
    assert expert_schedule(timesteps, 0.875) == [HIGH_NOISE] + [LOW_NOISE] * 3
    assert expert_schedule(timesteps, 0.875, switch_step=2) == SWITCHED
    assert expert_schedule(timesteps, 0.875, switch_step=0) == [LOW_NOISE] * 4
    assert expert_schedule(timesteps, None, switch_step=2) == ["model"] * 4  # one model: ignored


def test_pipeline_runs_the_high_noise_expert_for_switch_step_steps(tmp_path) -> None:
    torch.set_num_threads(1)
    ckpt = tiny.make_tiny_checkpoint("t2v-A14B", tmp_path / "t2v", seed=3)
    pipe = WanPipeline.from_checkpoint(ckpt, "t2v-A14B", device="cpu", dtype=torch.float32)
    seen: list[StepInfo] = []

    def record(info: StepInfo):
        seen.append(info)
        return STOP if info.step == info.total else None

    with pytest.raises(Cancelled):
        pipe.generate(
            "a cat",
            size="32*32",
            frame_num=5,
            sample_steps=4,
            sample_shift=1.0,
            guidance=1.0,
            solver="euler",
            switch_step=2,
            seed=0,
            callback=record,
        )
    assert [s.timestep for s in seen] == [1000, 750, 500, 250]
    assert [s.expert for s in seen] == SWITCHED


@pytest.mark.slow  # a real worker process: in `make test`, not `make test-fast`
def test_lightning_preset_job_through_the_queue(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("WAN22_WORKER_BACKEND", raising=False)
    paths = app_paths(tmp_path / "home").ensure()
    ckpt = Path(tiny.make_tiny_checkpoint("t2v-A14B", paths.models / "tiny-t2v"))
    size = sum(f.stat().st_size for f in ckpt.rglob("*") if f.is_file())
    req = preset_request(
        "lightning-t2v", strip_loras=True, prompt="a fast cat", size="32*32", frame_num=5, seed=5
    )
    req.validate()
    with open_app_database(paths) as db:
        db.transact(
            lambda s: register(
                s, "Wan-AI/Wan2.2-T2V-A14B", ckpt, origin="import", tasks=("t2v-A14B",), size=size
            )
        )
        [job] = q.enqueue(db, req)
        events = []
        options = RunnerOptions(
            keep_awake=False,
            poll_s=0.05,
            progress_interval_s=0.0,
            worker_env={"PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")},
        )
        summary = QueueRunner(
            db, paths, options, hardware=Hardware(ram_total_gib=64.0), on_event=events.append
        ).run()
        assert summary.done == [job.id], q.get_job(db, job.id).error_message
        gen = history.get_generation(db, q.get_job(db, job.id).generation_id)
    stored = GenerationRequest.from_json(gen.request_json)
    assert stored.preset == "lightning-t2v"
    assert (stored.sample_steps, stored.sample_shift, stored.solver) == (4, 5.0, "euler")
    assert (stored.guidance.low, stored.guidance.high, stored.switch_step) == (1.0, 1.0, 2)
    sampling = json.loads(gen.plan_json)["sampling"]
    assert sampling == {"experts": SWITCHED, "skipped_steps": []}
    assert Path(gen.video_path).stat().st_size > 0 and gen.frames == 5
