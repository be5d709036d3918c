"""User settings, each declared once (key, type, default, title), stored as JSON in the data dir.

The registry ``OPTIONS`` is the single source: the GUI builds its settings page from it, the CLI
can list it, and tests fall back to the declared defaults. Persisted UI state (window geometry,
splitters) is kept apart in ``ui_state`` so it never mixes with what the user chose.

File format (``settings.json``), by ``schema_version``:

* **1** - the first draft: a flat object of settings next to ``schema_version``; the download
  source was spelt ``"huggingface"`` and the mirror key was ``hf_mirror``.
* **2** - ``{"schema_version": 2, "settings": {...}, "ui_state": {...}}``.

A file that cannot be parsed is copied to ``settings.json.corrupt-<time>`` and never overwritten
silently. Keys this version does not know are kept and written back (a newer version may need
them); a file from a newer schema is read but not overwritten. Writes are atomic.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, cast

from wan22_desktop.errors import OperationError, UserInputError
from wan22_desktop.path_map import parse_mappings
from wan22_desktop.paths import AppPaths
from wan22_desktop.tasks import TASKS

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2


@dataclass(frozen=True)
class Option:
    """One setting. ``choices`` or ``minimum``/``maximum`` bound the value when given."""

    key: str
    type: type
    default: Any
    title: str
    choices: tuple[Any, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    is_path: bool = False  # a folder; "" means the app's default place

    def check(self, value: Any) -> Any:
        """Return ``value`` in this option's type, or raise UserInputError saying what is allowed."""
        if self.is_path and isinstance(value, os.PathLike):
            value = os.fspath(value)
        if self.type is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if type(value) is not self.type:
            raise UserInputError(
                f"setting {self.key} must be {_TYPE_WORDS[self.type]}, got {value!r}",
                f"{self.title}; default: {self.default!r}",
            )
        value = cast(Any, value)  # of self.type now (the check above narrows it to object)
        if self.choices is not None and value not in self.choices:
            raise UserInputError(
                f"setting {self.key} cannot be {value!r}",
                f"choose one of: {', '.join(map(str, self.choices))}",
            )
        if (self.minimum is not None and value < self.minimum) or (
            self.maximum is not None and value > self.maximum
        ):
            raise UserInputError(
                f"setting {self.key} = {value!r} is out of range {self.minimum:g}..{self.maximum:g}",
                f"default: {self.default!r}",
            )
        if self.key == "hf_endpoint" and value and not value.startswith(("https://", "http://")):
            raise UserInputError(
                f"setting hf_endpoint must be an http(s) URL, got {value!r}",
                "for example https://hf-mirror.com, or leave it empty for huggingface.co",
            )
        if self.key == "path_mappings":
            parse_mappings(value)  # raises UserInputError naming the bad line
        return value


_TYPE_WORDS = {bool: "true or false", int: "a whole number", float: "a number", str: "text"}

OPTIONS: dict[str, Option] = {
    o.key: o
    for o in (
        Option("default_task", str, "ti2v-5B", "Task selected when the app starts", tuple(TASKS)),
        Option(
            "default_quality",
            str,
            "official",
            "Quality preset for new jobs",
            ("draft", "standard", "official"),
        ),
        Option(
            "outputs_dir", str, "", "Folder for finished videos (empty: the default)", is_path=True
        ),
        Option(
            "models_dir", str, "", "Folder for downloaded models (empty: the default)", is_path=True
        ),
        Option(
            "path_mappings",
            str,
            "",
            "Where this machine sees folders that runners on other machines recorded "
            "(one FROM => TO per line)",
        ),
        Option(
            "comfyui_dir",
            str,
            "",
            "A ComfyUI install whose Wan2.2 files are used in place (empty: none)",
            is_path=True,
        ),
        Option("language", str, "en", "Interface language", ("en", "zh_CN")),
        Option("theme", str, "system", "Colour theme", ("system", "light", "dark")),
        Option("notifications", bool, True, "Notify when a job finishes or fails"),
        Option("keep_awake", bool, True, "Keep the computer awake while jobs run"),
        # The GUI runner's ``queue run --gpu-mode`` (ADR 0022); offered with several GPUs only.
        Option(
            "gpu_mode",
            str,
            "auto",
            "How queued jobs use several GPUs",
            ("auto", "throughput", "latency"),
        ),
        Option(
            "live_preview",
            str,
            "rgb",
            "Live preview of the running job",
            ("rgb", "taehv"),
        ),
        Option("prompt_extend_enabled", bool, False, "Extend prompts with an LLM by default"),
        Option(
            "prompt_extend_method",
            str,
            "local_qwen",
            "Prompt extension backend",
            ("local_qwen", "dashscope"),
        ),
        Option("prompt_extend_model", str, "", "Prompt extension model (empty: the default)"),
        Option(
            "prompt_extend_target_lang", str, "zh", "Language of extended prompts", ("zh", "en")
        ),
        Option(
            "download_source", str, "hf", "Where models are downloaded from", ("hf", "modelscope")
        ),
        Option("hf_endpoint", str, "", "Hugging Face mirror URL (empty: huggingface.co)"),
        Option("auto_fallback_source", bool, True, "Try the other source when a download fails"),
        Option(
            "max_attempts",
            int,
            3,
            "Times a job is retried after a crash before it is marked interrupted",
            minimum=1,
            maximum=20,
        ),
        Option(
            "hang_timeout_factor",
            float,
            3.0,
            "A job is treated as hung when a step takes this many times longer than expected",
            minimum=1.0,
            maximum=100.0,
        ),
    )
}


