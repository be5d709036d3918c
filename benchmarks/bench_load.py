"""Peak host RAM while loading ~1 GB official-format checkpoints, against the file size.

Writes a mid-size DiT folder (``--dim 1536 --layers 7``: ~290 M fp32 parameters, 1.16 GB in 4
safetensors shards + index + config.json, TI2V layout) and a umT5 ``.pth`` (the official layout
and vocabulary at width 1024, 20 blocks: 1.0 GB bf16), then loads each in a fresh subprocess per
contender and prints the peak RSS increase over the process's RSS just before loading, its ratio
to the file size (target <= 1.2x), and the time:

* ``dit-ours``: ``checkpoints.load_experts`` (meta build + ``assign=True`` from mmapped safetensors);
* ``dit-ours-bf16``: the same with the official ``--convert_model_dtype`` cast to bf16 while reading;
* ``dit-naive``: the reference, the plain way: build the model on the CPU (initialised weights),
  read the whole state dict (``safetensors.torch.load_file`` of every shard), ``load_state_dict``;
* ``t5-ours``: ``t5_io`` (``torch.load(mmap=True, weights_only=True)`` + meta build + assign);
* ``t5-naive``: the reference, as upstream loads its T5: build in bf16, ``torch.load`` without
  mmap, ``load_state_dict`` (a copy).

mmapped tensors are paged in lazily, so each contender also reports the peak after reading every
weight once (what the first forward pass does): the honest figure for "loaded". Files are read
from the page cache (just written): times are warm-cache times, not disk times.

    PYTHONPATH=. python benchmarks/bench_load.py [--dim 1536 --layers 7 --t5-layers 20] [--keep DIR]
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
MODES = ("dit-ours", "dit-ours-bf16", "dit-naive", "t5-ours", "t5-naive")
T5_NAME = "models_t5_umt5-xxl-enc-bf16.pth"


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


def _load(mode: str, folder: Path):
    import torch

    from wan22_desktop.engine.wan.checkpoints import load_experts
    from wan22_desktop.engine.wan.dit import WanDiT
    from wan22_desktop.engine.wan.dit_io import read_dit_config
    from wan22_desktop.engine.wan.t5 import T5Encoder
    from wan22_desktop.engine.wan.t5_io import read_t5_state_dict, t5_encoder_from_state_dict

    if mode == "dit-naive":
        from safetensors.torch import load_file

        model = WanDiT(read_dit_config(folder / "dit"))
        state: dict[str, torch.Tensor] = {}
        for shard in sorted((folder / "dit").glob("diffusion_pytorch_model-*.safetensors")):
            state.update(load_file(str(shard)))
        model.load_state_dict(state)
        return model
    if mode in ("dit-ours", "dit-ours-bf16"):
        dtype = torch.bfloat16 if mode == "dit-ours-bf16" else None
        return load_experts(folder / "dit", "ti2v-5B", dtype=dtype)[0]
    if mode == "t5-naive":  # what upstream does: build in bf16, torch.load (no mmap), copy in
        state = torch.load(folder / T5_NAME, map_location="cpu", weights_only=True)
        from wan22_desktop.engine.wan.t5_config import t5_config_from_state_dict

        torch.set_default_dtype(torch.bfloat16)  # built in bf16 directly, as upstream does
        try:
            model = T5Encoder(t5_config_from_state_dict(state))
        finally:
            torch.set_default_dtype(torch.float32)
        model.load_state_dict(state)
        return model
    if mode == "t5-ours":
        return t5_encoder_from_state_dict(read_t5_state_dict(folder / T5_NAME))
    raise ValueError(mode)


def child(mode: str, folder: Path) -> dict:
    import torch

    torch.set_num_threads(1)
    _warm_up()  # torch imports a lot lazily on the first meta build / assign: not loading time
    reset = _reset_peak()
    base = _rss_bytes()
    t0 = time.perf_counter()
    model = _load(mode, folder)
    load_s = time.perf_counter() - t0
    peak_load = _peak_bytes()
    t0 = time.perf_counter()
    with torch.no_grad():
        # In 1 M-element chunks, so the check itself needs no fp32 copy of a bf16 weight.
        checksum = sum(
            float(c.float().sum()) for p in model.parameters() for c in p.reshape(-1).split(1 << 20)
        )
    touch_s = time.perf_counter() - t0
    return {
        "mode": mode,
        "base": base,
        "peak_load": peak_load,
        "peak_touched": _peak_bytes(),
        "load_s": load_s,
        "touch_s": touch_s,
        "checksum": checksum,
        "peak_reset": reset,
        "params": sum(p.numel() for p in model.parameters()),
        "dtype": str(next(model.parameters()).dtype),
    }


def _warm_up() -> None:
    from wan22_desktop.engine.wan.checkpoints import load_experts, load_text_encoder_for_task
    from wan22_desktop.engine.wan.tiny import make_tiny_checkpoint

    with tempfile.TemporaryDirectory() as tmp:
        root = make_tiny_checkpoint("ti2v-5B", Path(tmp) / "tiny")
        load_experts(root, "ti2v-5B")
        load_text_encoder_for_task(root, "ti2v-5B")


def write_dit(folder: Path, dim: int, layers: int, shard_mb: int) -> int:
    import torch

    from wan22_desktop.engine.wan.dit import WanDiT
    from wan22_desktop.engine.wan.dit_config import preset
    from wan22_desktop.engine.wan.dit_io import save_dit

    cfg = preset("ti2v-5B").replace(
        dim=dim, ffn_dim=4 * dim, num_heads=dim // 128, num_layers=layers
    )
    with torch.device("meta"):
        shapes = {k: v.shape for k, v in WanDiT(cfg).state_dict().items()}
    gen = torch.Generator().manual_seed(0)
    state = {k: torch.randn(s, generator=gen) * 0.02 for k, s in shapes.items()}
    save_dit(state, cfg, folder, max_shard_bytes=shard_mb * 2**20)
    return sum(p.stat().st_size for p in folder.glob("diffusion_pytorch_model-*.safetensors"))


def write_t5(path: Path, layers: int) -> int:
    """The official umT5 layout and vocabulary at width 1024 (bf16, like the real file)."""
    import torch

    from wan22_desktop.engine.wan.t5 import T5Encoder
    from wan22_desktop.engine.wan.t5_config import T5Config
    from wan22_desktop.engine.wan.t5_io import save_t5_encoder

    cfg = T5Config(
        vocab_size=256384, dim=1024, dim_attn=1024, dim_ffn=2560, num_heads=16, num_layers=layers
    )
    with torch.device("meta"):
        shapes = {k: v.shape for k, v in T5Encoder(cfg).state_dict().items()}
    gen = torch.Generator().manual_seed(1)
    state = {
        k: (torch.randn(s, generator=gen) * 0.02).to(torch.bfloat16) for k, s in shapes.items()
    }
    save_t5_encoder(state, path)
    return path.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dim", type=int, default=1536, help="DiT width (multiple of 128)")
    parser.add_argument("--layers", type=int, default=7, help="DiT blocks")
    parser.add_argument("--t5-layers", type=int, default=20, help="umT5 blocks at width 1024")
    parser.add_argument("--shard-mb", type=int, default=300)
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--keep", help="write the files here and keep them (default: a temp dir)")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], Path(args.child[1]))))
        return

    modes = args.modes.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.keep or tmp)
        sizes: dict[str, int] = {}
        t0 = time.perf_counter()
        if any(m.startswith("dit") for m in modes):
            sizes["dit"] = write_dit(folder / "dit", args.dim, args.layers, args.shard_mb)
            shards = len(list((folder / "dit").glob("diffusion_pytorch_model-*.safetensors")))
            print(
                f"DiT folder: {sizes['dit'] / 1e9:.3f} GB fp32 in {shards} safetensors shards + index"
            )
        if any(m.startswith("t5") for m in modes):
            sizes["t5"] = write_t5(folder / T5_NAME, args.t5_layers)
            print(f"T5 file:    {sizes['t5'] / 1e9:.3f} GB bf16 torch.save state dict ({T5_NAME})")
        print(
            f"(written in {time.perf_counter() - t0:.1f} s, so the loads below read from the page cache)"
        )
        print(
            f"{'mode':14} {'dtype':15} {'load s':>7} {'peak+ at load':>14} {'ratio':>6} "
            f"{'peak+ touched':>14} {'ratio':>6} {'touch s':>8}"
        )
        env = dict(
            os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])
        )
        for mode in modes:
            out = subprocess.run(
                [sys.executable, __file__, "--child", mode, str(folder)],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            r = json.loads(out.strip().splitlines()[-1])
            size = sizes[mode.split("-")[0]]
            load_gb, touched_gb = (
                (r["peak_load"] - r["base"]) / 1e9,
                (r["peak_touched"] - r["base"]) / 1e9,
            )
            print(
                f"{mode:14} {r['dtype']:15} {r['load_s']:7.2f} {load_gb:11.3f} GB {load_gb * 1e9 / size:5.2f}x "
                f"{touched_gb:11.3f} GB {touched_gb * 1e9 / size:5.2f}x {r['touch_s']:8.2f}"
                + ("" if r["peak_reset"] else "  (peak not resettable: includes start-up)")
            )
        print(
            "ratio = peak RSS increase over the RSS before loading / file size; target for ours <= 1.2x"
        )


if __name__ == "__main__":
    main()
