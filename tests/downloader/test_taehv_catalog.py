"""The TAEHV preview decoders as catalogue entries: one file each from madebyollin/taehv (the
safetensors copy, not the .pth nor the other models' files), downloaded into
``models/vae_approx/<key>``, verified, found for a task, and loadable by the engine."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from tests.downloader.fake_hub import FakeHub
from tests.taehv_helpers import write_taehv
from wan22_desktop.db.downloads import InstalledModel
from wan22_desktop.downloader.catalog import (
    PREVIEW_FOLDER,
    find_taehv,
    get_model,
    model_for_repo,
    taehv_key,
)
from wan22_desktop.downloader.manager import DownloadManager
from wan22_desktop.downloader.transfer import RetryPolicy

REPO = "madebyollin/taehv"
FAST = RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.02, timeout=5)


@pytest.fixture(scope="module")
def taehv_repo(tmp_path_factory) -> Path:
    """A stand-in for the author's repo: .pth files at the root, safetensors copies below."""
    root = tmp_path_factory.mktemp("taehv") / "taehv"
    for name, ch, patch in (("taew2_1", 16, 1), ("taew2_2", 48, 2), ("taehv", 16, 1)):
        write_taehv(root / f"{name}.pth", ch, patch)
        write_taehv(root / "safetensors" / f"{name}.safetensors", ch, patch)
    (root / "taehv.py").write_text("# code\n")
    (root / "README.md").write_text("readme")
    return root


def test_entries_pick_one_safetensors_file_each() -> None:
    files = [
        "taew2_1.pth",
        "taew2_2.safetensors",  # a root copy, if the hub has one
        "taew2_2.pth",
        "safetensors/taew2_1.safetensors",
        "safetensors/taew2_2.safetensors",
        "safetensors/taehv.safetensors",
        "taehv.py",
    ]
    for key in ("taew2_1", "taew2_2"):
        m = get_model(key)
        assert m.repo_id == REPO and m.kind == "preview" and m.optional
        wanted = [f for f in files if m.wants(f)]
        root = [f"{key}.safetensors"] if key == "taew2_2" else []
        assert wanted == [*root, f"safetensors/{key}.safetensors"]
        assert m.model_id == key
        assert m.default_target(Path("/m")) == Path("/m") / PREVIEW_FOLDER / key
    assert model_for_repo(REPO) is None


def test_task_picks_its_latent_decoder() -> None:
    assert taehv_key("ti2v-5B") == "taew2_2"
    assert taehv_key("t2v-A14B") == taehv_key("i2v-A14B") == "taew2_1"


def test_find_prefers_safetensors_and_knows_comfyui_folders(tmp_path) -> None:
    assert find_taehv("taew2_1", tmp_path) is None
    comfy = tmp_path / "ComfyUI" / "models" / "vae_approx"
    write_taehv(comfy / "taew2_1.pth")
    assert find_taehv("taew2_1", tmp_path / "none", comfy) == comfy / "taew2_1.pth"
    write_taehv(comfy / "taew2_1.safetensors")
    assert find_taehv("taew2_1", comfy) == comfy / "taew2_1.safetensors"


@pytest.mark.parametrize("source", ["hf", "modelscope"])
def test_download_fetches_the_file_into_vae_approx(
    source, taehv_repo, online, sessions, tmp_path
) -> None:
    from wan22_desktop.engine.wan.taehv import load_decoder

    models = tmp_path / "models"
    with FakeHub({REPO: taehv_repo}) as hub:
        mgr = DownloadManager(sessions, models, retry=FAST, event_interval=0)
        for key in ("taew2_1", "taew2_2"):
            did = mgr.create(key, source=source, endpoint=hub.url)
            assert mgr.run(did).status == "done"
    for key, channels in (("taew2_1", 16), ("taew2_2", 48)):
        folder = models / PREVIEW_FOLDER / key
        got = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
        assert got == [f"safetensors/{key}.safetensors"]
        found = find_taehv(key, models / PREVIEW_FOLDER)
        assert found == folder / "safetensors" / f"{key}.safetensors"
        assert load_decoder(found).config.latent_channels == channels
    with sessions() as s:
        rows = {r.model_id for r in s.scalars(select(InstalledModel))}
    assert rows == {"taew2_1", "taew2_2"}
