"""The installed app: shipped resources, the desktop entry in a temporary XDG home, no display.

The window's flags run as a user would start them (``python -m wan22_desktop.gui.app``, the
module behind the ``wan22-desktop`` entry point) in a subprocess, with no display where it
matters: the desktop-entry flags and the no-display message must never reach Qt's platform.
"""

from __future__ import annotations

import configparser
import fnmatch
import json
import logging
import os
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from wan22_desktop import __version__
from wan22_desktop import desktop_entry as entry
from wan22_desktop.errors import OperationError
from wan22_desktop.resources import (
    APP_ID,
    DESKTOP_FILE,
    ICON_SIZES,
    METAINFO_FILE,
    resource,
    resource_root,
)

ROOT = Path(__file__).resolve().parents[1]
NO_DISPLAY_VARS = ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")


def run_window(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "wan22_desktop.gui.app", *args],
        cwd=ROOT,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def headless_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in NO_DISPLAY_VARS}
    return {**env, **extra}


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", path
    return struct.unpack(">II", head[16:24])


# ---- shipped resources


def test_every_shipped_resource_is_package_data():
    """A file under resources/ that no package-data pattern names would vanish from the wheel."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["wan22_desktop.resources"]
    root = resource_root()
    files = [
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts
    ]
    assert len(files) >= 12
    unshipped = [f for f in files if not any(fnmatch.fnmatch(f, pat) for pat in patterns)]
    assert unshipped == []
    manifest = (ROOT / "MANIFEST.in").read_text(encoding="utf-8")
    assert "recursive-include wan22_desktop/resources" in manifest


def test_a_missing_resource_is_a_warning_not_silence(caplog):
    with caplog.at_level(logging.WARNING, logger="wan22_desktop.resources"):
        assert resource("i18n", "xx_XX.qm") is None
    assert "missing resource i18n/xx_XX.qm" in caplog.text


def test_a_missing_translation_is_a_warning(caplog, tmp_path):
    from wan22_desktop.gui.i18n import translation_files

    with caplog.at_level(logging.WARNING, logger="wan22_desktop.gui.i18n"):
        assert translation_files("zh_CN", tmp_path) == []
    assert "interface stays in English" in caplog.text


def test_metainfo_names_the_app_its_entry_and_this_version():
    root = ET.parse(resource(METAINFO_FILE)).getroot()
    assert root.findtext("id") == APP_ID
    assert root.find("launchable").text == DESKTOP_FILE
    assert [r.get("version") for r in root.iter("release")][0] == __version__
    desktop = configparser.ConfigParser(interpolation=None)
    desktop.optionxform = str
    desktop.read(resource(DESKTOP_FILE), encoding="utf-8")
    assert desktop["Desktop Entry"]["Icon"] == APP_ID


# ---- desktop entry: Linux, in a temporary XDG home


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="XDG desktop entries are Linux")
def test_install_then_uninstall_in_a_temporary_xdg_home(tmp_path, wan22_home):
    xdg = tmp_path / "xdg"
    env = headless_env(XDG_DATA_HOME=str(xdg), WAN22_HOME=str(wan22_home))
    done = run_window(["--install-desktop-entry"], env)  # no display: must not need one
    assert done.returncode == 0, done.stderr
    assert "installed the desktop entry" in done.stdout

    installed = entry.linux_files(xdg)
    assert all(p.is_file() for p in installed), [p for p in installed if not p.is_file()]
    for size in ICON_SIZES:
        icon = xdg / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
        assert png_size(icon) == (size, size)
    desktop = configparser.ConfigParser(interpolation=None)
    desktop.optionxform = str
    desktop.read(xdg / "applications" / DESKTOP_FILE, encoding="utf-8")
    exec_path = Path(desktop["Desktop Entry"]["Exec"].split()[0])
    assert exec_path.is_absolute() and os.access(exec_path, os.X_OK), exec_path
    assert desktop["Desktop Entry"]["TryExec"] == str(exec_path)

    again = run_window(["--uninstall-desktop-entry"], env)
    assert again.returncode == 0, again.stderr
    assert [p for p in installed if p.exists()] == []
    nothing = run_window(["--uninstall-desktop-entry"], env)
    assert nothing.returncode == 0 and "no desktop entry was installed" in nothing.stdout


@pytest.fixture
def installed_xdg(tmp_path):
    xdg = tmp_path / "xdg"
    entry.install_linux(xdg, entry.launcher_command())
    return xdg


@pytest.mark.skipif(
    shutil.which("desktop-file-validate") is None, reason="no desktop-file-validate"
)
def test_installed_desktop_entry_is_valid(installed_xdg):
    out = subprocess.run(
        ["desktop-file-validate", str(installed_xdg / "applications" / DESKTOP_FILE)],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0 and "error" not in out.stdout.lower(), out.stdout + out.stderr


@pytest.mark.skipif(shutil.which("appstreamcli") is None, reason="no appstreamcli (AppStream)")
def test_installed_metainfo_is_valid_appstream(installed_xdg):
    out = subprocess.run(
        ["appstreamcli", "validate", "--no-net", str(installed_xdg / "metainfo" / METAINFO_FILE)],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_an_unwritable_xdg_home_is_an_operation_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(OperationError) as err:
        entry.install_linux(blocker, ["/opt/wan22/bin/wan22-desktop"])
    assert "XDG_DATA_HOME" in err.value.hint


@pytest.mark.parametrize(
    ("arg", "quoted"),
    [
        ("/usr/bin/wan22-desktop", "/usr/bin/wan22-desktop"),
        ("/home/a b/bin/wan22-desktop", '"/home/a b/bin/wan22-desktop"'),
        ("/x/$HOME/100%", '"/x/\\\\$HOME/100%%"'),
        ("-m", "-m"),
    ],
)
def test_exec_arguments_are_quoted_by_the_desktop_entry_spec(arg, quoted):
    assert entry.exec_quote(arg) == quoted


def test_xdg_data_home_ignores_a_relative_value():
    assert entry.xdg_data_home({"XDG_DATA_HOME": "rel", "HOME": "/h"}) == Path("/h/.local/share")
    assert entry.xdg_data_home({"XDG_DATA_HOME": "/d", "HOME": "/h"}) == Path("/d")


def test_windows_shortcut_passes_values_through_the_environment(tmp_path):
    link = tmp_path / "Wan22 Desktop.lnk"
    argv, env = entry.shortcut_script(link, ["C:\\py\\python.exe", "-m", "x y"], None)
    assert argv[0] == "powershell" and "$env:WAN22_LNK" in argv[-1]
    assert env["WAN22_LNK"] == str(link) and env["WAN22_ARGS"] == '-m "x y"'
    assert str(link) not in " ".join(argv)  # no quoting of user paths into the script
    folder = entry.start_menu_folder({"APPDATA": "C:\\Users\\a\\AppData\\Roaming"})
    assert folder.parts[-3:] == ("Windows", "Start Menu", "Programs")


def test_macos_says_what_is_not_done(tmp_path):
    with pytest.raises(OperationError) as err:
        entry.install(tmp_path, platform="darwin")
    assert "macOS" in err.value.message and ".app" in err.value.message


# ---- the window without a display, and its smoke test


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the xcb abort is Linux's")
def test_no_display_is_one_clear_line_not_a_qt_abort(wan22_home):
    done = run_window(["--home", str(wan22_home)], headless_env())
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "no display found" in lines[0] and "QT_QPA_PLATFORM=offscreen" in lines[0]
    assert "wan22 command line" in lines[0]


@pytest.mark.parametrize(
    ("lang", "language", "first_views"),
    [("zh_CN.UTF-8", "zh_CN", ["生成", "队列"]), ("C", "en", ["Generate", "Queue"])],
)
@pytest.mark.slow  # real processes: in `make test`, not `make test-fast`
def test_smoke_test_shows_the_window_in_the_system_language(
    wan22_home, lang, language, first_views
):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "LANG": lang, "LC_ALL": ""}
    done = run_window(["--home", str(wan22_home), "--smoke-test"], env)
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stdout.splitlines() if x.startswith("WAN22_SMOKE "))
    report = json.loads(line.removeprefix("WAN22_SMOKE "))
    assert report["language"] == language
    assert report["translators"] >= (1 if language != "en" else 0)
    assert report["views"][:2] == first_views
    assert report["desktop_file"] == APP_ID
    assert report["icon_sizes"] == list(ICON_SIZES)


# ---- the README's list of the xcb plugin's libraries


def debian_package(soname: str) -> str:
    """Debian's library package name for a soname: ``libxcb-icccm.so.4`` -> ``libxcb-icccm4``,
    ``libX11.so.6`` -> ``libx11-6`` (a hyphen when the name ends in a digit)."""
    name, _, version = soname.partition(".so.")
    name = name.lower()
    return f"{name}{'-' if name[-1].isdigit() else ''}{version.split('.')[0]}"


def test_debian_package_names():
    assert debian_package("libxcb-icccm.so.4") == "libxcb-icccm4"
    assert debian_package("libX11-xcb.so.1") == "libx11-xcb1"
    assert debian_package("libxkbcommon-x11.so.0") == "libxkbcommon-x11-0"


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or shutil.which("ldd") is None, reason="needs Linux ldd"
)
def test_readme_lists_every_x11_library_the_xcb_plugin_needs():
    import PySide6

    qt = Path(PySide6.__file__).parent / "Qt"
    binaries = [qt / "plugins" / "platforms" / "libqxcb.so", *qt.glob("lib/libQt6XcbQpa.so*")]
    binaries = [b for b in binaries if b.is_file()]
    if not binaries:
        pytest.skip("this PySide6 has no xcb plugin")
    sonames = set()
    for binary in binaries:
        out = subprocess.run(["ldd", str(binary)], capture_output=True, text=True).stdout
        sonames |= {line.split()[0] for line in out.splitlines() if "=>" in line}
    x11 = sorted(
        debian_package(s)
        for s in sonames
        if s.startswith(("libxcb", "libX11", "libxkbcommon")) and ".so." in s
    )
    assert "libxcb-icccm4" in x11 and "libxcb-keysyms1" in x11, x11
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert [p for p in x11 if p not in readme] == []


def test_the_entry_starts_the_appimage_it_was_installed_from(tmp_path, monkeypatch):
    appimage = tmp_path / "Wan22_Desktop-x86_64.AppImage"
    appimage.write_bytes(b"")
    monkeypatch.setenv("APPIMAGE", str(appimage))
    assert entry.launcher_command() == [str(appimage)]
    monkeypatch.delenv("APPIMAGE")
    assert entry.launcher_command() != [str(appimage)]


@pytest.mark.parametrize(
    ("env", "refused"),
    [
        ({}, True),
        ({"DISPLAY": ":0"}, False),
        ({"WAYLAND_DISPLAY": "wayland-0"}, False),
        ({"QT_QPA_PLATFORM": "offscreen"}, False),
        ({"QT_QPA_PLATFORM": "vnc:size=800x600"}, False),
        ({"QT_QPA_PLATFORM": "xcb"}, True),  # asked for X11 with no X server: Qt would abort
        ({"QT_QPA_PLATFORM": "xcb", "WAYLAND_DISPLAY": "wayland-0"}, True),
        ({"QT_QPA_PLATFORM": "wayland;xcb", "DISPLAY": ":1"}, False),
    ],
)
def test_which_environments_have_no_display(env, refused):
    from wan22_desktop.gui.qt_check import no_display_problem

    assert (no_display_problem(env, "linux") is not None) == refused
    assert no_display_problem(env, "win32") is None


def test_windows_icon_is_an_ico_with_every_size(tmp_path):
    from PIL import Image

    ico = entry._windows_icon(tmp_path)
    assert ico is not None and ico.suffix == ".ico"
    with Image.open(ico) as image:
        assert {s[0] for s in image.info["sizes"]} == set(ICON_SIZES)


# ---- wan22 doctor reports the shipped files and the menu entry


def _doctor(capsys) -> dict:
    from wan22_desktop.cli import main

    assert main(["--json", "doctor"]) == 0
    return json.loads(capsys.readouterr().out)["app_files"]


def test_doctor_reports_shipped_files_and_the_menu_entry(capsys, tmp_path, monkeypatch):
    xdg = tmp_path / "xdg"
    monkeypatch.setenv("XDG_DATA_HOME", str(xdg))
    files = _doctor(capsys)
    assert files["missing"] == [] and "zh_CN" in files["translations"]
    if sys.platform.startswith("linux"):
        assert files["desktop_entry"] is None
        entry.install_linux(xdg, ["/opt/wan22/bin/wan22-desktop"])
        assert _doctor(capsys)["desktop_entry"]["exec"] == "/opt/wan22/bin/wan22-desktop"


def test_doctor_names_a_missing_translation(capsys, tmp_path, monkeypatch):
    """What a wheel without its package data looks like: doctor says what is gone."""
    import wan22_desktop.resources as resources

    copy = tmp_path / "resources"
    shutil.copytree(resource_root(), copy)
    (copy / "i18n" / "zh_CN.qm").unlink()
    monkeypatch.setattr(resources, "resource_root", lambda: copy)
    files = _doctor(capsys)
    assert files["missing"] == ["i18n/zh_CN.qm"] and files["translations"] == []
