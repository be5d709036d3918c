"""What a tiny-VAE live preview costs, next to references measured in the same run.

Full-width TAEHV decoders (the published layout, random weights: the cost does not depend on the
values) decode a latent of a given size the way the worker does (streaming, the preview's
spatial upscale), and the figures are printed as ratios to the fast colour preview
(``engine/preview.py``) and to the parallel decode of the same latent. On a CUDA machine the
decode runs there in fp16 and the measured peak is printed next to ``activation_bytes``' bound.

    python benchmarks/bench_taehv.py [--latent 16x5x30x52] [--runs 3] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from tests.taehv_helpers import taehv_state  # noqa: E402
from wan22_desktop.engine.preview import latents_to_rgb  # noqa: E402
from wan22_desktop.engine.wan.taehv import (  # noqa: E402
    activation_bytes,
    load_decoder,
    preview_space_upscale,
)


def _time(fn, runs: int, sync) -> float:
    fn()  # warm-up
    sync()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--latent", default="16x5x30x52", help="C x F x h x w (16 or 48 channels)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = ap.parse_args()
    c, f, h, w = (int(x) for x in args.latent.split("x"))
    patch = 2 if c == 48 else 1
    device = torch.device(args.device)
    dtype = torch.float16 if device.type == "cuda" else torch.float32
    torch.set_num_threads(max(1, torch.get_num_threads()))
    upscale = preview_space_upscale((h, w), patch)
    state = taehv_state(c, patch, widths=(256, 128, 64, 64))
    dec = load_decoder(state, space_upscale=upscale, device=device, dtype=dtype)
    lat = torch.randn(c, f, h, w, device=device, dtype=dtype)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)

    with torch.no_grad():
        stream_s = _time(lambda: dec.decode_latents(lat), args.runs, sync)
        parallel_s = _time(lambda: dec.decode_latents(lat, parallel=True), args.runs, sync)
    arr = lat.float().cpu().numpy()
    colour_s = _time(lambda: latents_to_rgb(arr), max(args.runs, 10), lambda: None)
    frames = dec.config.frames_for(f)
    side = max(h, w) * dec.config.space_scale
    print(
        f"latent {args.latent} on {device} ({dtype}), upscale {upscale}: {frames} frames, {side}px"
    )
    print(
        f"  streaming decode  {stream_s * 1000:9.1f} ms  ({stream_s / frames * 1000:.1f} ms/frame)"
    )
    print(
        f"  parallel decode   {parallel_s * 1000:9.1f} ms  streaming/parallel = {stream_s / parallel_s:.2f}"
    )
    print(
        f"  colour preview    {colour_s * 1000:9.3f} ms  taehv/colour = {stream_s / colour_s:.0f}x"
    )
    bound = activation_bytes(dec.config, (h, w), 2 if dtype == torch.float16 else 4)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device)
        with torch.no_grad():
            dec.decode_latents(lat)
        peak = torch.cuda.max_memory_allocated(device) - base
        print(f"  peak above weights {peak / 2**20:8.1f} MiB  bound {bound / 2**20:.1f} MiB")
    else:
        print(f"  working-set bound  {bound / 2**20:8.1f} MiB")
    print(
        f"  decoder weights    {sum(p.numel() for p in dec.parameters()) * lat.element_size() / 2**20:8.1f} MiB"
    )


if __name__ == "__main__":
    main()
