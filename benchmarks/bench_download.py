"""Download throughput of our transfer (Range-resumable, hashed while writing, verified) against a
plain sequential urllib copy of the same file from the same local server, measured in one run.

    python benchmarks/bench_download.py [--mb 256] [--repeat 3]

Prints MB/s for both and the ratio (ours / plain). Both write to the same disk; the plain copy
neither hashes nor verifies, so the ratio is the price of "never a wrong or lost byte".
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "downloader"))

from fake_hub import FakeHub  # noqa: E402

from wan22_desktop.downloader.remote import RemoteFile  # noqa: E402
from wan22_desktop.downloader.transfer import fetch_file  # noqa: E402


def plain_copy(url: str, dest: Path) -> None:
    with urllib.request.urlopen(url) as r, dest.open("wb") as f:
        shutil.copyfileobj(r, f, 1 << 20)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=256)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench_dl_"))
    try:
        repo = work / "repo"
        repo.mkdir()
        blob = os.urandom(args.mb << 20)
        (repo / "big.safetensors").write_bytes(blob)
        sha = hashlib.sha256(blob).hexdigest()
        del blob
        with FakeHub({"o/r": repo}) as hub:
            url = f"{hub.url}/api/v1/models/o/r/repo?Revision=master&FilePath=big.safetensors"
            rf = RemoteFile("big.safetensors", args.mb << 20, url, sha256=sha)
            plain, ours = [], []
            for i in range(args.repeat):
                for name, fn, out in (
                    ("plain", lambda d: plain_copy(url, d), plain),
                    ("ours", lambda d: fetch_file(rf, d), ours),
                ):
                    dest = work / f"{name}{i}.bin"
                    t0 = time.perf_counter()
                    fn(dest)
                    out.append(time.perf_counter() - t0)
                    dest.unlink()
        best_plain, best_ours = min(plain), min(ours)
        mb = args.mb * 1.048576
        print(f"file {args.mb} MiB, best of {args.repeat}, local server 127.0.0.1")
        print(f"plain urllib copy     : {mb / best_plain:8.1f} MB/s")
        print(f"fetch_file (sha256+ok): {mb / best_ours:8.1f} MB/s")
        print(f"ratio ours/plain      : {best_plain / best_ours:8.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
