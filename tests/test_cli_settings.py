"""``wan22 settings``: what a user on a headless box types, against the test's temporary home."""

from __future__ import annotations

import io
import json
import os
import socket
from pathlib import Path

import pytest

from wan22_desktop.cli import main
from wan22_desktop.commands.settings import GUI_LOCK_NAME
from wan22_desktop.paths import app_paths
from wan22_desktop.settings import OPTIONS, Settings

SECRET = "sk-0123456789abcdef0123456789abcdef"


@pytest.fixture()
def settings_file() -> Path:
    return app_paths().settings_file


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def typed_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{value:g}" if isinstance(value, float) else str(value)


def assert_bad_input(code: int, out: str, err: str) -> list[str]:
    """Exit 2 with exactly one ``error:`` and one ``hint:`` line, and no traceback."""
    lines = err.strip().splitlines()
    assert code == 2, err
    assert [ln.split(":")[0] for ln in lines] == ["error", "hint"], err
    assert "Traceback" not in out + err
    return lines


def test_list_shows_every_option_with_defaults_and_writes_nothing(capsys, settings_file):
    code, out, _ = run(capsys, "settings", "list")
    assert code == 0
    for key, option in OPTIONS.items():
        assert f"{key} = " in out
        assert option.title in out
    assert "no file yet" in out
    assert "one of: rgb, taehv" in out  # choices
    assert "a whole number from 1 to 20" in out  # limits
    assert out.count("[default]") == len(OPTIONS)
    assert not settings_file.exists()  # listing never writes

    code, out, _ = run(capsys, "settings", "list", "--json")
    data = json.loads(out)
    assert code == 0 and data["exists"] is False and data["read_only"] is None
    rows = {r["key"]: r for r in data["settings"]}
    assert list(rows) == list(OPTIONS)
    assert rows["max_attempts"] == {
        "key": "max_attempts",
        "value": 3,
        "default": 3,
        "is_default": True,
        "stored": False,
        "type": "int",
        "choices": None,
        "minimum": 1,
        "maximum": 20,
        "is_path": False,
        "title": OPTIONS["max_attempts"].title,
    }
    assert rows["live_preview"]["choices"] == ["rgb", "taehv"]


@pytest.mark.parametrize(
    "key,text,expected",
    [
        ("keep_awake", "off", False),
        ("keep_awake", "No", False),
        ("notifications", "0", False),
        ("prompt_extend_enabled", "yes", True),
        ("prompt_extend_enabled", "ON", True),
        ("auto_fallback_source", "false", False),
        ("max_attempts", "7", 7),
        ("hang_timeout_factor", "4.5", 4.5),
        ("hang_timeout_factor", "5", 5.0),  # an int is a fine float
        ("live_preview", "TAEHV", "taehv"),  # choices match without regard to case
        ("language", "zh_cn", "zh_CN"),
        ("gpu_mode", "throughput", "throughput"),
        ("default_task", "t2v-A14B", "t2v-A14B"),
        ("hf_endpoint", " https://hf-mirror.com ", "https://hf-mirror.com"),
        ("prompt_extend_model", "Qwen/Qwen2.5-3B-Instruct", "Qwen/Qwen2.5-3B-Instruct"),
        ("path_mappings", "/mnt/renders => /Volumes/r; /srv/a => /b", None),
    ],
)
def test_set_get_reset_round_trip_for_every_type(capsys, settings_file, key, text, expected):
    expected = text if expected is None else expected
    code, out, err = run(capsys, "settings", "set", key.replace("_", "-"), text)  # dashes work
    assert code == 0, err
    assert f"{key} = " in out and "(was " in out and "restart it" in out
    assert Settings.load(app_paths()).get(key) == expected
    stored = json.loads(settings_file.read_text(encoding="utf-8"))["settings"]
    assert stored == {key: expected}

    code, out, _ = run(capsys, "--json", "settings", "get", key)
    assert code == 0 and json.loads(out)["value"] == expected
    code, out, _ = run(capsys, "settings", "get", key)
    assert out == f"{typed_text(expected)}\n"  # what a script reads back

    code, out, _ = run(capsys, "settings", "list")
    marker = "[default]" if expected == OPTIONS[key].default else "[default: "
    assert f"{key} = {typed_text(expected)}  {marker}" in out.replace('"', "")

    code, out, _ = run(capsys, "settings", "reset", key)
    assert code == 0 and "(was " in out
    assert json.loads(settings_file.read_text(encoding="utf-8"))["settings"] == {}
    code, out, _ = run(capsys, "settings", "reset", key)
    assert code == 0 and "already at the default" in out


