"""Pure pieces of prompt extension: system prompt choice, output cleaning, image sizing, and the
promise that importing the module stays cheap (no torch, transformers or dashscope)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from wan22_desktop.engine.prompt_extend import QWEN_ALIASES, clean_output, extend_prompt, fit_area
from wan22_desktop.engine.prompt_system import SYSTEM_PROMPTS, prompt_kind, system_prompt
from wan22_desktop.errors import UserInputError

ROOT = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize(
    ("prompt", "has_image", "kind"),
    [
        ("a cat", False, "t2v"),
        ("a cat", True, "i2v"),
        ("", True, "i2v_empty"),
        ("   ", True, "i2v_empty"),
        ("", False, "t2v"),
    ],
)
def test_prompt_kind(prompt, has_image, kind):
    assert prompt_kind(prompt, has_image) == kind


@pytest.mark.parametrize("kind", ["t2v", "i2v", "i2v_empty"])
def test_system_prompts_are_in_their_language_and_state_a_length_limit(kind):
    en, zh = system_prompt(kind, "en"), system_prompt(kind, "zh")
    assert not CJK.search(en) and "English" in en
    assert len(CJK.findall(zh)) > 100 and "中文" in zh
    limit = "200" if kind == "t2v" else "100"
    assert limit in en and limit in zh


def test_system_prompts_keep_the_official_intent():
    t2v = system_prompt("t2v", "en")
    for topic in ("subject", "light", "colour", "shot", "composition", "camera", "motion"):
        assert topic in t2v.lower()
    assert "Never add" in t2v
    assert "do not describe what the image already shows" in system_prompt("i2v", "en").lower()
    assert "imagine" in system_prompt("i2v_empty", "en").lower()
    assert {k: set(v) for k, v in SYSTEM_PROMPTS.items()} == {
        k: {"zh", "en"} for k in ("t2v", "i2v", "i2v_empty")
    }


@pytest.mark.parametrize(("kind", "lang"), [("t3v", "en"), ("t2v", "fr")])
def test_system_prompt_rejects_unknown_values(kind, lang):
    with pytest.raises(ValueError):
        system_prompt(kind, lang)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  a cat\nsurfing \n\n at dusk ", "a cat surfing at dusk"),
        ('"a quoted prompt"', "a quoted prompt"),
        ("“一只猫”", "一只猫"),
        ("'single'", "single"),
        ('say "hi" now', 'say "hi" now'),
        ("", ""),
    ],
)
def test_clean_output(raw, clean):
    assert clean_output(raw) == clean


@pytest.mark.parametrize(
    ("size", "fitted"),
    [
        ((512, 512), (512, 512)),
        ((100, 50), (100, 50)),
        ((1024, 1024), (512, 512)),
        ((1280, 720), (683, 384)),
        ((720, 1280), (384, 683)),
        ((4000, 10), (4000, 10)),
    ],
)
def test_fit_area_keeps_aspect_and_never_enlarges(size, fitted):
    w, h = fit_area(*size)
    assert (w, h) == fitted
    assert w * h <= max(512 * 512, size[0] * size[1]) + max(w, h)


def test_aliases_match_the_official_names():
    assert QWEN_ALIASES["Qwen2.5_14B"] == "Qwen/Qwen2.5-14B-Instruct"
    assert QWEN_ALIASES["QwenVL2.5_7B"] == "Qwen/Qwen2.5-VL-7B-Instruct"
    assert len(QWEN_ALIASES) == 5


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(method="openai", target_lang="en"),
        dict(method="dashscope", target_lang="de"),
    ],
)
def test_bad_arguments_are_user_errors(kwargs):
    with pytest.raises(UserInputError):
        extend_prompt("x", **kwargs)


def test_importing_the_module_is_cheap():
    code = (
        "import sys, wan22_desktop.engine.prompt_extend, wan22_desktop.commands.prompt, "
        "wan22_desktop.secrets; "
        "print(sorted(m for m in ('torch', 'transformers', 'dashscope', 'keyring', 'PIL') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=True,
    ).stdout
    assert out.strip() == "[]"


def test_official_flags_parse_into_options_fields():
    import argparse

    from wan22_desktop.commands.prompt import add_prompt_extend_flags, prompt_extend_fields

    parser = argparse.ArgumentParser()
    add_prompt_extend_flags(parser)
    assert prompt_extend_fields(parser.parse_args([])) == {
        "enabled": False,
        "method": "local_qwen",
        "model": None,
        "target_lang": "zh",
        "required": False,
    }
    args = parser.parse_args(
        [
            "--use_prompt_extend",
            "--prompt_extend_method",
            "dashscope",
            "--prompt_extend_model",
            "qwen-max",
            "--prompt_extend_target_lang",
            "en",
            "--prompt_extend_required",
        ]
    )
    assert prompt_extend_fields(args) == {
        "enabled": True,
        "method": "dashscope",
        "model": "qwen-max",
        "target_lang": "en",
        "required": True,
    }


def test_extend_with_options_skips_when_disabled_and_passes_options_through(monkeypatch):
    from dataclasses import dataclass

    from wan22_desktop.engine.prompt_extend import extend_with_options

    @dataclass(frozen=True)
    class Options:
        enabled: bool
        method: str = "dashscope"
        model: str | None = None
        target_lang: str = "en"
        required: bool = False

    assert extend_with_options(Options(False), "a cat") is None
    monkeypatch.delenv("DASH_API_KEY", raising=False)
    import keyring
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        r = extend_with_options(Options(True), "a cat", seed=3)
        assert r is not None and not r.ok and r.method == "dashscope" and r.seed == 3
        with pytest.raises(Exception, match="no DashScope API key"):
            extend_with_options(Options(True, required=True), "a cat")
    finally:
        keyring.set_keyring(previous)
