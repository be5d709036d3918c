"""``wan22 models``: list, download, verify, import, scan and remove model folders."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

if TYPE_CHECKING:
    from datetime import datetime

    from wan22_desktop.db.database import Database

from wan22_desktop.errors import UserInputError


class InstalledRow(TypedDict):
    """One installed model folder as ``models list`` shows it (and ``--json`` prints it)."""

    model: str
    path: str
    origin: str
    tasks: str
    size: int
    verified_at: datetime | None


def open_db(args: argparse.Namespace) -> tuple[Database, Path]:
    """The app DB (created and migrated by db.database) and the models folder from the settings."""
    from wan22_desktop.db.database import open_app_database
    from wan22_desktop.paths import app_paths
    from wan22_desktop.settings import effective_paths

    paths = app_paths(args.home).ensure()
    return open_app_database(paths), effective_paths(paths, _settings(args)).models


def open_sessions(args: argparse.Namespace) -> tuple[sessionmaker, Path]:
    db, models = open_db(args)
    return sessionmaker(db.engine, expire_on_commit=False), models


def _settings(args: argparse.Namespace):
    from wan22_desktop.paths import app_paths
    from wan22_desktop.settings import Settings

    return Settings.load(app_paths(args.home))


def _emit(args, obj: dict) -> None:
    print(json.dumps(obj, default=str), flush=True)


# ---- list


def cmd_list(args: argparse.Namespace) -> int:
    from wan22_desktop.db.downloads import InstalledModel
    from wan22_desktop.db.installed import here
    from wan22_desktop.downloader.catalog import MODELS
    from wan22_desktop.downloader.manager import DownloadManager
    from wan22_desktop.downloader.progress import human_bytes

    db, models_dir = open_db(args)
    sessions = sessionmaker(db.engine, expire_on_commit=False)
    mgr = DownloadManager(db, models_dir)
    mgr.recover()
    with sessions() as s:
        installed = s.scalars(select(InstalledModel).where(here(s))).all()
        inst: list[InstalledRow] = [
            {
                "model": i.model_id,
                "path": i.path,
                "origin": i.origin,
                "tasks": i.tasks,
                "size": i.size_bytes,
                "verified_at": i.verified_at,
            }
            for i in installed
        ]
    downloads = [d.__dict__ for d in mgr.list()]
    if args.json:
        _emit(
            args,
            {
                "catalog": [
                    {
                        "key": m.key,
                        "repo_id": m.repo_id,
                        "title": m.title,
                        "tasks": list(m.tasks),
                        "optional": m.optional,
                        "approx_size": m.fallback_size,
                    }
                    for m in MODELS
                ],
                "installed": inst,
                "downloads": downloads,
            },
        )
        return 0
    print("Models:")
    for m in MODELS:
        copies = [i for i in inst if i["model"] == m.model_id]
        state = (
            "installed: " + ", ".join(i["path"] for i in copies)
            if copies
            else f"~{human_bytes(m.fallback_size)}"
        )
        print(f"  {m.key:16} {m.repo_id:30} {state}")
    if downloads:
        print("Downloads:")
        for d in downloads:
            pct = 100 * d["done_bytes"] / d["total_bytes"] if d["total_bytes"] else 0
            print(
                f"  #{d['id']:<3} {d['model_id']:30} {d['source']:10} {d['status']:10} {pct:5.1f}%"
                + (f"  {d['error_message']}" if d["error_message"] else "")
            )
    return 0


# ---- download


class ProgressBar:
    """One self-rewriting line on stderr: total bar, bytes, speed, ETA and the current file."""

    def __init__(self, stream=sys.stderr, width: int = 30) -> None:
        self.stream, self.width, self.shown = stream, width, False

    def __call__(self, e) -> None:
        from wan22_desktop.downloader.progress import human_bytes, human_eta

        if e.kind == "listed":
            print(f"{e.message}, {human_bytes(e.total)}", file=self.stream, flush=True)
            return
        if e.kind not in ("progress", "file_done"):
            return
        frac = min(1.0, e.done / e.total) if e.total else 0.0
        bar = "#" * int(frac * self.width)
        line = (
            f"\r[{bar:<{self.width}}] {frac * 100:5.1f}% {human_bytes(e.done)}/{human_bytes(e.total)} "
            f"{human_bytes(e.speed)}/s ETA {human_eta(e.eta)} {(e.path or '')[-40:]:40}"
        )
        self.stream.write(line)
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()


def cmd_download(args: argparse.Namespace) -> int:
    from wan22_desktop.downloader.manager import DownloadManager
    from wan22_desktop.downloader.progress import DownloadEvent

    db, models_dir = open_db(args)
    settings = _settings(args)
    source = args.source or settings.get("download_source")
    endpoint = args.endpoint or (settings.get("hf_endpoint") or None if source == "hf" else None)
    fallback = settings.get("auto_fallback_source") if args.fallback is None else args.fallback
    bar = ProgressBar()

    def on_event(e: DownloadEvent) -> None:
        if args.json:
            _emit(args, {"event": e.kind, **e.to_json()})
        else:
            bar(e)

    from wan22_desktop.downloader.transfer import QUARANTINE_DIR
    from wan22_desktop.paths import app_paths

    mgr = DownloadManager(
        db,
        models_dir,
        on_event=on_event,
        auto_fallback=fallback,
        quarantine=app_paths(args.home).cache / QUARANTINE_DIR,
    )
    mgr.recover()
    did = mgr.create(
        args.model,
        source=source,
        endpoint=endpoint,
        revision=args.revision,
        target_dir=Path(args.target) if args.target else None,
    )
    t = mgr.start(did)
    try:
        while t.is_alive():
            t.join(0.2)
    except KeyboardInterrupt:
        mgr.pause(did)
        t.join()
    bar.close()
    info = mgr.get(did)
    if info.status == "done":
        if args.json:
            _emit(args, {"event": "result", "id": did, "status": "done", "path": info.target_dir})
        else:
            print(f"done: {info.target_dir}")
        return 0
    if info.status in ("paused", "cancelled"):
        print(f"{info.status}; run the same command again to continue", file=sys.stderr)
        return 130
    from wan22_desktop.errors import OperationError

    raise OperationError(info.error_message or f"download {info.status}", info.error_hint)


# ---- verify / import / scan / rm


def _manifest_dir(args: argparse.Namespace) -> Path:
    from wan22_desktop.downloader.manifest import MANIFEST_DIR
    from wan22_desktop.paths import app_paths

    return app_paths(args.home).data / MANIFEST_DIR


def _is_lora_folder(root: Path) -> bool:
    from wan22_desktop.downloader.catalog import LORA_FOLDER

    return root.parent.name == LORA_FOLDER


def cmd_verify(args: argparse.Namespace) -> int:
    from wan22_desktop.downloader.verify import resolve_target, verify_folder

    sessions, _ = open_sessions(args)
    with sessions() as s, s.begin():
        root = resolve_target(s, args.target)
        report = verify_folder(
            s,
            root,
            layout=not _is_lora_folder(root),  # LoRA files have no checkpoint layout
            manifest_dir=_manifest_dir(args),
            deep=args.deep,
        )
    if args.json:
        _emit(args, report.to_json())
    else:
        against = (
            f"{report.checked} files checked against {report.hashes} hashes"
            if report.hashes
            else "no hashes known for this folder; headers checked"
            + ("" if args.deep else " (add --deep to read every tensor)")
        )
        if args.deep:
            against += f"; {report.deep_checked} weight files read in full"
        print(f"{root}: {'OK' if report.ok else 'PROBLEMS'} ({against})")
        if report.layout:
            print(f"  layout: {report.layout}")
        for p in report.problems:
            print(f"  - {p}")
    return 0 if report.ok else 1


def cmd_import(args: argparse.Namespace) -> int:
    from wan22_desktop.downloader.local_scan import import_folder

    if args.comfyui:
        return _import_comfyui(args)
    if not args.path:
        raise UserInputError(
            "no folder given", "wan22 models import FOLDER, or --comfyui COMFYUI_FOLDER"
        )
    sessions, _ = open_sessions(args)
    with sessions() as s, s.begin():
        result = import_folder(
            s, Path(args.path), model=args.model, manifest_dir=_manifest_dir(args)
        )
    if args.json:
        _emit(args, {"path": str(Path(args.path).resolve()), "task": result.task, "ok": result.ok})
    else:
        print(f"registered {Path(args.path).resolve()} ({result.task}) in place")
    return 0


def _import_comfyui(args: argparse.Namespace, folder: str | None = None) -> int:
    """Adopt a ComfyUI install's files and remember the folder (Settings ``comfyui_dir``)."""
    from wan22_desktop.downloader.local_scan import adopt_comfyui

    sessions, models = open_sessions(args)
    where = Path(folder or args.comfyui).expanduser().resolve()
    with sessions() as s, s.begin():
        result = adopt_comfyui(s, where, models, tokenizer=getattr(args, "tokenizer", None))
    if folder is None:
        settings = _settings(args)
        settings.set("comfyui_dir", str(where))
        settings.save()
    if args.json:
        rows = [{"task": t, "path": str(p)} for t, p in result.registered]
        _emit(args, {"comfyui": str(where), "registered": rows, "notes": list(result.notes)})
    else:
        for task, path in result.registered:
            print(f"registered {task} from ComfyUI files in {where} in place ({path})")
        for note in result.notes:
            print(f"note: {note}", file=sys.stderr)
    if not result.registered:
        raise UserInputError(
            f"no complete Wan2.2 model in {where}",
            "a set needs the diffusion model file(s), the VAE and the umT5 encoder; see the notes",
        )
    return 0


