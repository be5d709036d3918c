"""The Lightning LoRAs as catalogue entries: a few files picked from a shared repo (the Comfy-Org
repack), downloaded into the LoRA folder, verified, and found by the Fast presets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from tests.downloader.fake_hub import FakeHub
from tests.downloader.test_cli_models import _env, wan22
from wan22_desktop.db.downloads import InstalledModel
from wan22_desktop.downloader.catalog import LORA_FOLDER, MODELS, get_model, model_for_repo
from wan22_desktop.downloader.manager import DownloadManager
from wan22_desktop.downloader.transfer import RetryPolicy
from wan22_desktop.presets import LORA_FOLDER as PRESET_LORA_FOLDER
from wan22_desktop.presets import get_preset

REPACK = "Comfy-Org/Wan_2.2_ComfyUI_Repackaged"
FAST = RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.02, timeout=5)
LORAS = [
    f"split_files/loras/wan2.2_{t}_lightx2v_4steps_lora_{v}_{e}_noise.safetensors"
    for t, v in (("t2v", "v1.1"), ("i2v", "v1"))
    for e in ("high", "low")
]


@pytest.fixture(scope="module")
def repack(tmp_path_factory) -> Path:
    """A stand-in for the repack: the four LoRA files, plus a big model file not to be fetched."""
    from safetensors.numpy import save_file

    root = tmp_path_factory.mktemp("repack") / "Wan_2.2_ComfyUI_Repackaged"
    rng = np.random.default_rng(0)
    for i, rel in enumerate(LORAS + ["split_files/diffusion_models/wan2.2_t2v_fp8.safetensors"]):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        save_file({f"k{i}.lora_down.weight": rng.standard_normal(64 + i, np.float32)}, str(path))
    (root / "README.md").write_text("repack")
    return root


def test_lightning_entries_pick_two_files_each_of_a_shared_repo() -> None:
    t2v, i2v = get_model("lightning-t2v"), get_model("lightning-i2v")
    assert t2v.repo_id == i2v.repo_id == REPACK and t2v.kind == i2v.kind == "lora"
    assert [f for f in LORAS if t2v.wants(f)] == LORAS[:2]
    assert [f for f in LORAS if i2v.wants(f)] == LORAS[2:]
    assert t2v.model_id == "lightning-t2v" and t2v.fallback_size > 2_000_000_000
    assert model_for_repo(REPACK) is None  # a pick is not the repo's checkpoint
    assert get_model("ti2v-5B").model_id == "Wan-AI/Wan2.2-TI2V-5B"  # models keep their repo id
    assert LORA_FOLDER == PRESET_LORA_FOLDER
    assert {m.key for m in MODELS if m.kind == "lora"} >= {
        x.catalog for name in ("lightning-t2v", "lightning-i2v") for x in get_preset(name).loras
    }


@pytest.mark.parametrize("source", ["hf", "modelscope"])
def test_download_fetches_only_the_pair_into_the_lora_folder(
    source, repack, online, sessions, tmp_path
) -> None:
    models = tmp_path / "models"
    with FakeHub({REPACK: repack}) as hub:
        mgr = DownloadManager(sessions, models, retry=FAST, event_interval=0)
        t2v = mgr.create("lightning-t2v", source=source, endpoint=hub.url)
        i2v = mgr.create("lightning-i2v", source=source, endpoint=hub.url)
        assert t2v != i2v  # one repo, two downloads
        assert mgr.run(t2v).status == "done"
        assert mgr.run(i2v).status == "done"
    for key, files in (("lightning-t2v", LORAS[:2]), ("lightning-i2v", LORAS[2:])):
        folder = models / LORA_FOLDER / key
        got = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
        assert got == files
        for rel in files:
            assert (folder / rel).read_bytes() == (repack / rel).read_bytes()
        # The preset finds its files where the download put them.
        for lora in get_preset(key).loras:
            assert lora.path(models / LORA_FOLDER).is_file()
    with sessions() as s:
        rows = {r.model_id: r.path for r in s.scalars(select(InstalledModel))}
    assert rows == {
        "lightning-t2v": str((models / LORA_FOLDER / "lightning-t2v").resolve()),
        "lightning-i2v": str((models / LORA_FOLDER / "lightning-i2v").resolve()),
    }


@pytest.mark.slow  # a real process: in `make test`, not `make test-fast`
def test_cli_download_then_verify_then_presets_list(repack, tmp_path) -> None:
    home = tmp_path / "home"
    with FakeHub({REPACK: repack}) as hub:
        out = wan22(home, "models", "download", "lightning-t2v", env=_env(hub.url))
    assert out.returncode == 0, out.stderr
    folder = home / "models" / LORA_FOLDER / "lightning-t2v"
    assert f"done: {folder}" in out.stdout
    assert "2 files from hf" in out.stderr
    ok = wan22(home, "models", "verify", "lightning-t2v")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    listed = wan22(home, "presets", "list")
    assert "wan2.2_t2v_lightx2v_4steps_lora_v1.1_high_noise.safetensors" in listed.stdout
    # The t2v pair serves both t2v presets (4 steps, 8-step three-phase); the i2v pair is missing.
    assert listed.stdout.count(": downloaded") == 4
    assert listed.stdout.count("missing: wan22 models download lightning-i2v") == 4
    assert "t2v_lightx2v_4steps_lora_v1.1_low_noise.safetensors (high 0, low 1): downloaded" in (
        listed.stdout
    )