class Settings:
    """The user's settings for one data dir. Not thread-safe: use from one thread."""

    def __init__(
        self,
        path: Path,
        values: Mapping[str, Any] | None = None,
        ui_state: Mapping[str, Any] | None = None,
        unknown: Mapping[str, Any] | None = None,
        read_only_reason: str | None = None,
        recovered_from: Path | None = None,
    ) -> None:
        self.path = path
        self._values: dict[str, Any] = dict(values or {})
        self._ui_state: dict[str, Any] = dict(ui_state or {})
        self._unknown: dict[str, Any] = dict(unknown or {})
        self.read_only_reason = read_only_reason
        self.recovered_from = recovered_from  # the backup of a corrupt file, when recover=True
        self.ignored: dict[str, str] = {}  # key: why its stored value was not used (load)
        self._database_url: str | None = None
        # What this process changed since it loaded: ``save`` writes only these over the file as
        # it is then, so another process's change (``wan22 settings set`` while the window is
        # open) survives this one's save.
        self._changed: set[str] = set()
        self._state_changed: set[str] = set()
        self._database_changed = False

    # ---- loading

    @classmethod
    def load(cls, paths: AppPaths, *, recover: bool = False) -> Settings:
        """Read ``paths.settings_file`` (defaults when it does not exist).

        A corrupt file is backed up next to itself; then OperationError is raised, or with
        ``recover=True`` (the GUI) defaults are returned and ``recovered_from`` names the backup.
        """
        path = paths.settings_file
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return cls(path)
        except OSError as exc:
            raise OperationError(
                f"cannot read settings file {path}: {exc.strerror}", "check the file's permissions"
            ) from None
        try:
            data = json.loads(raw.decode("utf-8"))
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            return cls._from_data(path, data)
        except (ValueError, KeyError, TypeError) as exc:
            backup = _backup(path)
            if recover:
                log.warning("settings file %s is corrupt (%s); backed up to %s", path, exc, backup)
                return cls(path, recovered_from=backup)
            raise OperationError(
                f"settings file {path} is corrupt: {exc}",
                f"a copy was saved as {backup.name}; fix or delete {path.name} to start from defaults",
            ) from None

    @classmethod
    def _from_data(cls, path: Path, data: dict[str, Any]) -> Settings:
        version = data.get("schema_version")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise ValueError(f"no valid schema_version ({version!r})")
        read_only = None
        if version > SCHEMA_VERSION:
            read_only = (
                f"{path.name} was written by a newer Wan22 Desktop "
                f"(schema {version}; this one writes {SCHEMA_VERSION})"
            )
            log.warning("%s; reading what is known, not saving", read_only)
        else:
            while data["schema_version"] < SCHEMA_VERSION:
                data = UPGRADES[data["schema_version"]](data)
        stored = data.get("settings", {})
        ui_state = data.get("ui_state", {})
        if not isinstance(stored, dict) or not isinstance(ui_state, dict):
            raise ValueError("settings and ui_state must be JSON objects")
        values: dict[str, Any] = {}
        unknown: dict[str, Any] = {}
        ignored: dict[str, str] = {}
        for key, value in stored.items():
            option = OPTIONS.get(key)
            if option is None:
                unknown[key] = value
                continue
            try:
                values[key] = option.check(value)
            except UserInputError as err:  # one bad value must not cost the user every setting
                log.warning("ignoring %s in %s: %s", key, path, err.message)
                ignored[key] = err.message
        database = data.get("database", {})
        if not isinstance(database, dict):
            raise ValueError("database must be a JSON object")
        settings = cls(path, values, ui_state, unknown, read_only_reason=read_only)
        settings.ignored = ignored
        url = database.get("url")
        settings._database_url = url if isinstance(url, str) and url else None
        return settings

    # ---- values

    def get(self, key: str) -> Any:
        return self._values.get(key, _option(key).default)

    def set(self, key: str, value: Any) -> None:
        """Type-checked; raises UserInputError for an unknown key or a bad value."""
        self._values[key] = _option(key).check(value)
        self._changed.add(key)

    def reset(self, key: str) -> None:
        _option(key)
        self._values.pop(key, None)
        self._changed.add(key)

    def is_default(self, key: str) -> bool:
        return key not in self._values

    def unknown_keys(self) -> list[str]:
        """Keys in the file this version does not know (kept and written back as they are)."""
        return list(self._unknown)

    def as_dict(self) -> dict[str, Any]:
        """Every setting's current value (defaults included)."""
        return {key: self.get(key) for key in OPTIONS}

    def get_state(self, key: str, default: Any = None) -> Any:
        """Persisted UI state (geometry, column widths): free-form JSON values, not settings."""
        return self._ui_state.get(key, default)

    def set_state(self, key: str, value: Any) -> None:
        json.dumps(value)  # fail now, not at save time
        self._ui_state[key] = value
        self._state_changed.add(key)

    @property
    def database_url(self) -> str | None:
        """The shared database this data folder uses (``wan22 db use``), never with a password
        (that is in the OS keyring); None: the data folder's own SQLite file."""
        return self._database_url

    def set_database_url(self, url: str | None) -> None:
        userinfo = (url or "").split("://", 1)[-1].split("/", 1)[0].rpartition("@")[0]
        if ":" in userinfo:  # a programming error: db.location.parse splits the password off
            raise ValueError("a database URL with a password never goes to settings.json")
        self._database_url = url or None
        self._database_changed = True

    # ---- saving

    def save(self) -> Path:
        """Write atomically (temp file + rename); the file is never half-written. What this
        process changed goes over the file as it is now (re-read), so a change another process
        saved meanwhile is kept; where the file is gone or unreadable, this copy is written."""
        if self.read_only_reason:
            raise OperationError(
                f"not saving settings: {self.read_only_reason}",
                "update Wan22 Desktop, or delete the settings file",
            )
        self._merge_from_disk()
        data = {
            "schema_version": SCHEMA_VERSION,
            "settings": {**self._unknown, **self._values},
            "ui_state": self._ui_state,
        }
        if self._database_url:
            data["database"] = {"url": self._database_url}
        atomic_write_text(
            self.path, json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
        )
        self._changed.clear()
        self._state_changed.clear()
        self._database_changed = False
        return self.path

    def file_stamp(self) -> tuple[int, int] | None:
        """(mtime, size) of the file, None when it is not there: cheap to poll for a change
        another process saved (an atomic rename replaces the file, so watch the stamp)."""
        try:
            st = self.path.stat()
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size

    def reload(self) -> list[str]:
        """Take what another process saved since (``wan22 settings set``) while keeping this
        process's unsaved changes; returns the options whose value changed."""
        before = self.as_dict()
        try:
            self._merge_from_disk()
        except OperationError as exc:  # a newer version's file: keep what we have
            log.warning("%s", exc.message)
            return []
        return [key for key, value in self.as_dict().items() if before[key] != value]

    def _merge_from_disk(self) -> None:
        """Take the file's current values, then this process's changes over them."""
        try:
            data = json.loads(self.path.read_bytes().decode("utf-8"))
            if not isinstance(data, dict):
                return
            disk = Settings._from_data(self.path, data)
        except (OSError, ValueError, KeyError, TypeError):
            return  # gone or unreadable: this copy is all there is
        if disk.read_only_reason:  # a newer version wrote it since: not ours to overwrite
            raise OperationError(
                f"not saving settings: {disk.read_only_reason}",
                "update Wan22 Desktop, or delete the settings file",
            )
        values = {k: v for k, v in disk._values.items() if k not in self._changed}
        values.update({k: v for k, v in self._values.items() if k in self._changed})
        state = {k: v for k, v in disk._ui_state.items() if k not in self._state_changed}
        state.update({k: v for k, v in self._ui_state.items() if k in self._state_changed})
        self._values, self._ui_state, self._unknown = values, state, disk._unknown
        if not self._database_changed:
            self._database_url = disk._database_url


