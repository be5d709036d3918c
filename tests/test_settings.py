"""Settings: declared once, type-checked, persisted atomically, upgraded, corruption kept safe."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wan22_desktop.errors import OperationError, UserInputError
from wan22_desktop.paths import app_paths
from wan22_desktop.settings import (
    OPTIONS,
    SCHEMA_VERSION,
    Settings,
    atomic_write_text,
    effective_paths,
)


@pytest.fixture()
def paths(tmp_path):
    return app_paths(tmp_path / "home")


def test_defaults_when_no_file(paths):
    s = Settings.load(paths)
    assert s.as_dict() == {k: o.default for k, o in OPTIONS.items()}
    assert s.get("max_attempts") == 3 and s.get("download_source") == "hf"
    assert not paths.settings_file.exists()  # loading never writes


def test_every_default_passes_its_own_check():
    for option in OPTIONS.values():
        assert option.check(option.default) == option.default
        assert option.title


def test_set_save_load_round_trip(paths):
    s = Settings.load(paths)
    s.set("language", "zh_CN")
    s.set("hang_timeout_factor", 5)  # an int is a fine float
    s.set("outputs_dir", Path("/tmp/videos"))
    s.set_state("main_window.geometry", [10, 20, 800, 600])
    s.save()
    data = json.loads(paths.settings_file.read_text(encoding="utf-8"))
    assert data["schema_version"] == SCHEMA_VERSION
    again = Settings.load(paths)
    assert again.get("language") == "zh_CN"
    assert again.get("hang_timeout_factor") == 5.0 and isinstance(
        again.get("hang_timeout_factor"), float
    )
    assert again.get("outputs_dir") == "/tmp/videos"
    assert again.get_state("main_window.geometry") == [10, 20, 800, 600]
    assert again.is_default("theme") and not again.is_default("language")
    again.reset("language")
    assert again.get("language") == "en"


@pytest.mark.parametrize(
    "key,value,match",
    [
        ("nope", 1, "unknown setting"),
        ("max_attempts", "3", "must be a whole number"),
        ("max_attempts", True, "must be a whole number"),
        ("max_attempts", 0, "out of range"),
        ("max_attempts", 21, "out of range"),
        ("hang_timeout_factor", 0.5, "out of range"),
        ("notifications", 1, "must be true or false"),
        ("language", "fr", "cannot be 'fr'"),
        ("default_task", "t2v-1.3B", "cannot be"),
        ("download_source", "github", "cannot be"),
        ("hf_endpoint", "hf-mirror.com", r"http\(s\) URL"),
        ("models_dir", 3, "must be text"),
    ],
)
def test_set_rejects_bad_values(paths, key, value, match):
    s = Settings.load(paths)
    with pytest.raises(UserInputError, match=match) as e:
        s.set(key, value)
    assert e.value.hint


def test_version_1_file_is_upgraded(paths):
    paths.data.mkdir(parents=True)
    paths.settings_file.write_text(
        json.dumps(
            {
                "schema_version": 1,
                "language": "zh_CN",
                "hf_mirror": "https://hf-mirror.com",
                "download_source": "huggingface",
                "max_attempts": 5,
            }
        ),
        encoding="utf-8",
    )
    s = Settings.load(paths)
    assert s.get("hf_endpoint") == "https://hf-mirror.com"
    assert s.get("download_source") == "hf"
    assert (s.get("language"), s.get("max_attempts")) == ("zh_CN", 5)
    s.save()
    data = json.loads(paths.settings_file.read_text(encoding="utf-8"))
    assert data["schema_version"] == 2 and "hf_mirror" not in data["settings"]


def test_unknown_keys_are_kept_and_bad_values_fall_back(paths):
    paths.data.mkdir(parents=True)
    paths.settings_file.write_text(
        json.dumps(
            {
                "schema_version": 2,
                "settings": {"future_thing": {"a": 1}, "max_attempts": "lots", "theme": "dark"},
            }
        ),
        encoding="utf-8",
    )
    s = Settings.load(paths)
    assert s.get("max_attempts") == 3 and s.get("theme") == "dark"
    s.save()
    data = json.loads(paths.settings_file.read_text(encoding="utf-8"))
    assert data["settings"]["future_thing"] == {"a": 1}


@pytest.mark.parametrize(
    "content", [b"{not json", b"[1, 2]", b'{"settings": {}}', b"\xff\xfe garbage"]
)
def test_corrupt_file_is_backed_up_and_not_overwritten(paths, content):
    paths.data.mkdir(parents=True)
    paths.settings_file.write_bytes(content)
    with pytest.raises(OperationError) as e:
        Settings.load(paths)
    assert str(paths.settings_file) in e.value.message and "corrupt" in e.value.message
    backups = list(paths.data.glob("settings.json.corrupt-*"))
    assert len(backups) == 1 and backups[0].read_bytes() == content
    assert backups[0].name in e.value.hint
    assert paths.settings_file.read_bytes() == content  # untouched

    recovered = Settings.load(paths, recover=True)
    assert recovered.recovered_from is not None and recovered.recovered_from.read_bytes() == content
    assert recovered.get("theme") == "system"
    assert len(list(paths.data.glob("settings.json.corrupt-*"))) == 2


def test_newer_file_is_read_but_never_overwritten(paths):
    paths.data.mkdir(parents=True)
    text = json.dumps({"schema_version": SCHEMA_VERSION + 1, "settings": {"theme": "dark"}})
    paths.settings_file.write_text(text, encoding="utf-8")
    s = Settings.load(paths)
    assert s.get("theme") == "dark"
    with pytest.raises(OperationError, match="newer Wan22 Desktop"):
        s.save()
    assert paths.settings_file.read_text(encoding="utf-8") == text


def test_a_save_keeps_what_another_process_saved_meanwhile(paths):
    """The window loads settings at start and saves at close; ``wan22 settings set`` in between
    must survive that save: each process writes only what it changed over the file as it is."""
    window = Settings.load(paths)
    window.set("theme", "dark")
    window.set_state("main_window.geometry", [1, 2, 3, 4])
    cli = Settings.load(paths)
    cli.set("keep_awake", False)
    cli.set("language", "zh_CN")
    cli.set_database_url("postgresql+psycopg://wan@db.lan/wan22")
    cli.save()
    window.reset("language")  # the window's own change to a key the CLI also set: last one wins
    window.save()
    merged = Settings.load(paths)
    assert merged.get("theme") == "dark" and merged.get("keep_awake") is False
    assert merged.is_default("language")
    assert merged.get_state("main_window.geometry") == [1, 2, 3, 4]
    assert merged.database_url == "postgresql+psycopg://wan@db.lan/wan22"
    assert window.get("keep_awake") is False  # the saver now holds what it wrote
    # A second save with nothing changed writes the file as it is, not the stale copy.
    cli.save()
    assert Settings.load(paths).get("theme") == "dark"


def test_a_save_over_a_file_a_newer_version_wrote_meanwhile_is_refused(paths):
    s = Settings.load(paths)
    s.set("theme", "dark")
    paths.data.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"schema_version": SCHEMA_VERSION + 1, "settings": {"theme": "light"}})
    paths.settings_file.write_text(text, encoding="utf-8")
    with pytest.raises(OperationError, match="newer Wan22 Desktop"):
        s.save()
    assert paths.settings_file.read_text(encoding="utf-8") == text


def test_atomic_write_leaves_no_temp_files(tmp_path):
    target = tmp_path / "sub" / "f.json"
    atomic_write_text(target, "one")
    atomic_write_text(target, "two")
    assert target.read_text() == "two"
    assert [p.name for p in target.parent.iterdir()] == ["f.json"]


def test_atomic_write_keeps_old_file_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "f.json"
    target.write_text("old")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr("wan22_desktop.settings.os.replace", broken_replace)
    with pytest.raises(OSError):
        atomic_write_text(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]


def test_effective_paths(paths, tmp_path):
    s = Settings.load(paths)
    assert effective_paths(paths, s) == paths
    s.set("models_dir", str(tmp_path / "big-disk" / "models"))
    eff = effective_paths(paths, s)
    assert eff.models == (tmp_path / "big-disk" / "models").resolve()
    assert eff.outputs == paths.outputs and eff.data == paths.data
