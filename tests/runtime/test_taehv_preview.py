"""Live previews through the TAEHV tiny decoder: the worker decodes the running latents with the
chosen file (a PNG of the middle frame plus a looping GIF), falls back to the colour preview
with one log line when the file is missing, damaged or for another latent, and never fails the
job; the runner sends the installed file only when the user chose it."""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
import torch
from PIL import Image

from tests.runtime.helpers import cpu_plan
from tests.runtime.loop_backend import write_checkpoint
from tests.taehv_helpers import write_taehv
from wan22_desktop.engine import taehv_preview
from wan22_desktop.engine.preview import write_preview
from wan22_desktop.engine.taehv_preview import (
    PreviewUnavailable,
    TAEHVPreviewer,
    write_taehv_preview,
)
from wan22_desktop.request import GenerationRequest
from wan22_desktop.runtime import protocol as P
from wan22_desktop.runtime.launcher import Exited, WorkerProcess
from wan22_desktop.runtime.worker import JobProgress


class _Info:
    def __init__(self, step: int, total: int, latents: torch.Tensor) -> None:
        self.step, self.total, self.latents = step, total, latents
        self.timestep, self.expert = 500, "model"


class _Channel:
    def __init__(self) -> None:
        self.sent: list[P.Message] = []

    def emit(self, msg: P.Message) -> None:
        self.sent.append(msg)


def _progress(tmp_path: Path, taehv: Path | None) -> tuple[JobProgress, _Channel]:
    ch = _Channel()
    p = JobProgress(
        7, ch, threading.Event(), str(tmp_path / "previews"), 1, str(taehv) if taehv else None
    )
    return p, ch  # type: ignore[arg-type]


LATENTS = torch.randn(16, 3, 6, 8, generator=torch.Generator().manual_seed(0))


def test_worker_preview_is_decoded_by_the_tiny_vae(tmp_path) -> None:
    taehv = write_taehv(tmp_path / "taew2_1.safetensors", 16, 1)
    progress, ch = _progress(tmp_path, taehv)
    progress.step(_Info(1, 2, LATENTS))
    (msg,) = [m for m in ch.sent if isinstance(m, P.Preview)]
    assert msg.animation and Path(msg.animation).suffix == ".gif"
    frames = TAEHVPreviewer(taehv).frames(LATENTS)
    assert frames.shape == (9, 48, 64, 3)  # 4*3-3 frames, 8x the latent
    png = np.asarray(Image.open(msg.path).convert("RGB"))
    assert np.array_equal(png, frames[len(frames) // 2])
    with Image.open(msg.animation) as gif:
        assert gif.n_frames == 9 and gif.info.get("loop") == 0


@pytest.mark.parametrize("problem", ["missing", "corrupt", "other_latent"])
def test_unusable_file_falls_back_to_colours_with_one_log_line(tmp_path, caplog, problem):
    taehv = tmp_path / "taew2_1.safetensors"
    if problem == "corrupt":
        taehv.write_bytes(b"\0" * 100)
    elif problem == "other_latent":
        write_taehv(taehv, 48, 2)
    progress, ch = _progress(tmp_path, taehv)
    with caplog.at_level(logging.WARNING):
        progress.step(_Info(1, 2, LATENTS))
        progress.step(_Info(2, 2, LATENTS))
    previews = [m for m in ch.sent if isinstance(m, P.Preview)]
    assert [m.animation for m in previews] == [None, None]
    png = np.asarray(Image.open(previews[-1].path).convert("RGB"))
    expected = write_preview(LATENTS.numpy(), tmp_path / "colours.png")
    assert np.array_equal(png, np.asarray(Image.open(expected).convert("RGB")))
    lines = [r for r in caplog.records if "tiny VAE preview unavailable" in r.getMessage()]
    assert len(lines) == 1  # once per job


def test_fake_cuda_decodes_in_fp16_on_the_gpu_and_refuses_when_memory_is_short(tmp_path):
    """On ``cuda:0`` (fake tensors, CPU-only build): the decoder moves to the latents' GPU in
    fp16 and yields full-size frames; with too little free memory it refuses instead."""
    from torch._subclasses.fake_tensor import FakeTensorMode

    prev = TAEHVPreviewer(write_taehv(tmp_path / "t.pth", 16, 1))
    real_state = prev._state
    with (
        mock.patch("torch.cuda.is_available", return_value=True),
        mock.patch("torch.cuda.mem_get_info", return_value=(64 * 2**20, 80 * 2**30)),
        FakeTensorMode(allow_non_fake_inputs=True) as mode,
    ):
        prev._state = {k: mode.from_tensor(v) for k, v in real_state.items()}  # file on fake CPU
        lat = torch.empty(16, 21, 90, 160, device="cuda:0")  # A14B 720p
        with pytest.raises(PreviewUnavailable, match="GiB free on the GPU"):
            prev.decoder_for(lat)
    with (
        mock.patch("torch.cuda.is_available", return_value=True),
        mock.patch("torch.cuda.mem_get_info", return_value=(40 * 2**30, 80 * 2**30)),
        FakeTensorMode(allow_non_fake_inputs=True) as mode,
    ):
        prev._state = {k: mode.from_tensor(v) for k, v in real_state.items()}
        lat = torch.empty(16, 2, 90, 160, device="cuda:0")
        dec = prev.decoder_for(lat)
        param = next(dec.parameters())
        assert param.device == torch.device("cuda:0") and param.dtype == torch.float16
        assert dec.config.space_upscale == (True, True, False)  # 640 px, not 1280
        z = lat.to(torch.float16).permute(1, 0, 2, 3).unsqueeze(0)
        frames = list(dec.stream(z))
        assert len(frames) == 5
        assert frames[0].shape == (1, 3, 360, 640) and frames[0].device.type == "cuda"


def test_write_keeps_the_animation_small(tmp_path):
    frames = np.random.default_rng(0).integers(0, 255, (81, 360, 640, 3), dtype=np.uint8)
    files = write_taehv_preview(frames, tmp_path / "job-1.png")
    assert Image.open(files.image).size == (640, 360)
    with Image.open(files.animation) as gif:
        assert gif.size == (384, 216) and gif.n_frames == 41


def test_previewer_is_kept_while_the_file_is_unchanged(tmp_path):
    path = write_taehv(tmp_path / "a.pth", 16, 1)
    first = taehv_preview.previewer_for(path)
    assert taehv_preview.previewer_for(path) is first
    time.sleep(0.01)
    write_taehv(path, 16, 1, seed=4)
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))
    assert taehv_preview.previewer_for(path) is not first


