"""The device check's stages (driven by ``scripts/device_check.sh``), each in its own process with
a time limit, and one summary table at the end.

Stages:
1. ``attention``: every attention backend the engine offers against SDPA on a real-size DiT block
   (TI2V-5B at 720p/121 frames and A14B at 720p/81 frames: width, heads and token count of the
   real model), max |Δ| of the block output and the time of one block call;
2. ``bench 5B`` / ``bench A14B``: ``bench_gpu.py`` (all backends, compile off and on; blocks
   streamed too when the engine has streaming);
3. ``vram``: ``bench_vram.py`` (engine-fit issue) if it exists, else skipped with a message.

    python benchmarks/device_check.py [--dry-run] [--out DIR] [--stream N] [--budget SECONDS]

``--dry-run``: tiny sizes on the CPU through the same code (what the tests run).
"""

from __future__ import annotations

import argparse
import functools
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

# Seconds per stage on one H100/H200 (the whole check must stay under 8 minutes with installs).
LIMITS = {"attention": 45, "bench 5B": 120, "bench A14B": 170, "vram": 45}


# ---- stage 1: attention backends vs SDPA on a real-size block -----------------------------------


def attention_stage(dry: bool) -> dict[str, Any]:
    import bench_gpu as bg
    import torch

    from wan22_desktop.engine.wan import attention as attn
    from wan22_desktop.engine.wan.dit import DiTBlock, WanDiT

    device = torch.device("cpu") if dry else torch.device("cuda", 0)
    dtype = torch.float32 if dry else torch.bfloat16
    rows: dict[str, Any] = {}
    for model in ("5B", "A14B"):
        case = bg.tiny_case(model) if dry else bg.full_case(model)
        cfg = case.dit
        with torch.device("meta"):
            block = DiTBlock(cfg)
        block = bg.random_fill_(block.to(dtype).to_empty(device=device))
        _, f, h, w = case.latent_shape
        grid = (f, h // 2, w // 2)
        with torch.device("meta"):
            shell = WanDiT(cfg.replace(num_layers=1))
        freqs = shell.rope_freqs([grid], device)
        gen = torch.Generator(device=device).manual_seed(0)
        x = torch.randn(1, case.tokens, cfg.dim, device=device, generator=gen)
        e0 = torch.randn(1, 1, 6, cfg.dim, device=device, generator=gen) * 0.1
        ctx = torch.randn(1, cfg.text_len, cfg.dim, device=device, generator=gen, dtype=dtype)
        usable = bg.usable_backends(device, None)
        outs: dict[str, Any] = {}
        for name, why in usable.items():
            if why is not None:
                outs[name] = {"skipped": why}
                continue
            core = functools.partial(attn.attention, backend=name)
            autocast = torch.autocast(device.type, dtype=dtype, enabled=not dry)
            with torch.no_grad(), autocast:
                block(x, e0, None, freqs, ctx, core, core)  # warm-up
                bg._sync(device)
                t0 = time.perf_counter()
                out = block(x, e0, None, freqs, ctx, core, core).float()
                bg._sync(device)
            outs[name] = {"seconds": time.perf_counter() - t0, "out": out}
        ref = outs["sdpa"]["out"]
        for o in outs.values():
            if "out" in o:
                diff = (o.pop("out") - ref).abs().max().item()
                o["max_abs_diff"] = diff
                o["rel_diff"] = diff / max(ref.abs().max().item(), 1e-30)
        rows[model] = {"tokens": case.tokens, "dim": cfg.dim, "heads": cfg.num_heads, **outs}
        del block, x, ctx, outs, ref
    return rows


# ---- driver ----------------------------------------------------------------------------------


def _run(name: str, cmd: list[str], limit: float) -> dict[str, Any]:
    start = time.perf_counter()
    try:
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=limit)
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        print(out, flush=True)
        return {"stage": name, "rc": "timeout", "seconds": limit, "tail": out[-2000:]}
    print(done.stdout, end="", flush=True)
    if done.returncode:
        print(done.stderr[-3000:], file=sys.stderr, flush=True)
    return {
        "stage": name,
        "rc": done.returncode,
        "seconds": time.perf_counter() - start,
        "tail": (done.stdout + done.stderr)[-2000:],
    }


