"""The task catalogue matches the official Wan2.2 configs (wan/configs/*.py at 42bf4cf)."""

from __future__ import annotations

import pytest

from wan22_desktop.errors import UserInputError
from wan22_desktop.tasks import (
    DEFAULT_NEGATIVE_PROMPT,
    SIZE_AREAS,
    TASKS,
    ImageUse,
    frames_for_seconds,
    get_task,
    parse_size,
    task_for_model_type,
)

OFFICIAL = {
    # task: model_type, repo, steps, shift, guidance, boundary, fps, frames, vae stride, vae file
    "t2v-A14B": (
        "t2v",
        "Wan-AI/Wan2.2-T2V-A14B",
        40,
        12.0,
        (3.0, 4.0),
        0.875,
        16,
        81,
        (4, 8, 8),
        "Wan2.1_VAE.pth",
    ),
    "i2v-A14B": (
        "i2v",
        "Wan-AI/Wan2.2-I2V-A14B",
        40,
        5.0,
        (3.5, 3.5),
        0.9,
        16,
        81,
        (4, 8, 8),
        "Wan2.1_VAE.pth",
    ),
    "ti2v-5B": (
        "ti2v",
        "Wan-AI/Wan2.2-TI2V-5B",
        50,
        5.0,
        (5.0, 5.0),
        None,
        24,
        121,
        (4, 16, 16),
        "Wan2.2_VAE.pth",
    ),
}


@pytest.mark.parametrize("name", sorted(OFFICIAL))
def test_official_values(name):
    t = get_task(name)
    mt, repo, steps, shift, guide, boundary, fps, frames, stride, vae = OFFICIAL[name]
    assert (t.model_type, t.repo_id, t.sample_steps, t.sample_shift) == (mt, repo, steps, shift)
    assert (t.guidance, t.boundary, t.fps, t.frame_num) == (guide, boundary, fps, frames)
    assert (t.vae_stride, t.vae_file, t.patch_size) == (stride, vae, (1, 2, 2))
    assert t.t5_file == "models_t5_umt5-xxl-enc-bf16.pth"
    assert t.tokenizer_dir == "google/umt5-xxl"
    # granularity = vae stride x patch: 8*2 for A14B, 16*2 for ti2v
    assert t.spatial_granularity == t.vae_stride[1] * t.patch_size[1]
    assert t.default_size in t.supported_sizes
    assert all(s in SIZE_AREAS for s in t.supported_sizes)


def test_sizes_and_images():
    assert TASKS["t2v-A14B"].supported_sizes == ("720*1280", "1280*720", "480*832", "832*480")
    assert TASKS["ti2v-5B"].supported_sizes == ("704*1280", "1280*704")
    assert TASKS["t2v-A14B"].default_size == "1280*720"
    assert TASKS["ti2v-5B"].default_size == "1280*704"
    assert [TASKS[n].image for n in ("t2v-A14B", "i2v-A14B", "ti2v-5B")] == [
        ImageUse.REFUSED,
        ImageUse.REQUIRED,
        ImageUse.OPTIONAL,
    ]
    assert TASKS["i2v-A14B"].dit_folders == ("high_noise_model", "low_noise_model")
    assert TASKS["ti2v-5B"].dit_folders == ("",)
    assert SIZE_AREAS["1280*704"] == 901120 and SIZE_AREAS["832*480"] == 399360


def test_negative_prompt_is_the_official_string():
    assert DEFAULT_NEGATIVE_PROMPT.startswith("色调艳丽，过曝，静态，")
    assert DEFAULT_NEGATIVE_PROMPT.endswith("背景人很多，倒着走")
    assert DEFAULT_NEGATIVE_PROMPT.count("，") == 27  # 28 comma-separated traits


def test_get_task_unknown_lists_valid_names():
    with pytest.raises(UserInputError) as e:
        get_task("t2v-14B")
    assert "t2v-14B" in e.value.message
    assert all(n in e.value.hint for n in TASKS)


def test_task_for_model_type():
    assert task_for_model_type("i2v").name == "i2v-A14B"
    assert task_for_model_type("s2v") is None


@pytest.mark.parametrize(
    "text,expected",
    [
        ("1280*720", (1280, 720)),
        ("832x480", (832, 480)),
        (" 704 * 1280 ", (704, 1280)),
    ],
)
def test_parse_size(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize(
    "text", ["1280", "1280*", "a*b", "0*720", "-1*720", "1280*720*3", "１２８０*720"]
)
def test_parse_size_rejects(text):
    with pytest.raises(UserInputError):
        parse_size(text)


@pytest.mark.parametrize(
    "seconds,fps,frames",
    [
        (5, 16, 81),
        (5, 24, 121),
        (0, 16, 1),
        (0.1, 16, 1),
        (1, 16, 17),
        (3.3, 24, 81),
        (10, 24, 241),
    ],
)
def test_frames_for_seconds(seconds, fps, frames):
    got = frames_for_seconds(seconds, fps)
    assert got == frames and (got - 1) % 4 == 0