def test_folders_are_expanded_and_must_be_absolute(capsys, tmp_path):
    code, _, err = run(capsys, "settings", "set", "outputs_dir", "~/videos")
    assert code == 0, err
    value = Settings.load(app_paths()).get("outputs_dir")
    assert value == str(Path.home() / "videos") and Path(value).is_absolute()

    code, out, err = run(capsys, "settings", "set", "models_dir", "relative/models")
    lines = assert_bad_input(code, out, err)
    assert lines[0] == "error: relative/models is not an absolute folder path"

    code, _, _ = run(capsys, "settings", "set", "outputs_dir", "")
    assert code == 0 and Settings.load(app_paths()).is_default("outputs_dir") is False
    assert Settings.load(app_paths()).get("outputs_dir") == ""

    # A folder that cannot be used is a warning (it may be a mount that is not there yet).
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    code, _, err = run(capsys, "settings", "set", "outputs_dir", str(blocker / "out"))
    assert code == 0 and err.startswith("warning: ") and "is a file, not a folder" in err
    code, _, err = run(capsys, "settings", "set", "comfyui_dir", str(tmp_path / "nope"))
    assert code == 0 and "is not a folder here" in err
    # Only credential-shaped text is refused: a folder may be called like a key.
    code, _, err = run(capsys, "settings", "set", "models_dir", str(tmp_path / "sk-renders-2026"))
    assert code == 0, err


def test_a_value_may_come_from_stdin(capsys, monkeypatch):
    text = "# from the share\n/mnt/renders => /Volumes/renders\n\n/srv/x => /y\n"
    monkeypatch.setattr("sys.stdin", io.StringIO(text))
    code, _, err = run(capsys, "settings", "set", "path_mappings", "-")
    assert code == 0, err
    assert Settings.load(app_paths()).get("path_mappings") == text.strip()


@pytest.mark.parametrize(
    "key,text,message",
    [
        ("keep_awake", "maybe", "must be true or false, got 'maybe'"),
        ("max_attempts", "three", "must be a whole number"),
        ("max_attempts", "2.5", "must be a whole number"),
        ("max_attempts", "0", "out of range 1..20"),
        ("max_attempts", "21", "out of range 1..20"),
        ("hang_timeout_factor", "nan", "must be a number"),
        ("hang_timeout_factor", "inf", "must be a number"),
        ("hang_timeout_factor", "0.5", "out of range"),
        ("live_preview", "full", "cannot be 'full'"),
        ("language", "fr", "cannot be 'fr'"),
        ("hf_endpoint", "hf-mirror.com", "must be an http(s) URL"),
        ("path_mappings", "/mnt/a to /b", "is not of the form FROM => TO"),
    ],
)
def test_bad_values_are_refused_and_nothing_is_written(capsys, settings_file, key, text, message):
    code, out, err = run(capsys, "settings", "set", key, text)
    lines = assert_bad_input(code, out, err)
    assert message in lines[0]
    assert not settings_file.exists()


@pytest.mark.parametrize(
    "typed,suggested",
    [("live_previw", "live_preview"), ("keepawake", "keep_awake"), ("gpu", "gpu_mode")],
)
def test_unknown_key_names_close_matches(capsys, typed, suggested):
    for argv in (["get", typed], ["set", typed, "1"], ["reset", typed]):
        code, out, err = run(capsys, "settings", *argv)
        lines = assert_bad_input(code, out, err)
        assert lines[0] == f"error: unknown setting {typed!r}"
        assert f"did you mean {suggested}" in lines[1] and "wan22 settings list" in lines[1]


def test_unknown_key_without_a_close_match(capsys):
    code, out, err = run(capsys, "settings", "get", "zzzz")
    lines = assert_bad_input(code, out, err)
    assert "did you mean" not in lines[1] and "wan22 settings list" in lines[1]


@pytest.mark.parametrize(
    "key", ["dashscope_key", "DASH_API_KEY", "api-key", "hf_token", "password"]
)
def test_credentials_are_not_settings(capsys, settings_file, key):
    code, out, err = run(capsys, "settings", "set", key, SECRET)
    lines = assert_bad_input(code, out, err)
    assert "wan22 keys set dashscope" in lines[1]
    assert SECRET not in out + err
    assert not settings_file.exists()
    code, out, err = run(capsys, "settings", "get", key)
    assert code == 2 and "`wan22 keys status`" in err


