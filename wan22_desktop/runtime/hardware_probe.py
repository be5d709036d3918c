"""The torch side of the hardware probe; run as a module by ``hardware.probe_in_subprocess``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from wan22_desktop.runtime.hardware import GIB, GPU, Hardware, _disk, _ram


def flash_attn_version() -> str | None:
    """Which flash-attention package imports here: FA3 (``flash_attn_interface``) or FA2."""
    for module, tag in (("flash_attn_interface", "fa3"), ("flash_attn", "fa2")):
        try:
            __import__(module)
            return tag
        except Exception:  # noqa: BLE001 - ImportError, or a broken CUDA build
            continue
    return None


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
        if torch.cuda.is_available():
            for i in range(torch.cuda.device_count()):
                props = torch.cuda.get_device_properties(i)
                free, tot = torch.cuda.mem_get_info(i)
                gpus.append(GPU(i, props.name, tot / GIB, free / GIB, (props.major, props.minor)))
    except Exception as exc:  # noqa: BLE001 - broken driver: report, do not crash
        error = f"CUDA probe failed: {exc}"
    return Hardware(
        **base,
        gpus=tuple(gpus),
        flash_attn=flash_attn_version() if gpus else None,
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
