"""Local Qwen prompt extension with tiny random-weight models built in the test."""

from __future__ import annotations

import gc
import os

import pytest

from wan22_desktop.engine import prompt_extend
from wan22_desktop.engine.prompt_extend import clean_output, extend_prompt
from wan22_desktop.engine.prompt_system import system_prompt
from wan22_desktop.errors import OperationError

TOKENS = 12  # new tokens per call: enough to show sampling, cheap on a loaded CI box


def _live_models() -> int:
    from transformers import Qwen2ForCausalLM

    gc.collect()
    return sum(type(o) is Qwen2ForCausalLM for o in gc.get_objects())


def test_seeded_local_extension_matches_transformers_and_is_repeatable(tiny_qwen2):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    r1 = extend_prompt(
        "a cat surfing",
        method="local_qwen",
        target_lang="en",
        model=str(tiny_qwen2),
        seed=1234,
        max_new_tokens=TOKENS,
    )
    assert r1.ok, r1.warning
    assert (r1.method, r1.model, r1.seed, r1.original) == (
        "local_qwen",
        str(tiny_qwen2),
        1234,
        "a cat surfing",
    )
    r2 = extend_prompt(
        "a cat surfing",
        method="local_qwen",
        target_lang="en",
        model=str(tiny_qwen2),
        seed=1234,
        max_new_tokens=TOKENS,
    )
    assert r2.prompt == r1.prompt
    r3 = extend_prompt(
        "a cat surfing",
        method="local_qwen",
        target_lang="en",
        model=str(tiny_qwen2),
        seed=99,
        max_new_tokens=TOKENS,
    )
    assert r3.ok and r3.prompt != r1.prompt  # the model samples; the seed decides

    # the same generation done directly with transformers (system prompt + chat template + seed)
    tok = AutoTokenizer.from_pretrained(tiny_qwen2)
    model = AutoModelForCausalLM.from_pretrained(tiny_qwen2)
    messages = [
        {"role": "system", "content": system_prompt("t2v", "en")},
        {"role": "user", "content": "a cat surfing"},
    ]
    ids = tok.apply_chat_template(
        messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
    )
    torch.manual_seed(1234)
    out = model.generate(**ids, max_new_tokens=TOKENS)
    expected = clean_output(
        tok.decode(out[0, ids["input_ids"].shape[1] :], skip_special_tokens=True)
    )
    assert r1.prompt == expected
    del model


def test_global_rng_is_left_alone_and_model_is_released(tiny_qwen2):
    import torch

    before = _live_models()
    torch.manual_seed(5)
    expected_next = torch.rand(3)
    torch.manual_seed(5)
    r = extend_prompt(
        "a dog",
        method="local_qwen",
        target_lang="zh",
        model=str(tiny_qwen2),
        seed=3,
        max_new_tokens=TOKENS,
    )
    assert r.ok
    assert torch.equal(torch.rand(3), expected_next)
    assert _live_models() == before  # nothing of the extension model is kept alive


def test_alias_not_downloaded_fails_with_download_hint(monkeypatch):
    r = extend_prompt("a dog", method="local_qwen", target_lang="en", model="Qwen2.5_3B")
    assert not r.ok and r.prompt == "a dog"
    assert "Qwen/Qwen2.5-3B-Instruct is not downloaded" in r.warning
    with pytest.raises(OperationError) as info:
        extend_prompt("a dog", method="local_qwen", target_lang="en", required=True)
    assert "Qwen/Qwen2.5-14B-Instruct is not downloaded" in info.value.message  # default text model
    assert "wan22 models download Qwen/Qwen2.5-14B-Instruct" in info.value.hint


def test_model_found_in_the_models_folder(tiny_qwen2, wan22_home):
    """A model our downloader put into the data dir's models folder is found by its alias."""
    import shutil

    target = wan22_home / "models" / "Qwen2.5-3B-Instruct"
    shutil.copytree(tiny_qwen2, target)
    assert prompt_extend.resolve_local_model("Qwen2.5_3B") == target