@pytest.mark.parametrize(
    "key,text",
    [
        ("prompt_extend_model", SECRET),
        ("prompt_extend_model", f"Bearer {SECRET[3:]}"),
        ("hf_endpoint", f"https://user:{SECRET[3:]}@mirror.example"),
    ],
)
def test_secret_shaped_values_are_refused_without_echoing_them(capsys, settings_file, key, text):
    code, out, err = run(capsys, "settings", "set", key, text)
    assert_bad_input(code, out, err)
    assert SECRET[3:] not in out + err
    assert not settings_file.exists()


def test_list_never_prints_what_it_does_not_know(capsys, settings_file):
    """Keys of another version are kept and named, never shown: one may hold a credential."""
    settings_file.parent.mkdir(parents=True, exist_ok=True)
    data = {"schema_version": 2, "settings": {"dashscope_api_key": SECRET, "theme": "dark"}}
    settings_file.write_text(json.dumps(data), encoding="utf-8")
    code, out, _ = run(capsys, "settings", "list")
    assert code == 0 and SECRET not in out
    assert "theme = dark  [default: system]" in out
    assert "kept for another version: 'dashscope_api_key'" in out
    code, out, _ = run(capsys, "--json", "settings", "list")
    assert SECRET not in out and json.loads(out)["unknown_keys"] == ["dashscope_api_key"]
    # ...and written back untouched when a setting changes.
    assert run(capsys, "settings", "set", "theme", "light")[0] == 0
    stored = json.loads(settings_file.read_text(encoding="utf-8"))["settings"]
    assert stored == {"dashscope_api_key": SECRET, "theme": "light"}


def test_a_corrupt_file_is_reported_and_not_overwritten(capsys, settings_file):
    settings_file.parent.mkdir(parents=True, exist_ok=True)
    settings_file.write_text('{"schema_version": 2, "settings": {', encoding="utf-8")
    for argv in (["set", "keep_awake", "false"], ["reset"], ["list"], ["get", "theme"]):
        code, out, err = run(capsys, "settings", *argv)
        lines = err.strip().splitlines()
        assert code == 1 and "Traceback" not in err
        assert lines[0].startswith(f"error: settings file {settings_file} is corrupt")
        assert lines[1].startswith("hint: a copy was saved as settings.json.corrupt-")
        assert settings_file.read_text(encoding="utf-8") == '{"schema_version": 2, "settings": {'
    assert list(settings_file.parent.glob("settings.json.corrupt-*"))


def test_a_file_from_a_newer_version_is_not_overwritten(capsys, settings_file):
    settings_file.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"schema_version": 99, "settings": {"theme": "dark"}})
    settings_file.write_text(text, encoding="utf-8")
    code, out, err = run(capsys, "settings", "list")
    assert code == 0 and "read-only: settings.json was written by a newer" in out
    code, _, err = run(capsys, "settings", "set", "theme", "light")
    assert code == 1 and err.startswith("error: not saving settings: settings.json was written")
    assert settings_file.read_text(encoding="utf-8") == text


