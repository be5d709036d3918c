"""GenerationRequest: defaults, each validation rule (table-driven), seeds, JSON and upgrades."""

from __future__ import annotations

import dataclasses
import json
import random
import sys

import pytest
from PIL import Image

from wan22_desktop.errors import UserInputError
from wan22_desktop.request import (
    SCHEMA_VERSION,
    GenerationRequest,
    Guidance,
    MemoryOptions,
    PromptExtendOptions,
)
from wan22_desktop.tasks import DEFAULT_NEGATIVE_PROMPT


@pytest.fixture()
def image(tmp_path):
    path = tmp_path / "start.png"
    Image.new("RGB", (64, 48), (200, 30, 30)).save(path)
    return str(path)


@pytest.fixture()
def tiny_image(tmp_path):
    path = tmp_path / "tiny.png"
    Image.new("RGB", (16, 64)).save(path)
    return str(path)


@pytest.fixture()
def not_image(tmp_path):
    path = tmp_path / "fake.jpg"
    path.write_bytes(b"this is not a jpeg")
    return str(path)


def test_for_task_fills_official_defaults():
    r = GenerationRequest.for_task("t2v-A14B", prompt="cats")
    assert (r.size, r.frame_num, r.sample_steps, r.sample_shift) == ("1280*720", 81, 40, 12.0)
    assert r.guidance == Guidance(3.0, 4.0)
    assert (r.solver, r.seed, r.output_format, r.gpus, r.fps) == ("unipc", -1, "mp4", None, None)
    assert r.effective_negative_prompt == DEFAULT_NEGATIVE_PROMPT
    assert r.effective_fps == 16
    assert (r.width, r.height) == (1280, 720)
    t = GenerationRequest.for_task("ti2v-5B", prompt="cats")
    assert (t.size, t.frame_num, t.sample_steps, t.guidance, t.effective_fps) == (
        "1280*704",
        121,
        50,
        Guidance(5.0, 5.0),
        24,
    )
    assert r.validate() == [] and t.validate() == []


def test_overrides_are_normalised():
    r = GenerationRequest.for_task(
        "i2v-A14B",
        prompt="x",
        sample_shift=3,
        guidance=(2, 4.5),
        memory={"t5_cpu": "on"},
        prompt_extend={"enabled": True},
    )
    assert isinstance(r.sample_shift, float) and r.guidance == Guidance(2.0, 4.5)
    assert r.memory == MemoryOptions(t5_cpu="on")
    assert r.prompt_extend == PromptExtendOptions(enabled=True)
    assert GenerationRequest.for_task("ti2v-5B", guidance=6).guidance == Guidance(6.0, 6.0)
    assert GenerationRequest.for_task("ti2v-5B", negative_prompt="").effective_negative_prompt == ""
    assert GenerationRequest.for_task("ti2v-5B", size="704x1280", image="").size == "704*1280"
    assert GenerationRequest.for_task("ti2v-5B", image="").image is None


@pytest.mark.parametrize(
    "overrides,match",
    [
        (dict(frame_num="81"), "frame_num must be a whole number"),
        (dict(frame_num=True), "frame_num must be a whole number"),
        (dict(sample_shift="5"), "sample_shift must be a number"),
        (dict(prompt=None), "prompt must be text"),
        (dict(guidance="high"), "guidance"),
        (dict(memory={"swap": "on"}), "unknown memory field"),
        (dict(prompt_extend={"enabled": "yes"}), "prompt_extend.enabled must be true or false"),
    ],
)
def test_wrong_types_are_user_errors(overrides, match):
    with pytest.raises(UserInputError, match=match):
        GenerationRequest.for_task("ti2v-5B", **overrides)


def test_unknown_override_is_a_programming_error():
    with pytest.raises(TypeError, match="bogus"):
        GenerationRequest.for_task("ti2v-5B", bogus=1)


