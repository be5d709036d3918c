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
from wan22_desktop.runtime import vram_model as vm
from wan22_desktop.runtime.hardware import (
    ATTENTION_BACKENDS,
    ATTENTION_KERNELS,
    GPU,
    Hardware,
    kernel_unsupported,
)
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


# Peak GPU memory per GPU comes from ``vram_model`` (weights + activations per 1k tokens + the
# VAE decode working set, per phase), fitted to the fake-CUDA harness (engine/wan/vram_harness.py).
# What "an N GB card" holds, in GiB as the driver reports it (the commonest card of the class;
# ``wan22 plan --gpus 1x24`` and the tests use these).
CARD_GIB = {8: 7.8, 12: 11.7, 16: 15.7, 24: 23.6, 40: 39.4, 48: 44.9, 80: 79.2, 141: 139.7}
# The switches below whole-model offload that the engine implements: the planner plans only
# these, so a plan never asks the engine for what it would ignore (and then run out of memory).
# All of issue 12's savers are in the engine (streaming.py, fp8.py, vae_io.py) and simulated by
# the fake-CUDA harness, whose peaks the memory model is fitted to.
SAVER_SWITCHES = ("stream_blocks", "fp8", "vae_dtype", "vae_tile", "vae_offload")
ENGINE_SWITCHES: frozenset[str] = frozenset(SAVER_SWITCHES)
# VAE tiles tried (latent pixels), largest first, when the untiled decode does not fit.
VAE_TILES = (64, 32, 16)


def card_gib(nominal_gb: float) -> float:
    """GiB usable on a card sold as ``nominal_gb`` GB."""
    if float(nominal_gb).is_integer() and int(nominal_gb) in CARD_GIB:
        return CARD_GIB[int(nominal_gb)]
    return nominal_gb * 0.98


RAM_OVERHEAD_GIB = 4.0  # Python, CUDA context, pinned buffers, the VAE on the CPU side
TINY_CHECKPOINT_GIB = 1.0  # below this a checkpoint is a test model: CPU fp32 is fine
# Attention heads of each model's DiT (engine/wan/dit_config.py PRESETS; a test keeps them equal:
# the planner may not import the engine). Ulysses must divide them.
HEADS = {"A14B": 40, "5B": 24}
DTYPES = ("bf16", "fp16", "fp32")


def planned_gib(card_gib_: float, headroom_pct: int) -> float:
    """The GiB of a card the planner plans for when ``headroom_pct`` percent is kept free."""
    return card_gib_ * (1 - max(0, headroom_pct) / 100)


def headroom_note(card_gib_: float, headroom_pct: int) -> str:
    """The clause a plan line gets when memory is kept free ("" without headroom)."""
    if headroom_pct <= 0:
        return ""
    planned = planned_gib(card_gib_, headroom_pct)
    return f"; planned for {planned:.0f} of {card_gib_:.0f} GiB: {headroom_pct} % kept free"


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
    attention: str | None = None  # "flash3" | "flash2" | "sage" | "sdpa" ("auto"/None: planner)
    device: str | None = None  # "cuda" | "cpu"
    dtype: str | None = None  # "bf16" | "fp16" | "fp32" (compute precision)
    # Below whole-model offload (one GPU): resident DiT blocks with streaming (0: off), FP8 DiT
    # weights, VAE precision, VAE tile (latent px, 0: untiled), VAE off the GPU while sampling.
    stream_blocks: int | None = None
    fp8: bool | None = None
    vae_dtype: str | None = None
    vae_tile: int | None = None
    vae_offload: bool | None = None
    compile: bool | None = None  # torch.compile of the DiT blocks
    cfg_batch: bool | None = None  # CFG's two forwards as one batch of two
    # Percent of each GPU's memory left out of the plan (other programs, an estimate that was
    # short on this machine): the out-of-memory fallback raises it (runtime/planning.py).
    vram_headroom: int = 0


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
    # Modelled per-GPU peaks with the allocator margin (runtime/vram_model.py), per phase.
    est_vram_sampling_gib: float = 0.0
    est_vram_decode_gib: float = 0.0

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

    def savers(self) -> list[str]:
        """The memory savers in use, in words (the plan panel, ``wan22 plan``, the runner log)."""
        return [
            name
            for name, on in (
                ("offload", self.offload_model),
                ("bf16 weights", self.convert_model_dtype),
                ("T5 on CPU", self.t5_cpu),
                ("FSDP", self.dit_fsdp),
                (f"streaming ({self.stream_blocks} blocks resident)", self.stream_blocks > 0),
                ("FP8 weights", self.fp8),
                (f"{self.vae_dtype} VAE", self.vae_dtype != "fp32"),
                (f"tiled VAE ({self.vae_tile})", self.vae_tile > 0),
                ("VAE off the GPU while sampling", self.vae_offload),
            )
            if on
        ]

    def summary(self) -> str:
        where = (
            f"{self.nproc} GPUs (Ulysses {self.ulysses_size})"
            if self.nproc > 1
            else self.device.upper()
        )
        flags = self.savers()
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
    "est_vram_sampling_gib": float,
    "est_vram_decode_gib": float,
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


