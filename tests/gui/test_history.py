"""History view: grid over real tiny mp4s, paging, search and filters, and every action's DB effect."""

from __future__ import annotations

import shlex
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QObject, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices, QGuiApplication, QImage

from wan22_desktop.db import history as dbh
from wan22_desktop.db import queue as dbq
from wan22_desktop.db.models import QUEUED
from wan22_desktop.engine.video_io import save_thumbnail, save_video
from wan22_desktop.gui.history_model import HistoryModel
from wan22_desktop.gui.views.history import HistoryView
from wan22_desktop.request import GenerationRequest
from wan22_desktop.runtime.planning import plan_request
from wan22_desktop.services.history import HistoryQuery

from .conftest import PROBED

# Room for every task's plan (the A14B ones do not fit the 24 GiB test GPU at these sizes).
BIG_GPU = replace(
    PROBED,
    gpus=(replace(PROBED.gpus[0], total_gib=80.0, free_gib=79.0),),
    ram_total_gib=256.0,
    ram_available_gib=200.0,
)

RUNNER = "test-runner"
W, H, F, FPS = 64, 48, 9, 8


def tiny_video(seed: int) -> np.ndarray:
    """[3, F, H, W] in [-1, 1]: a moving gradient, different per seed, so frames differ."""
    t = np.arange(F, dtype=np.float32)[:, None, None]
    y = np.linspace(-1, 1, H, dtype=np.float32)[None, :, None]
    x = np.linspace(-1, 1, W, dtype=np.float32)[None, None, :]
    r = np.sin(3 * x + t / 2 + seed)
    g = np.cos(2 * y - t / 3)
    b = np.broadcast_to(np.float32(seed % 3 - 1) * 0.5, r.shape)
    return np.stack([np.broadcast_to(c, (F, H, W)) for c in (r, g, b)]).astype(np.float32)


def add_finished(
    ctx,
    prompt: str,
    *,
    task: str = "ti2v-5B",
    seed: int = 11,
    thumbnail: bool = True,
    size: str | None = None,
):
    """Queue a request and finish it as the runner would, with a real mp4 in the outputs folder."""
    req = GenerationRequest.for_task(
        task,
        prompt=prompt,
        seed=seed,
        frame_num=17,
        sample_steps=4,
        **({"size": size} if size else {}),
    )
    job = dbq.enqueue(ctx.db, req)[0]
    assert dbq.claim_next(ctx.db, RUNNER).id == job.id
    dbq.set_plan(ctx.db, job.id, RUNNER, plan_request(req, BIG_GPU, {}).to_dict())
    video = tiny_video(seed)
    out = ctx.paths.outputs / f"job{job.id}.mp4"
    save_video(video, out, FPS)
    thumb = save_thumbnail(video, ctx.paths.outputs / f"job{job.id}.jpg") if thumbnail else None
    return dbq.finish_job(
        ctx.db,
        job.id,
        RUNNER,
        dbq.GenerationResult(
            video_path=str(out),
            thumbnail_path=str(thumb) if thumb else None,
            frames=F,
            width=W,
            height=H,
            fps=FPS,
            duration_s=F / FPS,
            timings={"total": 1.5, "sampling": 1.0},
            peak_memory_bytes=123 << 20,
            final_prompt=prompt + ", cinematic",
        ),
    )


def wait_idle(qtbot, ctx, timeout: int = 5000) -> None:
    qtbot.waitUntil(lambda: not ctx.tasks.busy, timeout=timeout)
    qtbot.wait(5)


def open_view(qtbot, ctx) -> HistoryView:
    view = HistoryView(ctx)
    qtbot.addWidget(view)
    view.resize(1100, 700)
    view.show()
    wait_idle(qtbot, ctx)
    return view


def prompts(model: HistoryModel) -> list[str]:
    return [model.row(r).prompt for r in range(model.rowCount())]