def cmd_scan(args: argparse.Namespace) -> int:
    from wan22_desktop.downloader.local_scan import find_copies, import_folder

    sessions, _ = open_sessions(args)
    found = find_copies()
    rows = []
    for c in found:
        row = {"model": c.repo_id, "path": str(c.path), "origin": c.origin, "registered": False}
        if args.register:
            try:
                with sessions() as s, s.begin():
                    import_folder(
                        s,
                        c.path,
                        model=c.repo_id,
                        origin=c.origin,
                        manifest_dir=_manifest_dir(args),
                    )
                row["registered"] = True
            except UserInputError as err:
                row["problem"] = err.message
        rows.append(row)
    comfy_dir = _settings(args).get("comfyui_dir")
    if comfy_dir and args.register:  # the remembered ComfyUI install: pick up new files
        from wan22_desktop.downloader.local_scan import adopt_comfyui

        _, models = open_sessions(args)
        try:
            with sessions() as s, s.begin():
                adopted = adopt_comfyui(s, Path(comfy_dir), models)
            for task, path in adopted.registered:
                rows.append(
                    {"model": task, "path": str(path), "origin": "comfyui", "registered": True}
                )
            if not adopted.registered:
                raise UserInputError("; ".join(adopted.notes) or "no complete Wan2.2 model")
        except UserInputError as err:
            rows.append(
                {
                    "model": "comfyui",
                    "path": comfy_dir,
                    "origin": "comfyui",
                    "registered": False,
                    "problem": err.message,
                }
            )
    if args.json:
        _emit(args, {"found": rows})
    else:
        if not rows:
            print("no copies of the official repos in the Hugging Face or ModelScope caches")
        for r in rows:
            print(
                f"{r['model']:30} {r['origin']:17} {r['path']}"
                + ("  registered" if r["registered"] else "")
                + (f"  ({r['problem']})" if "problem" in r else "")
            )
        if rows and not args.register:
            print("run `wan22 models scan --register` to use them in place")
    return 0