def test_missing_folder_path(tmp_path):
    r = extend_prompt(
        "a dog", method="local_qwen", target_lang="en", model=str(tmp_path / "no" / "x")
    )
    assert not r.ok and "model folder not found" in r.warning


def test_too_big_for_memory_fails_before_loading(tiny_qwen2, tmp_path):
    import shutil

    import psutil

    big = tmp_path / "huge"
    shutil.copytree(tiny_qwen2, big)
    with open(big / "model-00002-of-00002.safetensors", "wb") as f:  # sparse: no disk used
        f.truncate(2 * psutil.virtual_memory().available)
    r = extend_prompt("a dog", method="local_qwen", target_lang="en", model=str(big))
    assert not r.ok and "needs about" in r.warning and "GiB of RAM" in r.warning


@pytest.mark.parametrize(
    ("need", "free", "short"),
    [
        (10, 100, 0),
        (100, 120, 0),
        (100, 119, 1),
        (100, 0, 120),
        (0, 0, 0),
    ],
)
def test_memory_shortfall_keeps_a_margin(need, free, short):
    assert prompt_extend.memory_shortfall(need, free) == short


def test_cuda_request_falls_back_to_cpu_without_a_gpu(tiny_qwen2):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    r = extend_prompt(
        "a dog",
        method="local_qwen",
        target_lang="en",
        model=str(tiny_qwen2),
        seed=1,
        device="cuda",
        max_new_tokens=TOKENS,
    )
    cpu = extend_prompt(
        "a dog",
        method="local_qwen",
        target_lang="en",
        model=str(tiny_qwen2),
        seed=1,
        max_new_tokens=TOKENS,
    )
    assert r.ok and r.prompt == cpu.prompt


def test_hub_is_never_contacted(tiny_qwen2, monkeypatch):
    assert os.environ.get("HF_HUB_OFFLINE") == "1"
    r = extend_prompt("a dog", method="local_qwen", target_lang="en", model="someone/not-here")
    assert not r.ok and "someone/not-here is not downloaded" in r.warning


@pytest.fixture
def frame(tmp_path):
    from PIL import Image

    path = tmp_path / "frame.png"
    Image.new("RGB", (120, 90), (30, 140, 220)).save(path)
    return path


def test_vision_model_writes_a_prompt_from_the_image_reproducibly(tiny_qwen_vl, frame):
    from transformers import Qwen2_5_VLForConditionalGeneration

    a = extend_prompt(
        "",
        method="local_qwen",
        target_lang="en",
        model=str(tiny_qwen_vl),
        image=frame,
        seed=21,
        max_new_tokens=TOKENS,
    )
    b = extend_prompt(
        "",
        method="local_qwen",
        target_lang="en",
        model=str(tiny_qwen_vl),
        image=frame,
        seed=21,
        max_new_tokens=TOKENS,
    )
    assert a.ok, a.warning
    assert a.prompt and a.prompt == b.prompt and a.original == ""
    gc.collect()
    assert not any(type(o) is Qwen2_5_VLForConditionalGeneration for o in gc.get_objects())


def test_vision_inputs_expand_the_image_slot_to_one_token_per_merged_patch(tiny_qwen_vl, frame):
    from PIL import Image

    inputs = prompt_extend._vision_inputs(
        tiny_qwen_vl, "she waves", system_prompt("i2v", "en"), Image.open(frame).convert("RGB")
    )
    t, h, w = inputs["image_grid_thw"][0].tolist()
    # min_pixels (256*28*28) upscales the 120x90 frame: at least 256 merged 28x28 patches
    assert t == 1 and h * w // 4 >= 256
    n_image_tokens = int(
        (inputs["input_ids"] == inputs["tokenizer"].convert_tokens_to_ids("<|image_pad|>")).sum()
    )
    assert n_image_tokens == h * w // 4
    assert inputs["pixel_values"].shape[0] == t * h * w


def test_text_model_given_an_image_fails_clearly(tiny_qwen2, frame):
    r = extend_prompt(
        "x", method="local_qwen", target_lang="en", model=str(tiny_qwen2), image=frame
    )
    assert not r.ok and "text-only model; image prompts need a Qwen-VL model" in r.warning
