"""Block streaming against the resident DiT, same weights, same run.

Prints the forward time resident and streamed through N slots, their ratio, and max |Δ| of the
outputs (0.0: the streamed math is the resident math). On CUDA it also times one block's
host-to-device copy and one block's compute alone, and reports how much of the copy time the
prefetch hid: overlap = (resident + copies - streamed) / copies (1.0: fully hidden).

    python benchmarks/bench_streaming.py                      # CPU, a small DiT
    python benchmarks/bench_streaming.py --device cuda         # A14B-width blocks, bf16, 480p tokens
    python benchmarks/bench_streaming.py --device cuda --slots 3 --layers 10 --tokens 75600
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from wan22_desktop.engine.wan.attention import use_backend  # noqa: E402
from wan22_desktop.engine.wan.dit import WanDiT  # noqa: E402
from wan22_desktop.engine.wan.dit_config import preset  # noqa: E402
from wan22_desktop.engine.wan.streaming import BlockStreamer, HostCopy, SlotPool  # noqa: E402


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _time(fn, device: torch.device, runs: int) -> float:
    fn()  # warm-up: allocator, kernels, the first fill of the slots
    _sync(device)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--slots", type=int, default=2)
    ap.add_argument("--layers", type=int, default=None)
    ap.add_argument("--res", choices=("480p", "720p"), default="480p", help="CUDA latent size")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    cuda = device.type == "cuda"
    base = preset("t2v-A14B")
    if cuda:  # real block width (0.65 GiB a block in bf16)
        cfg = base.replace(num_layers=args.layers or 8)
        dtype = torch.bfloat16
        fhw = (21, 60, 104) if args.res == "480p" else (21, 90, 160)  # 32,760 / 75,600 tokens
    else:
        cfg = base.replace(
            dim=256, ffn_dim=1024, num_heads=4, text_dim=256, num_layers=args.layers or 8
        )
        dtype, fhw = torch.float32, (4, 16, 64)  # 1,024 tokens
    torch.manual_seed(0)
    dit = WanDiT(cfg).eval().requires_grad_(False).to(dtype)
    x = [torch.randn(cfg.in_dim, *fhw, device=device)]
    seq = fhw[0] * (fhw[1] // 2) * (fhw[2] // 2)
    ctx = [torch.randn(64, cfg.text_dim, device=device)]
    t = torch.tensor([900], device=device)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=cuda)

    def forward() -> torch.Tensor:
        with torch.no_grad(), autocast, use_backend("sdpa"):
            return dit(x, t=t, context=ctx, seq_len=seq)[0]

    # Resident: the whole model on the device.
    whole = HostCopy(dit, device)
    whole.upload()
    resident_s = _time(forward, device, args.runs)
    want = forward()
    whole.release()

    pool = SlotPool(device, args.slots)
    streamer = BlockStreamer(dit, pool)
    streamer.attach()
    streamed_s = _time(forward, device, args.runs)
    got = forward()
    streamer.detach()
    block_gib = streamer.block_bytes / 2**30
    print(
        f"{device.type}: {cfg.num_layers} blocks of {block_gib:.3f} GiB ({dtype}), "
        f"{seq} tokens, {args.slots} slots"
    )
    ratio = streamed_s / resident_s
    print(f"resident {resident_s:.3f} s  streamed {streamed_s:.3f} s  ratio {ratio:.3f}")
    print(f"max |streamed - resident| = {float((got - want).abs().max()):.3g}")

    if cuda:
        block = dit.blocks[0]
        host = [p for p in block.parameters()]
        dev = [torch.empty_like(p, device=device) for p in host]

        def copy_block() -> None:
            for d, h in zip(dev, host):
                d.copy_(h, non_blocking=True)

        copy_s = _time(copy_block, device, 5)
        copies = copy_s * cfg.num_layers
        print(
            f"one block H2D {copy_s * 1e3:.1f} ms ({streamer.block_bytes / copy_s / 1e9:.1f} GB/s, "
            f"pinned={host[0].is_pinned()}); compute per block "
            f"{resident_s / cfg.num_layers * 1e3:.1f} ms"
        )
        hidden = (resident_s + copies - streamed_s) / copies
        print(f"copies per forward {copies:.3f} s; overlap (copy time hidden) {hidden:.2f}")
    print(f"slot memory {pool.nbytes / 2**30:.3f} GiB for {args.slots} slots")
    pool.release()


if __name__ == "__main__":
    main()
