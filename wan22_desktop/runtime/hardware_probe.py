"""The torch side of the hardware probe; run as a module by ``hardware.probe_in_subprocess``."""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from wan22_desktop.runtime.hardware import (
    ATTENTION_KERNELS,
    FAKE_GPUS_ENV,
    GIB,
    GPU,
    Hardware,
    _disk,
    _ram,
    fake_gpus,
)


def check_kernel(backend: str) -> tuple[str | None, str | None]:
    """(version, None) when the optional kernel ``backend`` really imports here, else (None, why).

    A real import, not ``find_spec``: a wheel built for another torch or CUDA is found but
    raises (ImportError, OSError on a missing .so, RuntimeError from a CUDA check) on import."""
    kernel = ATTENTION_KERNELS[backend]
    try:
        module = importlib.import_module(kernel.module)
        getattr(module, kernel.function)
    except Exception as exc:  # noqa: BLE001 - whatever a broken build raises, kept as text
        text = str(exc).strip().splitlines()
        return None, f"{type(exc).__name__}: {text[0] if text else ''}"[:300]
    version = getattr(module, "__version__", None)
    if not isinstance(version, str):
        try:
            version = importlib.metadata.version(kernel.module)
        except Exception:  # noqa: BLE001 - a module without distribution metadata
            version = ""
    return version, None


def attention_kernels() -> tuple[dict[str, str], dict[str, str]]:
    """(backend -> version of each kernel that imports, backend -> why not for the others)."""
    usable: dict[str, str] = {}
    errors: dict[str, str] = {}
    for backend in ATTENTION_KERNELS:
        version, error = check_kernel(backend)
        if error is None:
            usable[backend] = version or ""
        else:
            errors[backend] = error
    return usable, errors


def flash_attn_version(usable: dict[str, str]) -> str | None:
    """The old one-word summary ("fa3", "fa2" or None) that earlier records carried."""
    return "fa3" if "flash3" in usable else "fa2" if "flash2" in usable else None


def probe(folders: Iterable[Path] = ()) -> Hardware:
    """Probe in this process (imports torch; initialises CUDA if present)."""
    total, avail = _ram()
    base: dict[str, Any] = dict(
        ram_total_gib=total,
        ram_available_gib=avail,
        cpu_count=os.cpu_count() or 1,
        disk_free_gib=_disk(folders),
    )
    try:
        import torch
    except Exception as exc:  # noqa: BLE001
        return Hardware(**base, error=f"torch is not importable: {exc}")
    gpus: list[GPU] = []
    error = None
    try:
        if spec := os.environ.get(FAKE_GPUS_ENV):  # tests and dry runs only (hardware.fake_gpus)
            gpus = list(fake_gpus(spec, os.environ.get("CUDA_VISIBLE_DEVICES")))
        elif torch.cuda.is_available():
            for i in range(torch.cuda.device_count()):
                props = torch.cuda.get_device_properties(i)
                free, tot = torch.cuda.mem_get_info(i)
                gpus.append(GPU(i, props.name, tot / GIB, free / GIB, (props.major, props.minor)))
    except Exception as exc:  # noqa: BLE001 - broken driver: report, do not crash
        error = f"CUDA probe failed: {exc}"
    # Kernels are checked only where they could run: importing them on a CPU-only build fails.
    usable, kernel_errors = attention_kernels() if gpus else ({}, {})
    return Hardware(
        **base,
        gpus=tuple(gpus),
        flash_attn=flash_attn_version(usable),
        attention_kernels=usable,
        attention_errors=kernel_errors,
        torch_version=torch.__version__,
        cuda_version=torch.version.cuda,
        error=error,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Probe GPUs, RAM and disk")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("folders", nargs="*", type=Path)
    args = parser.parse_args(argv)
    hw = probe(args.folders)
    if args.json:
        print(json.dumps(hw.to_dict()))
    else:
        for key, value in hw.to_dict().items():
            print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
