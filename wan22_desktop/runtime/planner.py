"""Choose how a job runs on this machine: model, GPUs, offload, dtype, T5 placement, attention.

``plan()`` is a pure function of the request, the probed hardware, the installed checkpoints and
the user's overrides. Every decision carries a one-line reason so the GUI can show *why*. The
memory figures come from one table derived from the official measurements (docs/reference.md §11,
``Wan-Video/Wan2.2`` README "Computational Efficiency"); they are estimates with a safety margin,
not promises. No torch here: the GUI calls this for its plan preview.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, asdict, dataclass, field, fields, replace
from typing import Any

from wan22_desktop.errors import UserInputError
from wan22_desktop.runtime.hardware import GPU, Hardware
from wan22_desktop.sizes import sequence_length
from wan22_desktop.tasks import TASKS, TaskSpec

# --- The one table of figures -----------------------------------------------------------------
# Weights in GiB: A14B experts are 14.29e9 params, TI2V-5B 5.0e9; T5 encoder 5.7e9 in bf16.
WEIGHTS_GIB = {
    "A14B_expert_fp32": 53.2,
    "A14B_expert_bf16": 26.6,
    "5B_fp32": 18.6,
    "5B_bf16": 9.3,
    "t5_bf16": 10.6,
    "vae2_1": 0.5,
    "vae2_2": 2.6,
}


# Peak GPU memory per GPU = base + per_ktok * (thousands of DiT tokens), fitted to the official
# peaks: A14B 1 GPU (offload + convert) 41.3 GiB at 480p (32.76k tokens) and 59.8 at 720p (75.6k);
# 4 GPUs (Ulysses + FSDP) 40.9 / 51.7; 8 GPUs 26.3 / 37.1. TI2V-5B at 720p, 121 frames (27.28k
# tokens) with offload + convert + T5 on CPU: 22.9 on one GPU, 22.6 on 4 or 8.
def _fit(p1: tuple[float, float], p2: tuple[float, float]) -> tuple[float, float]:
    (x1, y1), (x2, y2) = p1, p2
    slope = (y2 - y1) / (x2 - x1)
    return y1 - slope * x1, slope


PEAK_FIT = {  # (model, gpus) -> (base GiB, GiB per 1k tokens)
    ("A14B", 1): _fit((32.76, 41.3), (75.6, 59.8)),
    ("A14B", 4): _fit((32.76, 40.9), (75.6, 51.7)),
    ("A14B", 8): _fit((32.76, 26.3), (75.6, 37.1)),
    # One official point for 5B: resident bf16 DiT + VAE (11.9 GiB) plus activations.
    ("5B", 1): (
        WEIGHTS_GIB["5B_bf16"] + WEIGHTS_GIB["vae2_2"],
        (22.9 - WEIGHTS_GIB["5B_bf16"] - WEIGHTS_GIB["vae2_2"]) / 27.28,
    ),
    ("5B", 4): (
        WEIGHTS_GIB["5B_bf16"] + WEIGHTS_GIB["vae2_2"],
        (22.6 - WEIGHTS_GIB["5B_bf16"] - WEIGHTS_GIB["vae2_2"]) / 27.28,
    ),
}
VRAM_RESERVE_GIB = 0.6  # kept free for the CUDA context and fragmentation
RAM_OVERHEAD_GIB = 4.0  # Python, CUDA context, pinned buffers, the VAE on the CPU side
TINY_CHECKPOINT_GIB = 1.0  # below this a checkpoint is a test model: CPU fp32 is fine
# Attention heads of each model's DiT (engine/wan/dit_config.py PRESETS; a test keeps them equal:
# the planner may not import the engine). Ulysses must divide them.
HEADS = {"A14B": 40, "5B": 24}
DTYPES = ("bf16", "fp16", "fp32")


def model_of(task: str) -> str:
    """The model family a task runs ("A14B": two experts; "5B": one), for the figures above."""
    return "A14B" if TASKS[task].is_moe else "5B"


# The task whose VAE stride and patch size stand for a model family in ``dit_tokens``.
_MODEL_TASK = {"A14B": "t2v-A14B", "5B": "ti2v-5B"}


@dataclass(frozen=True)
class PlanOverrides:
    """What the user pinned; ``None`` leaves the decision to the planner."""

    task: str | None = None
    gpus: int | None = None
    offload_model: bool | None = None
    convert_model_dtype: bool | None = None
    t5_cpu: bool | None = None
    ulysses_size: int | None = None
    dit_fsdp: bool | None = None
    t5_fsdp: bool | None = None
    attention: str | None = None  # "flash3" | "flash2" | "sdpa"
    device: str | None = None  # "cuda" | "cpu"
    dtype: str | None = None  # "bf16" | "fp16" | "fp32" (compute precision)
    compile: bool | None = None  # torch.compile of the DiT blocks
    cfg_batch: bool | None = None  # CFG's two forwards as one batch of two


@dataclass(frozen=True)
class InstalledModel:
    task: str
    path: str
    dit_bytes: int  # size of the DiT weights on disk (both experts for A14B)


@dataclass(frozen=True)
class JobShape:
    """The parts of a request the plan depends on."""

    task: str  # t2v-A14B | i2v-A14B | ti2v-5B | auto
    width: int
    height: int
    frame_num: int
    has_image: bool = False
    steps: int = 0  # sampling steps (0: the task's default)


@dataclass(frozen=True)
class Plan:
    task: str
    device: str
    nproc: int
    ulysses_size: int
    dit_fsdp: bool
    t5_fsdp: bool
    offload_model: bool
    convert_model_dtype: bool
    t5_cpu: bool
    attention: str
    est_vram_gib: float  # per GPU
    est_ram_gib: float
    width: int = 0
    height: int = 0
    checkpoint: str | None = None
    reasons: dict[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    dtype: str = "bf16"  # compute precision: bf16 on GPUs (official), fp32 on the CPU
    # Below whole-model offload (engine-fit issue): DiT blocks resident at a time while the rest
    # stream from pinned host memory (0: no streaming); FP8 weight storage; the VAE's precision,
    # spatial tile (latent pixels, 0: untiled) and whether it leaves the GPU while sampling.
    stream_blocks: int = 0
    fp8: bool = False
    vae_dtype: str = "fp32"
    vae_tile: int = 0
    vae_offload: bool = False
    # Speed (engine-speed issue): torch.compile of the DiT blocks; CFG's two forwards as one batch.
    compile: bool = False
    cfg_batch: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (the worker command and the history row carry this)."""
        d = asdict(self)
        d["warnings"] = list(self.warnings)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Plan:
        """The inverse of ``to_dict`` (``from_dict(p.to_dict()) == p``), with every field checked
        for its type, so a bad plan fails where it is read instead of deep in the engine. Unknown
        keys (a newer app's fields) are ignored; older plans without ``dtype`` get the default."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in d:
                if f.default is MISSING and f.default_factory is MISSING:
                    raise ValueError(f"plan without {f.name!r}")
                continue
            values[f.name] = _plan_field(f.name, d[f.name])
        if values.get("dtype", "bf16") not in DTYPES:
            raise ValueError(f"plan dtype {values['dtype']!r} is not one of {DTYPES}")
        return cls(**values)

    def summary(self) -> str:
        where = (
            f"{self.nproc} GPUs (Ulysses {self.ulysses_size})"
            if self.nproc > 1
            else self.device.upper()
        )
        flags = [
            n
            for n, on in (
                ("offload", self.offload_model),
                ("bf16", self.convert_model_dtype),
                ("T5 on CPU", self.t5_cpu),
                ("FSDP", self.dit_fsdp),
            )
            if on
        ]
        return (
            f"{self.task} {self.width}x{self.height} on {where}, {', '.join(flags) or 'no memory savers'}; "
            f"~{self.est_vram_gib:.0f} GiB VRAM, ~{self.est_ram_gib:.0f} GiB RAM"
        )


_PLAN_TYPES: dict[str, type] = {
    "task": str,
    "device": str,
    "nproc": int,
    "ulysses_size": int,
    "dit_fsdp": bool,
    "t5_fsdp": bool,
    "offload_model": bool,
    "convert_model_dtype": bool,
    "t5_cpu": bool,
    "attention": str,
    "est_vram_gib": float,
    "est_ram_gib": float,
    "width": int,
    "height": int,
    "dtype": str,
    "stream_blocks": int,
    "fp8": bool,
    "vae_dtype": str,
    "vae_tile": int,
    "vae_offload": bool,
    "compile": bool,
    "cfg_batch": bool,
}


def _plan_field(name: str, value: Any) -> Any:
    if name == "checkpoint":
        if value is not None and not isinstance(value, str):
            raise ValueError(f"plan checkpoint must be a path, got {value!r}")
        return value
    if name == "reasons":
        if not isinstance(value, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise ValueError(f"plan reasons must map names to text, got {value!r}")
        return dict(value)
    if name == "warnings":
        if not isinstance(value, (list, tuple)) or not all(isinstance(w, str) for w in value):
            raise ValueError(f"plan warnings must be a list of text, got {value!r}")
        return tuple(value)
    want = _PLAN_TYPES[name]
    ok = (
        isinstance(value, (int, float)) and not isinstance(value, bool)
        if want is float
        else isinstance(value, want) and (want is bool or not isinstance(value, bool))
    )
    if not ok:
        raise ValueError(f"plan {name} must be {want.__name__}, got {value!r}")
    return float(value) if want is float else value


class PlanError(UserInputError):
    """Nothing fits: the message says why, the hint what would help."""


def task_tokens(spec: TaskSpec, width: int, height: int, frame_num: int) -> int:
    """DiT tokens of a job (official ``seq_len``), from the task's VAE stride and patch size."""
    t_stride, h_stride, w_stride = spec.vae_stride
    _, ph, pw = spec.patch_size
    lat_f = (frame_num - 1) // t_stride + 1
    return sequence_length(lat_f, height // h_stride, width // w_stride, ph, pw)


def dit_tokens(model: str, width: int, height: int, frame_num: int) -> int:
    """``task_tokens`` for a model family ("A14B", "5B"), as the memory figures are keyed."""
    return task_tokens(TASKS[_MODEL_TASK[model]], width, height, frame_num)


def usable_ulysses(heads: int, gpus: int) -> int:
    """The largest sequence-parallel size <= gpus that divides the head count (official rule)."""
    return max(d for d in range(1, gpus + 1) if heads % d == 0)


def _peak_vram(
    model: str, gpus: int, ktok: float, offload: bool, convert: bool, t5_cpu: bool
) -> float:
    if gpus == 1:
        base, slope = PEAK_FIT[(model, 1)]
    else:
        # Interpolate the per-GPU figures between measured GPU counts, linearly in 1/gpus.
        counts = sorted(n for (m, n) in PEAK_FIT if m == model and n > 1)
        lo = max([n for n in counts if n <= gpus] or [counts[0]])
        hi = min([n for n in counts if n >= gpus] or [counts[-1]])
        b_lo, s_lo = PEAK_FIT[(model, lo)]
        b_hi, s_hi = PEAK_FIT[(model, hi)]
        w = 0.0 if lo == hi else (1 / lo - 1 / gpus) / (1 / lo - 1 / hi)
        base, slope = b_lo + w * (b_hi - b_lo), s_lo + w * (s_hi - s_lo)
    peak = base + slope * ktok
    if model == "A14B" and gpus == 1:
        if not convert:  # the resident expert stays fp32
            peak += WEIGHTS_GIB["A14B_expert_fp32"] - WEIGHTS_GIB["A14B_expert_bf16"]
        if not offload:  # the second expert stays on the GPU too
            peak += WEIGHTS_GIB["A14B_expert_fp32" if not convert else "A14B_expert_bf16"]
    if model == "5B":
        if not convert:
            peak += (WEIGHTS_GIB["5B_fp32"] - WEIGHTS_GIB["5B_bf16"]) / max(gpus, 1)
        if not t5_cpu and not offload:
            peak += WEIGHTS_GIB["t5_bf16"]  # T5 stays resident beside the DiT
    return peak


def _peak_ram(model: str, gpus: int, offload: bool, convert: bool, t5_cpu: bool) -> float:
    if model == "A14B":
        expert = WEIGHTS_GIB["A14B_expert_bf16" if convert else "A14B_expert_fp32"]
        # Offloading parks both experts and T5 in RAM; with FSDP each rank keeps only shards.
        ram = 2 * expert + WEIGHTS_GIB["t5_bf16"] if (offload and gpus == 1) else expert
    else:
        ram = WEIGHTS_GIB["5B_bf16" if convert else "5B_fp32"]
        ram += WEIGHTS_GIB["t5_bf16"] if (t5_cpu or offload) else 0.0
    return ram + RAM_OVERHEAD_GIB


def choose_attention(hw: Hardware, gpus: tuple[GPU, ...]) -> tuple[str, str]:
    """(attention backend, reason) for these GPUs: the one rule for the planner and
    ``wan22 generate``; the engine runs what it says (``attention.use_backend``)."""
    if not gpus:
        return "sdpa", "no CUDA GPU: PyTorch SDPA"
    cap = min(g.capability for g in gpus)
    if hw.flash_attn == "fa3" and cap[0] == 9:
        return "flash3", "FlashAttention 3 is installed and the GPU is Hopper"
    if hw.flash_attn in ("fa2", "fa3") and cap >= (8, 0):
        return "flash2", "FlashAttention 2 is installed and the GPU is Ampere or newer"
    return "sdpa", "flash-attn is not installed (or the GPU is older than Ampere): PyTorch SDPA"


def _size_for(task: str, shape: JobShape) -> tuple[int, int]:
    """Auto may move an A14B-sized request to TI2V-5B: a size off the task's pixel grid becomes
    the task's official preset of the same orientation."""
    spec = TASKS[task]
    g = spec.spatial_granularity
    if shape.width % g or shape.height % g:
        presets = [tuple(int(v) for v in s.split("*")) for s in spec.supported_sizes]
        same_way = [p for p in presets if (p[0] >= p[1]) == (shape.width >= shape.height)]
        width, height = max(same_way or presets, key=lambda p: p[0] * p[1])
        return width, height
    return shape.width, shape.height


# --- Speed switches, decided after the memory plan from it -------------------------------------
# Compiling the blocks costs about a minute the first time (cached after: seconds) and saves
# ≈10–20 % of each step's elementwise work (docs: gpu-review §2, LightX2V 823.5 vs 1041.5 s at
# A14B 720p). It pays from roughly a minute of sampling: steps × thousands of tokens ≥ this
# (TI2V-5B 720p: 50 × 27.3k = 1364; A14B 480p: 40 × 32.8k = 1310; 5B at 480p, 20 steps: 180).
COMPILE_MIN_KTOKEN_STEPS = 1000.0


def choose_compile(
    device: str,
    nproc: int,
    ktok: float,
    steps: int,
    pinned: bool | None = None,
    stream_blocks: int = 0,
) -> tuple[bool, str]:
    """(compile the DiT blocks, reason). On for long single-GPU CUDA jobs; off on the CPU (tiny
    test models: compiling takes longer than the whole job), across GPUs (not tried with
    Ulysses' collectives or FSDP's hooks) and with block streaming (its per-block hooks move
    weights and wait on CUDA events); a pinned choice wins."""
    if pinned is not None:
        return pinned, f"{'on' if pinned else 'off'}: set by you"
    if device != "cuda":
        return False, "off: on the CPU compiling takes longer than it saves"
    if nproc > 1:
        return False, "off: not used with several GPUs (Ulysses/FSDP)"
    if stream_blocks > 0:
        return False, "off: not combined with block streaming (its hooks run around each block)"
    work = ktok * steps
    if work >= COMPILE_MIN_KTOKEN_STEPS:
        return True, (
            f"on: a long job ({steps} steps × {ktok:.1f}k tokens); compiling the blocks "
            "(about a minute the first time, cached after) saves ≈10–20 % per step"
        )
    return False, (
        f"off: a short job ({steps} steps × {ktok:.1f}k tokens); compiling would take longer "
        "than it saves"
    )


def choose_cfg_batch(
    device: str,
    nproc: int,
    est_vram_gib: float,
    extra_gib: float,
    vram_gib: float,
    pinned: bool | None = None,
) -> tuple[bool, str]:
    """(CFG's two forwards as one batch of two, reason). The batch doubles the activations, so
    it is on only where the estimate plus one more forward's activations (``extra_gib``, the
    planner's per-token slope: generous, it also covers the VAE decode) leaves the reserve free.
    Off on the CPU: it saves nothing there, and the official two-forward order keeps CPU results
    comparable with the reference code; off across GPUs (not tried with Ulysses)."""
    if pinned is not None:
        return pinned, f"{'on' if pinned else 'off'}: set by you"
    if device != "cuda":
        return False, "off: on the CPU two forwards cost the same as one batch of two"
    if nproc > 1:
        return False, "off: not used with several GPUs (Ulysses)"
    need = est_vram_gib + extra_gib + VRAM_RESERVE_GIB
    if need <= vram_gib:
        return True, (
            f"on: the GPU has room for both CFG passes at once (~{need:.0f} of {vram_gib:.0f} GiB)"
        )
    return False, (
        f"off: both CFG passes at once would need ~{need:.0f} GiB of the GPU's {vram_gib:.0f}"
    )


def with_speed(plan_: Plan, shape: JobShape, hw: Hardware, ov: PlanOverrides) -> Plan:
    """``plan_`` with its compile and cfg_batch switches decided (and their reasons)."""
    spec = TASKS[plan_.task]
    ktok = task_tokens(spec, plan_.width, plan_.height, shape.frame_num) / 1000
    steps = shape.steps or spec.sample_steps
    compile_, why_c = choose_compile(
        plan_.device, plan_.nproc, ktok, steps, ov.compile, plan_.stream_blocks
    )
    used = hw.gpus[: plan_.nproc]
    vram = min((g.total_gib for g in used), default=0.0)
    slope = PEAK_FIT[(model_of(plan_.task), 1)][1]
    batch, why_b = choose_cfg_batch(
        plan_.device, plan_.nproc, plan_.est_vram_gib, slope * ktok, vram, ov.cfg_batch
    )
    reasons = {**plan_.reasons, "compile": why_c, "cfg_batch": why_b}
    return replace(plan_, compile=compile_, cfg_batch=batch, reasons=reasons)


def plan(
    shape: JobShape,
    hw: Hardware,
    installed: Mapping[str, InstalledModel] | None = None,
    overrides: PlanOverrides | None = None,
) -> Plan:
    """Decide how to run ``shape`` here; raise ``PlanError`` with the reason when nothing fits.
    The memory plan first (``_memory_plan``), then the speed switches from it."""
    ov = overrides or PlanOverrides()
    return with_speed(_memory_plan(shape, hw, installed, ov), shape, hw, ov)


def _memory_plan(
    shape: JobShape,
    hw: Hardware,
    installed: Mapping[str, InstalledModel] | None = None,
    overrides: PlanOverrides | None = None,
) -> Plan:
    """Decide how to run ``shape`` here; raise ``PlanError`` with the reason when nothing fits."""
    ov = overrides or PlanOverrides()
    installed = installed or {}
    task = ov.task or shape.task
    if task == "auto":
        return _plan_auto(shape, hw, installed, ov)
    if task not in TASKS:
        raise PlanError(f"unknown task {task!r}", "use t2v-A14B, i2v-A14B, ti2v-5B or auto")
    model = model_of(task)
    width, height = _size_for(task, shape)
    ktok = task_tokens(TASKS[task], width, height, shape.frame_num) / 1000
    reasons: dict[str, str] = {
        "task": f"{task} as requested" if not ov.task else f"{task}: set by you"
    }
    warnings: list[str] = []
    ckpt = installed.get(task)
    if (width, height) != (shape.width, shape.height):
        reasons["size"] = (
            f"{width}x{height}: {task} needs sizes in multiples of "
            f"{TASKS[task].spatial_granularity} px, "
            f"the nearest preset to {shape.width}x{shape.height}"
        )

    # --- Device ---------------------------------------------------------------------------------
    tiny = ckpt is not None and ckpt.dit_bytes < TINY_CHECKPOINT_GIB * 1024**3
    gpus_all = hw.gpus
    if ov.device == "cpu" or (not gpus_all and tiny):
        if not tiny:
            raise PlanError(
                f"{task} needs an NVIDIA GPU: its checkpoint is far too large for the CPU",
                "run on a machine with a CUDA GPU; the CPU runs only tiny test checkpoints",
            )
        cpu_dtype = choose_dtype("cpu", ov.dtype)
        reasons["device"] = (
            "CPU: set by you"
            if ov.device == "cpu"
            else "CPU: no CUDA GPU, and this is a tiny test checkpoint"
        )
        return Plan(
            task,
            "cpu",
            1,
            1,
            False,
            False,
            False,
            False,
            False,
            "sdpa",
            0.0,
            RAM_OVERHEAD_GIB,
            width,
            height,
            ckpt.path if ckpt else None,
            {**reasons, "precision": cpu_dtype[1], "attention": "PyTorch SDPA"},
            (),
            dtype=cpu_dtype[0],
        )
    if not gpus_all:
        raise PlanError(
            f"no CUDA GPU found: {task} needs an NVIDIA GPU"
            + (f" ({hw.error})" if hw.error else ""),
            "install the NVIDIA driver and a CUDA build of PyTorch, or run on another machine",
        )

    # --- GPUs and sequence parallelism ------------------------------------------------------------
    want = ov.gpus or len(gpus_all)
    if want > len(gpus_all):
        raise PlanError(
            f"{want} GPUs requested but {len(gpus_all)} found", f"use at most {len(gpus_all)} GPUs"
        )
    heads = HEADS[model]
    uly = ov.ulysses_size or usable_ulysses(heads, want)
    if heads % uly:
        raise PlanError(
            f"Ulysses size {uly} does not divide the model's {heads} heads",
            f"use one of {[d for d in range(1, heads + 1) if heads % d == 0]}",
        )
    nproc = uly if uly > 1 else 1
    if nproc != want:
        reasons["gpus"] = (
            f"{nproc} of {want} GPUs: the sequence-parallel size must divide the "
            f"{heads} attention heads"
        )
    else:
        reasons["gpus"] = f"{nproc} GPU{'s' if nproc > 1 else ''}" + (
            ": split across GPUs with Ulysses sequence parallelism" if nproc > 1 else ""
        )
    used = gpus_all[:nproc]
    vram = min(g.total_gib for g in used)

    # --- Memory savers: the official recipes, then relax what the VRAM allows -----------------------
    multi = nproc > 1
    dit_fsdp = ov.dit_fsdp if ov.dit_fsdp is not None else (multi and model == "A14B")
    t5_fsdp = ov.t5_fsdp if ov.t5_fsdp is not None else (multi and model == "A14B")
    if (dit_fsdp or t5_fsdp) and not multi:
        raise PlanError(
            "FSDP sharding needs several GPUs; this plan uses one",
            "turn FSDP off, or use more GPUs",
        )
    if t5_fsdp and ov.t5_cpu:
        raise PlanError(
            "T5 cannot be sharded across GPUs and kept on the CPU at once",
            "choose one of 'T5 FSDP' and 'T5 on CPU'",
        )
    candidates: list[tuple[bool, bool, bool, str]] = []
    if model == "A14B":
        # Official single-GPU recipe: offload + bf16. Multi-GPU: FSDP shards instead of offload.
        candidates = [
            (
                not multi,
                not multi,
                False,
                "the official recipe for A14B on "
                + ("several GPUs (FSDP + Ulysses)" if multi else "one GPU (offload + bf16)"),
            )
        ]
    else:
        candidates = [
            (
                False,
                False,
                False,
                "VRAM to spare: everything stays on the GPU in full precision (fastest)",
            ),
            (False, True, False, "bf16 weights to fit the VRAM; no offloading needed"),
            (
                True,
                True,
                True,
                "offload, bf16 weights and T5 on the CPU (the official 24 GB recipe)",
            ),
        ]
    chosen = None
    for offload, convert, t5cpu, why in candidates:
        offload = ov.offload_model if ov.offload_model is not None else offload
        convert = ov.convert_model_dtype if ov.convert_model_dtype is not None else convert
        t5cpu = ov.t5_cpu if ov.t5_cpu is not None else t5cpu
        est = _peak_vram(model, nproc, ktok, offload, convert, t5cpu)
        chosen = (offload, convert, t5cpu, why, est)
        if est + VRAM_RESERVE_GIB <= vram:
            break
    assert chosen is not None
    offload, convert, t5cpu, why, est = chosen
    if est + VRAM_RESERVE_GIB > vram:
        hint = (
            "choose a smaller size or fewer frames, or TI2V-5B"
            if model == "A14B"
            else "choose fewer frames; TI2V-5B at 720p needs about 24 GB"
        )
        raise PlanError(
            f"{task} at {width}x{height}, {shape.frame_num} frames needs about "
            f"{est:.0f} GiB per GPU; the GPU has {vram:.0f} GiB",
            hint,
        )
    for name, value, pinned in (
        ("offload_model", offload, ov.offload_model),
        ("convert_model_dtype", convert, ov.convert_model_dtype),
        ("t5_cpu", t5cpu, ov.t5_cpu),
    ):
        reasons[name] = f"{'on' if value else 'off'}: " + (
            "set by you" if pinned is not None else why
        )
    reasons["dit_fsdp"] = f"{'on' if dit_fsdp else 'off'}: " + (
        "set by you"
        if ov.dit_fsdp is not None
        else "shards the experts across GPUs"
        if dit_fsdp
        else "single GPU or small model"
    )

    ram = _peak_ram(model, nproc, offload, convert, t5cpu)
    if ram > hw.ram_total_gib > 0:
        raise PlanError(
            f"{task} with these settings needs about {ram:.0f} GiB of system RAM; "
            f"this machine has {hw.ram_total_gib:.0f} GiB",
            "add RAM or swap, use several GPUs, or choose TI2V-5B",
        )
    if ram > hw.ram_available_gib > 0:
        warnings.append(
            f"about {ram:.0f} GiB of RAM needed but only {hw.ram_available_gib:.0f} GiB "
            "is free now: close other programs"
        )
    attention, att_why = (
        choose_attention(hw, used) if ov.attention is None else (ov.attention, "set by you")
    )
    reasons["attention"] = att_why
    dtype, reasons["precision"] = choose_dtype("cuda", ov.dtype)
    if ckpt is None:
        warnings.append(f"the {task} model is not installed yet: download or import it first")
    return Plan(
        task,
        "cuda",
        nproc,
        uly,
        dit_fsdp,
        t5_fsdp,
        offload,
        convert,
        t5cpu,
        attention,
        round(est, 1),
        round(ram, 1),
        width,
        height,
        ckpt.path if ckpt else None,
        reasons,
        tuple(warnings),
        dtype=dtype,
    )


def choose_dtype(device_type: str, pinned: str | None = None) -> tuple[str, str]:
    """(compute precision, reason): the one rule for the planner and ``wan22 generate``. bf16 on
    GPUs (the official mode), fp32 on the CPU (tiny checkpoints, tests); a pinned one wins."""
    if pinned is not None and pinned != "auto":
        if pinned not in DTYPES:
            raise PlanError(f"unknown precision {pinned!r}", f"use one of {', '.join(DTYPES)}")
        return pinned, f"{pinned}: set by you"
    if device_type == "cpu":
        return "fp32", "fp32 on the CPU"
    return "bf16", "bf16: the official precision on GPUs"


def _plan_auto(
    shape: JobShape, hw: Hardware, installed: Mapping[str, InstalledModel], ov: PlanOverrides
) -> Plan:
    first = "i2v-A14B" if shape.has_image else "t2v-A14B"
    errors: list[str] = []
    for task in (first, "ti2v-5B"):
        try:
            p = plan(replace(shape, task=task), hw, installed, replace(ov, task=None))
        except PlanError as exc:
            errors.append(f"{task}: {exc.message}")
            continue
        if task == "ti2v-5B" and errors:
            why = f"auto: {first} does not fit ({errors[0].split(': ', 1)[1]}); TI2V-5B does"
        else:
            why = f"auto: {task} fits this machine"
        return replace(p, reasons={**p.reasons, "task": why})
    raise PlanError(
        "no model fits this machine: " + "; ".join(errors),
        "use a smaller size or fewer frames, or a machine with more GPU memory",
    )
