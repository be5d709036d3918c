"""The first-run guide's decisions, as tables: when it shows, what fits, disk space, prompts."""

from __future__ import annotations

import pytest

from wan22_desktop.gui.first_run_state import (
    DISK_MARGIN_BYTES,
    GUIDE_TASKS,
    disk_ok,
    fit,
    model_fits,
    should_show,
    suggested_prompt,
    suggested_task,
)
from wan22_desktop.runtime.hardware import GPU, Hardware
from wan22_desktop.runtime.planner import InstalledModel

RTX_4090 = Hardware(
    gpus=(GPU(0, "NVIDIA GeForce RTX 4090", 24.0, 22.8, (8, 9)),),
    ram_total_gib=64.0,
    ram_available_gib=51.0,
)
RTX_3060 = Hardware(
    gpus=(GPU(0, "NVIDIA GeForce RTX 3060", 12.0, 11.0, (8, 6)),),
    ram_total_gib=64.0,
    ram_available_gib=51.0,
)
H100 = Hardware(
    gpus=(GPU(0, "NVIDIA H100", 80.0, 79.0, (9, 0)),), ram_total_gib=256.0, ram_available_gib=200.0
)
NO_GPU = Hardware(ram_total_gib=16.0, ram_available_gib=8.0)
GB = 1_000_000_000


@pytest.mark.parametrize(
    ("installed", "skipped", "shown"),
    [
        ((), False, True),
        ((), True, False),
        (("ti2v-5B",), False, False),
        (("i2v-A14B",), False, False),
        (("animate-14B",), False, True),  # a task the guide does not offer does not count
    ],
)
def test_should_show(installed, skipped, shown) -> None:
    assert should_show(installed, skipped) is shown


@pytest.mark.parametrize(
    ("hw", "task", "fits", "words"),
    [
        (RTX_4090, "ti2v-5B", True, "of 24.0 GiB"),
        (RTX_4090, "t2v-A14B", True, "DiT streamed"),
        (RTX_4090, "i2v-A14B", True, "DiT streamed"),
        (H100, "t2v-A14B", True, "of 80.0 GiB"),
        (RTX_3060, "ti2v-5B", True, "DiT streamed"),
        (RTX_3060, "t2v-A14B", False, "the GPU has 12 GiB"),
        (NO_GPU, "ti2v-5B", False, "no CUDA GPU found"),
        (NO_GPU, "i2v-A14B", False, "no CUDA GPU found"),
    ],
)
def test_fit_uses_the_planners_words(hw, task, fits, words) -> None:
    got, line, hint = fit(task, hw)
    assert got is fits
    assert words in line
    assert "not installed" not in line  # the guide is where it gets installed
    assert (hint is None) is fits


def test_fit_keeps_other_planner_warnings() -> None:
    low_ram = Hardware(gpus=RTX_3060.gpus, ram_total_gib=32.0, ram_available_gib=20.0)
    ok, line, _ = fit("ti2v-5B", low_ram)
    assert ok and "RAM needed" in line


@pytest.mark.parametrize(
    ("free", "size", "want"),
    [
        (None, 34 * GB, None),
        (34 * GB + DISK_MARGIN_BYTES, 34 * GB, True),
        (34 * GB + DISK_MARGIN_BYTES - 1, 34 * GB, False),
        (10 * GB, 126 * GB, False),
    ],
)
def test_disk_ok(free, size, want) -> None:
    assert disk_ok(free, size) is want


def test_model_fits_rows() -> None:
    installed = {"ti2v-5B": InstalledModel("ti2v-5B", "/m/ti2v", 10 * GB)}
    rows = model_fits(RTX_3060, 100 * GB, installed)
    assert [r.task for r in rows] == list(GUIDE_TASKS)
    by = {r.task: r for r in rows}
    assert by["ti2v-5B"].installed and not by["t2v-A14B"].installed
    assert by["ti2v-5B"].fits and not by["t2v-A14B"].fits
    assert by["ti2v-5B"].disk_ok is True and by["t2v-A14B"].disk_ok is False  # 126 GB > 100 GB
    assert by["t2v-A14B"].size_bytes == 126_200_000_000
    assert suggested_task(rows) == "ti2v-5B"
    assert suggested_task(model_fits(RTX_3060, None, {})) is None


@pytest.mark.parametrize(
    ("task", "language", "start"),
    [
        ("ti2v-5B", "en", "A red fox"),
        ("ti2v-5B", "zh_CN", "日出时分"),
        ("t2v-A14B", "en_US", "Paper lanterns"),
        ("i2v-A14B", "zh", "画面动了起来"),
        ("unknown", "en", "A red fox"),
    ],
)
def test_suggested_prompt(task, language, start) -> None:
    assert suggested_prompt(task, language).startswith(start)