def _peak_ram(model: str, sw: vm.Switches) -> float:
    """Host RAM: what is parked or streamed from the CPU, plus the process overhead."""
    one = vm.dit_gib(model, sw.convert_model_dtype, sw.fp8)
    if sw.nproc > 1:
        ram = one  # one rank's load buffer; FSDP ranks share the mmapped files
        if model == "5B" and (sw.t5_cpu or sw.offload_model):
            ram += vm.t5_gib()
    else:
        parked = sw.offload_model or sw.stream_blocks > 0
        # Resident models pass through one DiT-sized load buffer; parked/streamed ones live here.
        ram = vm.SIZES[model].experts * one if parked else one
        ram += vm.t5_gib() if (sw.t5_cpu or sw.offload_model) else 0.0
        ram += vm.vae_gib(model, sw.vae_dtype) if sw.vae_offload else 0.0
    return ram + RAM_OVERHEAD_GIB


def choose_attention(
    hw: Hardware, gpus: tuple[GPU, ...], pinned: str | None = None
) -> tuple[str, str]:
    """(attention backend, reason) for these GPUs: the one rule for the planner and
    ``wan22 generate``; the engine runs what it says (``attention.use_backend``), falling back to
    SDPA if the kernel fails or returns NaN at run time.

    Only a kernel that imported in the probe *and* runs on the oldest of ``gpus`` is chosen.
    Automatic order: FlashAttention 3, FlashAttention 2, SDPA. SageAttention is 8-bit (its output
    differs slightly, so the same seed gives a slightly different video): used when pinned only.
    A pinned backend that cannot run here is a ``PlanError`` naming the ones that can."""
    if pinned in (None, "auto"):
        pinned = None
    elif pinned not in ATTENTION_BACKENDS:
        raise PlanError(
            f"unknown attention backend {pinned!r}",
            f"use one of auto, {', '.join(ATTENTION_BACKENDS)}",
            field="attention",
        )
    why_not: dict[str, str] = {}
    if not gpus:
        why_not = {name: f"{k.label} needs a CUDA GPU" for name, k in ATTENTION_KERNELS.items()}
        usable = ["sdpa"]
    else:
        cap = min(g.capability for g in gpus)
        usable = []
        for name, kernel in ATTENTION_KERNELS.items():
            if name not in hw.attention_kernels:
                error = hw.attention_errors.get(name)
                why_not[name] = f"{kernel.label} is not installed" + (
                    f" (importing {kernel.module} failed: {error})" if error else ""
                )
            elif (unsupported := kernel_unsupported(name, cap)) is not None:
                why_not[name] = unsupported
            else:
                usable.append(name)
        usable.append("sdpa")
    if pinned is not None:
        if pinned not in usable:
            raise PlanError(
                f"attention backend {pinned} cannot run here: {why_not[pinned]}",
                f"use one of auto, {', '.join(usable)}",
                field="attention",
            )
        return pinned, f"{_BACKEND_LABEL[pinned]}: set by you"
    for name in ("flash3", "flash2"):
        if name in usable:
            cap = min(g.capability for g in gpus)
            card = f"sm{cap[0]}{cap[1]}" + (", Hopper" if cap[0] == 9 else "")
            return name, f"{_BACKEND_LABEL[name]}: it imports, and the GPU ({card}) runs it"
    if not gpus:
        return "sdpa", "no CUDA GPU: PyTorch SDPA"
    return "sdpa", "PyTorch SDPA: " + "; ".join(why_not[n] for n in ("flash3", "flash2"))


