"""The pip command that swaps a CPU-only torch for the CUDA build this machine's driver can run.

Pure apart from ``query_nvidia_smi`` (a subprocess): ``wan22 doctor`` and the GUI's first-run
guide print the same command, and neither imports torch (the GUI gets the torch build from the
hardware probe).
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys

INDEX_URL = "https://download.pytorch.org/whl/{tag}"

# Minimum NVIDIA driver per CUDA toolkit (GA release), Linux x86_64 and Windows, from NVIDIA's
# "CUDA Toolkit and Corresponding Driver Versions" table (CUDA Toolkit Release Notes, table 3:
# https://docs.nvidia.com/cuda/cuda-toolkit-release-notes/index.html#cuda-major-component-versions).
# The toolkit's own minimum, not the lower "minor version compatibility" floor: PyTorch's wheels
# JIT-compile PTX for new GPUs, which that floor does not cover. Newest first.
DRIVER_MINIMUMS: tuple[tuple[str, tuple[int, ...], tuple[int, ...]], ...] = (
    ("cu130", (580, 65, 6), (580, 88)),
    ("cu129", (575, 51, 3), (576, 2)),
    ("cu128", (570, 26), (570, 65)),
    ("cu126", (560, 28, 3), (560, 76)),
    ("cu124", (550, 54, 14), (551, 61)),
    ("cu121", (530, 30, 2), (531, 14)),
    ("cu118", (520, 61, 5), (520, 6)),
)

# The CUDA wheels download.pytorch.org publishes per torch minor version (its install matrix).
TORCH_CUDA_WHEELS: dict[tuple[int, int], tuple[str, ...]] = {
    (2, 4): ("cu118", "cu121", "cu124"),
    (2, 5): ("cu118", "cu121", "cu124"),
    (2, 6): ("cu118", "cu124", "cu126"),
    (2, 7): ("cu118", "cu126", "cu128"),
    (2, 8): ("cu126", "cu128", "cu129"),
    (2, 9): ("cu126", "cu128", "cu130"),
}
NVIDIA_SMI_QUERY = ("nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader")
_VERSION = re.compile(r"\b(\d{3,})\.(\d+)(?:\.(\d+))?\b")


def driver_version(text: str | None) -> tuple[int, ...] | None:
    """The driver version in ``nvidia-smi --query-gpu=name,driver_version`` output (its last
    field on the first line) or in a bare ``"550.54.14"``; None when there is none."""
    for line in (text or "").strip().splitlines():
        match = _VERSION.search(line.rsplit(",", 1)[-1])
        if match:
            return tuple(int(g) for g in match.groups() if g is not None)
    return None


def gpu_names(text: str | None) -> list[str]:
    """The GPU names in ``nvidia-smi --query-gpu=name,driver_version`` output."""
    return [
        line.rsplit(",", 1)[0].strip()
        for line in (text or "").strip().splitlines()
        if "," in line and line.rsplit(",", 1)[0].strip()
    ]


def wheel_tag(driver: tuple[int, ...], torch_version: str | None, *, windows: bool) -> str | None:
    """The newest CUDA wheel tag (``"cu128"``) published for this torch that ``driver`` runs."""
    offered = _offered(torch_version)
    for tag, linux_min, windows_min in DRIVER_MINIMUMS:
        if tag in offered and driver >= (windows_min if windows else linux_min):
            return tag
    return None


def _offered(torch_version: str | None) -> tuple[str, ...]:
    """Wheels for this torch; a version newer than the table gets the newest row's set."""
    minor = _torch_minor(torch_version)
    if minor is None or minor not in TORCH_CUDA_WHEELS:
        newest = max(TORCH_CUDA_WHEELS)
        if minor is not None and minor < min(TORCH_CUDA_WHEELS):
            return ()
        return TORCH_CUDA_WHEELS[newest]
    return TORCH_CUDA_WHEELS[minor]


def _torch_minor(version: str | None) -> tuple[int, int] | None:
    match = re.match(r"(\d+)\.(\d+)", version or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


def _public_version(version: str) -> str:
    """``"2.7.1+cpu"`` -> ``"2.7.1"``: the same release, any build."""
    return version.split("+", 1)[0].strip()


def cuda_wheel_argv(
    nvidia_smi: str | None,
    torch_version: str | None,
    torch_cuda_build: str | None,
    python_executable: str,
    *,
    windows: bool = sys.platform == "win32",
) -> list[str] | None:
    """The pip command as arguments, or None (no NVIDIA driver, torch already a CUDA build, or no
    wheel for this driver). ``torch_version`` None: torch is missing; the newest build is asked."""
    if torch_cuda_build:
        return None
    driver = driver_version(nvidia_smi)
    if driver is None:
        return None
    tag = wheel_tag(driver, torch_version, windows=windows)
    if tag is None:
        return None
    # The local label pins the build: a bare ``==2.7.1`` is already met by ``2.7.1+cpu``.
    requirement = f"torch=={_public_version(torch_version)}+{tag}" if torch_version else "torch"
    return [
        python_executable,
        "-m",
        "pip",
        "install",
        requirement,
        "--index-url",
        INDEX_URL.format(tag=tag),
    ]


def cuda_wheel_hint(
    nvidia_smi: str | None,
    torch_version: str | None,
    torch_cuda_build: str | None,
    python_executable: str,
    *,
    windows: bool = sys.platform == "win32",
) -> str | None:
    """The exact command line to paste (quoted for this platform's shell), or None."""
    argv = cuda_wheel_argv(
        nvidia_smi, torch_version, torch_cuda_build, python_executable, windows=windows
    )
    if argv is None:
        return None
    return subprocess.list2cmdline(argv) if windows else shlex.join(argv)


def query_nvidia_smi(timeout_s: float = 15.0) -> str | None:
    """``nvidia-smi``'s GPU names and driver version, or None where it is absent or fails."""
    try:
        done = subprocess.run(
            NVIDIA_SMI_QUERY, capture_output=True, text=True, timeout=timeout_s, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 and done.stdout.strip() else None
