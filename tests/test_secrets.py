"""secrets.py against a real keyring backend object (in memory) and the 'no backend' case."""

from __future__ import annotations

import keyring
import pytest
from keyring.backends import fail, null

from tests.memory_keyring import MemoryKeyring
from wan22_desktop import secrets

KEY = "sk-test-0123456789abcdef0123"


@pytest.fixture
def memory_keyring(monkeypatch):
    monkeypatch.delenv("DASH_API_KEY", raising=False)
    previous = keyring.get_keyring()
    kr = MemoryKeyring()
    keyring.set_keyring(kr)
    yield kr
    keyring.set_keyring(previous)


@pytest.fixture
def no_keyring(monkeypatch):
    monkeypatch.delenv("DASH_API_KEY", raising=False)
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("", ""),
        ("short", "****"),
        ("sk-123456789012", "****"),
        ("sk-0123456789abcdef", "sk-****cdef"),
        (KEY, "sk-****0123"),
    ],
)
def test_mask_hides_the_middle_and_short_keys_entirely(key, expected):
    assert secrets.mask(key) == expected


def test_set_get_delete_round_trip(memory_keyring):
    assert secrets.get_dashscope_key() is None
    secrets.set_dashscope_key(f"  {KEY}\n")
    assert memory_keyring.store[(secrets.SERVICE_NAME, "dashscope")] == KEY
    assert secrets.get_dashscope_key() == KEY
    st = secrets.key_status()
    assert (st.source, st.masked, st.keyring_error) == ("keyring", "sk-****0123", None)
    assert "MemoryKeyring" in st.backend
    assert secrets.delete_dashscope_key() is True
    assert secrets.delete_dashscope_key() is False
    assert secrets.get_dashscope_key() is None
    assert secrets.key_status().source is None


def test_env_variable_takes_precedence(memory_keyring, monkeypatch):
    secrets.set_dashscope_key(KEY)
    monkeypatch.setenv("DASH_API_KEY", "sk-from-env-abcdefghijkl")
    assert secrets.get_dashscope_key() == "sk-from-env-abcdefghijkl"
    st = secrets.key_status()
    assert (st.source, st.masked) == ("env", "sk-****ijkl")


@pytest.mark.parametrize("bad", ["", "   ", "sk-with space-123456", "sk-\x00ctrl-1234567890"])
def test_rejects_empty_or_malformed_keys(memory_keyring, bad):
    with pytest.raises(secrets.UserInputError):
        secrets.set_dashscope_key(bad)
    assert memory_keyring.store == {}


def test_worker_env_adds_key_from_keyring_without_touching_base(memory_keyring):
    base = {"PATH": "/usr/bin"}
    assert secrets.worker_env(base) == {"PATH": "/usr/bin"}
    secrets.set_dashscope_key(KEY)
    env = secrets.worker_env(base)
    assert env == {"PATH": "/usr/bin", "DASH_API_KEY": KEY}
    assert "DASH_API_KEY" not in base
    # an explicit key in the environment wins over the keyring
    assert secrets.worker_env({"DASH_API_KEY": "sk-explicit-key-12345"})["DASH_API_KEY"] == (
        "sk-explicit-key-12345"
    )


@pytest.mark.parametrize("backend", [fail.Keyring, null.Keyring])
def test_no_usable_backend_is_a_clear_error_never_a_plaintext_fallback(
    backend, monkeypatch, wan22_home
):
    monkeypatch.delenv("DASH_API_KEY", raising=False)
    previous = keyring.get_keyring()
    keyring.set_keyring(backend())
    try:
        with pytest.raises(secrets.KeyringUnavailable) as info:
            secrets.set_dashscope_key(KEY)
        assert "keyring" in info.value.message
        assert "DASH_API_KEY" in (info.value.hint or "")
        assert info.value.exit_code == 1
        assert secrets.get_dashscope_key() is None
        st = secrets.key_status()
        assert st.source is None and st.keyring_error
        assert secrets.worker_env({}) == {}
    finally:
        keyring.set_keyring(previous)
    # nothing was written anywhere under the data dir
    assert not any(
        KEY in p.read_text(errors="ignore") for p in wan22_home.rglob("*") if p.is_file()
    )


def test_no_backend_still_allows_the_environment_variable(no_keyring, monkeypatch):
    monkeypatch.setenv("DASH_API_KEY", KEY)
    assert secrets.get_dashscope_key() == KEY
    st = secrets.key_status()
    assert st.source == "env" and st.keyring_error


class BrokenKeyring(MemoryKeyring):
    """A backend whose transport fails with an error keyring does not wrap (e.g. D-Bus)."""

    def get_password(self, service: str, username: str) -> str | None:
        raise ConnectionError("dbus went away")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise ConnectionError("dbus went away")


def test_unexpected_backend_errors_become_keyring_unavailable(monkeypatch):
    monkeypatch.delenv("DASH_API_KEY", raising=False)
    previous = keyring.get_keyring()
    keyring.set_keyring(BrokenKeyring())
    try:
        with pytest.raises(secrets.KeyringUnavailable, match="ConnectionError"):
            secrets.set_dashscope_key(KEY)
        assert secrets.get_dashscope_key() is None
        assert "ConnectionError" in secrets.key_status().keyring_error
        assert secrets.worker_env({"A": "1"}) == {"A": "1"}
    finally:
        keyring.set_keyring(previous)