TRUE_WORDS = ("true", "yes", "on", "1")
FALSE_WORDS = ("false", "no", "off", "0")


def parse_text(option: Option, text: str) -> Any:
    """``text`` (a command line's word) as ``option``'s type, checked by ``Option.check``.

    Booleans take true/false, yes/no, on/off, 1/0; a choice matches without regard to case; a
    folder has ``~`` expanded and must be absolute (``check_folder``); text is trimmed, as the
    Settings view trims what is typed."""
    word = text.strip()
    value: Any = word
    if option.type is bool:
        if word.lower() not in TRUE_WORDS + FALSE_WORDS:
            raise UserInputError(
                f"setting {option.key} must be true or false, got {text!r}",
                f"write one of: {', '.join(TRUE_WORDS + FALSE_WORDS)}",
            )
        value = word.lower() in TRUE_WORDS
    elif option.type in (int, float):
        try:
            value = option.type(word)
        except ValueError:
            value = None
        if value is None or value != value or value in (float("inf"), float("-inf")):
            raise UserInputError(
                f"setting {option.key} must be {_TYPE_WORDS[option.type]}, got {text!r}",
                f"{_range_words(option)}; default: {option.default!r}",
            )
    elif option.choices is not None:
        folded = {str(c).lower(): c for c in option.choices}
        value = folded.get(word.lower(), word)
    elif option.is_path:
        check_folder(option, word, hint="give an absolute path, e.g. /data/wan22 or ~/wan22")
        value = str(Path(word).expanduser()) if word else ""
    return option.check(value)


