"""History view open with 10,000 generations: time to first paint (target <= 300 ms).

Builds a data dir with N generations (a few real tiny mp4s + JPEG thumbnails shared by the rows),
then, for each run, constructs ``HistoryView`` on a real ``AppContext`` (threaded TaskRunner),
shows it and stops the clock at the first paint of the grid that has rows in it. References from
the same run, so the figure compares across machines:

* ``db page``: ``history.list_generations`` for the first page alone (the floor the view adds to);
* ``load all``: reading every row in 500-row pages (what a view without paging would wait for).

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_history.py [--rows 10000] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from PySide6.QtCore import QEvent, QObject  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from wan22_desktop.db import history  # noqa: E402
from wan22_desktop.db.models import Generation  # noqa: E402
from wan22_desktop.engine.video_io import save_thumbnail, save_video  # noqa: E402
from wan22_desktop.request import GenerationRequest  # noqa: E402

TARGET_MS = 300.0
SUBJECTS = [
    "a red fox",
    "一只小猫",
    "a paper boat",
    "赛博朋克城市",
    "an old lighthouse",
    "一只白鹭",
    "a koi pond",
    "雪山日出",
    "a glass whale",
    "a street market",
]


def seed(ctx, rows: int, clips: int = 8) -> None:
    media = []
    for i in range(clips):
        video = np.random.default_rng(i).uniform(-1, 1, (3, 9, 176, 320)).astype(np.float32)
        mp4 = save_video(video, ctx.paths.outputs / f"clip{i}.mp4", 16)
        jpg = save_thumbnail(video, ctx.paths.outputs / f"clip{i}.jpg")
        media.append((str(mp4), str(jpg)))
    values = []
    for i in range(rows):
        prompt = f"{SUBJECTS[i % len(SUBJECTS)]} #{i}"
        req = GenerationRequest.for_task("ti2v-5B", prompt=prompt, seed=i)
        mp4, jpg = media[i % clips]
        values.append(
            dict(
                request_json=req.to_json(),
                task="ti2v-5B",
                prompt=prompt,
                seed=i,
                video_path=mp4,
                thumbnail_path=jpg,
                frames=9,
                width=320,
                height=176,
                fps=16.0,
                duration_s=0.56,
                favourite=i % 17 == 0,
                tags_json="[]",
                timings_json='{"total": 12.5}',
                peak_memory_bytes=1 << 30,
            )
        )
    with ctx.db.session(write=True) as s:
        s.execute(insert(Generation), values)


class FirstPaint(QObject):
    """Records when the grid's viewport first paints with rows in the model."""

    def __init__(self, view) -> None:
        super().__init__()
        self.view = view
        self.at: float | None = None

    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.Paint and self.at is None and self.view.model.rowCount() > 0:
            self.at = time.perf_counter()
        return False


def visible_thumbs_ready(view) -> bool:
    grid, model = view.grid, view.model
    area = grid.viewport().rect()
    rows = [
        r for r in range(model.rowCount()) if grid.visualRect(model.index(r, 0)).intersects(area)
    ]
    return bool(rows) and all(model.row(r)["id"] in view.thumbs._cache for r in rows)


def time_open(app: QApplication, ctx) -> tuple[float, float]:
    """(ms to first paint, ms until every visible thumbnail is in)."""
    from wan22_desktop.gui.views.history import HistoryView

    t0 = time.perf_counter()
    view = HistoryView(ctx)
    probe = FirstPaint(view)
    view.grid.viewport().installEventFilter(probe)
    view.resize(1280, 800)
    view.show()
    deadline = t0 + 30
    while probe.at is None and time.perf_counter() < deadline:
        app.processEvents()
        time.sleep(0.0005)
    elapsed = ((probe.at or time.perf_counter()) - t0) * 1000
    while not visible_thumbs_ready(view) and time.perf_counter() < deadline:
        app.processEvents()
        time.sleep(0.0005)
    thumbs = (time.perf_counter() - t0) * 1000
    view.shutdown()
    view.close()
    view.deleteLater()
    while ctx.tasks.busy:
        app.processEvents()
    app.processEvents()
    return elapsed, thumbs


def time_call(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def load_all(db, total: int) -> None:
    for page in range(-(-total // 500)):
        history.list_generations(db, page=page, page_size=500)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    app = QApplication.instance() or QApplication([])
    from wan22_desktop.gui.context import AppContext
    from wan22_desktop.gui.history_model import PAGE_SIZE

    with tempfile.TemporaryDirectory() as home:
        ctx = AppContext.open(home)
        try:
            t0 = time.perf_counter()
            seed(ctx, args.rows)
            print(
                f"seeded {args.rows} generations in {time.perf_counter() - t0:.1f} s "
                f"(Qt platform {app.platformName()}, page size {PAGE_SIZE})"
            )
            time_open(app, ctx)  # warm-up: imports, first SQLite pages into the OS cache
            opens, thumbs, pages, alls = [], [], [], []
            for _ in range(args.runs):  # alternate, so background load hits all alike
                first, full = time_open(app, ctx)
                opens.append(first)
                thumbs.append(full)
                pages += time_call(lambda: history.list_generations(ctx.db, page_size=PAGE_SIZE), 1)
                alls += time_call(lambda: load_all(ctx.db, args.rows), 1)
            med_open, med_page, med_all = (statistics.median(x) for x in (opens, pages, alls))
            print("runs (ms): open->first paint " + ", ".join(f"{x:.0f}" for x in opens))
            print(
                f"history view open -> first paint: median {med_open:.0f} ms "
                f"(target <= {TARGET_MS:.0f} ms: {'OK' if med_open <= TARGET_MS else 'MISSED'})"
            )
            print(
                f"  every visible thumbnail shown: median {statistics.median(thumbs):.0f} ms "
                f"(decoded off the GUI thread)"
            )
            print(
                f"  reference db page ({PAGE_SIZE} rows): median {med_page:.1f} ms "
                f"-> view/page ratio {med_open / med_page:.1f}x"
            )
            print(
                f"  reference load all {args.rows} rows: median {med_all:.0f} ms "
                f"-> paging is {med_all / med_open:.1f}x faster to first paint"
            )
        finally:
            ctx.close()


if __name__ == "__main__":
    main()
