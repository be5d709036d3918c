"""A small real torch backend for the supervision tests: a tiny velocity network sampled with the
official flow solvers, so the worker runs real steps that a test can cancel, kill or hang.

It is not a Wan pipeline and nothing here claims to test generation quality: it exists so the
worker/launcher/runner machinery is exercised by real computation in a real subprocess. Faults are
injected through the worker's environment (set by the test):

* ``LOOP_PRINT``: print to stdout (must not corrupt the protocol);
* ``LOOP_STEP_S``: extra seconds per step (gives a test time to act mid-job);
* ``LOOP_HANG_AT``: at this step of a job whose prompt contains "hang", sleep for an hour;
* ``LOOP_OOM_AT``: at this step of a job whose prompt contains "oom", raise torch's real
  ``OutOfMemoryError``;
* ``LOOP_OOM_BELOW_HEADROOM``: with ``LOOP_OOM_AT``, run out of memory only while the request
  keeps less than this percent of the GPU free (the runner's safer retry then succeeds).
"""

from __future__ import annotations

import os
import time
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from wan22_desktop.engine.wan.pipelines.loop import StepInfo
from wan22_desktop.engine.wan.solvers import make_solver

WEIGHTS = "loop_denoiser.safetensors"
CHANNELS = 16


class TinyVelocity(torch.nn.Module):
    def __init__(self, channels: int = CHANNELS) -> None:
        super().__init__()
        self.conv = torch.nn.Conv3d(channels, channels, 3, padding=1)
        self.time = torch.nn.Linear(1, channels)

    def forward(self, x: torch.Tensor, t: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        # x [C, F, H, W]; t scalar; cond [C]
        bias = self.time(t.reshape(1, 1) / 1000.0).reshape(-1, 1, 1, 1) + cond.reshape(-1, 1, 1, 1)
        return self.conv(x.unsqueeze(0)).squeeze(0) + bias


def write_checkpoint(folder: Path, seed: int = 0, extra_mb: int = 0) -> Path:
    """A folder holding the tiny network's weights (what ``load`` reads); ``extra_mb`` of padding
    makes loading cost something (benchmarks of the warm worker)."""
    torch.manual_seed(seed)
    folder.mkdir(parents=True, exist_ok=True)
    tensors = TinyVelocity().state_dict()
    if extra_mb:
        tensors["padding"] = torch.randn(extra_mb * 2**18)
    save_file(tensors, str(folder / WEIGHTS))
    return folder


def _env_int(name: str) -> int | None:
    value = os.environ.get(name)
    return int(value) if value else None


class LoopBackend:
    """A ``job.Engine``: the worker runs it through ``job.run_job`` like the Wan pipelines."""

    def load(self, checkpoint: str, plan: Any) -> TinyVelocity:
        model = TinyVelocity()
        tensors = load_file(str(Path(checkpoint) / WEIGHTS))
        padding = tensors.pop("padding", None)
        if padding is not None:
            padding.sum()  # read every byte, as a real load does (safetensors maps lazily)
        model.load_state_dict(tensors)
        return model.eval()

    def generate(self, pipeline: TinyVelocity, request: Any, prompt: str, job: Any) -> np.ndarray:
        step_s = float(os.environ.get("LOOP_STEP_S", "0"))
        hang_at = _env_int("LOOP_HANG_AT") if "hang" in prompt else None
        oom_at = _env_int("LOOP_OOM_AT") if "oom" in prompt else None
        below = _env_int("LOOP_OOM_BELOW_HEADROOM")
        if below is not None and request.memory.vram_headroom >= below:
            oom_at = None
        if os.environ.get("LOOP_PRINT"):  # a chatty library writing to stdout and to fd 1
            print("noise from a library", flush=True)
            os.write(1, b"raw noise on fd 1\n")
        job.phase("text_encoding")
        g = torch.Generator().manual_seed(request.seed % (2**63))
        cond = torch.randn(
            CHANNELS, generator=torch.Generator().manual_seed(zlib.crc32(prompt.encode()))
        )
        job.phase("sampling")
        lat_f, lat_h, lat_w = (
            (request.frame_num - 1) // 4 + 1,
            request.height // 16,
            request.width // 16,
        )
        x = torch.randn(CHANNELS, lat_f, lat_h, lat_w, generator=g)
        solver = make_solver(request.solver, request.sample_steps, request.sample_shift)
        total = len(solver.timesteps)
        with torch.no_grad():
            for i, t in enumerate(solver.timesteps):
                if hang_at == i + 1:
                    time.sleep(3600)
                if oom_at == i + 1:
                    raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
                x = solver.step(pipeline(x, t.float(), cond), t, x)
                if step_s:
                    time.sleep(step_s)
                job.step(StepInfo(i + 1, total, int(t), "model", x))
        job.phase("decoding")
        if note := os.environ.get("LOOP_NOTE"):  # a run-time fallback the engine reports
            job.notes.append(note)
        rgb = torch.tanh(x[:3])  # [3, F, h, w]
        video = rgb.repeat_interleave(16, dim=2).repeat_interleave(16, dim=3)
        video = video.repeat_interleave(4, dim=1)[:, : request.frame_num]
        return video.numpy().astype(np.float32)

    def release(self, pipeline: Any) -> None:
        pass
