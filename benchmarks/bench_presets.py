"""Speed of the Fast presets against the official recipe, measured in one run on one machine.

Writes a random-weight A14B checkpoint in the official layout (width and depth set by
``--dim``/``--layers``), loads it once, and times the engine's job path (``WanEngine.generate``:
text encoding, sampling, decoding) for

* the official recipe of the task (40 UniPC steps, CFG on both experts: 80 DiT forwards),
* the Lightning preset (4 Euler steps, guidance 1: 4 DiT forwards; its LoRAs are left out, as
  the time of a merged LoRA is the base model's),
* the 8-step three-phase Lightning preset (one guided warm-up step with CFG, then 7 steps at
  guidance 1: 9 DiT forwards; its LoRAs left out too, so the mid-job merge is not timed),
* optionally the official recipe with step caching (``--turbo THRESHOLD``),

alternating the runs after a warm-up of each. Prints the medians, DiT forwards counted with a
hook, the ratio official / preset, and the steps step caching skipped.

    python benchmarks/bench_presets.py --dim 128 --layers 4 --size 64 --frames 9 --turbo 0.5
    python benchmarks/bench_presets.py --turbo 0.1 --device cuda --dim 5120 --layers 40 ...
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from wan22_desktop.engine.wan.pipelines import StepInfo, WanPipeline  # noqa: E402
from wan22_desktop.engine.wan.pipelines.clock import PhaseClock  # noqa: E402
from wan22_desktop.engine.wan.pipelines.job import JobContext, WanEngine  # noqa: E402
from wan22_desktop.engine.wan.tiny import make_tiny_checkpoint  # noqa: E402
from wan22_desktop.presets import preset_request  # noqa: E402
from wan22_desktop.request import GenerationRequest  # noqa: E402

PROMPT = "a cat running on the grass"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default="lightning-t2v", choices=["lightning-t2v"])
    parser.add_argument(
        "--three-phase",
        default="lightning-t2v-8step-3phase",
        help="the 8-step three-phase preset timed as well ('' to leave it out)",
    )
    parser.add_argument("--size", type=int, default=64, help="width = height in pixels")
    parser.add_argument("--frames", type=int, default=9)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--turbo", type=float, default=0.0, help="also: official + step caching")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (0: leave default)")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32

    fast = preset_request(args.preset, strip_loras=True, prompt=PROMPT)
    task = fast.task
    common = dict(prompt=PROMPT, size=f"{args.size}*{args.size}", frame_num=args.frames, seed=1)
    recipes: dict[str, GenerationRequest] = {
        "official": GenerationRequest.for_task(task, **common),
        args.preset: preset_request(args.preset, strip_loras=True, **common),
    }
    if args.three_phase:
        recipes[args.three_phase] = preset_request(args.three_phase, strip_loras=True, **common)
    if args.turbo > 0:
        recipes[f"official+turbo {args.turbo:g}"] = GenerationRequest.for_task(
            task, step_cache=args.turbo, **common
        )
    for r in recipes.values():
        r.validate()

    with tempfile.TemporaryDirectory() as tmp:
        ckpt = make_tiny_checkpoint(
            task, Path(tmp) / "ckpt", seed=0, dim=args.dim, num_layers=args.layers
        )
        pipe = WanPipeline.from_checkpoint(ckpt, task, device=device, dtype=dtype)
    forwards = {"n": 0}
    for dit in pipe.experts.values():
        dit.register_forward_hook(lambda *_: forwards.__setitem__("n", forwards["n"] + 1))
    engine = WanEngine()

    def once(req: GenerationRequest) -> tuple[float, float, int, list[int]]:
        skipped: list[int] = []

        def on_step(info: StepInfo) -> None:
            if info.skipped:
                skipped.append(info.step - 1)

        forwards["n"] = 0
        if device.type == "cuda":
            torch.cuda.synchronize()
        clock = PhaseClock()
        start = time.perf_counter()
        engine.generate(pipe, req, req.prompt, JobContext(clock, on_step))
        if device.type == "cuda":
            torch.cuda.synchronize()
        total = time.perf_counter() - start
        return total, clock.finish().get("sampling", 0.0), forwards["n"], skipped

    for req in recipes.values():  # warm-up
        once(req)
    times: dict[str, list[float]] = {k: [] for k in recipes}
    sampling: dict[str, list[float]] = {k: [] for k in recipes}
    info: dict[str, tuple[int, list[int]]] = {}
    for _ in range(args.runs):
        for name, req in recipes.items():
            seconds, in_sampling, n, skipped = once(req)
            times[name].append(seconds)
            sampling[name].append(in_sampling)
            info[name] = (n, skipped)

    print(
        f"{task} tiny dim={args.dim} layers={args.layers} {args.size}x{args.size}x{args.frames}, "
        f"{device} {str(dtype).removeprefix('torch.')}, {args.runs} runs each"
    )
    medians = {k: statistics.median(v) for k, v in times.items()}
    sampled = {k: statistics.median(v) for k, v in sampling.items()}
    for name, req in recipes.items():
        n, skipped = info[name]
        extra = f", skipped steps {skipped}" if req.step_cache else ""
        warm = (
            f" (first {req.warmup_steps} at {req.warmup_guidance:g})"
            if req.warmup_steps and req.warmup_guidance is not None
            else ""
        )
        print(
            f"  {name:26} {req.sample_steps:3d} steps {req.solver:6} guidance "
            f"{req.guidance.high:g}/{req.guidance.low:g}{warm}: job median {medians[name]:.3f} s "
            f"(sampling {sampled[name]:.3f} s), {n} DiT forwards{extra}"
        )
    for name in recipes:
        if name != "official":
            print(
                f"  ratio official / {name}: job {medians['official'] / medians[name]:.2f}x, "
                f"sampling {sampled['official'] / max(sampled[name], 1e-9):.2f}x"
            )


if __name__ == "__main__":
    main()