# Each row: task, overrides, expected substring of the one-line error (None: valid).
INVALID = [
    ("t2v-14B", {}, "unknown task"),
    ("t2v-A14B", dict(size="1280*704"), None),  # warning only: multiples of 16
    ("t2v-A14B", dict(size="1000*720"), "multiples of 16"),
    ("ti2v-5B", dict(size="1280*720"), "multiples of 32"),  # the official CLI default is refused
    ("ti2v-5B", dict(size="4096*2048"), "out of range"),
    ("t2v-A14B", dict(size="16*16"), "out of range"),
    ("ti2v-5B", dict(size="64*64"), None),  # tiny test checkpoints: accepted with a warning
    ("ti2v-5B", dict(size="1280x"), "not WIDTH*HEIGHT"),
    ("ti2v-5B", dict(frame_num=80), "4n+1"),
    ("ti2v-5B", dict(frame_num=1), "4n+1"),
    ("ti2v-5B", dict(frame_num=245), "4n+1"),
    ("ti2v-5B", dict(frame_num=5), None),
    ("ti2v-5B", dict(frame_num=241), None),
    ("ti2v-5B", dict(prompt=""), "prompt is empty"),
    ("ti2v-5B", dict(prompt="   "), "prompt is empty"),
    ("ti2v-5B", dict(sample_steps=0), "steps 0 out of range"),
    ("ti2v-5B", dict(sample_steps=201), "steps 201 out of range"),
    ("ti2v-5B", dict(sample_steps=1), None),
    ("ti2v-5B", dict(sample_shift=0.0), "shift 0 out of range"),
    ("ti2v-5B", dict(sample_shift=100.5), "out of range"),
    ("ti2v-5B", dict(guidance=-1), "guidance (low) -1 out of range"),
    ("ti2v-5B", dict(guidance=31), "out of range"),
    ("ti2v-5B", dict(guidance=1.0), None),
    ("ti2v-5B", dict(guidance=(3.0, 4.0)), "one guidance scale"),
    ("t2v-A14B", dict(guidance=(3.0, 31.0)), "guidance (high) 31 out of range"),
    ("ti2v-5B", dict(seed=-2), "seed -2 out of range"),
    ("ti2v-5B", dict(seed=sys.maxsize + 1), "out of range"),
    ("ti2v-5B", dict(seed=sys.maxsize), None),
    ("ti2v-5B", dict(solver="heun"), "unknown solver"),
    ("ti2v-5B", dict(solver="dpm++"), None),
    ("ti2v-5B", dict(output_format="gif"), "unknown output format"),
    ("ti2v-5B", dict(gpus=0), "gpus 0 out of range"),
    ("ti2v-5B", dict(gpus=8), None),
    ("ti2v-5B", dict(fps=0), "fps 0 out of range"),
    ("ti2v-5B", dict(prompt_extend=dict(method="openai")), "unknown prompt extension method"),
    ("ti2v-5B", dict(prompt_extend=dict(target_lang="fr")), "unknown prompt extension language"),
    ("ti2v-5B", dict(prompt_extend=dict(model=" ")), "prompt extension model is empty"),
    ("ti2v-5B", dict(memory=dict(offload_model="yes")), "unknown offload_model"),
    ("i2v-A14B", {}, "needs a start image"),
    ("t2v-A14B", dict(image="IMAGE"), "does not take an image"),
    ("i2v-A14B", dict(image="MISSING"), "image not found"),
    ("i2v-A14B", dict(image="NOT_IMAGE"), "cannot read image"),
    ("i2v-A14B", dict(image="TINY"), "too small"),
    ("i2v-A14B", dict(image="IMAGE"), None),
    ("ti2v-5B", dict(image="IMAGE"), None),
    ("ti2v-5B", dict(image="IMAGE", prompt=""), "turn on prompt extension"),
    ("i2v-A14B", dict(image="IMAGE", prompt="", prompt_extend=dict(enabled=True)), None),
]


@pytest.mark.parametrize("task,overrides,match", INVALID)
def test_validation_rules(task, overrides, match, image, tiny_image, not_image, tmp_path):
    paths = {
        "IMAGE": image,
        "TINY": tiny_image,
        "NOT_IMAGE": not_image,
        "MISSING": str(tmp_path / "nope.png"),
    }
    if "image" in overrides:
        overrides = {**overrides, "image": paths[overrides["image"]]}
    overrides.setdefault("prompt", "a cat on a surfboard")

    def build_and_validate():
        if task not in ("t2v-A14B", "i2v-A14B", "ti2v-5B"):
            base = GenerationRequest.for_task("ti2v-5B", **overrides)
            return dataclasses.replace(base, task=task).validate()
        return GenerationRequest.for_task(task, **overrides).validate()

    if match is None:
        build_and_validate()
        return
    with pytest.raises(UserInputError) as e:
        build_and_validate()
    assert match in f"{e.value.message} | {e.value.hint}"
    assert "\n" not in e.value.message and e.value.hint


def test_non_preset_size_warns():
    warnings = GenerationRequest.for_task("t2v-A14B", prompt="x", size="1280*704").validate()
    assert len(warnings) == 1 and "not an official" in warnings[0]


def test_long_prompt_warns():
    assert "very long" in GenerationRequest.for_task("ti2v-5B", prompt="x" * 3000).validate()[0]