# ---- through the worker subprocess --------------------------------------------------------------


def _run(w: WorkerProcess, job_id: int, ckpt: Path, tmp_path: Path, taehv: Path | None):
    req = GenerationRequest.for_task(
        "ti2v-5B", prompt="a cat", size="128*128", frame_num=5, sample_steps=2, seed=5
    ).to_dict()
    w.send(
        P.RunJob(
            job_id,
            req,
            cpu_plan(),
            str(ckpt),
            str(tmp_path / f"out{job_id}.mp4"),
            str(tmp_path / f"thumb{job_id}.jpg"),
            str(tmp_path / "previews"),
            1,
            str(taehv) if taehv else None,
        )
    )
    events: list[P.Message] = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        ev = w.next_event(1.0)
        if ev is not None:
            events.append(ev)
            if isinstance(ev, (P.Done, P.Failed, Exited)):
                return events
    raise AssertionError(f"job {job_id} did not finish: {events}")


def test_worker_job_with_taehv_then_with_a_damaged_file(worker_env, tmp_path):
    ckpt = write_checkpoint(tmp_path / "ckpt")  # the loop backend: 16-channel latents
    good = write_taehv(tmp_path / "taew2_1.safetensors", 16, 1)
    bad = tmp_path / "broken.pth"
    bad.write_bytes(b"PK\3\4 not a zip")
    log_path = tmp_path / "worker.log"
    w = WorkerProcess(log_path=log_path, env={**os.environ, **worker_env})
    try:
        w.wait_ready(60)
        first = _run(w, 1, ckpt, tmp_path, good)
        second = _run(w, 2, ckpt, tmp_path, bad)
    finally:
        w.kill()
    assert isinstance(first[-1], P.Done) and isinstance(second[-1], P.Done), (first, second)
    tiny = [e for e in first if isinstance(e, P.Preview)]
    assert [p.step for p in tiny] == [1, 2] and all(p.animation for p in tiny)
    colours = [e for e in second if isinstance(e, P.Preview)]
    assert [p.step for p in colours] == [1, 2] and not any(p.animation for p in colours)
    assert log_path.read_text().count("tiny VAE preview unavailable") == 1


# ---- through the queue runner ------------------------------------------------------------------


def test_runner_sends_the_installed_file_only_when_chosen(tmp_path, worker_env):
    from tests.runtime.helpers import make_home
    from wan22_desktop.downloader.catalog import PREVIEW_FOLDER
    from wan22_desktop.runtime.hardware import Hardware
    from wan22_desktop.runtime.runner import QueueRunner, RunnerOptions

    home = make_home(tmp_path / "home")  # a TI2V-5B home: its decoder is taew2_2
    choice = {"mode": "rgb"}
    events: list = []
    runner = QueueRunner(
        home.db,
        home.paths,
        RunnerOptions(
            keep_awake=False, poll_s=0.05, preview_every=2, preview=lambda: choice["mode"]
        ),
        hardware=Hardware(ram_total_gib=64.0, ram_available_gib=32.0, cpu_count=2),
        on_event=events.append,
    )
    try:
        assert runner._preview_taehv("ti2v-5B") is None  # colours chosen
        choice["mode"] = "taehv"
        assert runner._preview_taehv("ti2v-5B") is None  # chosen, not installed
        # The loop backend's latents have 16 channels: a 16-channel file under the 5B's name
        # lets this test see a decoded preview through the whole queue.
        installed = write_taehv(
            home.paths.models / PREVIEW_FOLDER / "taew2_2" / "safetensors" / "taew2_2.safetensors"
        )
        assert runner._preview_taehv("ti2v-5B") == str(installed)
        assert runner._preview_taehv("t2v-A14B") is None  # taew2_1 is not installed
        [job_id] = home.enqueue("a red fox", steps=2)
        summary = runner.run()
    finally:
        home.db.close()
    assert summary.done == [job_id]
    previews = [e.data for e in events if isinstance(e.data, P.Preview)]
    assert previews and previews[-1].animation
    assert not Path(previews[-1].path).exists() and not Path(previews[-1].animation).exists()


