"""Ulysses scaling: one DiT forward on N sequence-parallel ranks against the same DiT in one
process, measured in the same run with the same total compute (threads on CPU, 1 GPU vs N).

Prints the single-process median, the N-rank median (slowest rank per run), the speedup and
parallel efficiency, the all-to-all time per forward (same shapes, timed alone) and the
max abs difference of the outputs as a sanity check.

    python benchmarks/bench_parallel.py [--nproc 2] [--runs 5] [--threads-per-rank 1]
        [--dim 256 --heads 4 --layers 4 --frames 4 --lat-h 48 --lat-w 48]   (latent sizes)

On CPU the ranks use gloo; with N visible GPUs, nccl and one GPU per rank (bf16 autocast, as
the official recipe), the reference on GPU 0.
"""

from __future__ import annotations

import argparse
import functools
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.distributed as dist

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from wan22_desktop.engine.wan import parallel  # noqa: E402
from wan22_desktop.engine.wan.dit import WanDiT  # noqa: E402
from wan22_desktop.engine.wan.dit_config import tiny_dit_config  # noqa: E402


def build(args: argparse.Namespace, device: torch.device) -> tuple[WanDiT, dict]:
    """The same random DiT and inputs in every process (fixed seeds)."""
    cfg = tiny_dit_config(
        "t2v-A14B",
        dim=args.dim,
        num_heads=args.heads,
        ffn_dim=4 * args.dim,
        num_layers=args.layers,
        text_dim=64,
        freq_dim=64,
        text_len=64,
    )
    torch.manual_seed(0)
    model = WanDiT(cfg).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.02)
    g = torch.Generator().manual_seed(1)
    lat = (args.frames, args.lat_h, args.lat_w)
    tokens = lat[0] * lat[1] * lat[2] // 4
    case = dict(
        x=[torch.randn(16, *lat, generator=g).to(device)],
        t=torch.tensor([900]),
        context=[torch.randn(20, 64, generator=g).to(device)],
        seq_len=tokens,
    )
    return model.to(device), case


def forward(model: torch.nn.Module, case: dict, device: torch.device) -> torch.Tensor:
    with (
        torch.no_grad(),
        torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"),
    ):
        out = model(case["x"], case["t"], case["context"], case["seq_len"])[0]
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return out


def timed(fn, runs: int) -> list[float]:
    fn()  # warm-up (allocator, thread pools, kernels), not counted
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def rank_main(r: int, port: int, args: argparse.Namespace, out: str) -> None:
    os.environ.update(
        RANK=str(r),
        LOCAL_RANK=str(r),
        WORLD_SIZE=str(args.nproc),
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
        TORCHELASTIC_USE_AGENT_STORE="True",
    )
    torch.set_num_threads(args.threads_per_rank)
    ctx = parallel.init_distributed()
    try:
        model, case = build(args, ctx.device)
        parallel.apply_sequence_parallel(model)

        def step() -> None:
            parallel.barrier()
            forward(model, case, ctx.device)

        mine = torch.tensor(timed(step, args.runs), dtype=torch.float64)
        dist.all_reduce(mine, op=dist.ReduceOp.MAX)  # a forward lasts as long as its slowest rank
        # The 4 all-to-alls per block (q, k, v out; attention back) at their real shapes.
        heads, hd = model.config.num_heads, model.config.head_dim
        seq = parallel.padded_len(case["seq_len"], ctx.world_size)
        dtype = torch.bfloat16 if ctx.device.type == "cuda" else torch.float32
        q = torch.randn(1, seq // ctx.world_size, heads, hd, device=ctx.device, dtype=dtype)

        def exchange() -> None:
            parallel.barrier()
            for _ in range(model.config.num_layers):
                for _ in range(3):
                    parallel.all_to_all(q, scatter_dim=2, gather_dim=1)
                parallel.all_to_all(q.view(1, seq, heads // ctx.world_size, hd), 1, 2)
            if ctx.device.type == "cuda":
                torch.cuda.synchronize(ctx.device)

        comm = torch.tensor(timed(exchange, args.runs), dtype=torch.float64)
        dist.all_reduce(comm, op=dist.ReduceOp.MAX)
        result = forward(model, case, ctx.device)
        if r == 0:
            torch.save(
                {
                    "times": mine,
                    "comm": comm,
                    "out": result.cpu(),
                    "device": str(ctx.device),
                    "backend": ctx.backend,
                    "bytes": 4 * model.config.num_layers * q.numel() * q.element_size(),
                },
                out,
            )
    finally:
        parallel.shutdown_distributed()


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--nproc", type=int, default=2)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--threads-per-rank", type=int, default=1)
    ap.add_argument("--dim", type=int, default=256)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--frames", type=int, default=4)
    ap.add_argument("--lat-h", type=int, default=48)
    ap.add_argument("--lat-w", type=int, default=48)
    args = ap.parse_args()

    gpu = torch.cuda.is_available() and torch.cuda.device_count() >= args.nproc
    device = torch.device("cuda", 0) if gpu else torch.device("cpu")
    torch.set_num_threads(args.nproc * args.threads_per_rank)  # same compute as all the ranks
    model, case = build(args, device)
    run_once = functools.partial(forward, model, case, device)
    single = timed(run_once, args.runs)
    one_rank = None
    if not gpu:  # one rank's share of the machine: is the work really split N ways?
        torch.set_num_threads(args.threads_per_rank)
        one_rank = statistics.median(timed(run_once, args.runs))
    ref = forward(model, case, device).cpu()
    del model, run_once

    store = dist.TCPStore("127.0.0.1", 0, args.nproc, is_master=True, wait_for_workers=False)
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "rank0.pt")
        procs = [
            mp.get_context("spawn").Process(target=rank_main, args=(r, store.port, args, out))
            for r in range(args.nproc)
        ]
        for p in procs:
            p.start()
        for p in procs:
            p.join()
        if any(p.exitcode for p in procs):
            sys.exit(f"a rank failed: exit codes {[p.exitcode for p in procs]}")
        res = torch.load(out, weights_only=True)

    t1, tn = statistics.median(single), statistics.median(res["times"].tolist())
    comm = statistics.median(res["comm"].tolist())
    speedup = t1 / tn
    print(
        f"DiT dim {args.dim}, {args.heads} heads, {args.layers} layers, {case['seq_len']} tokens "
        f"(latent {args.frames}x{args.lat_h}x{args.lat_w}), {res['backend']} on "
        f"{res['device'].split(':')[0]}, {args.runs} runs"
    )
    where = "1 GPU" if gpu else f"{args.nproc * args.threads_per_rank} threads"
    print(f"single process ({where}): {t1 * 1e3:9.1f} ms")
    if one_rank is not None:
        print(
            f"single process ({args.threads_per_rank} thread(s)): {one_rank * 1e3:9.1f} ms   "
            f"(ideal {args.nproc}-rank time {one_rank / args.nproc * 1e3:.1f} ms)"
        )
    print(
        f"{args.nproc} ranks (Ulysses):      {tn * 1e3:9.1f} ms   speedup {speedup:.2f}x, "
        f"efficiency {speedup / args.nproc:.0%}"
    )
    print(
        f"all-to-all alone:          {comm * 1e3:9.1f} ms   ({comm / tn:.0%} of the {args.nproc}-rank "
        f"forward, {res['bytes'] / 2**20:.1f} MiB through all-to-all per rank)"
    )
    print(f"max |out - single|: {(res['out'] - ref).abs().max().item():.2e}")


if __name__ == "__main__":
    main()
