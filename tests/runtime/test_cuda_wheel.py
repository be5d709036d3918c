"""The CUDA-wheel hint: which pip command a driver and a CPU-only torch get, as a table."""

from __future__ import annotations

import subprocess

import pytest

from wan22_desktop.runtime import cuda_wheel
from wan22_desktop.runtime.cuda_wheel import (
    cuda_wheel_argv,
    cuda_wheel_hint,
    driver_version,
    gpu_names,
    query_nvidia_smi,
)

SMI_4090 = "NVIDIA GeForce RTX 4090, 570.133.07\n"
PY = "/opt/wan22/.venv/bin/python"
URL = "https://download.pytorch.org/whl/"


@pytest.mark.parametrize(
    ("smi", "torch", "cuda", "windows", "want"),
    [
        # the newest wheel the driver runs, for the same torch release
        (
            SMI_4090,
            "2.7.1+cpu",
            None,
            False,
            f"{PY} -m pip install torch==2.7.1+cu128 --index-url {URL}cu128",
        ),
        (
            SMI_4090,
            "2.9.0+cpu",
            None,
            False,
            f"{PY} -m pip install torch==2.9.0+cu128 --index-url {URL}cu128",
        ),
        (
            "NVIDIA A100, 580.65.06",
            "2.9.0",
            None,
            False,
            f"{PY} -m pip install torch==2.9.0+cu130 --index-url {URL}cu130",
        ),
        (
            "NVIDIA A100, 580.65.06",
            "2.8.0",
            None,
            False,
            f"{PY} -m pip install torch==2.8.0+cu129 --index-url {URL}cu129",
        ),
        (
            "550.54.14",
            "2.6.0+cpu",
            None,
            False,
            f"{PY} -m pip install torch==2.6.0+cu124 --index-url {URL}cu124",
        ),
        (
            "550.54.13",
            "2.6.0+cpu",
            None,
            False,
            f"{PY} -m pip install torch==2.6.0+cu118 --index-url {URL}cu118",
        ),
        # Windows minimums differ (551.61 for 12.4)
        (
            "NVIDIA GeForce RTX 3060, 551.23",
            "2.5.1+cpu",
            None,
            True,
            f"{PY} -m pip install torch==2.5.1+cu121 --index-url {URL}cu121",
        ),
        (
            "NVIDIA GeForce RTX 3060, 551.61",
            "2.5.1+cpu",
            None,
            True,
            f"{PY} -m pip install torch==2.5.1+cu124 --index-url {URL}cu124",
        ),
        # a torch newer than the table gets the newest row's wheels
        (
            SMI_4090,
            "2.13.0+cpu",
            None,
            False,
            f"{PY} -m pip install torch==2.13.0+cu128 --index-url {URL}cu128",
        ),
        # torch missing: the newest build from the right index
        (SMI_4090, None, None, False, f"{PY} -m pip install torch --index-url {URL}cu128"),
        # no hint: already a CUDA build, no driver, a driver too old for any wheel of this torch
        (SMI_4090, "2.7.1+cu126", "12.6", False, None),
        (None, "2.7.1+cpu", None, False, None),
        ("", "2.7.1+cpu", None, False, None),
        ("NVIDIA GeForce GTX 1080, 470.256.02", "2.7.1+cpu", None, False, None),
        (SMI_4090, "1.13.1+cpu", None, False, None),
    ],
)
def test_hint_table(smi, torch, cuda, windows, want) -> None:
    assert cuda_wheel_hint(smi, torch, cuda, PY, windows=windows) == want


def test_windows_command_is_quoted_for_cmd() -> None:
    hint = cuda_wheel_hint(
        "NVIDIA GeForce RTX 3060, 552.22",
        "2.5.1+cpu",
        None,
        r"C:\Program Files\Wan22\python.exe",
        windows=True,
    )
    assert hint == (
        r'"C:\Program Files\Wan22\python.exe" -m pip install torch==2.5.1+cu124 '
        f"--index-url {URL}cu124"
    )


def test_posix_command_quotes_a_path_with_spaces() -> None:
    argv = cuda_wheel_argv(SMI_4090, "2.7.1+cpu", None, "/home/a b/python", windows=False)
    assert argv is not None and argv[0] == "/home/a b/python"
    hint = cuda_wheel_hint(SMI_4090, "2.7.1+cpu", None, "/home/a b/python", windows=False)
    assert hint is not None and hint.startswith("'/home/a b/python' -m pip")


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("NVIDIA GeForce RTX 4090, 570.133.07", (570, 133, 7)),
        ("NVIDIA H100 80GB HBM3, 550.54.15\nNVIDIA H100 80GB HBM3, 550.54.15\n", (550, 54, 15)),
        ("576.02", (576, 2)),
        ("NVIDIA-SMI has failed", None),
        (None, None),
    ],
)
def test_driver_version(text, want) -> None:
    assert driver_version(text) == want


def test_gpu_names() -> None:
    assert gpu_names("NVIDIA A, 550.1\nNVIDIA B, 550.1\n") == ["NVIDIA A", "NVIDIA B"]
    assert gpu_names(None) == []


def test_query_without_nvidia_smi_is_none(monkeypatch) -> None:
    def missing(*_a, **_k):
        raise FileNotFoundError("nvidia-smi")

    monkeypatch.setattr(cuda_wheel.subprocess, "run", missing)
    assert query_nvidia_smi() is None


def test_query_returns_the_csv(monkeypatch) -> None:
    def fake(argv, **_k):
        assert list(argv) == list(cuda_wheel.NVIDIA_SMI_QUERY)
        return subprocess.CompletedProcess(argv, 0, SMI_4090, "")

    monkeypatch.setattr(cuda_wheel.subprocess, "run", fake)
    assert query_nvidia_smi() == SMI_4090
