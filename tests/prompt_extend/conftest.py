"""Fixtures for prompt extension: the fake DashScope server and a keyring-free environment."""

from __future__ import annotations

import keyring
import pytest
from keyring.backends import fail

from tests.prompt_extend.fake_dashscope import FakeDashScope, FakeDashScopeServer
from tests.prompt_extend.tiny_qwen import make_tiny_qwen2
from wan22_desktop.engine import prompt_extend


@pytest.fixture
def no_keyring():
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


@pytest.fixture
def dashscope(monkeypatch, no_keyring):
    """A running fake DashScope; DASH_API_URL and DASH_API_KEY point at it; no retry waits."""
    fake = FakeDashScope()
    with FakeDashScopeServer(fake) as server:
        monkeypatch.setenv("DASH_API_URL", server.base_url)
        monkeypatch.setenv("DASH_API_KEY", fake.valid_key)
        monkeypatch.setattr(prompt_extend, "RETRY_BACKOFF_S", 0.0)
        yield fake


@pytest.fixture(scope="session")
def tiny_qwen2(tmp_path_factory):
    """A tiny random Qwen2 instruct model folder, built once per test session."""
    return make_tiny_qwen2(tmp_path_factory.mktemp("qwen2") / "Qwen2.5-tiny")


@pytest.fixture(scope="session")
def tiny_qwen_vl(tmp_path_factory):
    """A tiny random Qwen2.5-VL model folder, built once per test session."""
    from tests.prompt_extend.tiny_qwen import make_tiny_qwen25_vl

    return make_tiny_qwen25_vl(tmp_path_factory.mktemp("qwen-vl") / "QwenVL2.5-tiny")
