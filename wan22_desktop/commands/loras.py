"""``wan22 loras``: the LoRA library: the app's folder plus folders adopted in place.

``list`` shows every LoRA with what its keys and shapes say it is for (family, task, expert);
``import FILE`` copies a file into the app's folder, ``import FOLDER`` adopts a folder in place
(a ComfyUI ``models/loras``; remembered in settings.json); ``scan`` looks for ComfyUI LoRA folders
in the usual places; ``rm NAME`` deletes from the app's folder, ``rm FOLDER`` forgets an adopted
folder (its files are never touched). Torch-free: headers are read as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from wan22_desktop.errors import UserInputError
from wan22_desktop.lora_library import (
    FOLDERS_STATE_KEY,
    import_file,
    library_folder,
    remove_file,
    scan,
)


def _context(args: argparse.Namespace) -> tuple[Any, Path]:
    from wan22_desktop.paths import app_paths
    from wan22_desktop.settings import Settings

    paths = app_paths(args.home).ensure()
    return Settings.load(paths), library_folder(paths.data)


def adopted_folders(settings: Any) -> list[Path]:
    return [Path(p) for p in settings.get_state(FOLDERS_STATE_KEY, []) or []]


def all_folders(settings: Any, library: Path) -> list[Path]:
    return [library, *adopted_folders(settings)]


def _print(args: argparse.Namespace, obj: Any) -> None:
    print(json.dumps(obj, default=str, indent=None if args.json else 2), flush=True)


def _describe(item: dict[str, Any]) -> str:
    if not item.get("usable"):
        return f"not usable: {item.get('reason')}"
    rank = f"rank {item['rank']}" if item.get("rank") else "full deltas"
    expert = {"both": "both experts", "high": "high-noise", "low": "low-noise"}[item["expert"]]
    pair = f", pair of {Path(item['pair']).name}" if item.get("pair") else ""
    return (
        f"{item['family']} {item['task']}, {expert}, {item['format']}, {rank}, "
        f"{item['blocks']} blocks{pair}"
    )


def cmd_list(args: argparse.Namespace) -> int:
    settings, library = _context(args)
    folders = all_folders(settings, library)
    items = scan(folders)
    if args.json:
        _print(args, {"folders": [str(f) for f in folders], "loras": items})
        return 0
    from wan22_desktop.downloader.progress import human_bytes

    print(f"app folder: {library}")
    for folder in folders[1:]:
        state = "" if folder.is_dir() else "  (missing)"
        print(f"adopted:    {folder}{state}")
    if not items:
        print("no LoRAs yet: `wan22 loras import FILE|FOLDER`")
    for item in items:
        size = human_bytes(item["size"]) if "size" in item else "?"
        print(f"  {item['name']}  [{size}]  {_describe(item)}")
        print(f"      {item['path']}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    settings, library = _context(args)
    src = Path(os.path.abspath(os.path.expanduser(args.path)))
    if src.is_dir():
        if src == library or src in adopted_folders(settings):
            print(f"{src} is already in the library")
            return 0
        found = scan([src])
        settings.set_state(FOLDERS_STATE_KEY, [*map(str, adopted_folders(settings)), str(src)])
        settings.save()
        usable = sum(1 for i in found if i.get("usable"))
        if args.json:
            _print(args, {"adopted": str(src), "loras": found})
        else:
            print(f"adopted {src} in place: {usable} usable LoRA(s) of {len(found)} file(s)")
        return 0
    if not src.exists():
        raise UserInputError(f"no such file or folder: {src}", "check the path")
    dest = import_file(src, library, move=args.move)
    item = scan([library])
    info = next((i for i in item if i["path"] == str(dest)), {"path": str(dest)})
    if args.json:
        _print(args, info)
    else:
        print(f"{'moved' if args.move else 'copied'} to {dest}: {_describe(info)}")
    return 0


# Where ComfyUI keeps LoRAs in common installs (portable, desktop app, git checkout).
_COMFY_GUESSES = (
    "ComfyUI/models/loras",
    "comfy/ComfyUI/models/loras",
    "Documents/ComfyUI/models/loras",
    "ComfyUI_windows_portable/ComfyUI/models/loras",
    "AppData/Local/Programs/@comfyorgcomfyui-electron/resources/ComfyUI/models/loras",
)


def comfyui_folders(home: Path | None = None) -> list[Path]:
    home = home or Path.home()
    found = [home / g for g in _COMFY_GUESSES]
    env = os.environ.get("COMFYUI_PATH")
    if env:
        found.insert(0, Path(env) / "models" / "loras")
    return [f for f in found if f.is_dir()]


def cmd_scan(args: argparse.Namespace) -> int:
    settings, library = _context(args)
    folders = [Path(os.path.abspath(p)) for p in args.folders] or comfyui_folders()
    known = set(all_folders(settings, library))
    report: list[dict[str, Any]] = []
    for folder in folders:
        if not folder.is_dir():
            raise UserInputError(f"{folder} is not a folder", "give a folder of LoRA files")
        items = scan([folder])
        report.append({"folder": str(folder), "adopted": folder in known, "loras": items})
    if args.adopt:
        new = [r["folder"] for r in report if not r["adopted"]]
        settings.set_state(FOLDERS_STATE_KEY, [*map(str, adopted_folders(settings)), *new])
        settings.save()
        for r in report:
            r["adopted"] = True
    if args.json:
        _print(args, report)
        return 0
    if not report:
        print("no ComfyUI LoRA folder found; name one: `wan22 loras scan FOLDER`")
    for r in report:
        usable = sum(1 for i in r["loras"] if i.get("usable"))
        state = "adopted" if r["adopted"] else "not adopted (add --adopt)"
        print(f"{r['folder']}: {usable} Wan LoRA(s) of {len(r['loras'])} file(s), {state}")
        for item in r["loras"]:
            print(f"  {item['name']}: {_describe(item)}")
    return 0


def cmd_rm(args: argparse.Namespace) -> int:
    settings, library = _context(args)
    target = args.name
    as_folder = Path(os.path.abspath(os.path.expanduser(target)))
    if as_folder in adopted_folders(settings):
        left = [str(f) for f in adopted_folders(settings) if f != as_folder]
        settings.set_state(FOLDERS_STATE_KEY, left)
        settings.save()
        print(f"forgot {as_folder} (its files were not touched)")
        return 0
    removed = remove_file(target, library)
    print(f"deleted {removed}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("loras", help="the LoRA library: list, import, scan, remove")
    sub = p.add_subparsers(dest="loras_command", metavar="ACTION", required=True)
    sub.add_parser(
        "list", help="every LoRA with its family, task and expert (from its keys and shapes)"
    ).set_defaults(func=cmd_list)
    i = sub.add_parser(
        "import", help="copy a LoRA file into the app's folder, or adopt a folder in place"
    )
    i.add_argument("path", help="a .safetensors file, or a folder (e.g. ComfyUI/models/loras)")
    i.add_argument("--move", action="store_true", help="move the file instead of copying it")
    i.set_defaults(func=cmd_import)
    s = sub.add_parser("scan", help="look for ComfyUI LoRA folders (or the folders named)")
    s.add_argument("folders", nargs="*", help="folders to look at (default: usual ComfyUI places)")
    s.add_argument("--adopt", action="store_true", help="adopt the folders found, in place")
    s.set_defaults(func=cmd_scan)
    r = sub.add_parser(
        "rm", help="delete a LoRA from the app's folder, or forget an adopted folder"
    )
    r.add_argument("name", help="a file name in the app's folder, or an adopted folder")
    r.set_defaults(func=cmd_rm)