def test_grid_shows_generations_with_thumbnails(qtbot, ctx):
    a = add_finished(ctx, "a red fox runs through snow", seed=1)
    b = add_finished(ctx, "一只小猫在阳光下玩耍", seed=2, thumbnail=False)  # first frame decoded
    view = open_view(qtbot, ctx)
    assert prompts(view.model) == [b.prompt, a.prompt]  # newest first
    assert view.grid.viewMode() == view.grid.ViewMode.IconMode
    for r in range(2):  # asking for the decoration starts the off-thread load
        view.model.data(view.model.index(r, 0), Qt.ItemDataRole.DecorationRole)
    qtbot.waitUntil(lambda: all(view.thumbs.get(view.model.row(r)) is not None for r in range(2)))
    for r in range(2):
        pix = view.model.data(view.model.index(r, 0), Qt.ItemDataRole.DecorationRole)
        assert not pix.isNull() and pix.width() <= 192 and pix.height() <= 108
        assert pix.width() / pix.height() == pytest.approx(W / H, rel=0.05)
    assert view.count_label.text().startswith("2")
    view.set_mode(1)
    assert view.stack.currentWidget() is view.table
    assert view.model.data(view.model.index(0, 2)) == f"{W}×{H}"


def test_pages_load_on_demand(qtbot, ctx):
    for i in range(5):
        add_finished(ctx, f"clip number {i}", seed=i)
    model = HistoryModel(ctx.db, ctx.tasks, page_size=2)
    model.reload()
    wait_idle(qtbot, ctx)
    assert (model.rowCount(), model.total) == (2, 5) and model.canFetchMore()
    model.fetchMore()
    wait_idle(qtbot, ctx)
    model.fetchMore()
    wait_idle(qtbot, ctx)
    assert prompts(model) == [f"clip number {i}" for i in (4, 3, 2, 1, 0)]
    assert not model.canFetchMore()


def test_search_and_filters(qtbot, ctx):
    add_finished(ctx, "a red fox runs through snow", seed=1)
    cat = add_finished(ctx, "a cat sleeps on a sofa", task="t2v-A14B", seed=2, size="832*480")
    add_finished(ctx, "fox cubs play at dawn", seed=3)
    view = open_view(qtbot, ctx)
    assert view.model.rowCount() == 3
    qtbot.keyClicks(view.search, "fox")
    qtbot.waitUntil(lambda: view.model.rowCount() == 2, timeout=3000)  # after the debounce
    assert all("fox" in p for p in prompts(view.model))
    view.search.clear()
    view.task_combo.setCurrentIndex(view.task_combo.findData("t2v-A14B"))
    qtbot.waitUntil(lambda: prompts(view.model) == [cat.prompt])
    view.task_combo.setCurrentIndex(0)
    dbh.set_favourite(ctx.db, cat.id)
    view.fav_check.setChecked(True)
    qtbot.waitUntil(lambda: prompts(view.model) == [cat.prompt])
    view.fav_check.setChecked(False)
    view.date_combo.setCurrentIndex(view.date_combo.findData("today"))
    qtbot.waitUntil(lambda: view.model.rowCount() == 3)


def test_failed_jobs_under_the_status_filter(qtbot, ctx):
    add_finished(ctx, "fine clip", seed=1)
    req = GenerationRequest.for_task("ti2v-5B", prompt="too big to fit", seed=5)
    job = dbq.enqueue(ctx.db, req)[0]
    dbq.claim_next(ctx.db, RUNNER)
    dbq.fail_job(
        ctx.db, job.id, RUNNER, kind="oom", message="out of GPU memory", hint="use offload"
    )
    view = open_view(qtbot, ctx)
    view.status_combo.setCurrentIndex(view.status_combo.findData("failed"))
    qtbot.waitUntil(lambda: prompts(view.model) == ["too big to fit"])
    view.select_row(0)
    assert "out of GPU memory" in view.detail_text.toPlainText()
    view.retry_job()
    wait_idle(qtbot, ctx)
    assert dbq.get_job(ctx.db, job.id).status == QUEUED


