"""``wan22 doctor``: what this machine has and what the app sees, for bug reports and set-up.

Every probe is isolated: a missing or broken torch, keyring or flash-attn is reported, never a
crash, because doctor is what a user runs when something is wrong.
"""

from __future__ import annotations

import argparse
import importlib
import platform
import shutil
import sys
from pathlib import Path
from typing import Any

from wan22_desktop import __version__
from wan22_desktop.logs import LOG_FILE_NAME
from wan22_desktop.model_layout import check_layout
from wan22_desktop.paths import AppPaths, app_paths
from wan22_desktop.runtime.cuda_wheel import cuda_wheel_hint, gpu_names, query_nvidia_smi


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "doctor",
        help="show paths, versions, GPUs, disk space and installed models",
        description="Report what Wan22 Desktop sees on this machine (add --json for a dict).",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from wan22_desktop.commands.queue import json_text
    from wan22_desktop.terminal_text import escape_control

    report = gather(app_paths(args.home))
    if args.json:
        print(json_text(report))
    else:  # paths and model folders are user text: no control characters reach the terminal
        print(escape_control(format_report(report), keep_newlines=True))
    return 0


# ---------------------------------------------------------------------------- probes


def gather(base: AppPaths) -> dict[str, Any]:
    """The whole report as plain JSON-able data."""
    paths, settings_error = _effective(base)
    torch_info, gpus = probe_torch()
    nvidia_smi = query_nvidia_smi()
    return {
        "wan22_desktop": __version__,
        "paths": {
            "data": str(paths.data),
            "outputs": str(paths.outputs),
            "models": str(paths.models),
            "logs": str(paths.logs),
            "cache": str(paths.cache),
            "settings_file": str(paths.settings_file),
            "database": str(paths.database),
            "log_file": str(paths.logs / LOG_FILE_NAME),
        },
        "settings_error": settings_error,
        "python": {
            "version": platform.python_version(),
            "executable": sys.executable,
            "platform": platform.platform(),
        },
        "torch": torch_info,
        "worker_env": probe_worker_env(paths.data),
        "gpus": gpus,
        "nvidia_driver": {"gpus": gpu_names(nvidia_smi), "smi": nvidia_smi},
        "cuda_wheel_hint": torch_wheel_hint(torch_info, nvidia_smi),
        "pyside6": _module_version("PySide6"),
        "flash_attn": _module_version("flash_attn"),
        "flash_attn_3": _module_version("flash_attn_interface"),
        "sageattention": _module_version("sageattention"),
        "keyring_backend": probe_keyring(),
        "disk_free_bytes": {
            "outputs": free_bytes(paths.outputs),
            "models": free_bytes(paths.models),
        },
        "models": find_models(paths.models),
        "app_files": probe_app_files(),
    }


def probe_worker_env(data: Path) -> dict[str, Any]:
    """The bundle's worker venv (ADR 0023): where it is and whether ``wan22 runtime setup`` ran."""
    from wan22_desktop.frozen import SETUP_HINT, is_frozen, worker_env_ready, worker_venv

    frozen = is_frozen()
    ready = worker_env_ready(data)
    return {
        "bundle": frozen,
        "venv": str(worker_venv(data)),
        "ready": ready,
        "hint": SETUP_HINT if frozen and not ready else None,
    }


def probe_app_files() -> dict[str, Any]:
    """The shipped translations and icons (a non-editable install that lost them shows here), and
    whether this user's menus have the desktop entry."""
    from wan22_desktop import desktop_entry
    from wan22_desktop.resources import shipped_report

    report: dict[str, Any] = dict(shipped_report())
    report["desktop_entry"] = (
        desktop_entry.installed_entry(desktop_entry.xdg_data_home())
        if sys.platform.startswith("linux")
        else None
    )
    return report


def _effective(base: AppPaths) -> tuple[AppPaths, str | None]:
    """Paths with the user's folder settings; a broken settings file is reported, not fatal."""
    from wan22_desktop.errors import Wan22Error
    from wan22_desktop.settings import Settings, effective_paths

    try:
        return effective_paths(base, Settings.load(base)), None
    except Wan22Error as err:
        return base, err.message


def probe_torch() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """torch version, CUDA build and visible GPUs; ``installed: False`` when torch is missing."""
    try:
        import torch
    except Exception as exc:  # noqa: BLE001 - ImportError, or a broken install raising anything
        return {"installed": False, "error": f"{type(exc).__name__}: {exc}"}, []
    info: dict[str, Any] = {
        "installed": True,
        "version": torch.__version__,
        "cuda_build": torch.version.cuda,
        "hip_build": getattr(torch.version, "hip", None),
        "cuda_available": False,
    }
    gpus: list[dict[str, Any]] = []
    try:
        info["cuda_available"] = bool(torch.cuda.is_available())
        for i in range(torch.cuda.device_count() if info["cuda_available"] else 0):
            props = torch.cuda.get_device_properties(i)
            gpus.append(
                {
                    "index": i,
                    "name": props.name,
                    "vram_bytes": int(props.total_memory),
                    "compute_capability": f"{props.major}.{props.minor}",
                }
            )
    except Exception as exc:  # noqa: BLE001 - a broken driver must not hide the rest of the report
        info["cuda_error"] = f"{type(exc).__name__}: {exc}"
    return info, gpus


def torch_wheel_hint(torch_info: dict[str, Any], nvidia_smi: str | None) -> str | None:
    """The pip command that installs the CUDA torch this driver runs, when torch is CPU-only (or
    missing) and ``nvidia-smi`` answered; None otherwise. ROCm builds are left alone."""
    if torch_info.get("hip_build"):
        return None
    return cuda_wheel_hint(
        nvidia_smi, torch_info.get("version"), torch_info.get("cuda_build"), sys.executable
    )


