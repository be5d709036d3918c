"""The DashScope key reaches the worker only through its environment (issue 7).

A real job with DashScope prompt extension runs through the runner and a real worker subprocess;
the key lives only in the (test) OS keyring of the runner's process. The fake DashScope server
must receive it (so it did reach the worker), and afterwards no file under the data dir — the
database and its WAL, the logs, the outputs, the worker log — may contain it.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import keyring
import pytest

pytest.importorskip("wan22_desktop.engine.wan.pipelines")
tiny = pytest.importorskip("wan22_desktop.engine.wan.tiny")

from tests.memory_keyring import MemoryKeyring  # noqa: E402
from tests.prompt_extend.fake_dashscope import FakeDashScope, FakeDashScopeServer  # noqa: E402
from wan22_desktop import secrets  # noqa: E402
from wan22_desktop.db import history  # noqa: E402
from wan22_desktop.db import queue as q  # noqa: E402
from wan22_desktop.db.database import open_app_database  # noqa: E402
from wan22_desktop.downloader.installed import register  # noqa: E402
from wan22_desktop.logs import setup_logging  # noqa: E402
from wan22_desktop.paths import app_paths  # noqa: E402
from wan22_desktop.request import GenerationRequest, PromptExtendOptions  # noqa: E402
from wan22_desktop.runtime.hardware import Hardware  # noqa: E402
from wan22_desktop.runtime.runner import QueueRunner, RunnerOptions  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SENTINEL = "sk-SENTINEL-7f3a9c1e5b2d4068aa11cafe"


@pytest.mark.slow
def test_sentinel_key_reaches_the_worker_and_nothing_else(tmp_path, monkeypatch):
    monkeypatch.delenv("WAN22_WORKER_BACKEND", raising=False)
    monkeypatch.delenv("DASH_API_KEY", raising=False)
    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    root_logger = logging.getLogger()
    level = root_logger.level
    try:
        secrets.set_dashscope_key(SENTINEL)
        assert secrets.key_status().source == "keyring"
        paths = app_paths(tmp_path / "home").ensure()
        setup_logging(paths.logs, verbose=True)  # DEBUG: the most a log could ever leak
        fake = FakeDashScope(valid_key=SENTINEL)
        with FakeDashScopeServer(fake) as server:
            monkeypatch.setenv("DASH_API_URL", server.base_url)
            ckpt = Path(tiny.make_tiny_checkpoint("ti2v-5B", paths.models / "tiny-ti2v"))
            with open_app_database(paths) as db:
                db.transact(
                    lambda s: register(
                        s,
                        "Wan-AI/Wan2.2-TI2V-5B",
                        ckpt,
                        origin="import",
                        tasks=("ti2v-5B",),
                        size=1,
                    )
                )
                req = GenerationRequest.for_task(
                    "ti2v-5B",
                    prompt="一只猫",
                    size="64*64",
                    frame_num=5,
                    sample_steps=1,
                    seed=3,
                    prompt_extend=PromptExtendOptions(
                        enabled=True, method="dashscope", target_lang="zh", required=True
                    ),
                )
                [job] = q.enqueue(db, req)
                env = {"PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
                options = RunnerOptions(keep_awake=False, poll_s=0.05, worker_env=env)
                summary = QueueRunner(
                    db, paths, options, hardware=Hardware(ram_total_gib=64.0)
                ).run()
                done = q.get_job(db, job.id)
                assert summary.done == [job.id], (done.error_kind, done.error_message)
                gen = history.get_generation(db, done.generation_id)
                assert gen.final_prompt.startswith("Extended by qwen-plus")
        # It reached the worker: the server saw it, as a header, from the worker's SDK call.
        assert [r.headers.get("Authorization") for r in fake.requests] == [f"Bearer {SENTINEL}"]
        for handler in root_logger.handlers:
            handler.flush()
        leaks = [
            p
            for p in (tmp_path / "home").rglob("*")
            if p.is_file() and SENTINEL.encode() in p.read_bytes()
        ]
        assert leaks == []
        assert any(p.suffix == ".log" or ".log" in p.name for p in paths.logs.rglob("*"))
        assert any(p.name.startswith("wan22.sqlite3") for p in paths.data.iterdir())
    finally:
        keyring.set_keyring(previous)
        for handler in list(root_logger.handlers):
            if getattr(handler, "baseFilename", "").startswith(str(tmp_path)):
                root_logger.removeHandler(handler)
                handler.close()
        root_logger.setLevel(level)