def check_folder(option: Option, value: Any, *, hint: str = "choose a folder") -> None:
    """A folder setting is empty (the default place) or absolute, ``~`` allowed: a relative one
    would mean a different folder for each process that reads it."""
    if option.is_path and value and not Path(value).expanduser().is_absolute():
        raise UserInputError(f"{value} is not an absolute folder path", hint)


def _range_words(option: Option) -> str:
    if option.minimum is not None and option.maximum is not None:
        return f"from {option.minimum:g} to {option.maximum:g}"
    return _TYPE_WORDS[option.type]


def _option(key: str) -> Option:
    try:
        return OPTIONS[key]
    except KeyError:
        raise UserInputError(
            f"unknown setting {key!r}", f"known settings: {', '.join(OPTIONS)}"
        ) from None


def read_database_url(paths: AppPaths) -> str | None:
    """The database URL of a data folder, read without side effects: a missing or unreadable
    settings file means the folder's own SQLite database, as its defaults do (the GUI and
    ``Settings.load`` report and back up a corrupt file; this must not do it a second time)."""
    try:
        data = json.loads(paths.settings_file.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("settings file unreadable (%s); using the data folder's own database", exc)
        return None
    database = data.get("database") if isinstance(data, dict) else None
    url = database.get("url") if isinstance(database, dict) else None
    return url if isinstance(url, str) and url else None


def effective_paths(paths: AppPaths, settings: Settings) -> AppPaths:
    """``paths`` with the user's outputs/models folders applied where they are set."""
    changes: dict[str, Path] = {}
    for field, key in (("outputs", "outputs_dir"), ("models", "models_dir")):
        value = settings.get(key)
        if value:
            changes[field] = Path(value).expanduser().resolve()
    return dataclasses.replace(paths, **changes)


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to a temp file in the same folder, fsync, then rename over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _backup(path: Path) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    backup = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while backup.exists():
        n += 1
        backup = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
    shutil.copy2(path, backup)
    return backup


# ---------------------------------------------------------------------------- schema upgrades


def _upgrade_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """v1: flat settings, ``hf_mirror`` and ``download_source: "huggingface"``."""
    flat = {k: v for k, v in data.items() if k != "schema_version"}
    if "hf_mirror" in flat:
        flat["hf_endpoint"] = flat.pop("hf_mirror") or ""
    if flat.get("download_source") == "huggingface":
        flat["download_source"] = "hf"
    return {"schema_version": 2, "settings": flat, "ui_state": {}}


UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _upgrade_v1_to_v2}
