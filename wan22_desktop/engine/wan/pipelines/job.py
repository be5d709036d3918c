"""One path for a job: ``wan22 generate`` and the worker both run a request through ``run_job``.

The order is the official one, and what memory needs:

1. the seed is decided once (``resolve_seed`` on rank 0, broadcast to every rank);
2. the output path is checked (a bad one fails before any heavy work);
3. the prompt is extended *before* anything heavy is loaded: a local Qwen must not share the GPU
   with T5 and the DiT, so a loaded pipeline of another checkpoint or plan is released first
   (one of the same key is kept: it is what the next job needs anyway);
4. the pipeline is loaded (or reused from the ``PipelineCache``), as the typed ``Plan`` says:
   device, dtype, memory switches, attention backend, Ulysses/FSDP;
5. text encoding, sampling, decoding (the ``Engine``), then the video is saved under a temporary
   name and renamed when complete (``video_io.save_video``), so a failed or cancelled run leaves
   nothing behind.

Every phase is timed by the one ``PhaseClock``. Under torchrun every rank calls ``run_job`` and
announces the same phases (the worker syncs the cancel flag at each); only rank 0 extends the
prompt and writes files. Failures leave as typed errors (``errors.py``): the GPU running out of
memory becomes ``OutOfMemory``, a folder that cannot be loaded ``CheckpointError``, a cancel
``Cancelled``; the adapters branch on those types only.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from wan22_desktop.engine import video_io
from wan22_desktop.errors import CheckpointError, OutOfMemory, UserInputError, Wan22Error
from wan22_desktop.request import GenerationRequest
from wan22_desktop.runtime.planner import Plan
from wan22_desktop.tasks import DEFAULT_NEGATIVE_PROMPT
from wan22_desktop.video_metadata import build_payload

from .. import parallel
from ..dit import WanDiT
from ..lora import HIGH, LOW, ExpertLora
from .clock import PhaseClock
from .loop import LOW_NOISE, StepInfo
from .pipeline import GenerationResult, MemoryConfig, WanPipeline, resolve_seed

_UNSAFE = re.compile(r'[\x00-\x1f<>:"\\|?*/ ]')

TORCH_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}
OOM_HINT = (
    "turn on offload_model and T5 on the CPU, choose a smaller size or fewer frames, or "
    "use the TI2V-5B model; `wan22 queue retry-safer ID` plans it again with more of the GPU "
    "kept free (the queue does that once by itself)"
)
# Plan fields that change what is loaded and where; the same values mean the pipeline can stay.
PIPELINE_KEY_FIELDS = (
    "task",
    "device",
    "dtype",
    "nproc",
    "ulysses_size",
    "dit_fsdp",
    "t5_fsdp",
    "offload_model",
    "convert_model_dtype",
    "t5_cpu",
    "attention",
    "stream_blocks",
    "fp8",
    "vae_dtype",
    "vae_tile",
    "vae_offload",
    "compile",
    "cfg_batch",
)

StepCallback = Callable[[StepInfo], Any]


def pipeline_key(checkpoint: str | Path, plan: Plan) -> tuple[Any, ...]:
    """What a loaded pipeline depends on: two jobs with the same key share it."""
    return (str(checkpoint),) + tuple(getattr(plan, k) for k in PIPELINE_KEY_FIELDS)


# ---- the engine seam --------------------------------------------------------------------------


@dataclass
class JobContext:
    """What the engine sees while it generates: the phase clock and the step callback (which
    may raise ``Cancelled``)."""

    clock: PhaseClock
    on_step: StepCallback | None = None
    notes: list[str] = field(default_factory=list)  # the engine's run-time fallbacks, reported

    def phase(self, name: str) -> None:
        self.clock.phase(name)

    def step(self, info: StepInfo) -> Any:
        return None if self.on_step is None else self.on_step(info)


class Engine(Protocol):
    """The model code behind ``run_job`` (``WanEngine``; the worker tests plug in a small loop)."""

    def load(self, checkpoint: str, plan: Plan) -> Any:
        """Load every component the plan needs; the result is passed back to ``generate``."""

    def generate(
        self, pipeline: Any, request: GenerationRequest, prompt: str, job: JobContext
    ) -> np.ndarray | None:
        """The video ``[3, F, H, W]`` float in [-1, 1] of ``request`` (its seed already resolved)
        with ``prompt``; phases through ``job.phase``, every step through ``job.step``. None on
        ranks other than 0 of a multi-process job, which do not decode."""

    def release(self, pipeline: Any) -> None:
        """Free what ``load`` took (GPU memory first)."""


def memory_for(plan: Plan) -> MemoryConfig:
    """The plan's memory switches as the pipeline takes them."""
    return MemoryConfig(
        offload_model=plan.offload_model,
        convert_model_dtype=plan.convert_model_dtype,
        t5_cpu=plan.t5_cpu,
        stream_blocks=plan.stream_blocks,
        fp8=plan.fp8,
        vae_dtype=plan.vae_dtype,
        vae_tile=plan.vae_tile,
        vae_offload=plan.vae_offload,
    )