def test_resolved_seed():
    r = GenerationRequest.for_task("ti2v-5B", prompt="x")
    a = r.resolved(random.Random(7))
    b = r.resolved(random.Random(7))
    assert a.seed == b.seed and 0 <= a.seed <= sys.maxsize and a.seed != -1
    assert a == r.with_seed(a.seed)
    assert a.resolved() is a  # a concrete seed stays
    assert r.resolved().seed >= 0
    assert r.seed == -1  # frozen: the original is untouched


def test_label_is_short_and_informative():
    r = GenerationRequest.for_task("ti2v-5B", prompt="Two cats " * 20, seed=42)
    assert r.label.startswith("ti2v-5B 1280*704 121f 50 steps, seed 42: Two cats")
    assert len(r.label) < 110 and r.label.endswith("…")


def test_json_round_trip(image):
    r = GenerationRequest.for_task(
        "i2v-A14B",
        prompt="猫",
        image=image,
        seed=123,
        guidance=(2.5, 3.5),
        gpus=2,
        fps=20,
        negative_prompt="blur",
        prompt_extend=dict(enabled=True, method="dashscope", target_lang="en"),
        memory=dict(offload_model="off", t5_cpu="on"),
        output_format="png",
        solver="dpm++",
    )
    s = r.to_json()
    d = json.loads(s)
    assert d["schema_version"] == SCHEMA_VERSION and d["guidance"] == {"low": 2.5, "high": 3.5}
    assert "猫" in s  # readable in the database, not \\u escapes
    assert GenerationRequest.from_json(s) == r
    assert GenerationRequest.from_dict(r.to_dict()) == r


def test_missing_fields_take_task_defaults():
    r = GenerationRequest.from_dict(
        {"schema_version": SCHEMA_VERSION, "task": "ti2v-5B", "prompt": "x"}
    )
    assert r == GenerationRequest.for_task("ti2v-5B", prompt="x")


VERSION_1 = {
    "schema_version": 1,
    "task": "t2v-A14B",
    "prompt": "Two anthropomorphic cats in comfy boxing gear",
    "image": None,
    "size": "832*480",
    "frame_num": 81,
    "sample_steps": 30,
    "sample_shift": 8.0,
    "sample_guide_scale": [3.0, 4.0],
    "sample_solver": "dpm++",
    "base_seed": 42,
    "use_prompt_extend": True,
    "prompt_extend_method": "dashscope",
    "prompt_extend_model": None,
    "prompt_extend_target_lang": "en",
    "offload_model": None,
    "convert_model_dtype": True,
    "t5_cpu": False,
}


def test_version_1_is_upgraded():
    r = GenerationRequest.from_dict(VERSION_1)
    assert r == GenerationRequest.for_task(
        "t2v-A14B",
        prompt="Two anthropomorphic cats in comfy boxing gear",
        size="832*480",
        sample_steps=30,
        sample_shift=8.0,
        guidance=(3.0, 4.0),
        solver="dpm++",
        seed=42,
        prompt_extend=PromptExtendOptions(enabled=True, method="dashscope", target_lang="en"),
        memory=MemoryOptions(offload_model="auto", convert_model_dtype="on", t5_cpu="off"),
    )
    assert r.validate() == []
    # a v1 single-number guidance applies to both experts, like the official CLI
    single = GenerationRequest.from_dict({**VERSION_1, "sample_guide_scale": 5.0})
    assert single.guidance == Guidance(5.0, 5.0)


@pytest.mark.parametrize(
    "data,match",
    [
        ({"schema_version": 2, "task": "ti2v-5B", "lora": "x"}, "unknown request field(s): lora"),
        ({**VERSION_1, "colour": "red"}, "unknown request field(s): colour"),
        (
            {"schema_version": SCHEMA_VERSION, "task": "ti2v-5B", "guidance": {"low": 1, "mid": 2}},
            "exactly low and high",
        ),
        ({"schema_version": SCHEMA_VERSION + 1, "task": "ti2v-5B"}, "newer Wan22 Desktop"),
        ({"task": "ti2v-5B"}, "no valid schema_version"),
        ({"schema_version": SCHEMA_VERSION, "prompt": "x"}, "no task"),
        ({"schema_version": SCHEMA_VERSION, "task": "s2v-14B"}, "unknown task"),
        ([1, 2], "JSON object"),
    ],
)
def test_from_dict_rejects_clearly(data, match):
    with pytest.raises(UserInputError) as e:
        GenerationRequest.from_dict(data)
    assert match in e.value.message


def test_from_json_rejects_garbage():
    with pytest.raises(UserInputError, match="not valid JSON"):
        GenerationRequest.from_json("{task: ")