def test_detail_pane_shows_everything(qtbot, ctx):
    gen = add_finished(ctx, "a lighthouse in a storm", seed=77)
    view = open_view(qtbot, ctx)
    view.select_row(0)
    text = view.detail_text.toPlainText()
    for expected in (
        "a lighthouse in a storm",
        "a lighthouse in a storm, cinematic",
        "77",
        "123.0 MiB",
        "sampling",
        "est_vram_gib",
        # the reasons themselves (the detail pane used to list only the dict's keys)
        "attention: PyTorch SDPA: FlashAttention 3 is not installed; FlashAttention 2 is not",
        "gpus: 1 GPU",
        "the ti2v-5B model is not installed yet",
        "sample_steps",
        "guidance.low",
        "memory.t5_cpu",
        gen.video_path,
    ):
        assert expected in text, expected


def test_favourite_tags_rerun_remix(qtbot, ctx):
    gen = add_finished(ctx, "waves at night", seed=123)
    view = open_view(qtbot, ctx)
    view.select_row(0)
    qtbot.mouseClick(view.fav_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, ctx)
    assert dbh.get_generation(ctx.db, gen.id).favourite
    assert view.model.data(view.model.index(0, 6)) == "★" and view.fav_button.isChecked()
    view.apply_tags("night, sea ,  ")
    wait_idle(qtbot, ctx)
    assert dbh.get_generation(ctx.db, gen.id).tags == ["night", "sea"]
    view.apply_tags('bad"tag')  # refused by the DB layer: shown, not raised
    wait_idle(qtbot, ctx)
    assert ctx.notifier.last.level == "error" and "quote" in ctx.notifier.last.message

    with qtbot.waitSignal(ctx.events.sig_queue_changed):
        qtbot.mouseClick(view.rerun_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(ctx.events.sig_queue_changed):
        qtbot.mouseClick(view.remix_button, Qt.MouseButton.LeftButton)
    queued = sorted(dbq.list_jobs(ctx.db, statuses=[QUEUED]), key=lambda j: j.id)
    assert len(queued) == 2
    same, remix = (GenerationRequest.from_json(j.request_json) for j in queued)
    original = GenerationRequest.from_json(gen.request_json)
    assert same == original and same.seed == 123
    assert remix.seed != 123 and remix.with_seed(123) == original


def test_delete_with_and_without_files(qtbot, ctx):
    keep = add_finished(ctx, "keep my files", seed=1)
    drop = add_finished(ctx, "drop my files", seed=2)
    view = open_view(qtbot, ctx)
    answers = iter([(False, True), (True, True), (True, False)])
    view.confirm_delete = lambda row: next(answers)
    view.select_row(0)  # newest: "drop my files"
    view.delete_selected()  # cancelled
    wait_idle(qtbot, ctx)
    assert view.model.rowCount() == 2 and Path(drop.video_path).is_file()
    view.delete_selected()
    wait_idle(qtbot, ctx)
    assert prompts(view.model) == ["keep my files"]
    assert not Path(drop.video_path).exists() and not Path(drop.thumbnail_path).exists()
    view.select_row(0)
    view.delete_selected()
    wait_idle(qtbot, ctx)
    assert view.model.rowCount() == 0 and dbh.list_generations(ctx.db).total == 0
    assert Path(keep.video_path).is_file()  # deleted from the history only


def test_copy_command_parses_back_to_the_request(qtbot, ctx):
    gen = add_finished(ctx, '它说 "hi"; $(rm -rf /)', task="t2v-A14B", seed=99, size="832*480")
    view = open_view(qtbot, ctx)
    view.select_row(0)
    line = view.copy_command()
    assert QGuiApplication.clipboard().text() == line
    argv = shlex.split(line)
    assert argv[:2] == ["wan22", "generate"]
    assert argv[argv.index("--base_seed") + 1] == "99"
    from tests.test_request_cli import parse_back

    assert parse_back(line) == GenerationRequest.from_json(gen.request_json)


def test_last_frame_opens_an_image_job(qtbot, ctx):
    add_finished(ctx, "a paper boat drifts", task="t2v-A14B", seed=4, size="832*480")
    view = open_view(qtbot, ctx)
    view.select_row(0)
    with qtbot.waitSignal(ctx.events.sig_generate_prefill_requested, timeout=5000) as sig:
        qtbot.mouseClick(view.continue_button, Qt.MouseButton.LeftButton)
    request, job_id = sig.args
    assert job_id is None and request.task == "i2v-A14B" and request.prompt == "a paper boat drifts"
    png = Path(request.image)
    assert png.is_file() and png.is_relative_to(ctx.paths.data)
    img = QImage(str(png))
    assert (img.width(), img.height()) == (W, H)
    request.validate()  # a job the Generate view can queue as is


def test_hover_cycles_frames(qtbot, ctx):
    add_finished(ctx, "hover me", seed=3)
    view = open_view(qtbot, ctx)
    row = view.model.row(0)
    view.hover.start(row)
    qtbot.waitUntil(lambda: view.hover.frame(row.id) is not None, timeout=5000)
    first = view.hover.frame(row.id).toImage()
    qtbot.waitUntil(lambda: view.hover.frame(row.id).toImage() != first, timeout=2000)
    shown = view.model.data(view.model.index(0, 0), Qt.ItemDataRole.DecorationRole)
    assert shown.toImage() == view.hover.frame(row.id).toImage()
    view.hover.stop()
    assert view.hover.frame(row.id) is None


def test_query_default_is_all_finished(qtbot, ctx):
    view = open_view(qtbot, ctx)
    assert view.current_query() == HistoryQuery()


def test_new_results_appear_and_the_selection_stays(qtbot, ctx):
    first = add_finished(ctx, "the first clip", seed=1)
    view = open_view(qtbot, ctx)
    view.select_row(0)
    add_finished(ctx, "written by a runner in another process", seed=2)
    view.on_shown()  # e.g. the user comes back to the view
    qtbot.waitUntil(lambda: view.model.rowCount() == 2, timeout=3000)
    assert view.selected_row().id == first.id
    ctx.events.sig_history_changed.emit()  # the runner in this window finished a job
    wait_idle(qtbot, ctx)
    assert view.model.rowCount() == 2 and view.selected_row().id == first.id


class _UrlCatcher(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[QUrl] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url)


def test_open_folder_asks_the_desktop_for_the_video_folder(qtbot, ctx):
    gen = add_finished(ctx, "where am I", seed=1)
    view = open_view(qtbot, ctx)
    view.select_row(0)
    catcher = _UrlCatcher()
    QDesktopServices.setUrlHandler(
        "file", catcher, "open"
    )  # Qt's own hook, instead of a file manager
    try:
        qtbot.mouseClick(view.folder_button, Qt.MouseButton.LeftButton)
    finally:
        QDesktopServices.unsetUrlHandler("file")
    assert [u.toLocalFile() for u in catcher.urls] == [str(Path(gen.video_path).parent)]


def test_context_menu_offers_the_row_actions(qtbot, ctx, monkeypatch):
    add_finished(ctx, "right click me", seed=1)
    view = open_view(qtbot, ctx)
    shown = []
    monkeypatch.setattr(
        "wan22_desktop.gui.views.history.QMenu.popup",
        lambda menu, _pos: shown.append([a.text() for a in menu.actions()]),
    )
    index = view.model.index(0, 0)
    qtbot.waitUntil(lambda: view.grid.visualRect(index).isValid())
    view.grid.customContextMenuRequested.emit(view.grid.visualRect(index).center())
    assert view.selected_row().prompt == "right click me"
    assert shown and {"Play", "Re-run", "Remix", "Copy command", "Delete…"} <= set(shown[0])
    assert "Retry" not in shown[0]  # only for failed jobs
