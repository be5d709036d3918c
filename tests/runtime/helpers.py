"""Shared set-up for the runtime tests: a data dir with a registered loop checkpoint and jobs."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.runtime.loop_backend import write_checkpoint
from wan22_desktop.db import queue as q
from wan22_desktop.db.database import Database, open_app_database
from wan22_desktop.downloader.installed import register
from wan22_desktop.paths import AppPaths, app_paths
from wan22_desktop.request import GenerationRequest

REPO = Path(__file__).resolve().parents[2]
TASK = "ti2v-5B"


@dataclass
class Home:
    root: Path
    paths: AppPaths
    db: Database
    checkpoint: Path

    def enqueue(
        self, prompt: str = "a red fox", *, steps: int = 4, seed: int = 11, count: int = 1
    ) -> list[int]:
        req = GenerationRequest.for_task(
            TASK, prompt=prompt, size="128*128", frame_num=5, sample_steps=steps, seed=seed
        )
        return [j.id for j in q.enqueue(self.db, req, count=count)]

    def job(self, job_id: int):
        return q.get_job(self.db, job_id)


def make_home(root: Path) -> Home:
    """A data dir whose installed-models table lists a tiny (loop) checkpoint for TI2V-5B."""
    paths = app_paths(root).ensure()
    db = open_app_database(paths)
    ckpt = write_checkpoint(paths.models / "loop-ti2v")
    size = sum(f.stat().st_size for f in ckpt.iterdir())

    db.transact(
        lambda s: register(
            s, "Wan-AI/Wan2.2-TI2V-5B", ckpt, origin="import", tasks=(TASK,), size=size
        )
    )
    return Home(root, paths, db, ckpt)


def wait_for(cond: Callable[[], object], timeout: float = 30.0, every: float = 0.05) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"condition not met within {timeout} s")


def cli(home: Path, *args: str, env: dict | None = None, **kw) -> subprocess.Popen:
    """Start ``wan22 --home HOME ARGS`` as a real subprocess."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.Popen(
        [sys.executable, "-m", "wan22_desktop.cli", "--home", str(home), *args],
        cwd=REPO,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


def cpu_plan(task: str = TASK, nproc: int = 1, **changes: object) -> dict:
    """A real ``Plan.to_dict()`` for a CPU job, as the runner sends it (worker round trips)."""
    from dataclasses import replace

    from wan22_desktop.runtime.planner import Plan

    plan = Plan(
        task=task,
        device="cpu",
        nproc=nproc,
        ulysses_size=1,
        dit_fsdp=False,
        t5_fsdp=False,
        offload_model=False,
        convert_model_dtype=False,
        t5_cpu=False,
        attention="sdpa",
        est_vram_gib=0.0,
        est_ram_gib=4.0,
        width=128,
        height=128,
        reasons={"device": "CPU: a test"},
        dtype="fp32",
    )
    return replace(plan, **changes).to_dict()  # type: ignore[arg-type]
