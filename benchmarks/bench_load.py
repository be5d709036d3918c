"""Peak host RAM while loading a ~1 GB official-format DiT folder, against the file size.

Writes a mid-size DiT (``--dim 1536 --layers 7``: ~273 M fp32 parameters, ~1.1 GB in 4 safetensors
shards + index + config.json, TI2V layout) into a temp folder, then loads it in a fresh
subprocess per contender and prints the peak RSS increase over the process's RSS just before
loading, the ratio to the file size (target <= 1.2x), and the time:

* ``ours``: ``checkpoints.load_experts`` (meta build + ``assign=True`` from mmapped safetensors);
* ``ours-bf16``: the same with the official ``--convert_model_dtype`` cast to bf16 while reading;
* ``naive``: the reference, the plain way (and how upstream loads its T5): build the model on
  the CPU (initialised weights), read the whole state dict (``safetensors.torch.load_file`` of
  every shard), ``load_state_dict`` (a copy).

mmapped tensors are paged in lazily, so each contender also reports the peak after reading every
weight once (what the first forward pass does): the honest figure for "loaded".

    PYTHONPATH=. python benchmarks/bench_load.py [--dim 1536 --layers 7] [--keep DIR]
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
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MODES = ("ours", "ours-bf16", "naive")


def _status_kb(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_peak() -> bool:
    """Linux: writing 5 to clear_refs resets VmHWM, so the peak is that of the load alone."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _rss_bytes() -> int:
    kb = _status_kb("VmRSS")
    if kb is not None:
        return kb * 1024
    import psutil  # not on Linux: fall back

    return psutil.Process().memory_info().rss


def _peak_bytes() -> int:
    kb = _status_kb("VmHWM")
    if kb is not None:
        return kb * 1024
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def child(mode: str, folder: Path) -> dict:
    import torch

    from wan22_desktop.engine.wan.checkpoints import load_experts
    from wan22_desktop.engine.wan.dit import WanDiT
    from wan22_desktop.engine.wan.dit_io import read_dit_config

    from safetensors.torch import load_file

    torch.set_num_threads(1)
    _warm_up()  # torch imports a lot lazily on the first meta build / assign: not loading time
    reset = _reset_peak()
    base = _rss_bytes()
    t0 = time.perf_counter()
    if mode == "naive":
        model = WanDiT(read_dit_config(folder))
        state: dict[str, torch.Tensor] = {}
        for shard in sorted(folder.glob("diffusion_pytorch_model-*.safetensors")):
            state.update(load_file(str(shard)))
        model.load_state_dict(state)
        del state
    else:
        dtype = torch.bfloat16 if mode == "ours-bf16" else None
        (model,) = load_experts(folder, "ti2v-5B", dtype=dtype)
    load_s = time.perf_counter() - t0
    peak_load = _peak_bytes()
    t0 = time.perf_counter()
    with torch.no_grad():
        checksum = sum(float(p.float().sum()) for p in model.parameters())
    touch_s = time.perf_counter() - t0
    return {"mode": mode, "base": base, "peak_load": peak_load, "peak_touched": _peak_bytes(),
            "load_s": load_s, "touch_s": touch_s, "checksum": checksum, "peak_reset": reset,
            "params": sum(p.numel() for p in model.parameters()),
            "dtype": str(next(model.parameters()).dtype)}


def _warm_up() -> None:
    from wan22_desktop.engine.wan.checkpoints import load_experts
    from wan22_desktop.engine.wan.tiny import make_tiny_checkpoint

    with tempfile.TemporaryDirectory() as tmp:
        load_experts(make_tiny_checkpoint("ti2v-5B", Path(tmp) / "tiny"), "ti2v-5B")


def write_folder(folder: Path, dim: int, layers: int, shard_mb: int) -> int:
    import torch

    from wan22_desktop.engine.wan.dit import WanDiT
    from wan22_desktop.engine.wan.dit_config import preset
    from wan22_desktop.engine.wan.dit_io import save_dit

    cfg = preset("ti2v-5B").replace(dim=dim, ffn_dim=4 * dim, num_heads=dim // 128, num_layers=layers)
    with torch.device("meta"):
        shapes = {k: v.shape for k, v in WanDiT(cfg).state_dict().items()}
    gen = torch.Generator().manual_seed(0)
    state = {k: torch.randn(s, generator=gen) * 0.02 for k, s in shapes.items()}
    save_dit(state, cfg, folder, max_shard_bytes=shard_mb * 2**20)
    return sum(p.stat().st_size for p in folder.glob("diffusion_pytorch_model-*.safetensors"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dim", type=int, default=1536, help="DiT width (multiple of 128)")
    parser.add_argument("--layers", type=int, default=7)
    parser.add_argument("--shard-mb", type=int, default=300)
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--keep", help="write the folder here and keep it (default: a temp dir)")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], Path(args.child[1]))))
        return

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.keep or tmp) / "dit"
        t0 = time.perf_counter()
        size = write_folder(folder, args.dim, args.layers, args.shard_mb)
        shards = len(list(folder.glob("diffusion_pytorch_model-*.safetensors")))
        print(f"wrote {size / 1e9:.3f} GB in {shards} shards ({time.perf_counter() - t0:.1f} s): {folder}")
        print(f"{'mode':10} {'dtype':15} {'load s':>7} {'peak+ at load':>14} {'ratio':>6} "
              f"{'peak+ touched':>14} {'ratio':>6} {'touch s':>8}")
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
        for mode in args.modes.split(","):
            out = subprocess.run([sys.executable, __file__, "--child", mode, str(folder)], env=env,
                                 capture_output=True, text=True, check=True).stdout
            r = json.loads(out.strip().splitlines()[-1])
            load_gb, touched_gb = (r["peak_load"] - r["base"]) / 1e9, (r["peak_touched"] - r["base"]) / 1e9
            print(f"{mode:10} {r['dtype']:15} {r['load_s']:7.2f} {load_gb:11.3f} GB {load_gb * 1e9 / size:5.2f}x "
                  f"{touched_gb:11.3f} GB {touched_gb * 1e9 / size:5.2f}x {r['touch_s']:8.2f}"
                  + ("" if r["peak_reset"] else "  (peak not resettable: includes start-up)"))
        print("ratio = peak RSS increase / file size; target for ours: <= 1.2x (bf16: about 0.5x + "
              "the shard being read)")


if __name__ == "__main__":
    main()
