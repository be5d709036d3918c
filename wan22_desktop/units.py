"""Byte counts as people read them: one formatter for the CLI, the GUI, the engine and the
downloader, so the same size reads the same everywhere."""

from __future__ import annotations

_DECIMAL = ("B", "KB", "MB", "GB", "TB")
_BINARY = ("B", "KiB", "MiB", "GiB", "TiB")


def format_bytes(n: float, *, binary: bool = False) -> str:
    """``n`` bytes in the largest unit under 1000 (``binary``: under 1024, KiB/MiB/...), one
    decimal except for whole bytes. Decimal units count disks and downloads; binary ones count
    memory, as the tools people compare with (nvidia-smi, free) do."""
    step, units = (1024, _BINARY) if binary else (1000, _DECIMAL)
    value = float(n)
    for unit in units[:-1]:
        if abs(value) < step:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= step
    return f"{value:.1f} {units[-1]}"
