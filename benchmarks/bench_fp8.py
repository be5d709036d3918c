"""Load time and host memory of an FP8 DiT load from our cache against the original load.

A mid-size random DiT (the TI2V-5B layout at a smaller width, by default ~0.2 B parameters,
0.8 GB in fp32) is written in the official format (config.json + fp32 safetensors shards). Each
load then runs in a fresh process and touches every tensor once (what moving the model to a GPU
or a first forward does; mmapped bytes are only read when touched), reporting wall time and peak
RSS (VmHWM):

- original fp32: ``load_dit`` (zero-copy mmap of the fp32 files)
- original bf16: ``load_dit(dtype=bf16)`` (the ``convert_model_dtype`` load: one cast copy)
- fp8, first load: read fp32, quantise, write the cache
- fp8, cached: ``load_dit_fp8`` from the verified cache (mmap of the fp8 file)

The files were just written, so every load reads from the page cache (a warm disk); the ratios
printed are from this one run.

    python benchmarks/bench_fp8.py [--dim 1024] [--ffn 4096] [--layers 12] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

MODES = ("original fp32", "original bf16", "fp8 first load", "fp8 cached")


def _touch(model: torch.nn.Module) -> float:
    total = 0.0
    for t in [*model.parameters(), *model.buffers()]:
        total += float(t.view(torch.uint8).sum()) if t.dtype == torch.uint8 else float(t.sum())
    return total


def child(mode: str, folder: Path) -> None:
    from wan22_desktop.engine.wan.dit_io import load_dit
    from wan22_desktop.engine.wan.fp8_io import load_dit_fp8

    start = time.perf_counter()
    if mode == "original fp32":
        model = load_dit(folder)
    elif mode == "original bf16":
        model = load_dit(folder, dtype=torch.bfloat16)
    else:
        model = load_dit_fp8(folder, dtype=torch.bfloat16)
    _touch(model)
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "peak_rss": _peak_rss()}))


def _peak_rss() -> int:
    """This process's peak RSS in bytes: VmHWM (reset by exec, unlike ru_maxrss, which a child
    inherits from the parent that forked it)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dim", type=int, default=1024)
    ap.add_argument("--ffn", type=int, default=4096)
    ap.add_argument("--layers", type=int, default=12)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--child", nargs=2, metavar=("MODE", "FOLDER"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return

    from wan22_desktop.engine.wan.dit_config import tiny_dit_config
    from wan22_desktop.engine.wan.dit_io import save_dit
    from wan22_desktop.engine.wan.fp8_io import CACHE_NAME
    from wan22_desktop.engine.wan.tiny import random_dit

    cfg = replace(
        tiny_dit_config("ti2v-5B"),
        dim=args.dim,
        ffn_dim=args.ffn,
        num_layers=args.layers,
        num_heads=args.dim // 128,
        text_dim=args.dim,
        freq_dim=256,
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "dit"
        model = random_dit(cfg, seed=0)
        params = sum(p.numel() for p in model.parameters())
        save_dit(model, cfg, folder, max_shard_bytes=512 * 1024**2)
        del model
        fp32_bytes = sum(p.stat().st_size for p in folder.glob("*.safetensors"))
        print(
            f"random DiT: {params / 1e9:.3f} B parameters, dim {cfg.dim}, ffn {cfg.ffn_dim}, "
            f"{cfg.num_layers} layers; fp32 files {fp32_bytes / 2**30:.2f} GiB; "
            f"{args.threads} thread(s)"
        )
        env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
        results = {}
        for mode in MODES:
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--threads",
                    str(args.threads),
                    "--child",
                    mode,
                    str(folder),
                ],
                check=True,
                capture_output=True,
                text=True,
                env=env,
            ).stdout
            results[mode] = json.loads(out.strip().splitlines()[-1])
            r = results[mode]
            print(f"{mode:>15}: {r['seconds']:7.2f} s, peak RSS {r['peak_rss'] / 2**30:6.2f} GiB")
        cache = folder / CACHE_NAME
        print(f"fp8 cache file: {cache.stat().st_size / 2**30:.2f} GiB")
        cached = results["fp8 cached"]
        for ref in ("original fp32", "original bf16", "fp8 first load"):
            r = results[ref]
            print(
                f"fp8 cached / {ref}: time {cached['seconds'] / r['seconds']:.2f}, "
                f"peak RSS {cached['peak_rss'] / r['peak_rss']:.2f}"
            )


if __name__ == "__main__":
    main()
