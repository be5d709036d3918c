"""Peak VRAM per plan from the fake-CUDA harness, against the planner's estimate and the card.

    PYTHONPATH=. python benchmarks/bench_vram.py                 # the table + the official checks
    PYTHONPATH=. python benchmarks/bench_vram.py --write-table   # simulate missing rows, rewrite
    PYTHONPATH=. python benchmarks/bench_vram.py --write-table --all   # re-simulate every row
    PYTHONPATH=. python benchmarks/bench_vram.py --no-official   # skip the two official runs

The harness (``engine/wan/vram_harness.py``) runs the real CUDA code path at full model size on
fake tensors and counts live device bytes (``max_memory_allocated``'s analogue). ``--write-table``
simulates every distinct one-GPU plan the planner makes over the card matrix
(``runtime/vram_table.py``), block streaming, FP8 weights, the bf16/tiled VAE and VAE offload
included (the engine's own code runs for them), and writes
``wan22_desktop/runtime/vram_table.json``, which the tests check the planner against.
Multi-GPU plans (FSDP/Ulysses) print the model's arithmetic figure only.

The official check: with upstream's per-token time embedding (``per_token_time_mlp``) the
harness must reproduce the Wan2.2 README's A14B peaks on one GPU (offload + bf16): 59.8 at 720p
and 41.3 at 480p. The README says "GB"; the figures are ``max_memory_allocated`` / 2**30, i.e.
GiB (59.8 decimal GB would be 55.7 GiB, 7 % below what the same code path allocates).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("OMP_NUM_THREADS", "1")

from wan22_desktop.runtime import vram_model as vm  # noqa: E402
from wan22_desktop.runtime import vram_table as vt  # noqa: E402
from wan22_desktop.runtime.planner import CARD_GIB, Plan, model_of, task_tokens  # noqa: E402
from wan22_desktop.tasks import TASKS  # noqa: E402

OFFICIAL = (("t2v-A14B", 1280, 720, 59.8), ("t2v-A14B", 832, 480, 41.3))


def model_estimate(p: Plan, frames: int, has_image: bool) -> vm.VramEstimate:
    spec = TASKS[p.task]
    sw = vm.Switches(
        offload_model=p.offload_model,
        convert_model_dtype=p.convert_model_dtype,
        t5_cpu=p.t5_cpu,
        stream_blocks=p.stream_blocks,
        fp8=p.fp8,
        vae_dtype=p.vae_dtype,
        vae_tile=p.vae_tile,
        vae_offload=p.vae_offload,
        nproc=p.nproc,
        ulysses_size=p.ulysses_size,
        dit_fsdp=p.dit_fsdp,
        t5_fsdp=p.t5_fsdp,
        cfg_batch=p.cfg_batch,
    )
    return vm.estimate(
        model_of(p.task),
        task_tokens(spec, p.width, p.height, frames),
        p.width,
        p.height,
        frames,
        sw,
        has_image=has_image or spec.model_type == "i2v",
        task_is_i2v=spec.model_type == "i2v",
    )


def write_table(everything: bool = False) -> None:
    """Simulate the rows the table lacks (``everything``: every row) and drop the ones no plan
    needs any more: a planner change costs only its new plans' simulations."""
    import torch

    from wan22_desktop.engine.wan.vram_harness import simulate

    torch.set_num_threads(1)
    kept = {} if everything or not vt.TABLE_PATH.exists() else vt.load_table()
    rows = []
    for key, (p, frames, image) in sorted(vt.required_rows().items()):
        if key in kept:
            rows.append(kept[key])
            continue
        r = simulate(p, frames, has_image=image)
        print(
            f"{key:70s} sampling {r.sampling_gib:6.2f}  decode {r.decode_gib:6.2f}  "
            f"({r.seconds:.0f} s)",
            flush=True,
        )
        assert not r.flash_errors, r.flash_errors
        assert not r.transfer_errors, r.transfer_errors
        rows.append(
            {
                "key": key,
                "text_gib": round(r.text_gib, 3),
                "sampling_gib": round(r.sampling_gib, 3),
                "decode_gib": round(r.decode_gib, 3),
                "peak_gib": round(r.peak_gib, 3),
                "flash_calls": r.flash_calls,
                "block_copies": r.block_copies,
            }
        )
    payload = {
        "about": "peaks (GiB of live device tensors) from engine/wan/vram_harness.py; "
        "written by benchmarks/bench_vram.py --write-table",
        "rows": rows,
    }
    vt.TABLE_PATH.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(rows)} rows to {vt.TABLE_PATH.relative_to(REPO)}")


