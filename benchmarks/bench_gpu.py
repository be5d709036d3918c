"""GPU speed at full size with random weights: per-step time, full-recipe time, peak memory, MFU.

Builds each model's DiT (and its VAE) at the official size directly on the GPU: modules on the
``meta`` device, ``to_empty`` on the GPU, a cheap random fill (the values change neither speed
nor memory), so nothing is downloaded. The plan comes from our planner for this GPU (weights'
dtype, CFG batching, the default attention backend and compile choice); then the real denoising
loop (``loop.sample``: CFG, solver, per-step callback) runs ``--steps`` steps for every attention
backend the engine offers (names from ``attention.BACKENDS`` at run time, each checked with a
small call first) with compile off and on, and the VAE decodes one latent.

Printed per configuration: the first step (includes compiling), the median of the other steps,
the equivalent full-recipe time (recipe steps × per step + fixed costs: decode, first-step extra,
the offload plan's expert moves), ``torch.cuda.max_memory_allocated`` and the MFU against the
FLOP floor (989 TFLOP/s dense bf16 on H100/H200; FLOPs counted from the shapes, matmuls only:
A14B 720p 40 steps with CFG ≈ 527 s, TI2V-5B 720p 50 steps ≈ 52 s).

    python benchmarks/bench_gpu.py                       # 5B and A14B at 720p, everything
    python benchmarks/bench_gpu.py --models 5B --backends sdpa,flash3 --compile off --steps 3
    python benchmarks/bench_gpu.py --stream 4            # also blocks streamed (if the engine has it)
    python benchmarks/bench_gpu.py --dry-run             # tiny sizes on the CPU, same code path
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from wan22_desktop.engine.wan import attention as attn  # noqa: E402
from wan22_desktop.engine.wan.compile import compile_blocks  # noqa: E402
from wan22_desktop.engine.wan.dit import WanDiT  # noqa: E402
from wan22_desktop.engine.wan.dit_config import (  # noqa: E402
    DiTConfig,
    forward_flops,
    preset,
    tiny_dit_config,
)
from wan22_desktop.engine.wan.pipelines import conditioning as C  # noqa: E402
from wan22_desktop.engine.wan.pipelines.loop import Conditioning, StepInfo, sample  # noqa: E402
from wan22_desktop.engine.wan.solvers import make_solver  # noqa: E402
from wan22_desktop.engine.wan.vae_config import TINY_VAE_PRESETS, VAE_PRESETS  # noqa: E402
from wan22_desktop.engine.wan.vae_io import VideoVAE, build_vae_model  # noqa: E402
from wan22_desktop.runtime.hardware import GPU, Hardware  # noqa: E402
from wan22_desktop.runtime.planner import InstalledModel, JobShape, Plan, PlanOverrides, plan  # noqa: E402
from wan22_desktop.sizes import sequence_length  # noqa: E402
from wan22_desktop.tasks import TASKS, TaskSpec, parse_size  # noqa: E402

PEAK_BF16_FLOPS = 989e12  # H100/H200 SXM dense bf16 (no sparsity)
MODEL_TASKS = {"5B": "ti2v-5B", "A14B": "t2v-A14B"}
TEXT_TOKENS = 120  # a typical prompt's T5 tokens (the DiT pads to text_len anyway)
GIB = 1024**3


@dataclass(frozen=True)
class Case:
    """One model's benchmark job: the official recipe's size, frames, steps and guidance."""

    model: str
    spec: TaskSpec
    dit: DiTConfig
    width: int
    height: int
    frames: int
    recipe_steps: int

    @property
    def latent_shape(self) -> tuple[int, int, int, int]:
        z = VAE_PRESETS["2.2" if self.spec.name == "ti2v-5B" else "2.1"].z_dim
        return C.latent_shape(z, self.frames, self.width, self.height, self.spec.vae_stride)

    @property
    def tokens(self) -> int:
        _, f, h, w = self.latent_shape
        _, ph, pw = self.spec.patch_size
        return sequence_length(f, h, w, ph, pw)

    @property
    def cfg(self) -> bool:
        return any(g != 1.0 for g in self.spec.guidance)

    def step_flops(self) -> float:
        return forward_flops(self.dit, self.tokens) * (2 if self.cfg else 1)

    def floor_seconds(self) -> float:
        """The recipe's DiT FLOPs at the bf16 peak: no GPU can sample faster."""
        return self.recipe_steps * self.step_flops() / PEAK_BF16_FLOPS