_BACKEND_LABEL = {**{n: k.label for n, k in ATTENTION_KERNELS.items()}, "sdpa": "PyTorch SDPA"}


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


@dataclass(frozen=True)
class _Job:
    task: str
    model: str
    width: int
    height: int
    frame_num: int
    has_image: bool

    def estimate(self, sw: vm.Switches) -> vm.VramEstimate:
        spec = TASKS[self.task]
        tokens = task_tokens(spec, self.width, self.height, self.frame_num)
        has_image = self.has_image or spec.model_type == "i2v"
        return vm.estimate(
            self.model,
            tokens,
            self.width,
            self.height,
            self.frame_num,
            sw,
            has_image=has_image,
            task_is_i2v=spec.model_type == "i2v",
        )


@dataclass
class _Choice:
    switches: vm.Switches | None = None
    estimate: vm.VramEstimate | None = None
    why: str = ""
    last: vm.VramEstimate | None = None  # the last candidate tried (for the refusal's figure)
    ram_short: float = 0.0  # RAM a candidate that fitted the GPU needed
    blocks: tuple[int, int] = (0, 0)  # most resident blocks in bf16, in FP8
    untiled_decode: float = 0.0
    t5_why: str = ""


_OFFICIAL_1GPU = "the official recipe for A14B on one GPU (offload + bf16): one expert at a time"


def _recipes(model: str, multi: bool) -> list[tuple[dict[str, Any], str]]:
    """Whole-model placements, fastest first."""
    if model == "A14B" and multi:
        return [({}, "the official recipe for A14B on several GPUs (FSDP + Ulysses)")]
    if model == "A14B":
        return [
            (
                dict(convert_model_dtype=True),
                "both experts and T5 stay on the GPU in bf16: no copies between steps (fastest)",
            ),
            (
                dict(convert_model_dtype=True, t5_cpu=True),
                "both experts stay on the GPU in bf16 (no copy at the expert switch); "
                "T5 runs on the CPU to make room",
            ),
            (dict(offload_model=True, convert_model_dtype=True), _OFFICIAL_1GPU),
        ]
    return [
        ({}, "VRAM to spare: everything stays on the GPU in full precision (fastest)"),
        (dict(convert_model_dtype=True), "bf16 weights to fit the VRAM; no offloading needed"),
        (
            dict(convert_model_dtype=True, t5_cpu=True),
            "bf16 weights and T5 on the CPU to fit the VRAM; no offloading needed",
        ),
        (
            dict(offload_model=True, convert_model_dtype=True, t5_cpu=True),
            "offload, bf16 weights and T5 on the CPU (the official 24 GB recipe)",
        ),
    ]


def _pin(sw: vm.Switches, ov: PlanOverrides) -> vm.Switches:
    """The user's overrides win over every candidate."""
    changes: dict[str, Any] = {}
    for name in (
        "offload_model",
        "convert_model_dtype",
        "t5_cpu",
        "stream_blocks",
        "fp8",
        "vae_dtype",
        "vae_tile",
        "vae_offload",
    ):
        value = getattr(ov, name)
        if value is not None:
            changes[name] = value
    return replace(sw, **changes)


def _phase_fits(gib: float, vram: float) -> bool:
    return gib <= vm.FIT_FRACTION * vram and gib + vm.allocator_margin(gib) <= vram


