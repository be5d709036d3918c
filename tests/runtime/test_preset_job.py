"""A Lightning preset job end to end on a tiny A14B checkpoint, through the queue and a real worker.

The request is built from the preset (4 Euler steps, guidance 1/1, shift 5, switch at step 2);
History records the resolved values, the preset's name and the expert of every step.

LoRAs: tiny random LoRA files stand in the preset's catalogue files, where the download puts them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("wan22_desktop.engine.wan.pipelines")
tiny = pytest.importorskip("wan22_desktop.engine.wan.tiny")

from wan22_desktop.db import history  # noqa: E402
from wan22_desktop.db import queue as q  # noqa: E402
from wan22_desktop.db.database import open_app_database  # noqa: E402
from wan22_desktop.db.views import generation_to_dict  # noqa: E402
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
from wan22_desktop.services.how_made import english_lines  # noqa: E402

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


def _preset_home(tmp_path: Path, monkeypatch, name: str):
    """A data folder with a tiny A14B checkpoint and the preset's LoRAs as tiny files where
    ``wan22 models download`` puts them: (paths, registered-model arguments, LoRA folder)."""
    from tests.lora_helpers import lora_tensors, write_lora
    from wan22_desktop.engine.wan.checkpoints import read_task_dit_config
    from wan22_desktop.presets import default_lora_dir, get_preset

    monkeypatch.delenv("WAN22_WORKER_BACKEND", raising=False)
    home = tmp_path / "home"
    paths = app_paths(home).ensure()
    ckpt = Path(tiny.make_tiny_checkpoint("t2v-A14B", paths.models / "tiny-t2v"))
    size = sum(f.stat().st_size for f in ckpt.rglob("*") if f.is_file())
    lora_dir = default_lora_dir(str(home))
    cfg = read_task_dit_config(ckpt, "t2v-A14B")
    for i, lora in enumerate(get_preset(name).loras):
        target = lora.path(lora_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        write_lora(target, lora_tensors(cfg, seed=10 + i), "official_ab")
    model = dict(origin="import", tasks=("t2v-A14B",), size=size)
    return paths, ckpt, model, lora_dir


@pytest.mark.slow  # a real worker process: in `make test`, not `make test-fast`
def test_lightning_preset_job_through_the_queue(tmp_path, monkeypatch) -> None:
    """The preset's two LoRAs (tiny files where ``wan22 models download`` puts them) are part of
    the job: recorded with their hashes, merged by the worker (the video differs from the same
    job without them, run next in the same warm worker, which restores the loaded weights)."""
    from wan22_desktop.presets import get_preset

    paths, ckpt, model, lora_dir = _preset_home(tmp_path, monkeypatch, "lightning-t2v")
    preset = get_preset("lightning-t2v")
    common = dict(prompt="a fast cat", size="32*32", frame_num=5, seed=5, output_format="npy")
    req = preset_request("lightning-t2v", lora_dir=lora_dir, **common)
    plain = preset_request("lightning-t2v", strip_loras=True, **common)
    req.validate()
    plain.validate()
    assert [Path(x.path).name for x in req.loras] == [Path(x.file).name for x in preset.loras]
    assert all(len(x.sha256) == 64 for x in req.loras)
    with open_app_database(paths) as db:
        db.transact(lambda s: register(s, "Wan-AI/Wan2.2-T2V-A14B", ckpt, **model))
        [job] = q.enqueue(db, req)
        [job_plain] = q.enqueue(db, plain)
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
        assert summary.done == [job.id, job_plain.id], q.get_job(db, job.id).error_message
        gen = history.get_generation(db, q.get_job(db, job.id).generation_id)
        gen_plain = history.get_generation(db, q.get_job(db, job_plain.id).generation_id)
    stored = GenerationRequest.from_json(gen.request_json)
    assert stored.preset == "lightning-t2v"
    assert (stored.sample_steps, stored.sample_shift, stored.solver) == (4, 5.0, "euler")
    assert (stored.guidance.low, stored.guidance.high, stored.switch_step) == (1.0, 1.0, 2)
    assert [(x.strength_high, x.strength_low) for x in stored.loras] == [
        (x.strength_high, x.strength_low) for x in preset.loras
    ]
    sampling = json.loads(gen.plan_json)["sampling"]
    assert sampling == {"experts": SWITCHED, "skipped_steps": []}
    with_loras, without = np.load(gen.video_path), np.load(gen_plain.video_path)
    assert with_loras.shape == without.shape and with_loras.shape[1] == 5  # [C, F, H, W]
    assert not np.array_equal(with_loras, without)


@pytest.mark.slow  # real worker processes: in `make test`, not `make test-fast`
def test_three_phase_preset_job_through_the_queue(tmp_path, monkeypatch) -> None:
    """The 8-step three-phase preset (guided warm-up, ADR 0025) through the queue: History has
    the resolved warm-up fields and the phases as run; the plain job after it in the same warm
    worker gives the same video as in a fresh worker (the LoRAs merged mid-job are restored)."""
    name = "lightning-t2v-8step-3phase"
    paths, ckpt, model, lora_dir = _preset_home(tmp_path, monkeypatch, name)
    common = dict(prompt="a fast cat", size="32*32", frame_num=5, seed=5, output_format="npy")
    req = preset_request(name, lora_dir=lora_dir, **common)
    plain = GenerationRequest.for_task("t2v-A14B", sample_steps=3, **common)
    options = RunnerOptions(
        keep_awake=False,
        poll_s=0.05,
        progress_interval_s=0.0,
        worker_env={"PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")},
    )
    with open_app_database(paths) as db:
        db.transact(lambda s: register(s, "Wan-AI/Wan2.2-T2V-A14B", ckpt, **model))

        def run(*requests: GenerationRequest) -> list:
            jobs = [j for r in requests for j in q.enqueue(db, r)]
            runner = QueueRunner(db, paths, options, hardware=Hardware(ram_total_gib=64.0))
            summary = runner.run()
            assert summary.done == [j.id for j in jobs], q.get_job(db, jobs[0].id).error_message
            return [history.get_generation(db, q.get_job(db, j.id).generation_id) for j in jobs]

        gen, after = run(req, plain)
        (fresh,) = run(plain)
    stored = GenerationRequest.from_json(gen.request_json)
    assert (stored.preset, stored.sample_steps, stored.switch_step) == (name, 8, 4)
    assert (stored.warmup_steps, stored.warmup_guidance) == (1, 3.5)
    sampling = json.loads(gen.plan_json)["sampling"]
    assert sampling["experts"] == [HIGH_NOISE] * 4 + [LOW_NOISE] * 4
    assert sampling["phases"] == [
        {"steps": [0, 1], "expert": HIGH_NOISE, "guidance": 3.5, "loras": False},
        {"steps": [1, 4], "expert": HIGH_NOISE, "guidance": 1.0, "loras": True},
        {"steps": [4, 8], "expert": LOW_NOISE, "guidance": 1.0, "loras": True},
    ]
    # History's "How it was made" reads this record as run (services/how_made.py).
    how = english_lines(generation_to_dict(gen))
    assert "Steps by expert: high-noise 1–4, low-noise 5–8" in how
    assert "Phase 1: steps 1, high-noise, guidance 3.5, LoRAs off" in how
    assert "Phase 2: steps 2–4, high-noise, guidance 1, LoRAs on" in how
    assert np.array_equal(np.load(after.video_path), np.load(fresh.video_path))
