"""`wan22 dev make-tiny-checkpoint` in a real subprocess, and the download hint the loader gives."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from wan22_desktop.cli import build_parser
from wan22_desktop.errors import UserInputError
from wan22_desktop.model_layout import check_layout, require_layout
from wan22_desktop.tasks import TASKS

REPO = Path(__file__).resolve().parents[1]


def wan22(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "wan22_desktop.cli", "--home", str(tmp_path / "home"), *args],
        cwd=REPO,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_make_tiny_checkpoint_json(tmp_path):
    out = tmp_path / "tiny-i2v"
    p = wan22(
        tmp_path,
        "--json",
        "dev",
        "make-tiny-checkpoint",
        "--task",
        "i2v-A14B",
        "--out",
        str(out),
        "--seed",
        "7",
    )
    assert p.returncode == 0, p.stderr
    result = json.loads(p.stdout)
    assert (
        result["path"] == str(out.resolve())
        and result["task"] == "i2v-A14B"
        and result["seed"] == 7
    )
    report = check_layout(out)  # detected from config.json, not told
    assert report.ok and report.task == "i2v-A14B"
    assert sorted(result["files"]) == sorted(report.files) and result["bytes"] == report.total_bytes
    assert "high_noise_model/diffusion_pytorch_model.safetensors.index.json" in result["files"]


@pytest.mark.slow  # real processes: in `make test`, not `make test-fast`
def test_make_tiny_checkpoint_text_and_refusals(tmp_path):
    out = tmp_path / "tiny"
    p = wan22(tmp_path, "dev", "make-tiny-checkpoint", "--task", "ti2v-5B", "--out", str(out))
    assert p.returncode == 0, p.stderr
    assert "tiny ti2v-5B checkpoint" in p.stdout and str(out.resolve()) in p.stdout
    assert check_layout(out, "ti2v-5B").ok

    again = wan22(tmp_path, "dev", "make-tiny-checkpoint", "--task", "ti2v-5B", "--out", str(out))
    assert again.returncode == 2
    assert again.stderr.splitlines()[0] == f"error: {out} exists and is not an empty folder"
    assert again.stderr.splitlines()[1].startswith("hint: ")

    bad = wan22(
        tmp_path, "dev", "make-tiny-checkpoint", "--task", "t2v-14B", "--out", str(tmp_path / "x")
    )
    assert bad.returncode == 2 and "invalid choice" in bad.stderr
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("task", list(TASKS))
def test_layout_hint_names_a_real_download_command(tmp_path, task):
    """The loader's hint says `wan22 models download <task>`: that command must parse and the
    catalogue must resolve the task name to the task's repo."""
    from wan22_desktop.downloader.catalog import get_model

    with pytest.raises(UserInputError) as info:
        require_layout(tmp_path, task)
    hint = info.value.hint
    command = hint.split("`")[1].split()
    assert command[:3] == ["wan22", "models", "download"]
    args = build_parser().parse_args(command[1:])
    assert args.model == task and callable(args.func)
    model = get_model(args.model)
    assert model.repo_id == TASKS[task].repo_id and task in model.tasks
    assert model.repo_id in hint
