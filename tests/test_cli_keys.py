"""``wan22 keys``: end to end in a subprocess, with a keyring backend selected the way users
select one (``PYTHON_KEYRING_BACKEND``), and the no-backend case."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

ROOT = Path(__file__).resolve().parents[1]
KEY = "sk-cli-secret-0123456789abcdef"


class JsonFileKeyring(KeyringBackend):
    """Test-only backend: a JSON file named by $WAN22_TEST_KEYRING_FILE, so separate CLI
    processes share one keyring. Loaded by keyring itself through PYTHON_KEYRING_BACKEND."""

    priority = 1  # type: ignore[assignment]

    def _path(self) -> Path:
        return Path(os.environ["WAN22_TEST_KEYRING_FILE"])

    def _load(self) -> dict[str, str]:
        p = self._path()
        return json.loads(p.read_text()) if p.exists() else {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}/{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._load()
        data[f"{service}/{username}"] = password
        self._path().write_text(json.dumps(data))

    def delete_password(self, service: str, username: str) -> None:
        data = self._load()
        if data.pop(f"{service}/{username}", None) is None:
            raise PasswordDeleteError("not found")
        self._path().write_text(json.dumps(data))


def wan22(args: list[str], env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "wan22_desktop.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
    )


def base_env(tmp_path: Path, backend: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DASH_API_KEY"}
    env.update(
        PYTHONPATH=str(ROOT),
        PYTHON_KEYRING_BACKEND=backend,
        WAN22_TEST_KEYRING_FILE=str(tmp_path / "keyring.json"),
    )
    return env


def test_set_status_rm_through_the_cli(tmp_path, wan22_home):
    env = base_env(tmp_path, "tests.test_cli_keys.JsonFileKeyring")
    r = wan22(["keys", "status"], env)
    assert r.returncode == 0 and "no key" in r.stdout

    r = wan22(["keys", "set", "dashscope"], env, stdin=KEY + "\n")
    assert r.returncode == 0, r.stderr
    assert "sk-****cdef" in r.stdout and KEY not in r.stdout + r.stderr
    assert json.loads((tmp_path / "keyring.json").read_text()) == {"wan22-desktop/dashscope": KEY}

    r = wan22(["--json", "keys", "status"], env)
    st = json.loads(r.stdout)
    assert (st["source"], st["masked"], st["service"]) == (
        "keyring",
        "sk-****cdef",
        "wan22-desktop",
    )
    assert "JsonFileKeyring" in st["backend"]

    env_with_var = dict(env, DASH_API_KEY="sk-env-wins-abcdefghijk")
    r = wan22(["keys", "status"], env_with_var)
    assert "DASH_API_KEY" in r.stdout and "sk-****hijk" in r.stdout

    r = wan22(["keys", "rm", "dashscope"], env)
    assert r.returncode == 0 and "removed" in r.stdout
    r = wan22(["keys", "rm", "dashscope"], env)
    assert r.returncode == 0 and "no DashScope key" in r.stdout
    assert json.loads((tmp_path / "keyring.json").read_text()) == {}

    # the key never reached the log file or any file of the data dir
    files = [p for p in wan22_home.rglob("*") if p.is_file()]
    assert any(p.name.endswith(".log") for p in files)
    assert not any(KEY in p.read_text(errors="ignore") for p in files)


def test_key_is_never_taken_from_argv(tmp_path):
    env = base_env(tmp_path, "tests.test_cli_keys.JsonFileKeyring")
    r = wan22(["keys", "set", "dashscope", KEY], env)
    assert r.returncode == 2  # argparse refuses the extra argument
    assert not (tmp_path / "keyring.json").exists()


def test_empty_input_is_refused(tmp_path):
    env = base_env(tmp_path, "tests.test_cli_keys.JsonFileKeyring")
    r = wan22(["keys", "set", "dashscope"], env, stdin="\n")
    assert r.returncode == 2 and "no key" in r.stderr
    assert not (tmp_path / "keyring.json").exists()


def test_no_keyring_backend_gives_a_clear_message(tmp_path, wan22_home):
    env = base_env(tmp_path, "keyring.backends.fail.Keyring")
    r = wan22(["keys", "set", "dashscope"], env, stdin=KEY + "\n")
    assert r.returncode == 1
    assert "error: no usable OS keyring" in r.stderr
    assert "hint:" in r.stderr and "DASH_API_KEY" in r.stderr
    assert KEY not in r.stdout + r.stderr
    r = wan22(["keys", "status"], env)
    assert r.returncode == 0 and "no key" in r.stdout and "keyring:" in r.stdout
    assert not any(
        KEY in p.read_text(errors="ignore") for p in wan22_home.rglob("*") if p.is_file()
    )