def _choose_memory(
    job: _Job, base: vm.Switches, vram: float, ram_total: float, ov: PlanOverrides
) -> _Choice:
    """The fastest memory switches whose modelled peak fits ``vram`` GiB per GPU (and the RAM)."""
    out = _Choice()

    def ok(sw: vm.Switches) -> bool:
        est = job.estimate(sw)
        out.last = est
        if not est.fits(vram):
            return False
        ram = _peak_ram(job.model, sw)
        if ram > ram_total > 0:
            out.ram_short = ram
            return False
        return True

    for partial, why in _recipes(job.model, base.nproc > 1):
        sw = _pin(replace(base, **partial), ov)
        if ok(sw):
            out.switches, out.estimate, out.why = sw, out.last, why
            return out
    if base.nproc > 1 or ov.offload_model is False:  # streaming is an offload: not when off
        return out

    # Below whole-model offload, one GPU:
    # T5 on the CPU if its encode does not fit, a tiled VAE if the decode does not, then DiT
    # blocks streamed (bf16 while at least half stay resident, else FP8 if it keeps more).
    sw = _pin(replace(base, offload_model=True, convert_model_dtype=True), ov)
    if ov.t5_cpu is None and not _phase_fits(job.estimate(sw).text, vram):
        sw = replace(sw, t5_cpu=True)
        out.t5_why = (
            f"T5 ({vm.t5_gib():.1f} GiB) does not fit on the GPU even alone: it encodes on the CPU"
        )
    can = ENGINE_SWITCHES
    out.untiled_decode = job.estimate(replace(sw, vae_tile=0, vae_dtype="fp32")).decode
    if ov.vae_tile is None and "vae_tile" in can and not _phase_fits(job.estimate(sw).decode, vram):
        tiles = [(t, sw.vae_dtype) for t in VAE_TILES]
        if ov.vae_dtype is None and "vae_dtype" in can:
            tiles.append((VAE_TILES[-1], "bf16"))
        for tile, vdtype in tiles:
            sw = replace(sw, vae_tile=tile, vae_dtype=vdtype)
            if _phase_fits(job.estimate(sw).decode, vram):
                break
    if (
        not _phase_fits(job.estimate(sw).sampling, vram)
        and ov.stream_blocks is None
        and "stream_blocks" in can
    ):
        if ov.vae_offload is None and "vae_offload" in can:
            sw = replace(sw, vae_offload=True)
        blocks = vm.SIZES[job.model].blocks
        n = {
            fp8: vm.max_resident_blocks(
                job.model,
                task_tokens(TASKS[job.task], job.width, job.height, job.frame_num),
                job.width,
                job.height,
                job.frame_num,
                replace(sw, fp8=fp8),
                vram,
                has_image=job.has_image or TASKS[job.task].model_type == "i2v",
                task_is_i2v=TASKS[job.task].model_type == "i2v",
            )
            for fp8 in (
                (ov.fp8,) if ov.fp8 is not None else (False, True) if "fp8" in can else (False,)
            )
        }
        n_bf16, n_fp8 = n.get(False, 0), n.get(True, 0)
        out.blocks = (n_bf16, n_fp8)
        if n_bf16 and (n_bf16 * 2 >= blocks or n_bf16 >= n_fp8):
            fp8, resident = False, n_bf16
        else:
            fp8, resident = True, n_fp8
        if resident:
            sw = replace(sw, fp8=fp8, stream_blocks=0 if resident >= blocks else resident)
    if ok(sw):
        out.switches, out.estimate = sw, out.last
        out.why = (
            _OFFICIAL_1GPU
            if job.model == "A14B"
            else "offload, bf16 weights and T5 on the CPU (the official 24 GB recipe)"
        ) + ", with the savers below"
    return out


