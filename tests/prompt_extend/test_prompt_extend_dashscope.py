"""DashScope prompt extension: the real dashscope SDK against a fake server on 127.0.0.1."""

from __future__ import annotations

import base64
import io
import logging

import pytest
from PIL import Image

from tests.prompt_extend.fake_dashscope import TEXT_PATH, VISION_PATH
from wan22_desktop.engine import prompt_extend
from wan22_desktop.engine.prompt_extend import extend_prompt
from wan22_desktop.engine.prompt_system import system_prompt
from wan22_desktop.errors import OperationError


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "photo.png"
    Image.new("RGB", (1024, 768), (200, 120, 40)).save(path)
    return path


def test_text_extension_success(dashscope, caplog):
    with caplog.at_level(logging.DEBUG):
        r = extend_prompt("a cat surfing", method="dashscope", target_lang="en", seed=42)
    assert dashscope.valid_key not in caplog.text  # not even the SDK's debug logging
    assert r.ok and r.warning is None
    assert r.original == "a cat surfing" and r.method == "dashscope" and r.model == "qwen-plus"
    assert r.prompt == (
        "Extended by qwen-plus (seed 42, images 0): a cat surfing, soft light, slow push-in."
    )  # the server's newline became a space
    assert r.seed == 42 and r.seconds >= 0
    [req] = dashscope.requests
    assert req.path == TEXT_PATH
    assert req.headers["Authorization"] == f"Bearer {dashscope.valid_key}"
    assert req.body["model"] == "qwen-plus"
    assert req.body["parameters"]["seed"] == 42
    assert req.body["parameters"]["result_format"] == "message"
    assert req.body["input"]["messages"] == [
        {"role": "system", "content": system_prompt("t2v", "en")},
        {"role": "user", "content": "a cat surfing"},
    ]


def test_model_override_and_zh_system_prompt(dashscope):
    r = extend_prompt("一只猫", method="dashscope", target_lang="zh", model="qwen-max", seed=1)
    assert r.ok and r.model == "qwen-max"
    body = dashscope.requests[0].body
    assert body["model"] == "qwen-max"
    assert body["input"]["messages"][0]["content"] == system_prompt("t2v", "zh")


def test_vision_extension_sends_the_shrunk_image_inline(dashscope, photo):
    r = extend_prompt("she waves", method="dashscope", target_lang="en", image=photo, seed=7)
    assert r.ok and r.model == "qwen-vl-max"
    assert "images 1" in r.prompt and "she waves" in r.prompt
    [req] = dashscope.requests
    assert req.path == VISION_PATH
    system, user = req.body["input"]["messages"]
    assert system == {"role": "system", "content": [{"text": system_prompt("i2v", "en")}]}
    assert user["content"][0] == {"text": "she waves"}
    uri = user["content"][1]["image"]
    assert uri.startswith("data:image/png;base64,")
    im = Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))
    assert im.size == (591, 443)  # 1024x768 scaled to <= 512*512 pixels, same aspect ratio
    assert im.width * im.height <= 512 * 512


def test_image_with_empty_prompt_lets_the_vision_model_write_it(dashscope, photo):
    r = extend_prompt("", method="dashscope", target_lang="zh", image=photo)
    assert r.ok and r.prompt and r.original == ""
    system = dashscope.requests[0].body["input"]["messages"][0]["content"][0]["text"]
    assert system == system_prompt("i2v_empty", "zh")


def test_bad_key_fails_at_once_with_a_warning_and_the_original_prompt(dashscope, caplog):
    bad = "sk-wrong-key-abcdefghijklmnop"
    with caplog.at_level(logging.DEBUG):
        r = extend_prompt("a dog", method="dashscope", target_lang="en", api_key=bad)
    assert not r.ok and r.prompt == "a dog"
    assert "rejected the API key" in r.warning and "401" in r.warning
    assert len(dashscope.requests) == 1  # auth errors are not retried
    assert bad not in caplog.text and bad not in r.warning


def test_rate_limit_is_retried_then_succeeds(dashscope):
    dashscope.behaviours[:] = ["429", "429", "ok"]
    r = extend_prompt("a dog", method="dashscope", target_lang="en")
    assert r.ok and len(dashscope.requests) == 3


def test_quota_exhausted_after_all_retries(dashscope):
    dashscope.behaviours[:] = ["429"]
    r = extend_prompt("a dog", method="dashscope", target_lang="en")
    assert not r.ok and "quota or rate limit" in r.warning
    assert len(dashscope.requests) == prompt_extend.RETRY_TIMES


def test_server_error_and_malformed_replies_are_retried(dashscope):
    dashscope.behaviours[:] = ["500", "not_json", "no_choices", "ok"]
    r = extend_prompt("a dog", method="dashscope", target_lang="en")
    assert r.ok and len(dashscope.requests) == 4


@pytest.mark.parametrize(
    ("behaviour", "reason"),
    [
        ("not_json", "malformed reply"),
        ("no_choices", "malformed reply"),
        ("empty", "empty prompt"),
        ("500", "HTTP 500"),
    ],
)
def test_persistent_bad_replies_fall_back(dashscope, behaviour, reason):
    dashscope.behaviours[:] = [behaviour]
    r = extend_prompt("a dog", method="dashscope", target_lang="en")
    assert not r.ok and r.prompt == "a dog" and reason in r.warning


def test_timeout(dashscope, photo):
    dashscope.behaviours[:] = ["slow"]
    dashscope.slow_seconds = 1.0
    r = extend_prompt("x", method="dashscope", target_lang="en", image=photo, timeout=0.2)
    assert not r.ok and "did not answer within 0.2 s" in r.warning
    assert len(dashscope.requests) == prompt_extend.RETRY_TIMES


def test_unreachable_server(monkeypatch, no_keyring):
    import socket

    with socket.socket() as s:  # a port that nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("DASH_API_URL", f"http://127.0.0.1:{port}/api/v1")
    monkeypatch.setattr(prompt_extend, "RETRY_BACKOFF_S", 0.0)
    r = extend_prompt("a dog", method="dashscope", target_lang="en", api_key="sk-any-0123456789ab")
    assert not r.ok and f"cannot reach DashScope at 127.0.0.1:{port}" in r.warning


def test_no_key_anywhere(monkeypatch, no_keyring):
    monkeypatch.delenv("DASH_API_KEY", raising=False)
    r = extend_prompt("a dog", method="dashscope", target_lang="en")
    assert not r.ok and "no DashScope API key" in r.warning


def test_required_turns_failure_into_an_error_with_the_reason(dashscope):
    dashscope.behaviours[:] = ["401"]
    with pytest.raises(OperationError) as info:
        extend_prompt("a dog", method="dashscope", target_lang="en", required=True)
    assert "prompt extension failed: DashScope rejected the API key" in info.value.message
    assert "wan22 keys set dashscope" in info.value.hint


def test_missing_image_is_a_failure_not_a_crash(dashscope, tmp_path):
    r = extend_prompt("a dog", method="dashscope", target_lang="en", image=tmp_path / "nope.png")
    assert not r.ok and "image not found" in r.warning and dashscope.requests == []


def test_text_that_names_a_file_is_not_uploaded(dashscope, photo, tmp_path, monkeypatch):
    """The SDK uploads user text elements that are paths to existing files; we quote them."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("private")
    r = extend_prompt("notes.txt", method="dashscope", target_lang="en", image=photo)
    assert r.ok
    assert [q.path for q in dashscope.requests] == [VISION_PATH]
    assert dashscope.requests[0].body["input"]["messages"][1]["content"][0] == {
        "text": "“notes.txt”"
    }
