"""A complete download that the engine then loads: the fake hub serves a real tiny checkpoint
(``make_tiny_checkpoint``), the manager downloads it, ``load_checkpoint`` loads the result."""

from __future__ import annotations

import pytest
import torch

from tests.downloader.fake_hub import FakeHub
from wan22_desktop.downloader.manager import DownloadManager
from wan22_desktop.downloader.transfer import RetryPolicy
from wan22_desktop.engine.wan.checkpoints import load_checkpoint
from wan22_desktop.engine.wan.tiny import make_tiny_checkpoint
from wan22_desktop.model_layout import check_layout
from wan22_desktop.tasks import TASKS

FAST = RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.02, timeout=5)


# Both folder layouts (two experts, one model) and both hub clients; each download takes seconds.
@pytest.mark.parametrize("task,source", [("t2v-A14B", "hf"), ("ti2v-5B", "modelscope")])
def test_downloaded_tiny_checkpoint_loads(task, source, online, sessions, tmp_path):
    spec = TASKS[task]
    repo = make_tiny_checkpoint(task, tmp_path / "hub" / spec.repo_id.split("/")[1], seed=5)
    (repo / "README.md").write_text("# not needed to run\n")
    with FakeHub({spec.repo_id: repo}) as hub:
        mgr = DownloadManager(sessions, tmp_path / "models", retry=FAST, event_interval=0)
        info = mgr.run(mgr.create(task, source=source, endpoint=hub.url))
    assert info.status == "done"
    root = tmp_path / "models" / spec.repo_id.split("/")[1]
    assert check_layout(root).task == task and not (root / "README.md").exists()

    ck = load_checkpoint(root, task, dtype=torch.float32)
    reference = load_checkpoint(repo, task, dtype=torch.float32)
    for got, want in zip(ck.dits, reference.dits):
        assert got.state_dict().keys() == want.state_dict().keys()
        assert all(torch.equal(got.state_dict()[k], v) for k, v in want.state_dict().items())
    assert ck.text_encoder is not None
    assert torch.equal(
        ck.text_encoder.encode(["a red car"])[0], reference.text_encoder.encode(["a red car"])[0]
    )
