"""CPU time of one umT5-XXL layer at full width (dim 4096, 64 heads, ffn 10240): the official
padded run (512 positions, masked) against the trimmed run over the real tokens (~128), in fp32,
bf16, and bf16 weights computed in fp32 (what ``t5_cpu`` does on a CPU without bf16 units).

Prints CPU seconds per layer per prompt, the ratios measured in this run, and the trimmed vs
padded max |d| at the real positions (0.0 expected). One thread, as the review measured.

    python benchmarks/bench_t5.py [--real 128] [--threads 1] [--repeat 1]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from wan22_desktop.engine.wan.t5 import T5Encoder  # noqa: E402
from wan22_desktop.engine.wan.t5_config import T5Config  # noqa: E402
from wan22_desktop.engine.wan.text_encoder import cpu_has_native_bf16  # noqa: E402

TEXT_LEN = 512


def _time(fn, repeat: int) -> tuple[float, torch.Tensor]:
    best = float("inf")
    out = torch.empty(0)
    for _ in range(repeat):
        start = time.process_time()
        out = fn()
        best = min(best, time.process_time() - start)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--real", type=int, default=128, help="real tokens of the prompt")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cfg = T5Config(
        vocab_size=256, dim=4096, dim_attn=4096, dim_ffn=10240, num_heads=64, num_layers=1
    )
    base = T5Encoder(cfg).eval()
    ids = torch.randint(2, 256, (1, TEXT_LEN))
    mask = torch.zeros(1, TEXT_LEN, dtype=torch.int64)
    mask[:, : args.real] = 1
    n = args.real
    print(
        f"one umT5-XXL layer, {args.threads} thread(s), {n} real of {TEXT_LEN} tokens; "
        f"CPU capability {torch.backends.cpu.get_cpu_capability()}, "
        f"native bf16: {cpu_has_native_bf16()}"
    )
    rows: dict[str, float] = {}
    with torch.no_grad():
        for label, dtype, compute in (
            ("fp32", torch.float32, None),
            ("bf16", torch.bfloat16, None),
            ("bf16 weights, fp32 compute", torch.bfloat16, torch.float32),
        ):
            model = base.to(dtype)
            padded_s, padded = _time(
                lambda m=model, c=compute: m(ids, mask, compute_dtype=c), args.repeat
            )
            trimmed_s, trimmed = _time(
                lambda m=model, c=compute: m(
                    ids[:, :n], None, compute_dtype=c, softmax_width=TEXT_LEN
                ),
                args.repeat,
            )
            delta = (padded[0, :n].float() - trimmed[0].float()).abs().max().item()
            rows[f"{label} padded"] = padded_s
            rows[f"{label} trimmed"] = trimmed_s
            print(
                f"{label:>28}: padded {padded_s:7.2f} s  trimmed {trimmed_s:7.2f} s  "
                f"ratio trimmed/padded {trimmed_s / padded_s:.3f}  max |d| {delta}"
            )
    print(
        "ratios: bf16/fp32 padded "
        f"{rows['bf16 padded'] / rows['fp32 padded']:.2f}, trimmed "
        f"{rows['bf16 trimmed'] / rows['fp32 trimmed']:.2f}; "
        "fp32-compute/bf16 trimmed "
        f"{rows['bf16 weights, fp32 compute trimmed'] / rows['bf16 trimmed']:.2f}; "
        "official (bf16 padded) / lean trimmed (fastest dtype here) "
        f"{rows['bf16 padded'] / min(rows['bf16 trimmed'], rows['bf16 weights, fp32 compute trimmed']):.2f}"
    )


if __name__ == "__main__":
    main()