class WanEngine:
    """The Wan2.2 pipelines, loaded and run as the plan says."""

    def load(self, checkpoint: str, plan: Plan) -> WanPipeline:
        from .distributed import loading_memory, parallelize

        memory = memory_for(plan)
        pipeline = WanPipeline.from_checkpoint(
            checkpoint,
            plan.task,
            device=plan.device,
            dtype=TORCH_DTYPES[plan.dtype],
            memory=loading_memory(memory, dit_fsdp=plan.dit_fsdp, t5_fsdp=plan.t5_fsdp),
            attention=plan.attention,
        )
        # Ulysses and FSDP over the ranks (official --ulysses_size, --dit_fsdp, --t5_fsdp):
        # transparent to the pipeline, every rank makes the same call and gets the full output.
        parallelize(
            pipeline,
            ulysses_size=plan.ulysses_size,
            dit_fsdp=plan.dit_fsdp,
            t5_fsdp=plan.t5_fsdp,
        )
        pipeline.cfg_batch = plan.cfg_batch
        if plan.compile:  # the blocks compile at the first step; kernels cached in the app's cache
            from wan22_desktop.paths import app_paths

            from ..compile import compile_blocks

            compile_blocks(pipeline.experts.values(), app_paths().cache / "torch-compile")
        return pipeline

    def generate(
        self, pipeline: WanPipeline, request: GenerationRequest, prompt: str, job: JobContext
    ) -> np.ndarray | None:
        result = pipeline.generate(
            prompt,
            image=request.image,
            size=request.size,
            frame_num=request.frame_num,
            sample_steps=request.sample_steps,
            sample_shift=request.sample_shift,
            guidance=(request.guidance.low, request.guidance.high),
            solver=request.solver,
            seed=request.seed,
            negative_prompt=request.negative_prompt,
            callback=job.step,
            clock=job.clock,
            switch_step=request.switch_step,
            step_cache=request.step_cache,
            warmup_steps=request.warmup_steps,
            warmup_guidance=request.warmup_guidance,
            after_warmup=self._after_warmup(pipeline, request),
        )
        job.notes.extend(result.notes)
        return result.video  # None on ranks other than 0 (only rank 0 decodes)

    def release(self, pipeline: Any) -> None:
        pass  # dropping the last reference frees it; the cache then empties the CUDA cache

    def apply_loras(self, pipeline: WanPipeline, request: GenerationRequest) -> bool:
        """Merge the request's LoRAs into the loaded experts (restoring the previous job's set
        first); False when the set is already merged. Every file is checked (hash, fit) first.
        With a guided warm-up the experts it runs on start without theirs (``_after_warmup``
        merges them)."""
        from wan22_desktop.lora_library import verify_ref

        for ref in request.loras:
            verify_ref(ref.path, ref.sha256)
        items = _lora_items(pipeline, request)
        if items and not all(isinstance(m, WanDiT) for m in pipeline.experts.values()):
            raise UserInputError(
                "LoRAs cannot be merged into FSDP-sharded experts yet",
                "run the job without --dit_fsdp",
                field="loras",
            )
        cold = warmup_experts(request)
        items = [i for i in items if i.expert not in cold]
        return pipeline.loras.apply(pipeline.experts, items, pipeline.spec.name)

    def _after_warmup(
        self, pipeline: WanPipeline, request: GenerationRequest
    ) -> Callable[[], None] | None:
        """The mid-job switch to the full LoRA set (only the warm-up experts' tensors change)."""
        cold = warmup_experts(request)
        items = _lora_items(pipeline, request)
        if not any(i.expert in cold and i.strength != 0.0 for i in items):
            return None  # nothing to merge: the warm-up only changes the guidance

        def merge() -> None:
            pipeline.loras.apply(pipeline.experts, items, pipeline.spec.name)

        return merge