def _smallest_card(job: _Job, ov: PlanOverrides) -> int | None:
    """The smallest common card (nominal GB) on which one GPU runs ``job`` (with the same
    headroom kept free)."""
    for nominal, gib in sorted(CARD_GIB.items()):
        budget = planned_gib(gib, ov.vram_headroom)
        if _choose_memory(job, vm.Switches(), budget, 0.0, ov).switches is not None:
            return nominal
    return None


def _saver_reasons(sw: vm.Switches, ov: PlanOverrides, c: _Choice) -> dict[str, str]:
    """A line a user can read for each switch below whole-model offload."""
    mine = "set by you"
    n_bf16, n_fp8 = c.blocks
    if ov.stream_blocks is not None:
        stream = f"{sw.stream_blocks or 'off'}: {mine}"
    elif sw.stream_blocks:
        stream = (
            f"{sw.stream_blocks} DiT blocks stay on the GPU, the others stream in from pinned "
            "RAM while the previous one computes: the whole DiT does not fit beside the "
            "activations"
        )
    else:
        stream = "off: the DiT fits on the GPU"
    if ov.fp8 is not None:
        fp8 = f"{'on' if sw.fp8 else 'off'}: {mine}"
    elif sw.fp8:
        fp8 = (
            f"on: FP8 weights keep {sw.stream_blocks or n_fp8} blocks resident instead of "
            f"{n_bf16} in bf16 (less streaming; a small accuracy cost)"
        )
    else:
        fp8 = "off: bf16 weights fit well enough"
    if ov.vae_tile is not None or ov.vae_dtype is not None:
        vae = f"{sw.vae_dtype}, " + (f"tiles of {sw.vae_tile}" if sw.vae_tile else "untiled")
        vae += f": {mine}"
    elif sw.vae_tile or sw.vae_dtype != "fp32":
        vae = (
            f"{sw.vae_dtype}, tiles of {sw.vae_tile} latent px: the untiled fp32 decode needs "
            f"about {c.untiled_decode + vm.allocator_margin(c.untiled_decode):.0f} GiB"
        )
    else:
        vae = "fp32, untiled: the decode fits"
    if ov.vae_offload is not None:
        vae_off = f"{'on' if sw.vae_offload else 'off'}: {mine}"
    elif sw.vae_offload:
        vae_off = "on: the VAE waits in RAM while the DiT samples, to make room"
    else:
        vae_off = "off: the VAE stays on the GPU"
    return {"stream_blocks": stream, "fp8": fp8, "vae": vae, "vae_offload": vae_off}


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
    batched: vm.VramEstimate | None,
    vram_gib: float,
    pinned: bool | None = None,
) -> tuple[bool, str]:
    """(CFG's two forwards as one batch of two, reason). The batch doubles the activations, so
    it is on only where the memory plan's estimate with the batch (``batched``) still fits the
    card by the memory plan's own rule; the memory plan comes first (both A14B experts resident
    beat a batch of two). Off on the CPU: it saves nothing there, and the official two-forward
    order keeps CPU results comparable with the reference code; off across GPUs (not tried
    with Ulysses)."""
    if pinned is not None:
        return pinned, f"{'on' if pinned else 'off'}: set by you"
    if device != "cuda":
        return False, "off: on the CPU two forwards cost the same as one batch of two"
    if nproc > 1:
        return False, "off: not used with several GPUs (Ulysses)"
    if batched is None:
        return False, "off: no memory estimate"
    need = batched.sampling + vm.allocator_margin(batched.sampling)
    if batched.fits(vram_gib):
        return True, (
            f"on: the GPU has room for both CFG passes at once (~{need:.0f} of {vram_gib:.0f} GiB)"
        )
    return False, (
        f"off: both CFG passes at once would need ~{need:.0f} GiB of the GPU's {vram_gib:.0f}"
    )


