"""VAE decode speed: our Wan VAE vs diffusers' AutoencoderKLWan, same weights, same threads, same run.

Decodes a random latent of ``--frames`` video frames at ``--size`` pixels with a random-weight VAE
of base width ``--dim`` (real structure, reduced width so it runs on a laptop CPU), fp32. Prints the
median of ``--runs`` timed runs (alternating, after one warm-up each), the ratio ours / diffusers (target <= 1.0),
and the max abs difference of the two outputs.

    python benchmarks/bench_vae.py --version 2.1 --dim 32 --frames 17 --size 256
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch

from wan22_desktop.engine.wan.convert_diffusers_vae import (
    diffusers_vae_kwargs,
    official_to_diffusers_vae,
)
from wan22_desktop.engine.wan.vae_config import VAEConfig
from wan22_desktop.engine.wan.vae_io import VideoVAE, tiny_vae


def _timed(fn: Callable[[], torch.Tensor], device: torch.device) -> tuple[float, torch.Tensor]:
    if device.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    out = fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t0, out


def _interleaved_medians(
    fns: dict[str, Callable[[], torch.Tensor]], runs: int, device: torch.device
) -> dict[str, tuple[float, torch.Tensor]]:
    """One untimed warm-up each, then alternate the contenders so both see the same machine load."""
    outs = {name: fn() for name, fn in fns.items()}
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(runs):
        for name, fn in fns.items():
            t, outs[name] = _timed(fn, device)
            times[name].append(t)
    for name in fns:
        print(
            f"  {name:9s} runs: "
            + ", ".join(f"{t:.3f}" for t in times[name])
            + f" s (min {min(times[name]):.3f})"
        )
    return {name: (statistics.median(times[name]), outs[name]) for name in fns}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", choices=["2.1", "2.2"], default="2.1")
    parser.add_argument("--dim", type=int, default=32, help="encoder base width (real: 96 / 160)")
    parser.add_argument(
        "--dec-dim", type=int, default=0, help="decoder base width for 2.2 (real: 256)"
    )
    parser.add_argument("--frames", type=int, default=17, help="output frames, 4k+1")
    parser.add_argument("--size", type=int, default=256, help="output height = width in pixels")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: leave default)")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    from diffusers import AutoencoderKLWan

    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    z_dim = 16 if args.version == "2.1" else 48
    cfg = VAEConfig(version=args.version, dim=args.dim, dec_dim=args.dec_dim, z_dim=z_dim)
    model = tiny_vae(args.version, seed=0, config=cfg).to(device)
    ref = AutoencoderKLWan(**diffusers_vae_kwargs(cfg)).eval().requires_grad_(False)
    ref.load_state_dict(official_to_diffusers_vae(model.state_dict(), args.version), strict=True)
    ref.to(device)
    vae = VideoVAE(model)

    s = cfg.stride
    lat = torch.randn(
        z_dim,
        1 + (args.frames - 1) // s[0],
        args.size // s[1],
        args.size // s[2],
        generator=torch.Generator().manual_seed(0),
    ).to(device)
    mean = torch.tensor(cfg.latents_mean, device=device).view(1, -1, 1, 1, 1)
    inv_std = 1.0 / torch.tensor(cfg.latents_std, device=device).view(1, -1, 1, 1, 1)

    def ours() -> torch.Tensor:
        return vae.decode([lat])[0]

    def theirs() -> torch.Tensor:
        with torch.no_grad():
            return ref.decode(lat.unsqueeze(0) / inv_std + mean).sample[0]

    results = _interleaved_medians({"diffusers": theirs, "ours": ours}, args.runs, device)
    (t_ref, out_ref), (t_ours, out_ours) = results["diffusers"], results["ours"]
    print(
        f"Wan{args.version} VAE decode, dim {cfg.dim}/{cfg.dec_dim}, latent {tuple(lat.shape)} -> "
        f"video {tuple(out_ours.shape)}, fp32, {device}, threads {torch.get_num_threads()}, "
        f"median of {args.runs}"
    )
    print(f"  diffusers {t_ref:8.3f} s")
    print(f"  ours      {t_ours:8.3f} s")
    print(f"  ratio ours/diffusers {t_ours / t_ref:.3f} (target <= 1.0)")
    print(f"  max abs diff {(out_ours - out_ref).abs().max().item():.3g}")


if __name__ == "__main__":
    main()