def print_cards() -> None:
    table = vt.load_table()
    print("One GPU per card (issue 12 §5). sim = harness peak; est = planner (with margin).")
    print(
        f"{'card':>5} {'task':9} {'size':9} {'plan':44} {'sim S/D':>13} {'est S/D':>13} "
        f"{'est/sim':>7} {'sim/card':>8}"
    )
    for cell, p in vt.matrix():
        if cell.gpus != 1:
            continue
        size = f"{cell.width}x{cell.height}"
        if not isinstance(p, Plan):
            print(
                f"{cell.card:>5} {cell.task:9} {size:9} refused: {p.message[:60]} ({p.hint[:50]})"
            )
            continue
        flags = [
            "res" if not p.offload_model else "offload",
            "bf16" if p.convert_model_dtype else "fp32",
        ]
        flags += ["t5cpu"] if p.t5_cpu else []
        flags += [f"stream{p.stream_blocks}"] if p.stream_blocks else []
        flags += ["fp8"] if p.fp8 else []
        flags += (
            [f"vae{p.vae_dtype}/t{p.vae_tile}"] if (p.vae_tile or p.vae_dtype != "fp32") else []
        )
        flags += ["vaeoff"] if p.vae_offload else []
        flags += ["cfg2"] if p.cfg_batch else []
        est = model_estimate(p, cell.frames, cell.has_image)
        est_s = est.sampling + vm.allocator_margin(est.sampling)
        est_d = est.decode + vm.allocator_margin(est.decode)
        key = vt.row_key(p, cell.frames, cell.has_image)
        row = table.get(key) if vt.simulatable(p) else None
        if row is None:
            sim, ratio, share = "formula", "", ""
        else:
            sim = f"{row['sampling_gib']:5.1f}/{row['decode_gib']:5.1f}"
            ratio = f"{est.with_margin / row['peak_gib']:.3f}"
            share = f"{row['peak_gib'] / CARD_GIB[cell.card]:.0%}"
        print(
            f"{cell.card:>5} {cell.task:9} {size:9} {' '.join(flags):44} {sim:>13} "
            f"{est_s:5.1f}/{est_d:5.1f} {ratio:>7} {share:>8}"
        )


def official() -> None:
    import torch

    from wan22_desktop.engine.wan.vram_harness import plan_for, simulate

    torch.set_num_threads(1)
    print("\nOfficial reproduction (upstream per-token e0, offload + bf16, one GPU, 81 frames):")
    for task, w, h, ref in OFFICIAL:
        started = time.perf_counter()
        p = plan_for(task, w, h, offload_model=True, convert_model_dtype=True)
        up = simulate(p, 81, upstream_e0=True, decode=False)
        ours = simulate(p, 81, decode=False)
        print(
            f"  {task} {w}x{h}: upstream mode {up.sampling_gib:.2f} GiB vs official {ref} "
            f"({(up.sampling_gib / ref - 1) * 100:+.1f} %); our engine {ours.sampling_gib:.2f} "
            f"GiB ({time.perf_counter() - started:.0f} s)"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--write-table", action="store_true", help="simulate the rows the table lacks, rewrite it"
    )
    ap.add_argument("--all", action="store_true", help="with --write-table: re-simulate every row")
    ap.add_argument("--no-official", action="store_true", help="skip the official reproductions")
    args = ap.parse_args()
    if args.write_table:
        write_table(everything=args.all)
    print_cards()
    if not args.no_official:
        official()


if __name__ == "__main__":
    main()