def with_speed(plan_: Plan, shape: JobShape, ov: PlanOverrides) -> Plan:
    """``plan_`` with its compile switch decided (and its reason); CFG batching is the memory
    plan's (it changes the peak)."""
    spec = TASKS[plan_.task]
    ktok = task_tokens(spec, plan_.width, plan_.height, shape.frame_num) / 1000
    steps = shape.steps or spec.sample_steps
    compile_, why_c = choose_compile(
        plan_.device, plan_.nproc, ktok, steps, ov.compile, plan_.stream_blocks
    )
    return replace(plan_, compile=compile_, reasons={**plan_.reasons, "compile": why_c})


def plan(
    shape: JobShape,
    hw: Hardware,
    installed: Mapping[str, InstalledModel] | None = None,
    overrides: PlanOverrides | None = None,
) -> Plan:
    """Decide how to run ``shape`` here; raise ``PlanError`` with the reason when nothing fits.
    The memory plan first (``_memory_plan``), then the speed switches from it."""
    ov = overrides or PlanOverrides()
    return with_speed(_memory_plan(shape, hw, installed, ov), shape, ov)


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
        cpu_attention = choose_attention(hw, (), ov.attention)
        cpu_batch, reasons["cfg_batch"] = choose_cfg_batch("cpu", 1, None, 0.0, ov.cfg_batch)
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
            cpu_attention[0],
            0.0,
            RAM_OVERHEAD_GIB,
            width,
            height,
            ckpt.path if ckpt else None,
            {**reasons, "precision": cpu_dtype[1], "attention": cpu_attention[1]},
            (),
            dtype=cpu_dtype[0],
            cfg_batch=cpu_batch,
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
    card = min(g.total_gib for g in used)
    vram = planned_gib(card, ov.vram_headroom)
    kept = headroom_note(card, ov.vram_headroom)

    # --- Memory: the fastest placement whose modelled peak fits (runtime/vram_model.py) -----------
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
    job = _Job(task, model, width, height, shape.frame_num, shape.has_image)
    base = vm.Switches(nproc=nproc, ulysses_size=uly, dit_fsdp=dit_fsdp, t5_fsdp=t5_fsdp)
    choice = _choose_memory(job, base, vram, hw.ram_total_gib, ov)
    pinned_gpus = ov.gpus is not None or ov.ulysses_size is not None
    if choice.switches is None and multi and not pinned_gpus and not (ov.dit_fsdp or ov.t5_fsdp):
        # Streaming and FP8 work on one GPU: one card may fit what the split does not.
        one = _choose_memory(job, vm.Switches(), vram, hw.ram_total_gib, ov)
        if one.switches is not None:
            reasons["gpus"] = (
                f"1 of {want} GPUs: split across {nproc} GPUs each one would need more memory "
                "than it has; one GPU runs it with the placement below"
            )
            choice, nproc, uly, dit_fsdp, t5_fsdp = one, 1, 1, False, False
            used = gpus_all[:1]
    if choice.switches is None:
        est = choice.last
        if choice.ram_short and est is not None and est.fits(vram):
            raise PlanError(
                f"{task} with these settings needs about {choice.ram_short:.0f} GiB of system "
                f"RAM; this machine has {hw.ram_total_gib:.0f} GiB",
                "add RAM or swap, use several GPUs, or choose TI2V-5B",
            )
        need = est.with_margin if est is not None else 0.0
        smallest = _smallest_card(job, ov)
        hint = (
            f"the smallest card that fits this job is {smallest} GB; "
            if smallest
            else "no single card fits this job; "
        ) + (
            "choose a smaller size or fewer frames, or TI2V-5B"
            if model == "A14B"
            else "choose a smaller size or fewer frames"
        )
        phases = (
            f" (sampling {est.sampling + vm.allocator_margin(est.sampling):.1f}, "
            f"decode {est.decode + vm.allocator_margin(est.decode):.1f})"
            if est is not None
            else ""
        )
        raise PlanError(
            f"{task} at {width}x{height}, {shape.frame_num} frames needs about "
            f"{need:.0f} GiB per GPU{phases}; the GPU has {card:.0f} GiB" + kept,
            hint,
        )
    sw, est = choice.switches, choice.estimate
    assert est is not None
    batched = job.estimate(replace(sw, cfg_batch=True)) if nproc == 1 else None
    cfg_batch, reasons["cfg_batch"] = choose_cfg_batch("cuda", nproc, batched, vram, ov.cfg_batch)
    if cfg_batch and batched is not None:
        sw, est = replace(sw, cfg_batch=True), batched
        if not batched.fits(vram):
            warnings.append(
                f"CFG batching (set by you) needs about {batched.with_margin:.0f} GiB of the "
                f"GPU's {vram:.0f}: the job may run out of GPU memory; turn it off"
            )
    offload, convert, t5cpu = sw.offload_model, sw.convert_model_dtype, sw.t5_cpu
    why = choice.why
    for name, value, pinned in (
        ("offload_model", offload, ov.offload_model),
        ("convert_model_dtype", convert, ov.convert_model_dtype),
        ("t5_cpu", t5cpu, ov.t5_cpu),
    ):
        reasons[name] = f"{'on' if value else 'off'}: " + (
            "set by you" if pinned is not None else why
        )
    if choice.t5_why and ov.t5_cpu is None:
        reasons["t5_cpu"] = f"on: {choice.t5_why}"
    reasons.update(_saver_reasons(sw, ov, choice))
    reasons["dit_fsdp"] = f"{'on' if dit_fsdp else 'off'}: " + (
        "set by you"
        if ov.dit_fsdp is not None
        else "shards the experts across GPUs"
        if dit_fsdp
        else "single GPU or small model"
    )
    reasons["vram"] = (
        f"about {est.sampling + vm.allocator_margin(est.sampling):.1f} GiB while sampling and "
        f"{est.decode + vm.allocator_margin(est.decode):.1f} GiB while decoding, of "
        f"{vram:.1f} GiB"
        + (" (several GPUs: arithmetic, not simulated per rank)" if est.formula_only else "")
        + kept
    )

    ram = _peak_ram(model, sw)
    if ram > hw.ram_available_gib > 0:
        warnings.append(
            f"about {ram:.0f} GiB of RAM needed but only {hw.ram_available_gib:.0f} GiB "
            "is free now: close other programs"
        )
    attention, att_why = choose_attention(hw, used, ov.attention)
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
        round(est.with_margin, 1),
        round(ram, 1),
        width,
        height,
        ckpt.path if ckpt else None,
        reasons,
        tuple(warnings),
        dtype=dtype,
        stream_blocks=sw.stream_blocks,
        fp8=sw.fp8,
        vae_dtype=sw.vae_dtype,
        vae_tile=sw.vae_tile,
        vae_offload=sw.vae_offload,
        cfg_batch=cfg_batch,
        est_vram_sampling_gib=round(est.sampling + vm.allocator_margin(est.sampling), 1),
        est_vram_decode_gib=round(est.decode + vm.allocator_margin(est.decode), 1),
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
    fallback: Plan | None = None
    for task in (first, "ti2v-5B"):
        try:
            p = plan(replace(shape, task=task), hw, installed, replace(ov, task=None))
        except PlanError as exc:
            errors.append(f"{task}: {exc.message}")
            continue
        if task == first and (p.stream_blocks or p.fp8):
            # A14B would only run with streaming/FP8 here: the 5B model is made for such cards.
            errors.append(f"{task}: fits only with block streaming or FP8 weights (slow)")
            fallback = p
            continue
        if task == "ti2v-5B" and errors:
            why = f"auto: {first} does not fit ({errors[0].split(': ', 1)[1]}); TI2V-5B does"
        else:
            why = f"auto: {task} fits this machine"
        return replace(p, reasons={**p.reasons, "task": why})
    if fallback is not None:
        why = f"auto: {first} with block streaming/FP8; TI2V-5B does not fit either"
        return replace(fallback, reasons={**fallback.reasons, "task": why})
    raise PlanError(
        "no model fits this machine: " + "; ".join(errors),
        "use a smaller size or fewer frames, or a machine with more GPU memory",
    )