@pytest.mark.parametrize(
    ("model", "ktok", "latent_hw", "channels", "patch"),
    [
        ("A14B", 32.76, (60, 104), 16, 1),  # 480p
        ("A14B", 75.6, (90, 160), 16, 1),  # 720p
        ("5B", 12.09, (30, 52), 48, 2),
        ("5B", 27.28, (44, 80), 48, 2),
    ],
)
def test_gpu_preview_fits_in_the_sampling_activations_it_runs_between(
    model, ktok, latent_hw, channels, patch
):
    """Why the planner's estimate is unchanged (ADR 0027): the preview runs between steps, and
    its fp16 working set plus weights is a small share of the DiT activations the sampling
    estimate already holds for the same size (freed between steps)."""
    from wan22_desktop.engine.wan.taehv import TAEHVConfig, activation_bytes
    from wan22_desktop.runtime import vram_model as vm

    cfg = TAEHVConfig(
        channels,
        patch,
        space_upscale=taehv_preview.preview_space_upscale(latent_hw, patch),
    )
    weights = sum(p.numel() for p in _meta_decoder(cfg).parameters()) * 2
    preview_gib = (activation_bytes(cfg, latent_hw, 2) + weights) / 2**30
    act_gib = vm.ACT_PER_KTOK[model] * ktok
    print(f"{model} {latent_hw}: preview {preview_gib:.2f} GiB vs activations {act_gib:.2f} GiB")
    assert preview_gib * taehv_preview.FREE_FACTOR < act_gib / 2


def _meta_decoder(cfg):  # a module built on the meta device: shapes only
    from wan22_desktop.engine.wan.taehv import TAEHVDecoder

    with torch.device("meta"):
        return TAEHVDecoder(cfg)


# ---- the x0 estimate the previews show ---------------------------------------------------------


class _Collecting(JobProgress):
    def _preview(self, step, latents):  # type: ignore[override]
        self.shown.append((step, latents))


def _collecting(tmp_path, schedule, every=2):
    p = _Collecting(1, _Channel(), threading.Event(), str(tmp_path), every, None, *schedule)
    p.shown = []
    return p


def test_previews_show_the_x0_estimate_on_a_straight_flow(tmp_path):
    """On the straight path ``x_s = (1 - sigma_s) x0 + sigma_s noise`` the estimate from two
    consecutive latents is ``x0`` itself, at every preview step; the latents before the step
    are kept only when the next step previews."""
    from wan22_desktop.runtime.worker import preview_schedule

    request = GenerationRequest.for_task(
        "ti2v-5B", prompt="x", size="128*128", frame_num=5, sample_steps=6, seed=1
    ).to_dict()
    sigmas, timesteps = preview_schedule(request)
    assert sigmas is not None and timesteps is not None and len(sigmas) == 7
    g = torch.Generator().manual_seed(0)
    x0, noise = torch.randn(4, 2, 3, 3, generator=g), torch.randn(4, 2, 3, 3, generator=g)
    p = _collecting(tmp_path, (sigmas, timesteps))
    for s in range(1, 7):
        x = (1 - sigmas[s]) * x0 + sigmas[s] * noise
        p.step(_InfoT(s, 6, timesteps[s - 1], x))
        assert (p._before is not None) == ((s + 1) in (2, 4, 6))
    assert [s for s, _ in p.shown] == [2, 4, 6]
    for _s, shown in p.shown:
        assert float((shown - x0).abs().max()) < 1e-5


def test_previews_show_the_latents_when_the_schedule_does_not_match(tmp_path):
    sig = (1.0, 0.5, 0.0)
    p = _collecting(tmp_path, (sig, (999, 400)), every=1)  # the loop ran other timesteps
    a, b = torch.ones(2, 1, 2, 2), torch.zeros(2, 1, 2, 2)
    p.step(_InfoT(1, 2, 999, a))
    p.step(_InfoT(2, 2, 123, b))
    assert p.shown[0][1] is a and p.shown[1][1] is b  # first step: nothing kept before it
    nothing = _collecting(tmp_path, (None, None), every=1)
    nothing.step(_InfoT(1, 2, 999, a))
    nothing.step(_InfoT(2, 2, 500, b))
    assert nothing.shown[1][1] is b


class _InfoT(_Info):
    def __init__(self, step: int, total: int, timestep: int, latents: torch.Tensor) -> None:
        super().__init__(step, total, latents)
        self.timestep = timestep