# ---- schema v3: every generate flag has a field ------------------------------------------------

VERSION_2 = {
    "schema_version": 2,
    "task": "ti2v-5B",
    "prompt": "a paper boat",
    "negative_prompt": None,
    "image": None,
    "size": "1280*704",
    "frame_num": 121,
    "sample_steps": 50,
    "sample_shift": 5.0,
    "guidance": {"low": 5.0, "high": 5.0},
    "solver": "unipc",
    "seed": 9,
    "prompt_extend": {"enabled": False},
    "memory": {"offload_model": "on", "convert_model_dtype": "auto", "t5_cpu": "auto"},
    "gpus": None,
    "output_format": "mp4",
    "fps": None,
}


def test_version_2_rows_load_with_the_v3_defaults():
    from wan22_desktop.request import ParallelOptions

    r = GenerationRequest.from_dict(VERSION_2)
    assert (r.ckpt_dir, r.save_file, r.device, r.dtype) == (None, None, "auto", "auto")
    assert r.parallel == ParallelOptions(ulysses_size=1, dit_fsdp=False, t5_fsdp=False)
    assert r.memory.offload_model == "on" and r.seed == 9
    assert r.to_dict()["schema_version"] == SCHEMA_VERSION == 4
    assert r.validate() == []


def test_v3_fields_round_trip_through_json(tmp_path):
    from wan22_desktop.request import ParallelOptions

    r = GenerationRequest.for_task(
        "t2v-A14B",
        prompt="x",
        ckpt_dir=tmp_path / "ckpt",
        save_file=str(tmp_path / "v.npy"),
        output_format="npy",
        device="cuda:1",
        dtype="fp16",
        parallel={"ulysses_size": 2, "dit_fsdp": True, "t5_fsdp": True},
    )
    assert r.ckpt_dir == str(tmp_path / "ckpt")
    assert r.parallel == ParallelOptions(2, True, True)
    d = r.to_dict()
    assert d["parallel"] == {"ulysses_size": 2, "dit_fsdp": True, "t5_fsdp": True}
    assert GenerationRequest.from_json(r.to_json()) == r
    assert r.validate() == []


@pytest.mark.parametrize(
    "overrides, field, match",
    [
        (dict(device="tpu"), "device", "unknown device"),
        (dict(dtype="int8"), "dtype", "unknown dtype"),
        (dict(parallel={"ulysses_size": 0}), "parallel", "ulysses_size 0 out of range"),
        (dict(parallel={"t5_fsdp": True}, memory={"t5_cpu": "on"}), "parallel", "together"),
        (dict(save_file="/tmp/v.gif"), "save_file", "unknown file type"),
        (dict(save_file="/tmp/v.npy"), "save_file", "does not match the output format"),
        (dict(size="99968*99968"), "size", "out of range"),
        (dict(size="2048*2048"), "size", "too large"),
        (dict(frame_num=100001), "frame_num", "4n+1 between 5 and 241"),
        (dict(seed=2**63), "seed", "seed 9223372036854775808 out of range"),
        (dict(seed=-2), "seed", "out of range"),
        (dict(guidance=float("nan")), "guidance", "out of range"),
        (dict(guidance=float("inf")), "guidance", "out of range"),
        (dict(guidance=-1.0), "guidance", "out of range"),
        (dict(sample_shift=float("nan")), "sample_shift", "shift nan out of range"),
        (dict(sample_steps=0), "sample_steps", "steps 0 out of range"),
        (dict(prompt="a\udcffb"), "prompt", "not valid UTF-8"),
        (dict(prompt=""), "prompt", "the prompt is empty"),
    ],
)
def test_every_refusal_names_its_field_and_says_what_is_allowed(overrides, field, match):
    r = GenerationRequest.for_task("t2v-A14B", **{"prompt": "x", **overrides})
    with pytest.raises(UserInputError) as e:
        r.validate()
    assert match in e.value.message
    assert e.value.field == field and e.value.hint


def test_size_grid_applies_without_an_image_only(tmp_path):
    from PIL import Image

    img = tmp_path / "start.png"
    Image.new("RGB", (64, 48)).save(img)
    with pytest.raises(UserInputError, match="multiples of 32"):
        GenerationRequest.for_task("ti2v-5B", prompt="x", size="1000*1000").validate()
    # with an image the size is only an area (official MAX_AREA_CONFIGS): off-grid is fine
    warnings = GenerationRequest.for_task(
        "ti2v-5B", prompt="x", size="1000*1000", image=str(img)
    ).validate()
    assert "not an official" in warnings[0]
