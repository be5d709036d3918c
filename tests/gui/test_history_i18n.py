"""zh_CN for the History, Player and Models views: every string translated, the .qm loads."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from PySide6.QtCore import Qt

from wan22_desktop.gui.i18n import I18N_DIR
from wan22_desktop.gui.views.history import HistoryView
from wan22_desktop.gui.views.models import ModelsView
from wan22_desktop.gui.views.player import PlayerView

I18N = I18N_DIR


def test_ts_is_complete_and_the_qm_is_current():
    ts, qm = I18N / "zh_CN.ts", I18N / "zh_CN.qm"
    root = ET.parse(ts).getroot()
    messages = root.findall("./context/message")
    assert len(messages) > 100
    unfinished = [
        m.find("source").text
        for m in messages
        if m.find("translation").get("type") in ("unfinished", "obsolete")
        or not "".join(m.find("translation").itertext()).strip()
    ]
    assert unfinished == []
    assert qm.stat().st_mtime >= ts.stat().st_mtime - 1, "run pyside6-lrelease on zh_CN.ts"


def test_views_speak_chinese(qtbot, ctx, chinese):
    history = HistoryView(ctx)
    player = PlayerView(ctx)
    models = ModelsView(ctx)
    for w in (history, player, models):
        qtbot.addWidget(w)
    qtbot.waitUntil(lambda: not ctx.tasks.busy)
    assert history.search.placeholderText() == "搜索提示词…"
    assert history.rerun_button.text() == "重新生成"
    assert history.model.headerData(0, Qt.Orientation.Horizontal) == "提示词"
    assert player.export_button.text() == "导出当前帧…"
    assert models.download_button.text() == "下载"
    assert models.table_model.headerData(0, Qt.Orientation.Horizontal) == "模型"
    qtbot.waitUntil(lambda: models.table_model.rowCount() > 0)
    assert models.table_model.data(models.table_model.index(2, 0)) == "Wan2.2 文/图生视频，5B"
    qtbot.waitUntil(lambda: len(models.readiness) == 3)
    assert "未安装" in models.readiness_list.item(0).text()
    models.shutdown()