def _remove_model_set_file(folder: Path) -> None:
    """An adopted ComfyUI set's folder holds only our ``wan22-model-set.json``: remove it (the
    weights stay where ComfyUI has them)."""
    from wan22_desktop.foreign_layout import MODEL_SET_FILE

    if (folder / MODEL_SET_FILE).is_file() and [p.name for p in folder.iterdir()] == [
        MODEL_SET_FILE
    ]:
        (folder / MODEL_SET_FILE).unlink()
        folder.rmdir()


def cmd_rm(args: argparse.Namespace) -> int:
    from wan22_desktop.db.downloads import Download, InstalledModel
    from wan22_desktop.db.installed import here
    from wan22_desktop.downloader.catalog import get_model

    m = get_model(args.model)
    sessions, _ = open_sessions(args)
    removed = []
    with sessions() as s, s.begin():
        for row in s.scalars(
            select(InstalledModel).where(InstalledModel.model_id == m.model_id, here(s))
        ).all():
            # Only folders we downloaded are deleted; imported and cache folders are the user's.
            if row.origin == "download" and not args.keep_files:
                shutil.rmtree(row.path, ignore_errors=True)
            _remove_model_set_file(Path(row.path))  # ComfyUI files: only our list of them goes
            removed.append(
                {
                    "path": row.path,
                    "origin": row.origin,
                    "deleted": row.origin == "download" and not args.keep_files,
                }
            )
            s.delete(row)
        for d in s.scalars(select(Download).where(Download.model_id == m.model_id)).all():
            if d.status != "done" and not args.keep_files:
                shutil.rmtree(d.target_dir, ignore_errors=True)  # partial downloads
            s.delete(d)
    if args.json:
        _emit(args, {"model": m.repo_id, "removed": removed})
    else:
        for r in removed:
            print(("deleted " if r["deleted"] else "unregistered ") + r["path"])
        if not removed:
            print(f"{m.key} was not installed")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("models", help="download, import and check model folders")
    sub = p.add_subparsers(dest="models_command", metavar="ACTION", required=True)

    sub.add_parser("list", help="catalogue, installed folders and downloads").set_defaults(
        func=cmd_list
    )

    d = sub.add_parser("download", help="download a model (continues where it stopped)")
    d.add_argument("model", help="ti2v-5B, t2v-A14B, i2v-A14B, qwen-… or a repo id")
    d.add_argument(
        "--source", choices=("hf", "modelscope"), help="default: the download_source setting"
    )
    d.add_argument("--endpoint", help="mirror URL (Hugging Face mirror or ModelScope site)")
    d.add_argument("--revision", help="branch, tag or commit (default: the source's main branch)")
    d.add_argument("--target", help="folder to download into (default: the app's models folder)")
    d.add_argument(
        "--fallback",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="if the source fails, try the other one (default: the auto_fallback_source setting)",
    )
    d.set_defaults(func=cmd_download)

    v = sub.add_parser(
        "verify", help="check sizes, hashes and layout of an installed model or a folder"
    )
    v.add_argument("target", metavar="MODEL|PATH")
    v.add_argument(
        "--deep",
        action="store_true",
        help="also read every weight in full (dtype, shape, NaN/inf): slow, for folders with no "
        "recorded hashes",
    )
    v.set_defaults(func=cmd_verify)

    i = sub.add_parser(
        "import",
        help="register a model folder in place (no copy): official or diffusers layout, "
        "or a ComfyUI install's files (--comfyui)",
    )
    i.add_argument("path", nargs="?", help="the model folder")
    i.add_argument("--model", help="which catalogue model it is (default: detected)")
    i.add_argument(
        "--comfyui",
        metavar="DIR",
        help="a ComfyUI install: its Wan2.2 diffusion model, VAE and umT5 files are paired and "
        "used in place; the folder is remembered and scanned again by `models scan`",
    )
    i.add_argument(
        "--tokenizer",
        metavar="DIR",
        help="with --comfyui: a umT5 tokenizer folder (tokenizer.json); default: the one of an "
        "installed model",
    )
    i.set_defaults(func=cmd_import)

    sc = sub.add_parser(
        "scan", help="find the official repos in the Hugging Face and ModelScope caches"
    )
    sc.add_argument("--register", action="store_true", help="register the complete ones in place")
    sc.set_defaults(func=cmd_scan)

    r = sub.add_parser("rm", help="remove a model (deletes only folders this app downloaded)")
    r.add_argument("model")
    r.add_argument("--keep-files", action="store_true", help="only unregister")
    r.set_defaults(func=cmd_rm)
