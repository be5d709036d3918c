"""Forward time of our WanDiT against diffusers' WanTransformer3DModel, same weights, same run.

Prints both medians, the ratio ours/diffusers (target ≤ 1.0), achieved GFLOP/s from an explicit
FLOP count, and the max relative difference of the outputs as a sanity check. Also, in the same
run, our DiT with its blocks compiled (``torch.compile`` through inductor's CPU backend, as the
plan's ``compile`` switch does) against eager: the ratio compiled/eager (target ≤ 1.0); the one-off
compile time is reported apart. ``--no-compile`` skips it.

    python benchmarks/bench_dit.py [--runs 5] [--threads N] [--frames 4 --height 64 --width 64]
    python benchmarks/bench_dit.py --load-ram   # peak RSS of load_dit relative to the weights size
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from wan22_desktop.engine.wan.convert_diffusers import diffusers_config, dit_official_to_diffusers  # noqa: E402
from wan22_desktop.engine.wan.dit import WanDiT  # noqa: E402
from wan22_desktop.engine.wan.dit_config import DiTConfig, forward_flops  # noqa: E402


def timed(fn, runs: int) -> tuple[list[float], list[float]]:
    """Wall and process-CPU seconds per run. CPU time is steadier on a shared machine."""
    fn()  # warm-up (allocator, thread pools), not counted
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return wall, cpu


# VmHWM (peak resident set of this process image; Linux). ru_maxrss would be inherited from
# the parent across exec and hide the child's own peak.
_LOAD_CHILD = """
import sys, torch
sys.path.insert(0, {root!r})
from wan22_desktop.engine.wan.dit_io import load_dit
def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
dtype = None if {dtype!r} == "none" else getattr(torch, {dtype!r})
before = hwm()
model = load_dit({folder!r}, dtype=dtype)
touched = sum(float(p.sum()) for p in model.parameters())  # fault in lazily mapped pages
print(before, hwm(), sum(p.numel() * p.element_size() for p in model.parameters()))
"""


def measure_load_ram(layers: int, dim: int) -> None:
    """Peak RSS growth of load_dit in a fresh process, against the loaded weights' bytes."""
    from wan22_desktop.engine.wan.dit_io import save_dit

    cfg = DiTConfig(
        model_type="t2v", dim=dim, ffn_dim=4 * dim, num_heads=dim // 128, num_layers=layers
    )
    with tempfile.TemporaryDirectory() as tmp:
        with torch.device("meta"):
            meta = WanDiT(cfg)
        state = {k: torch.randn(v.shape) * 0.02 for k, v in meta.state_dict().items()}
        save_dit(state, cfg, Path(tmp), max_shard_bytes=128 * 1024**2)
        stored = sum(v.numel() * 4 for v in state.values())
        del state
        shards = len(list(Path(tmp).glob("*.safetensors")))
        print(
            f"checkpoint: dim {dim}, layers {layers}, {stored / 2**20:.0f} MiB fp32 in {shards} shards"
        )
        root = str(Path(__file__).resolve().parents[1])
        for dtype in ("none", "bfloat16"):
            code = _LOAD_CHILD.format(root=root, dtype=dtype, folder=tmp)
            out = subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            )
            before, after, loaded = (int(v) for v in out.stdout.split())
            print(
                f"load dtype {dtype:8s}: peak RSS growth {(after - before) / 2**20:7.0f} MiB = "
                f"{(after - before) / loaded:.2f} x the loaded weights ({loaded / 2**20:.0f} MiB)"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--frames", type=int, default=4)
    parser.add_argument("--height", type=int, default=64)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--dim", type=int, default=256)
    parser.add_argument("--heads", type=int, default=2)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument(
        "--no-compile", action="store_true", help="skip the compiled-vs-eager comparison"
    )
    parser.add_argument(
        "--load-ram",
        action="store_true",
        help="measure load_dit peak memory instead of forward time",
    )
    args = parser.parse_args()
    if args.load_ram:
        measure_load_ram(layers=8, dim=1024)
        return 0

    from diffusers import WanTransformer3DModel

    torch.set_num_threads(args.threads)
    cfg = DiTConfig(
        model_type="t2v",
        in_dim=16,
        out_dim=16,
        dim=args.dim,
        ffn_dim=4 * args.dim,
        num_heads=args.heads,
        num_layers=args.layers,
    )
    torch.manual_seed(0)
    ours = WanDiT(cfg).eval().requires_grad_(False)
    with torch.no_grad():
        for p in ours.parameters():
            p.normal_(0, 0.02)
    theirs = WanTransformer3DModel(**diffusers_config(cfg)).eval().requires_grad_(False)
    theirs.load_state_dict(dit_official_to_diffusers(ours.state_dict()), strict=True)

    x = torch.randn(16, args.frames, args.height, args.width)
    tokens = args.frames * (args.height // 2) * (args.width // 2)
    ctx = torch.randn(120, cfg.text_dim)
    ctx_padded = torch.cat([ctx, ctx.new_zeros(cfg.text_len - ctx.shape[0], cfg.text_dim)])[None]
    t = torch.tensor([875.0])

    def run_ours() -> torch.Tensor:
        with torch.inference_mode():
            return ours([x], t, [ctx], seq_len=tokens)[0]

    def run_theirs() -> torch.Tensor:
        with torch.inference_mode():
            return theirs(x[None], t, ctx_padded, return_dict=False)[0][0]

    compiled = None
    compile_s = 0.0
    if not args.no_compile:
        import copy

        from wan22_desktop.engine.wan.compile import compile_blocks

        compiled = copy.deepcopy(ours)
        compile_blocks([compiled])
        start = time.perf_counter()
        with torch.inference_mode():
            compiled([x], t, [ctx], seq_len=tokens)  # the first call compiles
        compile_s = time.perf_counter() - start

    def run_compiled() -> torch.Tensor:
        assert compiled is not None
        with torch.inference_mode():
            return compiled([x], t, [ctx], seq_len=tokens)[0]

    # Alternate them so background load on a shared machine hits all alike.
    wall_o, cpu_o, wall_t, cpu_t, wall_c, cpu_c = [], [], [], [], [], []
    for _ in range(2):
        w, c = timed(run_ours, args.runs)
        wall_o += w
        cpu_o += c
        w, c = timed(run_theirs, args.runs)
        wall_t += w
        cpu_t += c
        if compiled is not None:
            w, c = timed(run_compiled, args.runs)
            wall_c += w
            cpu_c += c
    med = statistics.median
    ref = run_theirs()
    diff = (run_ours() - ref).abs().max() / ref.abs().max()
    flops = forward_flops(cfg, tokens)
    print(
        f"config: dim {cfg.dim}, heads {cfg.num_heads}x{cfg.head_dim}, layers {cfg.num_layers}, "
        f"ffn {cfg.ffn_dim}, tokens {tokens} (latent 16x{args.frames}x{args.height}x{args.width}), "
        f"text {cfg.text_len}x{cfg.text_dim}, fp32, device cpu, threads {args.threads}"
    )
    print(f"forward FLOPs (matmuls): {flops / 1e9:.2f} GFLOP")
    for name, wall, cpu in (("ours", wall_o, cpu_o), ("diffusers", wall_t, cpu_t)):
        print(
            f"{name:9s} wall median {med(wall) * 1e3:8.1f} ms ({flops / med(wall) / 1e9:5.1f} GFLOP/s)"
            f"  cpu median {med(cpu) * 1e3:8.1f} ms  wall runs {[round(v * 1e3) for v in wall]}"
        )
    print(
        f"ratio ours/diffusers: wall {med(wall_o) / med(wall_t):.3f}, "
        f"cpu {med(cpu_o) / med(cpu_t):.3f}  (target <= 1.0)"
    )
    print(f"max |ours - diffusers| / max |diffusers|: {diff.item():.2e}")
    if compiled is not None:
        eager = run_ours()
        cdiff = (run_compiled() - eager).abs().max() / eager.abs().max()
        print(
            f"compiled  wall median {med(wall_c) * 1e3:8.1f} ms  cpu median {med(cpu_c) * 1e3:8.1f} ms"
            f"  wall runs {[round(v * 1e3) for v in wall_c]}  (first call, compiling: {compile_s:.1f} s)"
        )
        print(
            f"ratio compiled/eager: wall {med(wall_c) / med(wall_o):.3f}, "
            f"cpu {med(cpu_c) / med(cpu_o):.3f}  (target <= 1.0)"
        )
        print(f"max |compiled - eager| / max |eager|: {cdiff.item():.2e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
