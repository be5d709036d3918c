"""Copies of the official repos in the Hugging Face and ModelScope caches, registered in place."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.downloader.fake_hub import REPO_ID
from wan22_desktop.downloader.local_scan import find_copies

ROOT = Path(__file__).resolve().parents[2]


def _hf_cache_copy(cache: Path, repo: Path) -> Path:
    """The hub cache layout: blobs named by hash, snapshot files are symlinks to them."""
    base = cache / "models--Wan-AI--Wan2.2-TI2V-5B"
    snap = base / "snapshots" / "abc123"
    for f in repo.rglob("*"):
        if f.is_file():
            blob = base / "blobs" / f"{abs(hash(f.as_posix())):x}"
            blob.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(f, blob)
            link = snap / f.relative_to(repo)
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(os.path.relpath(blob, link.parent))
    (base / "refs").mkdir(parents=True)
    (base / "refs" / "main").write_text("abc123")
    return snap


def test_find_copies_in_both_caches(tiny_repo, tmp_path):
    snap = _hf_cache_copy(tmp_path / "hf", tiny_repo)
    ms = tmp_path / "ms" / "models" / "Wan-AI" / "Wan2___2-TI2V-5B"
    shutil.copytree(tiny_repo, ms)
    found = find_copies(hf_cache=tmp_path / "hf", ms_cache=tmp_path / "ms")
    assert [(c.repo_id, c.path, c.origin) for c in found] == [
        (REPO_ID, snap, "hf-cache"),
        (REPO_ID, ms, "modelscope-cache"),
    ]


def test_scan_register_cli(tiny_repo, tmp_path):
    snap = _hf_cache_copy(tmp_path / "hf", tiny_repo)
    broken = tmp_path / "ms" / "Wan-AI" / "Wan2___2-TI2V-5B"
    shutil.copytree(tiny_repo, broken)
    (broken / "diffusion_pytorch_model-00002-of-00002.safetensors").unlink()
    env = dict(
        os.environ,
        PYTHONPATH=str(ROOT),
        HF_HUB_CACHE=str(tmp_path / "hf"),
        MODELSCOPE_CACHE=str(tmp_path / "ms"),
    )
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "wan22_desktop.cli",
            "--home",
            str(tmp_path / "home"),
            "--json",
            "models",
            "scan",
            "--register",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)["found"]
    assert rows[0]["path"] == str(snap) and rows[0]["registered"]
    assert rows[1]["path"] == str(broken) and not rows[1]["registered"]
    assert "00002-of-00002" in rows[1]["problem"]
