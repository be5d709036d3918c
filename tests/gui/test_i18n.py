"""The zh_CN translation: complete, compiled, and actually used by the widgets."""

from __future__ import annotations

import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication

from wan22_desktop.gui.i18n import (
    I18N_DIR,
    choose_language,
    install_translators,
    remove_translators,
)
from wan22_desktop.gui.main_window import MainWindow
from wan22_desktop.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def tool(name: str) -> str | None:
    found = Path(sys.executable).parent / name
    return str(found) if found.exists() else shutil.which(name)


def sources(ts: Path) -> dict[tuple[str, str], str | None]:
    out = {}
    for ctx in ET.parse(ts).getroot().iter("context"):
        name = ctx.find("name").text or ""
        for m in ctx.iter("message"):
            tr = m.find("translation")
            done = tr.get("type") not in ("unfinished", "obsolete", "vanished")
            text = tr.text or "".join(n.text or "" for n in tr.iter("numerusform"))
            out[(name, m.find("source").text)] = text if done and text else None
    return out


def test_every_string_of_the_gui_is_translated(tmp_path):
    lupdate = tool("pyside6-lupdate")
    if lupdate is None:
        pytest.skip("pyside6-lupdate not installed")
    files = [str(p) for p in sorted((ROOT / "wan22_desktop" / "gui").rglob("*.py"))]
    fresh = tmp_path / "fresh.ts"
    subprocess.run([lupdate, *files, "-ts", str(fresh)], check=True, capture_output=True)
    committed = sources(I18N_DIR / "zh_CN.ts")
    wanted = set(sources(fresh))
    missing = sorted(k for k in wanted if not committed.get(k))
    assert not missing, f"untranslated: {missing[:10]}"


def test_committed_qm_matches_the_ts(tmp_path):
    lrelease = tool("pyside6-lrelease")
    if lrelease is None:
        pytest.skip("pyside6-lrelease not installed")
    out = tmp_path / "zh_CN.qm"
    subprocess.run(
        [lrelease, str(I18N_DIR / "zh_CN.ts"), "-qm", str(out)], check=True, capture_output=True
    )
    assert out.read_bytes() == (I18N_DIR / "zh_CN.qm").read_bytes(), "run pyside6-lrelease (README)"


def test_zh_cn_translation_is_used_by_widgets(qtbot, qapp, ctx):
    translators = install_translators(qapp, "zh_CN")
    try:
        assert translators, "zh_CN.qm did not load"
        win = MainWindow(ctx)
        qtbot.addWidget(win)
        titles = [win.sidebar.item(i).text() for i in range(win.sidebar.count())]
        assert titles[:2] == ["生成", "队列"] and titles[-1] == "设置"
        generate = win.view("generate")
        assert generate.generate_now.text() == "立即生成"
        assert QCoreApplication.translate("Views", "History") == "历史"
    finally:
        remove_translators(qapp, translators)
    assert QCoreApplication.translate("Views", "History") == "History"


@pytest.mark.parametrize(
    "stored, system, expected",
    [
        (None, "zh_CN", "zh_CN"),
        (None, "zh_TW", "zh_CN"),
        (None, "de_DE", "en"),
        ("en", "zh_CN", "en"),
        ("zh_CN", "en_US", "zh_CN"),
    ],
)
def test_language_from_setting_or_system_locale(tmp_path, stored, system, expected):
    settings = Settings(tmp_path / "settings.json")
    if stored:
        settings.set("language", stored)
    assert choose_language(settings, system) == expected