def _lora_items(pipeline: WanPipeline, request: GenerationRequest) -> list[ExpertLora]:
    """The request's LoRAs as ``lora.ExpertLora`` items, one per file and expert."""
    return [
        ExpertLora(
            name,
            ref.path,
            ref.strength_low if name == LOW else ref.strength_high,
            ref.sha256,
        )
        for ref in request.loras
        for name in pipeline.experts
        if name in (HIGH, LOW) or len(pipeline.experts) == 1
    ]


def step_experts(request: GenerationRequest) -> list[str]:
    """The expert of every step of ``request`` (its solver's timesteps, the task's boundary and
    the switch step), as the loop will run them."""
    from ..solvers import make_solver
    from .loop import expert_schedule

    timesteps = make_solver(request.solver, request.sample_steps, request.sample_shift).timesteps
    return expert_schedule(timesteps.tolist(), request.spec.boundary, request.switch_step)


def warmup_experts(request: GenerationRequest) -> set[str]:
    """The experts the guided warm-up runs on (empty without one)."""
    if request.warmup_steps <= 0:
        return set()
    return set(step_experts(request)[: request.warmup_steps])


def resolved_phases(request: GenerationRequest, experts: list[str]) -> list[dict[str, Any]]:
    """The job's phases as run: consecutive steps with the same expert, guidance and LoRA state,
    each ``{"steps": [first, end), "expert", "guidance", "loras"}`` (``loras``: a LoRA with a
    strength on that expert was merged), recorded with a guided warm-up job."""
    out: list[dict[str, Any]] = []
    g = request.guidance
    for i, name in enumerate(experts):
        warm = i < request.warmup_steps
        guide = g.low if name == LOW_NOISE else g.high
        if warm and request.warmup_guidance is not None:
            guide = request.warmup_guidance
        strengths = [
            r.strength_low if name == LOW_NOISE else r.strength_high for r in request.loras
        ]
        key = {"expert": name, "guidance": guide, "loras": any(strengths) and not warm}
        if out and all(out[-1][k] == v for k, v in key.items()):
            out[-1]["steps"][1] = i + 1
        else:
            out.append({"steps": [i, i + 1], **key})
    return out


