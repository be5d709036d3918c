"""Settings view: every option has an editor, changes are validated and saved, the key is masked."""

from __future__ import annotations

import json

import keyring
import pytest
from keyring.backends import fail
from PySide6.QtCore import Qt

from tests.gui.conftest import drain
from tests.memory_keyring import MemoryKeyring
from wan22_desktop.gui.views.settings import SettingsView, check_dashscope_key
from wan22_desktop.settings import OPTIONS


@pytest.fixture
def memory_keyring(monkeypatch):
    monkeypatch.delenv("DASH_API_KEY", raising=False)
    previous = keyring.get_keyring()
    kr = MemoryKeyring()
    keyring.set_keyring(kr)
    yield kr
    keyring.set_keyring(previous)


@pytest.fixture
def view(qtbot, ctx, memory_keyring):
    v = SettingsView(ctx)
    qtbot.addWidget(v)
    v.show()
    drain(qtbot, ctx)
    return v


def saved(ctx):
    return json.loads(ctx.settings.path.read_text())["settings"]


def test_every_option_has_an_editor(view):
    assert set(view.editors) == set(OPTIONS)


def test_changes_are_saved(qtbot, ctx, view):
    combo = view.editors["default_quality"]
    combo.setCurrentIndex(combo.findData("draft"))
    view.editors["notifications"].setChecked(False)
    view.editors["max_attempts"].setValue(5)
    lang = view.editors["language"]
    lang.setCurrentIndex(lang.findData("zh_CN"))
    assert lang.currentText() == "简体中文"
    assert saved(ctx) | {} == {
        **saved(ctx),
        "default_quality": "draft",
        "notifications": False,
        "max_attempts": 5,
        "language": "zh_CN",
    }
    assert "starts again" in ctx.notifier.last.message


def test_bad_values_are_explained_not_saved(qtbot, ctx, view):
    line = view.editors["hf_endpoint"]
    line.setText("ftp://mirror")
    line.editingFinished.emit()
    assert view.errors["hf_endpoint"].isVisibleTo(view)
    assert "http" in view.errors["hf_endpoint"].text()
    assert ctx.settings.get("hf_endpoint") == ""
    folder = view.editors["outputs_dir"].findChild(type(line), "path_outputs_dir")
    folder.setText("relative/dir")
    folder.editingFinished.emit()
    assert view.errors["outputs_dir"].isVisibleTo(view)


def test_dashscope_key_set_masked_and_removed(qtbot, ctx, view, memory_keyring):
    assert view.key_status.text() == "No key stored"
    view.key_input.setText("sk-abcdefghijklmnop1234")
    qtbot.mouseClick(view.key_save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "keyring" in view.key_status.text(), timeout=3000)
    assert view.key_input.text() == ""
    assert "sk-****1234" in view.key_status.text() and "abcdefgh" not in view.key_status.text()
    assert memory_keyring.store[("wan22-desktop", "dashscope")] == "sk-abcdefghijklmnop1234"
    qtbot.mouseClick(view.key_remove, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.key_status.text() == "No key stored", timeout=3000)


def test_no_keyring_backend_shows_the_clear_message(qtbot, ctx, memory_keyring):
    keyring.set_keyring(fail.Keyring())
    v = SettingsView(ctx)
    qtbot.addWidget(v)
    drain(qtbot, ctx)
    assert "no usable OS keyring" in v.key_status.text()
    v.key_input.setText("sk-abcdefghijklmnop1234")
    qtbot.mouseClick(v.key_save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "no usable OS keyring" in v.key_result.text(), timeout=3000)
    assert "DASH_API_KEY" in v.key_result.text()  # the hint says what to do instead


def test_key_test_without_a_key_reports_why(monkeypatch):
    """The real subprocess round trip: no key anywhere -> a failure naming the missing key."""
    monkeypatch.delenv("DASH_API_KEY", raising=False)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    ok, message = check_dashscope_key(timeout_s=5)
    assert not ok
    assert "no DashScope API key" in message


def test_shared_database_from_settings_password_in_keyring_not_in_settings(
    qtbot, ctx, view, memory_keyring, pg_url
):
    """Settings → Queue database: the URL is checked by connecting, stored without a password
    (that goes to the keyring), and "this folder's own database" goes back to SQLite."""
    assert "own database" in view.db_current.text() and not view.db_local.isEnabled()
    view.db_url.setText("not a url")
    qtbot.mouseClick(view.db_use, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.db_use.isEnabled(), timeout=5000)
    assert view.db_result.text() and ctx.settings.database_url is None

    plain = pg_url.replace("postgresql+psycopg://", "postgresql://") + "?sslmode=disable"
    view.db_url.setText(plain)
    view.db_password.setText("s3cret-pw")
    qtbot.mouseClick(view.db_use, Qt.MouseButton.LeftButton)
    assert view.db_password.text() == ""  # the password never stays in the widget
    qtbot.waitUntil(lambda: "Restart" in view.db_result.text(), timeout=15000)
    assert ctx.settings.database_url and "s3cret" not in ctx.settings.path.read_text()
    assert "shared queue" in view.db_current.text()
    assert "s3cret-pw" in memory_keyring.store.values()

    qtbot.mouseClick(view.db_local, Qt.MouseButton.LeftButton)
    assert ctx.settings.database_url is None and "own database" in view.db_current.text()


def test_a_setting_saved_by_another_process_shows_and_takes_effect(qtbot, ctx, view):
    """``wan22 settings set`` while the window is open: the window sees the change within its
    poll, shows it in the editors and announces it (the runner and Generate view react to the
    announcement as to a change made here); its own later save keeps it."""
    from wan22_desktop.cli import main

    announced: list[str] = []
    ctx.events.sig_settings_changed.connect(announced.append)
    ctx.watch_settings_file(interval_ms=20)
    home = ["--home", str(ctx.base_paths.data.parent)]
    assert main([*home, "settings", "set", "keep_awake", "off"]) == 0
    assert main([*home, "settings", "set", "live_preview", "taehv"]) == 0
    assert main([*home, "settings", "set", "max_attempts", "7"]) == 0
    qtbot.waitUntil(lambda: {"keep_awake", "live_preview", "max_attempts"} <= set(announced))
    assert not view.editors["keep_awake"].isChecked()
    assert view.editors["live_preview"].currentData() == "taehv"
    assert view.editors["max_attempts"].value() == 7
    assert ctx.settings.get("keep_awake") is False
    # Shown, not applied again: nothing was written back by the window.
    assert saved(ctx) == {"keep_awake": False, "live_preview": "taehv", "max_attempts": 7}
    # A change made in the window afterwards keeps the other process's values.
    view.editors["notifications"].setChecked(False)
    assert saved(ctx) == {
        "keep_awake": False,
        "live_preview": "taehv",
        "max_attempts": 7,
        "notifications": False,
    }
    count = len(announced)
    qtbot.wait(100)  # the window's own save is not taken for another process's change
    assert len(announced) == count
