"""The GUI on a queue several machines share: every runner is listed, a video another machine
rendered plays here through a path mapping, and a database that goes away is a banner, not a
dialog per poll (issue 15)."""

from __future__ import annotations

import shutil
from pathlib import Path

from PySide6.QtMultimedia import QMediaPlayer
from sqlalchemy import create_engine

from tests.gui.conftest import drain
from tests.gui.test_history import add_finished, wait_idle
from wan22_desktop.db import history as dbh
from wan22_desktop.db import queue as q
from wan22_desktop.db.database import Database
from wan22_desktop.db.lease import RunnerIdentity, RunnerInfo, register_runner
from wan22_desktop.gui.main_window import MainWindow
from wan22_desktop.request import GenerationRequest

OTHER = RunnerIdentity(host="render-box-2", pid=4242, token="b" * 12)
HERE = RunnerIdentity.current()


def _table_text(table) -> list[list[str]]:
    return [
        [table.item(r, c).text() for c in range(table.columnCount())]
        for r in range(table.rowCount())
    ]


def test_two_runners_are_listed_with_their_gpu_and_job(qtbot, ctx):
    register_runner(ctx.db, HERE, RunnerInfo(gpus=[{"name": "RTX 4090", "vram_bytes": 24 << 30}]))
    register_runner(
        ctx.db,
        OTHER,
        RunnerInfo(gpus=[{"name": "H100", "vram_bytes": 80 << 30}], models=["t2v-A14B"]),
        ttl_s=3600,
    )
    [job] = q.enqueue(ctx.db, GenerationRequest.for_task("ti2v-5B", prompt="a fox", seed=1))
    assert q.claim_next(ctx.db, OTHER.holder).id == job.id
    q.update_progress(ctx.db, job.id, OTHER.holder, step=7, total=40, phase="sampling")

    win = MainWindow(ctx)
    qtbot.addWidget(win)
    win.show()
    ctx.events.sig_view_requested.emit("queue")
    view = win.view("queue")
    qtbot.waitUntil(lambda: view.runners.rowCount() == 2, timeout=5000)
    rows = _table_text(view.runners)
    assert view.runners.isVisible()
    other = next(r for r in rows if r[0].startswith("render-box-2"))
    assert other[1] == "H100 (80 GiB)" and other[2] == f"job {job.id} · 7/40"
    mine = next(r for r in rows if r[0].startswith(HERE.host))
    assert mine[1] == "RTX 4090 (24 GiB)" and mine[2] == "idle"
    view.shutdown()
    win.close()
    drain(qtbot, ctx)


def test_a_video_rendered_on_another_machine_plays_through_a_path_mapping(qtbot, ctx, tmp_path):
    gen = add_finished(ctx, "a lighthouse in fog", seed=5)
    # The other machine wrote it under its own mount of the share; here the share is elsewhere.
    share = tmp_path / "share"
    (share / "outputs").mkdir(parents=True)
    local = share / "outputs" / Path(gen.video_path).name
    shutil.move(gen.video_path, local)
    recorded = "/mnt/renders/outputs/" + local.name
    ctx.db.transact(lambda s: setattr(s.get(type(gen), gen.id), "video_path", recorded))
    ctx.settings.set("path_mappings", f"/mnt/renders => {share}")
    ctx.events.sig_settings_changed.emit("path_mappings")

    win = MainWindow(ctx)
    qtbot.addWidget(win)
    win.show()
    ctx.events.sig_view_requested.emit("history")
    history = win.view("history")
    wait_idle(qtbot, ctx)
    history.select_row(0)
    row = history.selected_row()
    assert row.recorded_path == recorded and row.video_path == str(local)
    history.play_selected()
    player = win.view("player")
    qtbot.waitUntil(lambda: player.path == local, timeout=5000)
    qtbot.waitUntil(
        lambda: player.player.playbackState() == QMediaPlayer.PlaybackState.PlayingState,
        timeout=10000,
    )
    player.shutdown()
    assert dbh.get_generation(ctx.db, gen.id).video_path == recorded  # the record is untouched
    win.close()
    drain(qtbot, ctx)


def test_an_unreachable_database_is_one_banner_until_it_answers_again(qtbot, ctx):
    win = MainWindow(ctx)
    qtbot.addWidget(win)
    win.show()
    ctx.events.sig_view_requested.emit("queue")
    view = win.view("queue")
    drain(qtbot, ctx)
    banner = win.status_area.database_state
    assert not banner.isVisible()
    notices: list[object] = []
    ctx.notifier.sig_notice_posted.connect(notices.append)

    good = ctx.db
    # A real PostgreSQL URL where nothing listens: the driver's own connection error.
    away = Database(engine=create_engine("postgresql+psycopg://u@127.0.0.1:9/none"))
    ctx.db = away
    for _ in range(3):
        view.refresh()
        drain(qtbot, ctx, timeout=15000)
    assert banner.isVisible() and "unreachable" in banner.toolTip()
    assert notices == []  # no dialog or notice per poll

    ctx.db = good
    view.refresh()
    drain(qtbot, ctx)
    assert not banner.isVisible()
    away.close()
    view.shutdown()
    win.close()
    drain(qtbot, ctx)