class PipelineCache:
    """The one loaded pipeline, kept between jobs of the same checkpoint and plan (loading A14B
    takes minutes)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.key: tuple[Any, ...] | None = None
        self.pipeline: Any = None

    def is_warm(self, key: tuple[Any, ...]) -> bool:
        return self.key is not None and self.key == key

    def load(self, key: tuple[Any, ...], checkpoint: str, plan: Plan) -> Any:
        if not self.is_warm(key):
            self.release()
            self.pipeline = self.engine.load(checkpoint, plan)
            self.key = key
        return self.pipeline

    def release(self) -> None:
        if self.key is None:
            return
        pipeline, self.pipeline, self.key = self.pipeline, None, None
        try:
            self.engine.release(pipeline)
        finally:
            del pipeline
            gc.collect()
            if torch.cuda.is_available():
                torch.cuda.empty_cache()


# ---- one job ---------------------------------------------------------------------------------


@dataclass
class JobResult(GenerationResult):
    """What one job produced (the worker's ``Done`` event, ``wan22 generate``'s summary): a
    ``GenerationResult`` (its fields and ``summary()``) plus what only a job knows."""

    warm: bool = field(kw_only=True)  # the pipeline was already loaded
    thumbnail: Path | None = None
    # What the sampler did, step by step: the expert of each step and the steps step caching
    # skipped (0-based); {} when the engine reported no steps.
    sampling: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        out = super().summary()
        if self.sampling:
            out["sampling"] = self.sampling
        return out


def default_output_name(
    task: str,
    size: str,
    prompt: str,
    *,
    ulysses_size: int = 1,
    now: datetime | None = None,
    suffix: str = ".mp4",
) -> str:
    """The official file name ``{task}_{size}_{ulysses}_{prompt[:50]}_{YYYYmmdd_HHMMSS}.mp4``.

    Deviation: '*' in the size is always 'x' (upstream does that only on Windows) and every
    character unsafe in a file name becomes '_' (upstream replaces spaces and '/')."""
    stamp = (now or datetime.now()).strftime("%Y%m%d_%H%M%S")
    text = _UNSAFE.sub("_", prompt[:50]).strip(".") or "video"
    return f"{task}_{size.replace('*', 'x')}_{ulysses_size}_{text}_{stamp}{suffix}"


def check_output_path(path: Path) -> Path:
    """Fail before any heavy work when the output cannot be written (type, folder, permissions)."""
    path = Path(path)
    video_io.output_format_for(path)  # UserInputError for an unknown suffix
    video_io.check_writable(path.parent, "another --save_file")
    if path.is_dir() and path.suffix:
        raise UserInputError(f"{path} is a folder", "choose a file name for --save_file")
    return path


def run_job(
    request: GenerationRequest,
    plan: Plan,
    checkpoint: str | Path,
    output: str | Path,
    *,
    engine: Engine | None = None,
    cache: PipelineCache | None = None,
    clock: PhaseClock | None = None,
    on_step: StepCallback | None = None,
    thumbnail: str | Path | None = None,
) -> JobResult:
    """Run ``request`` as ``plan`` says with the checkpoint folder ``checkpoint`` and write the
    video to ``output`` (suffix .mp4, .npy, or none for PNG frames) and, if asked, a thumbnail.

    ``cache`` keeps the pipeline for the next job (the worker's); without one the pipeline lives
    for this job only. Raises ``Cancelled`` when ``on_step`` cancels, and other ``Wan22Error``
    subclasses for bad input and failures."""
    if plan.task != request.task:
        raise UserInputError(f"the plan is for {plan.task}, the job is {request.task}")
    cache = cache if cache is not None else PipelineCache(engine or WanEngine())
    engine = cache.engine
    clock = clock if clock is not None else PhaseClock()
    main_rank = parallel.rank() == 0
    seed = int(parallel.broadcast_object(resolve_seed(request.seed)))  # type: ignore[call-overload]
    request = replace(request, seed=seed)
    out_path = check_output_path(Path(output))
    if main_rank:  # a full disk is found now, not after minutes of rendering
        video_io.preflight_output(out_path, request.width, request.height, request.frame_num)
    key = pipeline_key(checkpoint, plan)
    warm = cache.is_warm(key)
    record = _StepRecord(on_step)
    try:
        if not warm:
            cache.release()  # before extension: a local Qwen needs the memory
        prompt, original, warning = _extend_prompt(request, plan, clock, main_rank)
        if not warm:
            clock.phase("loading")
            _load(cache, key, str(checkpoint), plan)
        _apply_loras(engine, cache.pipeline, request, clock)
        context = JobContext(clock, record)
        video = engine.generate(cache.pipeline, request, prompt, context)
        clock.phase("saving")  # on every rank: the worker syncs its cancel flag per phase
        outputs: list[Path] = []
        thumb = None
        if main_rank:
            assert video is not None  # rank 0 always decodes
            meta = build_payload(
                request, prompt_used=prompt, plan=plan.to_dict(), checkpoint=checkpoint
            )
            outputs.append(video_io.save_video(video, out_path, request.effective_fps, meta))
            if thumbnail:
                thumb = video_io.save_thumbnail(video, thumbnail, metadata=meta)
    except OutOfMemory:
        cache.release()
        raise
    except torch.cuda.OutOfMemoryError as exc:
        cache.release()  # the next job starts from a clean GPU
        where = f" while {clock.current.replace('_', ' ')}" if clock.current else ""
        raise OutOfMemory(f"the GPU ran out of memory{where}", OOM_HINT) from exc
    if video is not None:
        _, frames, height, width = video.shape
    else:  # a rank other than 0: it did not decode (and saves nothing)
        frames, height, width = request.frame_num, request.height, request.width
    return JobResult(
        task=request.task,
        seed=seed,
        prompt=prompt,
        original_prompt=original,
        prompt_extension_warning=warning,
        negative_prompt=request.negative_prompt or DEFAULT_NEGATIVE_PROMPT,
        size=(int(width), int(height)),
        frame_num=int(frames),
        fps=request.effective_fps,
        steps=request.sample_steps,
        warm=warm,
        timings=clock.finish(),
        outputs=outputs,
        thumbnail=thumb,
        video=video,
        notes=list(context.notes),
        sampling=record.summary(request),
    )


class _StepRecord:
    """Passes every step on to the job's callback and notes its expert and whether it was skipped."""

    def __init__(self, on_step: StepCallback | None) -> None:
        self.on_step = on_step
        self.experts: list[str] = []
        self.skipped: list[int] = []

    def __call__(self, info: StepInfo) -> Any:
        self.experts.append(info.expert)
        if getattr(info, "skipped", False):
            self.skipped.append(info.step - 1)
        return None if self.on_step is None else self.on_step(info)

    def summary(self, request: GenerationRequest | None = None) -> dict[str, Any]:
        if not self.experts:
            return {}
        out: dict[str, Any] = {"experts": list(self.experts), "skipped_steps": list(self.skipped)}
        if request is not None and request.warmup_steps > 0:
            out["phases"] = resolved_phases(request, self.experts)
        return out


def _extend_prompt(
    request: GenerationRequest, plan: Plan, clock: PhaseClock, main_rank: bool
) -> tuple[str, str | None, str | None]:
    """(prompt to encode, original prompt, warning): extended once on rank 0, shared by all."""
    if not request.prompt_extend.enabled:
        return request.prompt, None, None
    from wan22_desktop.engine.prompt_extend import extend_with_options

    clock.phase("prompt_extension")
    out: tuple[str, str | None, str | None] = (request.prompt, None, None)
    if main_rank:  # once, not once per rank (an API call, or an LLM on every GPU)
        ext = extend_with_options(
            request.prompt_extend,
            request.prompt,
            image=request.image,
            seed=request.seed,
            device=plan.device,
        )
        if ext is not None:
            out = (ext.prompt, ext.original, ext.warning)
    return parallel.broadcast_object(out)  # type: ignore[return-value]


def _apply_loras(
    engine: Engine, pipeline: Any, request: GenerationRequest, clock: PhaseClock
) -> None:
    """The request's LoRA set merged into the (possibly warm) pipeline: a change of set is a
    re-merge of the affected tensors, never a reload (LoRAs are not in the pipeline key)."""
    apply = getattr(engine, "apply_loras", None)
    if apply is None:
        if request.loras:
            raise UserInputError("this engine cannot apply LoRAs", field="loras")
        return
    merged = getattr(getattr(pipeline, "loras", None), "applied", ())
    if clock.current != "loading" and (request.loras or merged):
        clock.phase("loading")  # merging is part of getting the model ready
    apply(pipeline, request)


def _load(cache: PipelineCache, key: tuple[Any, ...], checkpoint: str, plan: Plan) -> None:
    """Load through the cache; a folder that cannot be read is a ``CheckpointError``."""
    try:
        cache.load(key, checkpoint, plan)
    except CheckpointError:
        raise
    except UserInputError as exc:  # the layout check and the component loaders
        raise CheckpointError(exc.message, exc.hint) from exc
    except Wan22Error:
        raise
    except (OSError, KeyError, ValueError) as exc:
        text = str(exc).strip().splitlines()
        raise CheckpointError(
            f"the checkpoint could not be loaded: {(text[0] if text else type(exc).__name__)[:300]}",
            "check the model folder with `wan22 models verify`, or download it again",
        ) from exc
