"""Start the app on a seeded demo data dir and save a PNG of every view, in English and Chinese.

    python scripts/screenshots.py OUT_DIR [--home DEMO_DIR] [--size 1280x820] [--lang en zh_CN]

The demo data dir holds a tiny random TI2V-5B checkpoint (installed), a few finished generations (tiny mp4s written by ``video_io.save_video``
from synthetic frames, with thumbnails), queued jobs, one failed job and one running job with
progress and a live preview, so every view has something real to show. Hardware is a fixed RTX 4090 description unless ``--probe`` asks for the real probe.
Runs offscreen by default (``QT_QPA_PLATFORM=offscreen``); under Xvfb set ``QT_QPA_PLATFORM=xcb``.
Files are named ``<lang>_<view>.png``.

``--first-run`` instead renders the first-run guide on an empty data dir (no model installed), as
a new user sees it, into ``<lang>_first_run.png``; the README's pictures come from
``python scripts/screenshots.py docs/screenshots --first-run``.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEMO_PROMPTS = (
    (
        "ti2v-5B",
        "A red fox trots through fresh snow in a birch forest, soft diffused light, "
        "tracking shot following the subject",
    ),
    (
        "t2v-A14B",
        "Two anthropomorphic cats in comfy boxing gear fight on a spotlighted stage, "
        "cinematic film look",
    ),
    ("ti2v-5B", "一只白猫戴着墨镜坐在冲浪板上，夏日海滩，近景，暖色调"),
    ("i2v-A14B", "The lighthouse beam sweeps across stormy waves at night, slow push-in"),
)
QUEUED_PROMPTS = (
    "Paper lanterns drift over a river at dusk, symmetrical composition",
    "A hummingbird hovers at a purple flower, extreme close-up, shallow depth of field",
    "城市夜景延时摄影，霓虹灯光，镜头缓慢拉远",
)


def synthetic_video(seed: int, frames: int = 17, width: int = 320, height: int = 176):
    """[3, F, H, W] floats in [-1, 1]: drifting colour bands, different per seed."""
    import numpy as np

    t = np.linspace(0, 1, frames)[:, None, None]
    y = np.linspace(-1, 1, height)[None, :, None]
    x = np.linspace(-1, 1, width)[None, None, :]
    phase = seed * 1.7
    r = np.sin(3 * x + 2 * math.pi * t + phase)
    g = np.sin(4 * y - 2 * math.pi * t + phase / 2)
    b = np.cos(2 * (x + y) + 4 * t + phase / 3)
    return np.stack(np.broadcast_arrays(r, g, b)).astype("float32") * 0.9


def install_tiny_checkpoint(db, folder: Path, python: str) -> None:
    """A tiny random TI2V-5B checkpoint (``wan22 dev make-tiny-checkpoint``, needs torch in
    ``python``) registered as installed; without torch a placeholder row stands in for it."""
    import subprocess

    from wan22_desktop.db.downloads import InstalledModel
    from wan22_desktop.downloader.local_scan import import_folder

    made = subprocess.run(
        [
            python,
            "-m",
            "wan22_desktop.cli",
            "dev",
            "make-tiny-checkpoint",
            "--task",
            "ti2v-5B",
            "--out",
            str(folder),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    if made.returncode == 0:
        db.transact(lambda s: import_folder(s, folder))
        return
    print(
        f"note: no tiny checkpoint ({(made.stderr.strip().splitlines() or ['?'])[-1]}); "
        "pass --checkpoint-python with a torch environment",
        file=sys.stderr,
    )
    db.transact(
        lambda s: s.add(
            InstalledModel(
                model_id="Wan-AI/Wan2.2-TI2V-5B",
                path=str(folder),
                origin="import",
                tasks="ti2v-5B",
                size_bytes=0,
            )
        )
    )


def seed_demo(home: Path, checkpoint_python: str = sys.executable) -> dict:
    """Fill ``home`` with a demo queue and history; return ids and paths for the screenshots."""
    from wan22_desktop.db import queue as q
    from wan22_desktop.db.database import open_app_database
    from wan22_desktop.db.lease import RunnerIdentity, release_lease
    from wan22_desktop.engine.video_io import save_thumbnail, save_video
    from wan22_desktop.paths import app_paths
    from wan22_desktop.request import GenerationRequest

    paths = app_paths(home).ensure()
    db = open_app_database(paths)
    me = RunnerIdentity.current()
    q.start_runner(db, me)
    videos = []
    start_image = paths.cache / "demo_start.png"
    _write_preview(start_image)
    try:
        for i, (task, prompt) in enumerate(DEMO_PROMPTS):
            image = str(start_image) if task == "i2v-A14B" else None
            [job] = q.enqueue(
                db,
                GenerationRequest.for_task(
                    task,
                    prompt=prompt,
                    seed=1000 + i,
                    image=image,
                    frame_num=17,
                    size=_small_size(task),
                ),
            )
            q.claim_next(db, me.holder)
            video = synthetic_video(i)
            out = save_video(video, paths.outputs / f"demo_{i}.mp4", fps=16)
            thumb = save_thumbnail(video, paths.outputs / ".thumbnails" / f"demo_{i}.jpg")
            q.finish_job(
                db,
                job.id,
                me.holder,
                q.GenerationResult(
                    video_path=str(out),
                    thumbnail_path=str(thumb),
                    final_prompt=prompt,
                    frames=17,
                    width=320,
                    height=176,
                    fps=16,
                    duration_s=17 / 16,
                    timings={"load": 12.5, "sampling": 301.2 + 40 * i, "decode": 9.1},
                    peak_memory_bytes=(18 + i) * 1024**3,
                    model_path=str(paths.models / task),
                ),
            )
            videos.append(str(out))
        [failed] = q.enqueue(
            db, GenerationRequest.for_task("t2v-A14B", prompt="A dragon over the sea", seed=7)
        )
        q.claim_next(db, me.holder)
        q.fail_job(
            db,
            failed.id,
            me.holder,
            kind="oom",
            message="CUDA out of memory at step 3",
            hint="turn on offload, or choose a smaller size or TI2V-5B",
        )
        [running] = q.enqueue(
            db,
            GenerationRequest.for_task(
                "ti2v-5B",
                prompt="Cherry blossoms fall on a quiet temple courtyard, golden hour",
                seed=42,
            ),
        )
        q.claim_next(db, me.holder)
        q.update_progress(
            db, running.id, me.holder, step=18, total=50, phase="sampling", eta_s=412.0
        )
        for prompt in QUEUED_PROMPTS:
            q.enqueue(db, GenerationRequest.for_task("ti2v-5B", prompt=prompt, seed=-1))
        install_tiny_checkpoint(db, paths.models / "Wan2.2-TI2V-5B-tiny", checkpoint_python)
    finally:
        release_lease(db, me)  # the screenshot window shows the queue without running it
        db.close()
    preview = paths.cache / "previews" / "demo_preview.png"
    preview.parent.mkdir(parents=True, exist_ok=True)
    _write_preview(preview)
    return {"videos": videos, "running_job": running.id, "preview": str(preview)}


def _small_size(task: str) -> str:
    return "1280*704" if task == "ti2v-5B" else "1280*720"


def _write_preview(path: Path) -> None:
    import numpy as np

    path.parent.mkdir(parents=True, exist_ok=True)
    from PIL import Image

    frame = synthetic_video(5, frames=1)[:, 0]
    Image.fromarray(((frame.transpose(1, 2, 0) + 1) * 127.5).astype(np.uint8)).save(path)


def pump(app, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def _first_run_shot(app, window, path: Path) -> Path:
    """Wait for the guide (shown by itself: nothing is installed), let it fill in, save it."""
    end = time.monotonic() + 20
    while window.first_run is None and time.monotonic() < end:
        pump(app, 0.1)
    if window.first_run is None:
        raise SystemExit("the first-run guide did not appear (is a model installed in --home?)")
    end = time.monotonic() + 20
    while len(window.first_run.fits) < 3 and time.monotonic() < end:
        pump(app, 0.1)
    pump(app, 1.0)
    window.grab().save(str(path))
    return path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", type=Path)
    p.add_argument("--home", type=Path, help="demo data dir (default: a new temporary folder)")
    p.add_argument("--size", default="1280x820")
    p.add_argument("--lang", nargs="+", default=["en", "zh_CN"])
    p.add_argument("--theme", default="system", choices=("system", "light", "dark"))
    p.add_argument(
        "--checkpoint-python",
        default=sys.executable,
        help="a Python with torch for the tiny checkpoint (default: this one)",
    )
    p.add_argument(
        "--probe", action="store_true", help="probe this machine instead of a fixed RTX 4090"
    )
    p.add_argument(
        "--first-run",
        action="store_true",
        help="only the first-run guide, on an empty data dir (no model installed)",
    )
    args = p.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    home = args.home or Path(tempfile.mkdtemp(prefix="wan22-demo-"))
    os.environ["WAN22_HOME"] = str(home)
    demo = {} if args.first_run else seed_demo(home, args.checkpoint_python)

    from PySide6.QtWidgets import QApplication

    from wan22_desktop.gui.app import app_icon
    from wan22_desktop.gui.context import AppContext
    from wan22_desktop.gui.i18n import install_translators, remove_translators
    from wan22_desktop.gui.runner_controller import RunnerController
    from wan22_desktop.gui.theme import apply_theme
    from wan22_desktop.runtime.hardware import GPU, Hardware

    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setWindowIcon(app_icon())
    apply_theme(app, args.theme)
    hardware = (
        None
        if args.probe
        else Hardware(
            gpus=(GPU(0, "NVIDIA GeForce RTX 4090", 24.0, 22.8, (8, 9)),),
            ram_total_gib=64.0,
            ram_available_gib=51.0,
            cpu_count=16,
        )
    )
    width, height = (int(v) for v in args.size.lower().split("x"))
    args.out.mkdir(parents=True, exist_ok=True)
    saved = []
    for lang in args.lang:
        translators = install_translators(app, lang)
        from wan22_desktop.gui.main_window import MainWindow

        ctx = AppContext.open(str(home), hardware=hardware)
        window = MainWindow(ctx, icon=app.windowIcon())
        window.resize(width, height)
        window.show()
        ctx.runner = RunnerController(ctx, start=False)
        window.attach_runner(ctx.runner)
        pump(app, 0.3)
        if args.first_run:
            saved.append(_first_run_shot(app, window, args.out / f"{lang}_first_run.png"))
            window.close()
            ctx.close()
            remove_translators(app, translators)
            continue
        generate = window.view("generate")
        if hasattr(generate, "prompt"):
            generate.prompt.setPlainText(DEMO_PROMPTS[0][1] if lang == "en" else DEMO_PROMPTS[2][1])
            generate.refresh_preview()
        for key in window.keys:
            if key == "player" and demo["videos"]:
                ctx.events.sig_play_requested.emit(demo["videos"][0])
            window.show_view(key)
            if key == "queue":
                ctx.runner.sig_job_progress.emit(
                    demo["running_job"],
                    {
                        "step": 21,
                        "total": 50,
                        "phase": "sampling",
                        "eta_s": 371.0,
                        "preview_path": demo["preview"],
                    },
                )
            pump(app, 1.0)
            path = args.out / f"{lang}_{key}.png"
            window.grab().save(str(path))
            saved.append(path)
        window.close()
        ctx.close()
        remove_translators(app, translators)
    for path in saved:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
