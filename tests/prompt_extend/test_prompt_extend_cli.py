"""``wan22 prompt extend``: a subprocess against the fake DashScope, and in-process with a tiny
local Qwen (in-process keeps the transformers import to one per test session)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from PIL import Image

from tests.prompt_extend.fake_dashscope import VISION_PATH
from wan22_desktop import cli

ROOT = Path(__file__).resolve().parents[2]


def run_cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "wan22_desktop.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**env, "PYTHONPATH": str(ROOT)},
        timeout=60,
    )


def test_dashscope_preview_text_and_json(dashscope, tmp_path):
    env = dict(os.environ, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    r = run_cli(
        ["prompt", "extend", "a red fox", "--method", "dashscope", "--lang", "en", "--seed", "9"],
        env,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == (
        "Extended by qwen-plus (seed 9, images 0): a red fox, soft light, slow push-in."
    )
    img = tmp_path / "first.png"
    Image.new("RGB", (64, 48), "blue").save(img)
    r = run_cli(
        [
            "--json",
            "prompt",
            "extend",
            "--image",
            str(img),
            "--method",
            "dashscope",
            "--model",
            "qwen-vl-plus",
        ],
        env,
    )
    out = json.loads(r.stdout)
    assert r.returncode == 0 and out["ok"] and out["original"] == ""
    assert out["model"] == "qwen-vl-plus" and out["method"] == "dashscope"
    assert dashscope.requests[-1].path == VISION_PATH
    assert dashscope.valid_key not in r.stdout + r.stderr


def test_dashscope_failure_prints_reason_and_hint(dashscope):
    env = dict(
        os.environ,
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
        DASH_API_KEY="sk-not-the-right-one-123456",
    )
    r = run_cli(["prompt", "extend", "a red fox", "--method", "dashscope"], env)
    assert r.returncode == 1
    assert "error: prompt extension failed: DashScope rejected the API key" in r.stderr
    assert "hint:" in r.stderr and "sk-not-the-right-one-123456" not in r.stderr
    r = run_cli(["--json", "prompt", "extend", "a red fox", "--method", "dashscope"], env)
    out = json.loads(r.stdout)
    assert r.returncode == 1 and not out["ok"] and out["prompt"] == "a red fox"
    assert "rejected the API key" in out["warning"]


def test_bad_input_exit_code_2(tmp_path, capsys):
    assert cli.main(["prompt", "extend", "x", "--image", str(tmp_path / "missing.png")]) == 2
    assert "image not found" in capsys.readouterr().err
    assert cli.main(["prompt", "extend", ""]) == 2
    assert "nothing to extend" in capsys.readouterr().err


def test_local_preview_is_reproducible_with_a_seed(tiny_qwen2, capsys):
    argv = [
        "--json",
        "prompt",
        "extend",
        "a cat",
        "--model",
        str(tiny_qwen2),
        "--seed",
        "11",
        "--lang",
        "en",
        "--max-new-tokens",
        "8",
    ]
    assert cli.main(argv) == 0
    first = json.loads(capsys.readouterr().out)
    assert cli.main(argv) == 0
    second = json.loads(capsys.readouterr().out)
    assert first["ok"] and first["method"] == "local_qwen" and first["seed"] == 11
    assert first["prompt"] == second["prompt"] and first["prompt"] != "a cat"