def full_case(model: str) -> Case:
    spec = TASKS[MODEL_TASKS[model]]
    width, height = parse_size(spec.default_size)
    return Case(model, spec, preset(spec.name), width, height, spec.frame_num, spec.sample_steps)


def tiny_case(model: str) -> Case:
    spec = TASKS[MODEL_TASKS[model]]
    g = spec.vae_stride[1] * spec.patch_size[1]
    dit = tiny_dit_config(spec.name, text_len=32)
    return Case(model, spec, dit, 2 * g, 2 * g, 5, spec.sample_steps)


# ---- building at full size without a checkpoint ------------------------------------------------


def random_fill_(module: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Small normal weights, in place (cheap on any device; sane activations, no NaN)."""
    gen = torch.Generator(device=next(module.parameters()).device).manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.normal_(0.0, 0.02, generator=gen)
    return module.eval().requires_grad_(False)


def build_dit(cfg: DiTConfig, device: torch.device, dtype: torch.dtype | None) -> WanDiT:
    """The DiT built on ``meta``, cast there (free), then allocated and filled on ``device``."""
    with torch.device("meta"):
        model = WanDiT(cfg)
    if dtype is not None:
        model = model.to(dtype)
    model = model.to_empty(device=device)
    return random_fill_(model)  # type: ignore[return-value]


def build_vae(case: Case, device: torch.device, tiny: bool) -> VideoVAE:
    version = "2.2" if case.spec.name == "ti2v-5B" else "2.1"
    cfg = (TINY_VAE_PRESETS if tiny else VAE_PRESETS)[version]
    with torch.device("meta"):
        model = build_vae_model(cfg)
    model = model.to_empty(device=device)
    random_fill_(model, seed=1)
    for name, buf in model.named_buffers():  # no buffer may stay uninitialised
        buf.zero_() if "mean" in name else buf.fill_(1.0)
    return VideoVAE(model)


# ---- the plan, the backends -------------------------------------------------------------------


def hardware(device: torch.device) -> Hardware:
    if device.type != "cuda":
        return Hardware(ram_total_gib=64.0, ram_available_gib=32.0)
    props = torch.cuda.get_device_properties(device)
    gpu = GPU(
        0,
        props.name,
        props.total_memory / GIB,
        props.total_memory / GIB,
        (props.major, props.minor),
    )
    flash = "fa3" if _imports("flash_attn_interface") else "fa2" if _imports("flash_attn") else None
    return Hardware(gpus=(gpu,), ram_total_gib=128.0, ram_available_gib=100.0, flash_attn=flash)


def _imports(module: str) -> bool:
    try:
        importlib.import_module(module)
    except Exception:  # noqa: BLE001 - a broken build is "not there"
        return False
    return True


def plan_for(case: Case, device: torch.device, overrides: PlanOverrides) -> Plan:
    tiny = device.type != "cuda"
    installed = {case.spec.name: InstalledModel(case.spec.name, "/bench", 1000 if tiny else 10**12)}
    shape = JobShape(case.spec.name, case.width, case.height, case.frames, steps=case.recipe_steps)
    return plan(shape, hardware(device), installed, overrides)


def usable_backends(device: torch.device, wanted: list[str] | None) -> dict[str, str | None]:
    """Every backend ``attention`` offers now → None when a small call works, else why not."""
    out: dict[str, str | None] = {}
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    q = torch.randn(1, 64, 2, 128, device=device, dtype=dtype)
    for name in attn.BACKENDS:
        if wanted is not None and name not in wanted:
            continue
        try:
            res = attn.attention(q, q, q, None, backend=name)
            out[name] = None if bool(torch.isfinite(res).all()) else "NaN/inf on a small call"
        except Exception as exc:  # noqa: BLE001 - any failure: not usable here
            out[name] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:80] if str(exc) else ''}"
    return out


# ---- timing ----------------------------------------------------------------------------------


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _peak_reset(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


def _peak(device: torch.device) -> float:
    return torch.cuda.max_memory_allocated(device) / GIB if device.type == "cuda" else 0.0


@dataclass
class Result:
    model: str
    backend: str
    compile: bool
    cfg_batch: bool
    mode: str  # "resident" | "streamed N"
    first_step_s: float = 0.0
    per_step_s: float = 0.0
    steps: list[float] = field(default_factory=list)
    peak_gib: float = 0.0
    full_recipe_s: float = 0.0
    mfu: float = 0.0
    note: str = ""


def conditioning(
    case: Case, device: torch.device, dtype: torch.dtype
) -> tuple[torch.Tensor, Conditioning]:
    gen = torch.Generator(device=device).manual_seed(0)
    shape = case.latent_shape
    latent = torch.randn(shape, generator=gen, device=device)
    n = min(TEXT_TOKENS, case.dit.text_len)
    text = [torch.randn(n, case.dit.text_dim, generator=gen, device=device).to(dtype)]
    null = [torch.randn(n, case.dit.text_dim, generator=gen, device=device).to(dtype)]
    _, ph, pw = case.spec.patch_size
    if case.spec.model_type == "ti2v":  # t2v mode: per-token t, nothing kept clean
        mask = C.ti2v_keep_mask(shape, keep_first=False, device=device)
        return latent, Conditioning(
            text, null, case.tokens, keep_mask=mask, per_token_t=True, patch_hw=(ph, pw)
        )
    return latent, Conditioning(text, null, case.tokens, patch_hw=(ph, pw))


def run_steps(
    model: WanDiT,
    case: Case,
    device: torch.device,
    dtype: torch.dtype,
    backend: str,
    cfg_batch: bool,
    steps: int,
) -> tuple[list[float], float]:
    """Step times of the real loop (the first includes compiling) and the peak GiB."""
    latent, cond = conditioning(case, device, dtype)
    stamps: list[float] = []

    def tick(info: StepInfo) -> None:
        _sync(device)
        stamps.append(time.perf_counter())

    solver = make_solver("unipc", steps, case.spec.sample_shift)
    guide = max(case.spec.guidance)
    _peak_reset(device)
    autocast = torch.autocast(device.type, dtype=dtype, enabled=dtype != torch.float32)
    _sync(device)
    start = time.perf_counter()
    with torch.no_grad(), autocast, attn.use_backend(backend):
        sample(
            latent=latent,
            solver=solver,
            cond=cond,
            activate=lambda name: model,
            guidance=(guide, guide),
            boundary=None,  # one expert stands for both: same shapes, same cost
            callback=tick,
            cfg_batch=cfg_batch,
        )
    times = [b - a for a, b in zip([start, *stamps[:-1]], stamps)]
    return times, _peak(device)


def time_decode(case: Case, device: torch.device, tiny: bool) -> tuple[float, float]:
    vae = build_vae(case, device, tiny)
    latent = torch.randn(case.latent_shape, device=device)
    _peak_reset(device)
    _sync(device)
    start = time.perf_counter()
    with torch.no_grad():
        vae.decode([latent])
    _sync(device)
    seconds, peak = time.perf_counter() - start, _peak(device)
    del vae
    return seconds, peak


def expert_moves_seconds(case: Case, p: Plan, device: torch.device) -> float:
    """The offload recipe's expert traffic (A14B: load high, park it, load low, park low), from a
    measured 1 GiB host↔device copy; 0 when nothing moves or on the CPU."""
    if device.type != "cuda" or not p.offload_model or case.model != "A14B":
        return 0.0
    bytes_per_param = 2 if p.convert_model_dtype else 4
    expert = sum(_param_count(case.dit).values()) * bytes_per_param
    host = torch.empty(GIB // 4, dtype=torch.float32)
    dev = torch.empty_like(host, device=device)
    _sync(device)
    t0 = time.perf_counter()
    dev.copy_(host)
    _sync(device)
    t1 = time.perf_counter()
    host.copy_(dev)
    _sync(device)
    t2 = time.perf_counter()
    return 2 * expert / GIB * ((t1 - t0) + (t2 - t1))


def _param_count(cfg: DiTConfig) -> dict[str, int]:
    with torch.device("meta"):
        m = WanDiT(cfg)
    return {"all": sum(p.numel() for p in m.parameters())}


@contextmanager
def streamed(model: WanDiT, device: torch.device, blocks: int) -> Iterator[str | None]:
    """Attach the engine's block streamer if it has one (engine-fit issue); yields why not."""
    try:
        streaming = importlib.import_module("wan22_desktop.engine.wan.streaming")
        streamer = streaming.BlockStreamer(model, streaming.SlotPool(device, blocks))
    except (ImportError, AttributeError, TypeError) as exc:
        yield f"skipped: the engine has no block streaming here ({type(exc).__name__}: {exc})"
        return
    streamer.attach()
    try:
        yield None
    finally:
        streamer.detach()


# ---- the run ---------------------------------------------------------------------------------


def bench_model(
    case: Case, args: argparse.Namespace, device: torch.device
) -> tuple[list[Result], dict[str, Any]]:
    tiny = args.dry_run
    base = plan_for(case, device, PlanOverrides())
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[base.dtype]
    weights = dtype if base.convert_model_dtype else None
    cfg_batch = {"plan": base.cfg_batch, "on": True, "off": False}[args.cfg_batch]
    info: dict[str, Any] = {
        "model": case.model,
        "task": case.spec.name,
        "size": f"{case.width}x{case.height}",
        "frames": case.frames,
        "tokens": case.tokens,
        "recipe_steps": case.recipe_steps,
        "cfg": case.cfg,
        "step_tflop": case.step_flops() / 1e12,
        "floor_s": case.floor_seconds(),
        "plan": {
            k: getattr(base, k)
            for k in (
                "attention",
                "compile",
                "cfg_batch",
                "offload_model",
                "convert_model_dtype",
                "dtype",
            )
        },
    }
    decode_s = 0.0
    if not args.no_vae:
        decode_s, decode_peak = time_decode(case, device, tiny)
        info.update(decode_s=decode_s, decode_peak_gib=decode_peak)
        _free(device)
    moves_s = expert_moves_seconds(case, base, device)
    info["expert_moves_s"] = moves_s
    fixed = decode_s + moves_s

    backends = usable_backends(device, args.backends)
    info["backends"] = backends
    usable = [b for b, why in backends.items() if why is None]
    compile_modes = {"both": [False, True], "on": [True], "off": [False]}[args.compile]
    results: list[Result] = []
    model = build_dit(case.dit, device, weights)
    info["weights_gib"] = sum(p.numel() * p.element_size() for p in model.parameters()) / GIB

    def finish(r: Result, times: list[float], peak: float) -> Result:
        r.first_step_s = times[0]
        rest = times[1:] or times
        r.steps = [round(t, 4) for t in times]
        r.per_step_s = statistics.median(rest)
        r.peak_gib = peak
        extra = max(r.first_step_s - r.per_step_s, 0.0)
        r.full_recipe_s = case.recipe_steps * r.per_step_s + fixed + extra
        r.mfu = case.step_flops() / r.per_step_s / PEAK_BF16_FLOPS
        return r

    for use_compile in compile_modes:
        if use_compile:
            torch._dynamo.reset()
            compile_blocks([model], Path(args.cache) if args.cache else None)
        for backend in usable:
            r = Result(case.model, backend, use_compile, cfg_batch, "resident")
            try:
                times, peak = run_steps(model, case, device, dtype, backend, cfg_batch, args.steps)
                results.append(finish(r, times, peak))
            except torch.cuda.OutOfMemoryError as exc:
                r.note = f"out of memory: {str(exc).splitlines()[0][:80]}"
                results.append(r)
            _free(device)
            print(_row(r), flush=True)
    if args.stream:
        _uncompile(model)
        backend = base.attention if base.attention in usable else usable[0]
        del model
        _free(device)
        host = build_dit(case.dit, torch.device("cpu"), weights)
        r = Result(case.model, backend, False, cfg_batch, f"streamed {args.stream}")
        with streamed(host, device, args.stream) as why:
            if why is not None:
                r.note = why
                results.append(r)
            else:
                times, peak = run_steps(host, case, device, dtype, backend, cfg_batch, args.steps)
                results.append(finish(r, times, peak))
        print(_row(r), flush=True)
        del host
    else:
        del model
    _free(device)
    return results, info


def _uncompile(model: WanDiT) -> None:
    for block in model.blocks:
        block._compiled_call_impl = None


def _free(device: torch.device) -> None:
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()


HEADER = (
    f"{'model':5s} {'mode':11s} {'attention':9s} {'compile':7s} {'cfgB':4s} {'1st step':>9s} "
    f"{'per step':>9s} {'recipe':>9s} {'peak GiB':>8s} {'MFU':>6s}  note"
)


def _row(r: Result) -> str:
    if not r.steps:
        return f"{r.model:5s} {r.mode:11s} {r.backend:9s} {str(r.compile):7s} {str(r.cfg_batch):4s} {'-':>9s} {'-':>9s} {'-':>9s} {'-':>8s} {'-':>6s}  {r.note}"
    return (
        f"{r.model:5s} {r.mode:11s} {r.backend:9s} {str(r.compile):7s} {str(r.cfg_batch):4s} "
        f"{r.first_step_s:8.3f}s {r.per_step_s:8.3f}s {r.full_recipe_s:8.1f}s "
        f"{r.peak_gib:8.2f} {100 * r.mfu:5.1f}%  {r.note}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="5B,A14B", help="comma list of 5B, A14B")
    parser.add_argument("--steps", type=int, default=3, help="steps run per configuration (>= 2)")
    parser.add_argument(
        "--backends", default="all", help="all, or a comma list of attention backends"
    )
    parser.add_argument("--compile", choices=("both", "on", "off"), default="both")
    parser.add_argument("--cfg-batch", choices=("plan", "on", "off"), default="plan")
    parser.add_argument("--stream", type=int, default=0, help="also run with N blocks streamed")
    parser.add_argument("--no-vae", action="store_true", help="skip the VAE decode")
    parser.add_argument("--cache", help="compile cache folder (default: inductor's)")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--dry-run", action="store_true", help="tiny sizes on the CPU")
    args = parser.parse_args(argv)
    args.backends = None if args.backends == "all" else args.backends.split(",")
    if args.steps < 2:
        parser.error("--steps must be >= 2 (the first step includes compiling)")
    if args.dry_run:
        device = torch.device("cpu")
        torch.set_num_threads(1)
    elif torch.cuda.is_available():
        device = torch.device("cuda", 0)
    else:
        print("error: no CUDA GPU; use --dry-run for the CPU path", file=sys.stderr)
        return 2
    name = (
        torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU (dry run, tiny sizes)"
    )
    print(
        f"device: {name}; torch {torch.__version__}; peak for MFU {PEAK_BF16_FLOPS / 1e12:.0f} TFLOP/s bf16"
    )
    all_results: list[Result] = []
    infos: list[dict[str, Any]] = []
    for model in args.models.split(","):
        case = tiny_case(model) if args.dry_run else full_case(model)
        print(
            f"\n{case.model} ({case.spec.name}) {case.width}x{case.height} {case.frames} frames, "
            f"{case.tokens} tokens; {case.step_flops() / 1e12:.1f} TFLOP per step"
            f"{' (CFG: 2 forwards)' if case.cfg else ''}; recipe {case.recipe_steps} steps, "
            f"floor {case.floor_seconds():.1f} s"
        )
        print(HEADER)
        results, info = bench_model(case, args, device)
        all_results += results
        infos.append(info)
        extra = (
            f"; VAE decode {info['decode_s']:.2f} s (peak {info['decode_peak_gib']:.2f} GiB)"
            if "decode_s" in info
            else ""
        )
        moves = (
            f"; offload expert moves ≈{info['expert_moves_s']:.1f} s"
            if info["expert_moves_s"]
            else ""
        )
        print(f"plan: {info['plan']}{extra}{moves}")
        off = [b for b, why in info["backends"].items() if why is not None]
        for b in off:
            print(f"attention {b}: not usable here ({info['backends'][b]})")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {"device": name, "models": infos, "results": [asdict(r) for r in all_results]},
                indent=1,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