def summary(out: Path, stages: list[dict[str, Any]]) -> str:
    lines = ["", "=" * 100, "DEVICE CHECK SUMMARY", "=" * 100]
    lines.append(f"{'stage':12s} {'rc':>7s} {'seconds':>8s}")
    for s in stages:
        lines.append(f"{s['stage']:12s} {s['rc']!s:>7s} {s['seconds']:8.1f}")
    att = out / "attention.json"
    if att.exists():
        lines.append("\nattention backends vs SDPA on one real-size block:")
        for model, row in json.loads(att.read_text()).items():
            for name, o in row.items():
                if not isinstance(o, dict):
                    continue
                if "skipped" in o:
                    lines.append(f"  {model:5s} {name:7s} not usable: {o['skipped']}")
                else:
                    lines.append(
                        f"  {model:5s} {name:7s} {o['seconds'] * 1e3:9.1f} ms/block  "
                        f"max|Δ| {o['max_abs_diff']:.3e} (rel {o['rel_diff']:.2e})  "
                        f"[{row['tokens']} tokens, dim {row['dim']}, {row['heads']} heads]"
                    )
    for model in ("5B", "A14B"):
        path = out / f"bench_{model}.json"
        if not path.exists():
            continue
        data = json.loads(path.read_text())
        info = data["models"][0]
        lines.append(
            f"\n{model} {info['size']} {info['frames']} frames, {info['recipe_steps']} steps: "
            f"floor {info['floor_s']:.1f} s, weights {info['weights_gib']:.1f} GiB, "
            f"VAE decode {info.get('decode_s', 0):.1f} s, expert moves {info['expert_moves_s']:.1f} s"
        )
        lines.append("  " + _header())
        for r in data["results"]:
            lines.append("  " + _line(r))
    vram = [s for s in stages if s["stage"] == "vram"]
    if vram and vram[0]["rc"] not in (0, "skipped"):
        lines.append(f"\nvram: rc {vram[0]['rc']}: {vram[0]['tail'][-300:]}")
    elif vram:
        lines.append(
            f"\nvram: {vram[0]['tail'].strip().splitlines()[-1] if vram[0]['tail'].strip() else ''}"
        )
    return "\n".join(lines)


def _header() -> str:
    return (
        f"{'mode':11s} {'attention':9s} {'compile':7s} {'cfgB':5s} {'per step':>9s} "
        f"{'recipe':>8s} {'peak GiB':>8s} {'MFU':>6s}"
    )


def _line(r: dict[str, Any]) -> str:
    if not r["steps"]:
        return f"{r['mode']:11s} {r['backend']:9s} {r['compile']!s:7s} {r['cfg_batch']!s:5s} {r['note']}"
    return (
        f"{r['mode']:11s} {r['backend']:9s} {r['compile']!s:7s} {r['cfg_batch']!s:5s} "
        f"{r['per_step_s']:8.3f}s {r['full_recipe_s']:7.1f}s {r['peak_gib']:8.2f} "
        f"{100 * r['mfu']:5.1f}%"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("--out", default="device_check_out")
    parser.add_argument(
        "--stream", type=int, default=4, help="blocks resident when streamed (0: off)"
    )
    parser.add_argument("--stage", help=argparse.SUPPRESS)  # internal: run one stage in-process
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.stage == "attention":
        (out / "attention.json").write_text(json.dumps(attention_stage(args.dry_run), indent=1))
        return 0

    py = sys.executable
    dry = ["--dry-run"] if args.dry_run else []
    scale = 4.0 if args.dry_run else 1.0  # a shared CPU compiling C++ is slower than a GPU box
    stages = [
        _run(
            "attention",
            [py, str(HERE / "device_check.py"), "--stage", "attention", "--out", str(out), *dry],
            LIMITS["attention"] * scale,
        )
    ]
    stream = ["--stream", str(args.stream)] if args.stream else []
    for model, extra in (("5B", ["--steps", "3"]), ("A14B", ["--steps", "2"])):
        cmd = [
            py,
            str(HERE / "bench_gpu.py"),
            "--models",
            model,
            "--json",
            str(out / f"bench_{model}.json"),
        ]
        stages.append(
            _run(f"bench {model}", [*cmd, *extra, *stream, *dry], LIMITS[f"bench {model}"] * scale)
        )
    vram = HERE / "bench_vram.py"
    if vram.exists():
        stages.append(_run("vram", [py, str(vram), "--no-official"], LIMITS["vram"] * scale))
    else:
        msg = "skipped: benchmarks/bench_vram.py is not in this checkout (engine-fit issue)"
        print(msg)
        stages.append({"stage": "vram", "rc": "skipped", "seconds": 0.0, "tail": msg})
    text = summary(out, stages)
    print(text)
    (out / "summary.txt").write_text(text + "\n")
    return 0 if all(s["rc"] in (0, "skipped") for s in stages) else 1


if __name__ == "__main__":
    raise SystemExit(main())