def _module_version(name: str) -> dict[str, Any]:
    try:
        module = importlib.import_module(name)
    except Exception as exc:  # noqa: BLE001 - flash-attn raises all sorts without CUDA
        return {"importable": False, "error": f"{type(exc).__name__}: {exc}".splitlines()[0]}
    return {"importable": True, "version": getattr(module, "__version__", "unknown")}


def probe_keyring() -> str:
    try:
        import keyring

        backend = keyring.get_keyring()
    except Exception as exc:  # noqa: BLE001
        return f"unavailable ({type(exc).__name__}: {exc})"
    return f"{type(backend).__module__}.{type(backend).__name__}"


def free_bytes(path: Path) -> int | None:
    """Free space where ``path`` is or will be (its nearest existing parent)."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            try:
                return shutil.disk_usage(candidate).free
            except OSError:
                return None
    return None


def find_models(models_dir: Path) -> list[dict[str, Any]]:
    """Checkpoint folders one or two levels below the models dir (``<repo>`` or ``<org>/<repo>``)."""
    found: list[dict[str, Any]] = []
    for child in _subfolders(models_dir):
        folders = (
            [child]
            if _looks_like_checkpoint(child)
            else [g for g in _subfolders(child) if _looks_like_checkpoint(g)]
        )
        for folder in folders:
            report = check_layout(folder)
            found.append(
                {
                    "path": str(folder),
                    "task": report.task,
                    "ok": report.ok,
                    "size_bytes": report.total_bytes,
                    "problems": [str(p) for p in report.problems],
                    "summary": report.summary(),
                }
            )
    return found


def _subfolders(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError:
        return []


def _looks_like_checkpoint(folder: Path) -> bool:
    """A DiT config, an expert folder or a weights file: worth a layout check (even if partial)."""
    if (
        (folder / "config.json").is_file()
        or (folder / "high_noise_model").is_dir()
        or (folder / "low_noise_model").is_dir()
    ):
        return True
    return any(folder.glob("*.pth")) or any(folder.glob("*.safetensors"))


# ---------------------------------------------------------------------------- text output


def format_report(r: dict[str, Any]) -> str:
    lines = [f"Wan22 Desktop {r['wan22_desktop']}", "", "Paths:"]
    lines += [f"  {k:<14}{v}" for k, v in r["paths"].items()]
    if r["settings_error"]:
        lines.append(f"  settings problem: {r['settings_error']}")
    py = r["python"]
    lines += [
        "",
        "Software:",
        f"  python        {py['version']} ({py['executable']})",
        f"  platform      {py['platform']}",
    ]
    t = r["torch"]
    if t["installed"]:
        build = (
            f"CUDA {t['cuda_build']}"
            if t["cuda_build"]
            else (f"ROCm {t['hip_build']}" if t.get("hip_build") else "CPU-only build")
        )
        lines.append(f"  torch         {t['version']} ({build})")
        if t.get("cuda_error"):
            lines.append(f"  cuda error    {t['cuda_error']}")
    else:
        lines.append(f"  torch         not usable: {t['error']}")
    w = r.get("worker_env") or {}
    if w.get("bundle"):
        state = "ready" if w["ready"] else f"not set up: {w['hint']}"
        lines.append(f"  worker env    {state} ({w['venv']})")
    lines.append(f"  PySide6       {_fmt_module(r['pyside6'])}")
    lines.append(f"  flash-attn    {_fmt_module(r['flash_attn'])}")
    lines.append(f"  flash-attn 3  {_fmt_module(r['flash_attn_3'])}")
    lines.append(f"  sageattention {_fmt_module(r['sageattention'])}")
    lines.append(f"  keyring       {r['keyring_backend']}")
    lines += ["", "GPUs:"]
    if r["gpus"]:
        lines += [
            f"  [{g['index']}] {g['name']}, {g['vram_bytes'] / 2**30:.1f} GiB, compute {g['compute_capability']}"
            for g in r["gpus"]
        ]
    else:
        lines.append("  none - CPU only")
    driver_gpus = r.get("nvidia_driver", {}).get("gpus") or []
    if r.get("cuda_wheel_hint"):
        lines += [
            f"  NVIDIA driver sees: {', '.join(driver_gpus)}, but torch cannot use it",
            "  install the matching CUDA build of torch into this environment with:",
            f"    {r['cuda_wheel_hint']}",
        ]
    lines += ["", "Free disk:"]
    for k, v in r["disk_free_bytes"].items():
        lines.append(f"  {k:<14}{'unknown' if v is None else f'{v / 1e9:.1f} GB'}")
    lines += ["", "Models:"]
    if r["models"]:
        lines += [f"  {'ok ' if m['ok'] else 'BAD'} {m['summary']}" for m in r["models"]]
    else:
        lines.append(f"  none found in {r['paths']['models']}")
    files = r["app_files"]
    entry = files["desktop_entry"]
    lines += [
        "",
        "App files:",
        f"  folder        {files['folder']}",
        f"  translations  {', '.join(files['translations']) or 'none (the window is English only)'}",
        f"  missing       {', '.join(files['missing']) or 'none'}",
    ]
    if sys.platform.startswith("linux"):
        menu = (
            f"{entry['path']} (starts {entry['exec']})"
            if entry
            else "not installed (wan22-desktop --install-desktop-entry)"
        )
        lines.append(f"  menu entry    {menu}")
    return "\n".join(lines)


def _fmt_module(info: dict[str, Any]) -> str:
    return info["version"] if info["importable"] else f"not available ({info['error']})"
