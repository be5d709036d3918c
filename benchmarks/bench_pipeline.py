"""End-to-end pipeline speed: ours vs diffusers' Wan pipelines, same weights and noise, same run.

Writes a random-weight checkpoint in the official layout (``tiny.make_tiny_checkpoint``, width and
depth set by ``--dim``/``--layers``), loads it with ``WanPipeline``, converts the same weights into
diffusers' ``WanPipeline`` / ``WanImageToVideoPipeline`` (official sigma grid injected), and times
generate-to-decoded-video for both, alternating runs after one warm-up each. Text encoding is
excluded on both sides (diffusers gets our T5 embeddings; our T5 time is printed separately).
Prints per-run times, the medians, the ratio ours / diffusers (target <= 1.0) and max |diff|.

    python benchmarks/bench_pipeline.py --task t2v-A14B --size 64 --frames 9 --steps 4
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from wan22_desktop.engine.wan import image_prep  # noqa: E402
from wan22_desktop.engine.wan.convert_diffusers import diffusers_config, dit_official_to_diffusers  # noqa: E402
from wan22_desktop.engine.wan.convert_diffusers_vae import (
    diffusers_vae_kwargs,
    official_to_diffusers_vae,
)  # noqa: E402
from wan22_desktop.engine.wan.pipelines import HIGH_NOISE, LOW_NOISE, SINGLE, WanPipeline  # noqa: E402
from wan22_desktop.engine.wan.pipelines import conditioning as C  # noqa: E402
from wan22_desktop.engine.wan.solvers import unipc_sigmas  # noqa: E402
from wan22_desktop.engine.wan.tiny import make_tiny_checkpoint  # noqa: E402
from wan22_desktop.tasks import DEFAULT_NEGATIVE_PROMPT  # noqa: E402

PROMPT = "a cat running on the grass"


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def _diffusers_pipe(pipe: WanPipeline, steps: int, image: bool):
    import diffusers

    class OfficialGridUniPC(diffusers.UniPCMultistepScheduler):
        def set_timesteps(self, num_inference_steps=None, device=None, **kwargs):  # type: ignore[override]
            super().set_timesteps(device=device, sigmas=unipc_sigmas(steps, pipe.spec.sample_shift))

    def transformer(name: str):
        dit = pipe.experts[name]
        m = diffusers.WanTransformer3DModel(**diffusers_config(dit.config)).eval()
        m.load_state_dict(dit_official_to_diffusers(dit.state_dict()), strict=True)
        return m.to(pipe.device)

    cfg = pipe.vae.config
    vae = diffusers.AutoencoderKLWan(**diffusers_vae_kwargs(cfg)).eval()
    vae.load_state_dict(
        official_to_diffusers_vae(pipe.vae.model.state_dict(), cfg.version), strict=True
    )
    common = dict(
        tokenizer=None,
        text_encoder=None,
        vae=vae.to(pipe.device),
        scheduler=OfficialGridUniPC(
            prediction_type="flow_prediction",
            use_flow_sigmas=True,
            flow_shift=1.0,
            num_train_timesteps=1000,
        ),
    )
    if pipe.spec.is_moe:
        common.update(
            transformer=transformer(HIGH_NOISE),
            transformer_2=transformer(LOW_NOISE),
            boundary_ratio=pipe.spec.boundary,
        )
    else:
        common.update(transformer=transformer(SINGLE), expand_timesteps=True)
    if image:
        return diffusers.WanImageToVideoPipeline(image_processor=None, image_encoder=None, **common)
    return diffusers.WanPipeline(**common)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=["t2v-A14B", "i2v-A14B", "ti2v-5B"], default="t2v-A14B")
    parser.add_argument("--image", action="store_true", help="ti2v-5B: image-to-video mode")
    parser.add_argument("--size", type=int, default=64, help="width = height in pixels")
    parser.add_argument("--frames", type=int, default=9)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument(
        "--dim", type=int, default=64, help="DiT width (tiny default 32; real 5120/3072)"
    )
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: leave default)")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    use_image = args.task == "i2v-A14B" or args.image

    with tempfile.TemporaryDirectory() as tmp:
        root = make_tiny_checkpoint(
            args.task,
            Path(tmp) / "ckpt",
            seed=1,
            dim=args.dim,
            num_layers=args.layers,
            ffn_dim=2 * args.dim,
        )
        pipe = WanPipeline.from_checkpoint(root, args.task, device=device, dtype=torch.float32)
    rng = np.random.default_rng(0)
    from PIL import Image

    img = Image.fromarray(rng.integers(0, 256, (args.size, args.size, 3), dtype=np.uint8))
    size = f"{args.size}*{args.size}"
    seed = 7

    def ours() -> np.ndarray:
        r = ours_result["last"] = pipe.generate(
            PROMPT,
            image=img if use_image else None,
            size=size,
            frame_num=args.frames,
            sample_steps=args.steps,
            seed=seed,
        )
        return r.video

    ours_result: dict = {}
    first = pipe.generate(
        PROMPT,
        image=img if use_image else None,
        size=size,
        frame_num=args.frames,
        sample_steps=args.steps,
        seed=seed,
    )
    w, h = first.size
    ref = _diffusers_pipe(pipe, args.steps, use_image)
    text_len = next(iter(pipe.experts.values())).config.text_len
    embeds = [
        torch.nn.functional.pad(e, (0, 0, 0, text_len - e.shape[0]))[None]
        for e in (
            pipe.text_encoder.encode([PROMPT])[0],
            pipe.text_encoder.encode([DEFAULT_NEGATIVE_PROMPT])[0],
        )
    ]
    z = pipe.vae.z_dim
    noise = C.initial_noise(C.latent_shape(z, args.frames, w, h, pipe.vae.stride), seed, device)
    low, high = pipe.spec.guidance
    call = dict(
        prompt_embeds=embeds[0],
        negative_prompt_embeds=embeds[1],
        height=h,
        width=w,
        num_frames=args.frames,
        num_inference_steps=args.steps,
        guidance_scale=high,
        latents=noise[None],
        output_type="pt",
    )
    if pipe.spec.is_moe:
        call["guidance_scale_2"] = low
    if use_image:
        frame = (
            image_prep.i2v_image(img, w, h)
            if args.task == "i2v-A14B"
            else image_prep.ti2v_image(img, w * h)
        )
        call["image"] = frame[None].to(device)
    ref.set_progress_bar_config(disable=True)

    def theirs() -> np.ndarray:
        out = ref(**call).frames[0]  # [F, 3, H, W] in [0, 1]
        return out.permute(1, 0, 2, 3).cpu().numpy() * 2 - 1

    theirs()  # warm-up
    times: dict[str, list[float]] = {"ours": [], "diffusers": []}
    text_s: list[float] = []
    phases: dict[str, list[float]] = {}
    outs: dict[str, np.ndarray] = {}
    for _ in range(args.runs):
        for name, fn in (("ours", ours), ("diffusers", theirs)):
            _sync(device)
            t0 = time.perf_counter()
            outs[name] = fn()
            _sync(device)
            elapsed = time.perf_counter() - t0
            if name == "ours":
                t_text = ours_result["last"].timings["text_encoding"]
                text_s.append(t_text)
                for k, v in ours_result["last"].timings.items():
                    phases.setdefault(k, []).append(v)
                elapsed -= t_text
            times[name].append(elapsed)
    print(
        f"{args.task}{' +image' if use_image else ''} {w}x{h} {args.frames} frames, {args.steps} UniPC "
        f"steps, CFG on, fp32, DiT dim {args.dim} x {args.layers} layers, device {device}, "
        f"{torch.get_num_threads()} threads"
    )
    for name, ts in times.items():
        print(
            f"  {name:9s} runs: "
            + ", ".join(f"{t:.3f}" for t in ts)
            + f" s (median {statistics.median(ts):.3f}, min {min(ts):.3f})"
        )
    print(f"  ours text encoding (excluded above): median {statistics.median(text_s):.3f} s")
    print(
        "  ours phases (median s): "
        + ", ".join(f"{k} {statistics.median(v):.3f}" for k, v in phases.items())
    )
    ratio = statistics.median(times["ours"]) / statistics.median(times["diffusers"])
    best = min(times["ours"]) / min(times["diffusers"])
    print(f"  ratio ours / diffusers = {ratio:.2f} by median, {best:.2f} by min (target <= 1.0)")
    print(f"  max |ours - diffusers| = {np.abs(outs['ours'] - outs['diffusers']).max():.3g}")


if __name__ == "__main__":
    main()