def test_a_failed_write_leaves_the_old_file_whole(capsys, monkeypatch, settings_file):
    assert run(capsys, "settings", "set", "theme", "dark")[0] == 0
    before = settings_file.read_bytes()

    def no_rename(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", no_rename)
    code, _, err = run(capsys, "settings", "set", "theme", "light")
    assert code == 1 and err.startswith("error: ")
    assert settings_file.read_bytes() == before
    assert [p.name for p in settings_file.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_reset_without_a_key_resets_every_setting_and_nothing_else(capsys, settings_file):
    for key, text in (("theme", "dark"), ("max_attempts", "9"), ("keep_awake", "no")):
        assert run(capsys, "settings", "set", key, text)[0] == 0
    s = Settings.load(app_paths())
    s.set_state("main_window", {"view": "queue"})
    s.set_database_url("postgresql://runner@db.example/wan22")
    s.save()
    code, out, _ = run(capsys, "--json", "settings", "reset")
    data = json.loads(out)
    assert code == 0
    assert {c["key"]: c["old"] for c in data["changed"]} == {
        "theme": "dark",
        "max_attempts": 9,
        "keep_awake": False,
    }
    again = Settings.load(app_paths())
    assert all(again.is_default(k) for k in OPTIONS)
    assert again.get_state("main_window") == {"view": "queue"}  # window state is not a setting
    assert again.database_url == "postgresql://runner@db.example/wan22"  # `wan22 db use`'s
    code, out, _ = run(capsys, "settings", "reset")
    assert code == 0 and "every setting is at its default" in out


def test_setting_the_same_value_again_writes_nothing(capsys, settings_file):
    assert run(capsys, "settings", "set", "theme", "dark")[0] == 0
    stamp = settings_file.stat().st_mtime_ns
    code, out, _ = run(capsys, "settings", "set", "theme", "DARK")
    assert code == 0 and "unchanged" in out
    assert settings_file.stat().st_mtime_ns == stamp


def test_an_open_app_window_is_named_and_told_when_it_picks_the_change_up(capsys, settings_file):
    """The window polls settings.json (tests/gui/test_settings.py) and its saves keep this
    change (tests/test_settings.py); the warning names it and says when the change applies."""
    pytest.importorskip("PySide6")
    from wan22_desktop.gui.app import _single_instance_lock

    paths = app_paths().ensure()
    lock = _single_instance_lock(paths.data)  # the window's own lock, as it takes it
    assert lock is not None
    try:
        code, _, err = run(capsys, "settings", "set", "keep_awake", "off")
        assert code == 0
        assert err.startswith(
            f"warning: Wan22 Desktop is open for this data folder (pid {os.getpid()})"
        )
        assert "it picks this up within seconds" in err
        code, out, err = run(capsys, "--json", "settings", "reset")
        assert code == 0 and "Wan22 Desktop is open" in json.loads(out)["warnings"][0]
    finally:
        lock.unlock()
    assert run(capsys, "settings", "set", "keep_awake", "on")[2] == ""  # closed: no warning


def test_a_stale_window_lock_is_ignored(capsys, settings_file):
    import psutil

    paths = app_paths().ensure()
    dead = max(psutil.pids()) + 10_000
    (paths.data / GUI_LOCK_NAME).write_text(f"{dead}\nwan22-desktop\n{socket.gethostname()}\n")
    code, _, err = run(capsys, "settings", "set", "theme", "dark")
    assert code == 0 and err == ""


def test_queue_run_uses_what_the_cli_set(capsys, monkeypatch):
    """The runner box's path: settings set over SSH, then `wan22 queue run` reads them."""
    from wan22_desktop.runtime import runner as runner_module

    seen = {}

    class FakeRunner:
        def __init__(self, db, paths, options, **_kwargs) -> None:
            seen["options"] = options
            self.interrupted = False

        def run(self) -> runner_module.RunSummary:
            return runner_module.RunSummary(stopped_reason="the queue is empty")

        def stop(self, requeue_current: bool = False) -> None:
            pass

    monkeypatch.setattr(runner_module, "QueueRunner", FakeRunner)
    for key, text in (
        ("keep_awake", "off"),
        ("live_preview", "taehv"),
        ("max_attempts", "7"),
        ("hang_timeout_factor", "4.5"),
    ):
        assert run(capsys, "settings", "set", key, text)[0] == 0
    assert run(capsys, "queue", "run")[0] == 0
    options = seen["options"]
    assert options.keep_awake is False
    assert options.preview == "taehv"
    assert options.max_interruptions == 7
    assert options.hang_factor == 4.5


def test_a_bad_value_in_a_hand_edited_file_is_shown_as_ignored(capsys, settings_file):
    settings_file.parent.mkdir(parents=True, exist_ok=True)
    data = {"schema_version": 2, "settings": {"max_attempts": 0, "hf_endpoint": SECRET}}
    settings_file.write_text(json.dumps(data), encoding="utf-8")
    code, out, _ = run(capsys, "settings", "list")
    assert code == 0 and SECRET not in out
    assert "max_attempts = 3  [default]" in out
    assert "ignored in the file, the default is used: setting max_attempts = 0 is out of" in out
    code, out, _ = run(capsys, "--json", "settings", "list")
    assert SECRET not in out and set(json.loads(out)["ignored"]) == {"max_attempts", "hf_endpoint"}
    code, _, err = run(capsys, "settings", "set", "max_attempts", "4")  # the way to fix it
    assert code == 0 and SECRET not in err
    assert err == (
        "warning: invalid values in the file were dropped, their defaults are in use: hf_endpoint\n"
    )
    assert Settings.load(app_paths()).ignored == {}
    assert json.loads(settings_file.read_text(encoding="utf-8"))["settings"] == {"max_attempts": 4}


def test_every_value_get_prints_is_one_set_accepts():
    """What a user copies from ``get`` back into ``set`` means the same value."""
    from wan22_desktop.commands.settings import raw_value
    from wan22_desktop.settings import parse_text

    for option in OPTIONS.values():
        assert parse_text(option, raw_value(option.default)) == option.default
        for choice in option.choices or ():
            assert parse_text(option, raw_value(choice)) == choice
