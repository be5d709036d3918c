"""``WanPipeline``: one loaded task (T5, VAE, DiT or two experts) that turns prompts into videos."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from wan22_desktop.errors import UserInputError
from wan22_desktop.request import SEED_MAX
from wan22_desktop.sizes import best_output_size, i2v_output_size, sequence_length
from wan22_desktop.tasks import DEFAULT_NEGATIVE_PROMPT, ImageUse, TaskSpec, get_task, parse_size

from .. import image_prep, parallel
from ..attention import use_backend
from ..dit import WanDiT
from ..lora import LoraMerge
from ..offload import CPU, ExpertPlacer, move, release_cached_memory
from ..solvers import make_solver
from ..streaming import BlockStreamer, HostCopy, SlotPool
from ..text_encoder import T5TextEncoder
from ..vae_io import VideoVAE
from . import conditioning as C
from .clock import PhaseCallback, PhaseClock
from .loop import SINGLE, Conditioning, StepCallback, sample

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MemoryConfig:
    """The official memory switches (``generate.py`` flags of the same names).

    offload_model: T5 back to the CPU after encoding, only the active expert on the device, every
    DiT off the device before VAE decode. convert_model_dtype: DiT weights cast to the compute
    dtype (bf16) instead of running fp32 weights under autocast. t5_cpu: T5 stays on and runs on
    the CPU; only its outputs move to the device.
    """

    offload_model: bool = False
    convert_model_dtype: bool = False
    t5_cpu: bool = False
    # Below whole-model offload (the plan's fields of the same names): DiT blocks resident at a
    # time with the rest streamed from pinned host memory (0: off), FP8 weight storage, the VAE's
    # precision ("fp32" | "bf16"), spatial tile in latent pixels (0: untiled), and the VAE off
    # the device while sampling.
    stream_blocks: int = 0
    fp8: bool = False
    vae_dtype: str = "fp32"
    vae_tile: int = 0
    vae_offload: bool = False


@dataclass
class GenerationResult:
    """What one generation produced. ``video`` is [3, F, H, W] float32 in [-1, 1] as decoded;
    ``timings`` has seconds per phase (loading, prompt_extension, text_encoding, image_encoding,
    sampling, decoding, saving: the phases that ran); ``outputs`` are the written files."""

    task: str
    seed: int
    prompt: str  # what T5 encoded (the extended prompt when extension ran)
    negative_prompt: str
    size: tuple[int, int]  # (width, height) of the video
    frame_num: int
    fps: int
    steps: int
    video: np.ndarray | None = None
    original_prompt: str | None = None  # before extension (None: no extension asked)
    prompt_extension_warning: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    outputs: list[Path] = field(default_factory=list)
    # What the engine had to change while running (an attention kernel that failed and was
    # replaced by SDPA): the job's log and its history row show these.
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """JSON-ready description (no video array)."""
        return {
            "task": self.task,
            "seed": self.seed,
            "prompt": self.prompt,
            "original_prompt": self.original_prompt,
            "negative_prompt": self.negative_prompt,
            "prompt_extension_warning": self.prompt_extension_warning,
            "size": f"{self.size[0]}*{self.size[1]}",
            "frame_num": self.frame_num,
            "fps": self.fps,
            "steps": self.steps,
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
            "outputs": [str(p) for p in self.outputs],
            "notes": list(self.notes),
        }


def resolve_seed(seed: int) -> int:
    """The one seed rule of a job: a negative seed means a random one, drawn like the official
    code (``random.randint(0, sys.maxsize)``). ``job.run_job`` calls it once, on rank 0."""
    if seed < 0:
        return random.randint(0, SEED_MAX)
    if seed > SEED_MAX:
        raise UserInputError(f"seed {seed} is too large", f"use -1 (random) or 0..{SEED_MAX}")
    return seed


class WanPipeline:
    """One task's networks, loaded once and used for many generations (the worker keeps it).

    Build with ``from_checkpoint`` (an official folder) or the constructor (components already
    loaded). ``generate`` runs text encoding, sampling and decoding in the calling thread and
    returns a ``GenerationResult`` with the video; saving is the caller's (see ``job.run_request``).
    ``device``/``dtype``: where and in which precision to compute. bf16 on CUDA is the official
    mode (fp32 DiT weights under bf16 autocast unless ``convert_model_dtype``); fp32 runs
    everything in fp32 without autocast (CPU, tests, tiny checkpoints).
    """

    def __init__(
        self,
        task: str | TaskSpec,
        *,
        experts: Mapping[str, WanDiT],
        vae: VideoVAE,
        text_encoder: T5TextEncoder,
        device: torch.device | str = "cpu",
        dtype: torch.dtype = torch.float32,
        memory: MemoryConfig = MemoryConfig(),
        load_seconds: float = 0.0,
        attention: str | None = None,
    ) -> None:
        self.spec = task if isinstance(task, TaskSpec) else get_task(task)
        self.device = torch.device(device)
        self.dtype = dtype
        self.memory = memory
        self.experts = dict(experts)
        self.vae = vae
        self.text_encoder = text_encoder
        self.text_encoder.output_device = self.device
        self.load_seconds = load_seconds
        self.attention = attention  # the plan's backend; None: ``attention.select_backend``
        self.cfg_batch = False  # the plan's: CFG's two forwards as one batch (``WanEngine.load``)
        self.placer = ExpertPlacer(
            self.experts,
            self.device,
            memory.offload_model,
            stream_blocks=memory.stream_blocks,
        )
        self.loras = LoraMerge()  # the LoRA set merged into the experts (``job.run_job`` sets it)
        _check_components(self.spec, self.experts, vae, text_encoder)
        # T5 on the device but loaded on the host: streamed block by block, or uploaded whole
        # from its host master (offload); either way it leaves the device after encoding.
        self.t5_streamer: BlockStreamer | None = None
        self.t5_master: HostCopy | None = None
        if not memory.t5_cpu and memory.stream_blocks > 0:
            pool = SlotPool(self.device, memory.stream_blocks)
            self.t5_streamer = BlockStreamer(text_encoder.model, pool, name="t5")
        elif not memory.t5_cpu and memory.offload_model:
            self.t5_master = HostCopy(text_encoder.model, self.device)
        # The VAE off the device while sampling (on it for the image encode and the decode).
        self.vae_master = HostCopy(vae.model, self.device) if memory.vae_offload else None

    # ---- construction

    @classmethod
    def from_checkpoint(
        cls,
        root: str | Path,
        task: str,
        *,
        device: torch.device | str = "cuda",
        dtype: torch.dtype = torch.bfloat16,
        memory: MemoryConfig = MemoryConfig(),
        attention: str | None = None,
    ) -> WanPipeline:
        """Load an official checkpoint folder (after checking its files) for ``task``."""
        from .loading import load_components

        started = time.perf_counter()
        device = _usable_device(torch.device(device))
        experts, vae, text_encoder = load_components(
            Path(root), get_task(task), device=device, dtype=dtype, memory=memory
        )
        return cls(
            task,
            experts=experts,
            vae=vae,
            text_encoder=text_encoder,
            device=device,
            dtype=dtype,
            memory=memory,
            load_seconds=time.perf_counter() - started,
            attention=attention,
        )

    # ---- generation

    def generate(
        self,
        prompt: str,
        *,
        image: str | Path | Image.Image | None = None,
        size: str | tuple[int, int] | None = None,
        frame_num: int | None = None,
        sample_steps: int | None = None,
        sample_shift: float | None = None,
        guidance: float | tuple[float, float] | None = None,
        solver: str = "unipc",
        seed: int = -1,
        negative_prompt: str | None = None,
        callback: StepCallback | None = None,
        on_phase: PhaseCallback | None = None,
        clock: PhaseClock | None = None,
        switch_step: int | None = None,
        step_cache: float = 0.0,
        warmup_steps: int = 0,
        warmup_guidance: float | None = None,
        after_warmup: Callable[[], None] | None = None,
    ) -> GenerationResult:
        """Make one video. Unset values take the task's official defaults; ``guidance`` is one
        number (both experts) or (low-noise, high-noise); an empty or None negative prompt is the
        official default. ``callback`` sees every step and may cancel (``errors.Cancelled``).

        The request's own rules (4n+1 frames, size grid, steps, shift, image needed or refused)
        are ``GenerationRequest.validate``'s and are not checked again here; only what depends
        on the loaded model is. ``clock``: the job's phase clock (``job.run_job`` passes its
        own, so every phase is timed once); without one, ``on_phase`` hears the phases.
        ``switch_step``: A14B expert switch by step count (None: the official boundary);
        ``step_cache``: step-caching threshold (0: off). ``warmup_steps``/``warmup_guidance``:
        the guided warm-up; ``after_warmup`` changes the experts' weights after it (the job's
        LoRA merge), with every expert on its host weights first when offloading."""
        spec = self.spec
        width, height = (
            parse_size(size or spec.default_size) if not isinstance(size, tuple) else size
        )
        frame_num = spec.frame_num if frame_num is None else frame_num
        steps = spec.sample_steps if sample_steps is None else sample_steps
        shift = spec.sample_shift if sample_shift is None else sample_shift
        low, high = _guidance_pair(spec.guidance if guidance is None else guidance)
        negative = negative_prompt or DEFAULT_NEGATIVE_PROMPT
        solver_obj = make_solver(solver, steps, shift)
        pil = self._image_for_task(image)
        own_clock = clock is None
        clock = PhaseClock(on_phase) if clock is None else clock
        seed = resolve_seed(seed)

        clock.phase("text_encoding")
        context, context_null = self._encode_text(prompt, negative)
        if pil is not None:
            clock.phase("image_encoding")
        latent, cond, (width, height) = self._prepare(
            pil, width, height, frame_num, seed, context, context_null
        )
        log.info(
            "%s %dx%d %d frames, %d steps (%s), seed %d",
            spec.name,
            width,
            height,
            frame_num,
            steps,
            solver,
            seed,
        )
        clock.phase("sampling")
        with torch.no_grad(), self._autocast(), use_backend(self.attention) as attention_guard:
            latent = sample(
                latent=latent,
                solver=solver_obj,
                cond=cond,
                activate=self.placer.activate,
                guidance=(low, high),
                boundary=spec.boundary,
                callback=callback,
                cfg_batch=self.cfg_batch,
                switch_step=switch_step,
                step_cache=step_cache,
                warmup_steps=warmup_steps,
                warmup_guidance=warmup_guidance,
                after_warmup=None if after_warmup is None else self._in_place(after_warmup),
            )
        clock.phase("decoding")
        self.placer.park_all()
        # Decoded once, on rank 0 (the only one that saves); the other ranks return no video.
        if parallel.rank() == 0:
            with self._vae_on_device():
                video = self.vae.decode([latent])[0]
        else:
            video = None
        timings = clock.finish() if own_clock else dict(clock.timings)
        return GenerationResult(
            task=spec.name,
            seed=seed,
            prompt=prompt,
            negative_prompt=negative,
            size=(width, height),
            frame_num=frame_num,
            fps=spec.fps,
            steps=steps,
            video=None if video is None else video.cpu().numpy().astype(np.float32, copy=False),
            timings=timings,
            notes=list(attention_guard.notes) if attention_guard is not None else [],
        )

    def _in_place(self, change: Callable[[], None]) -> Callable[[], None]:
        """``change`` run on the experts' own weights: offloaded or streamed experts are parked
        first (a change made to their device copies would be copied back, or lost with a streamed
        block), and upload again when next activated."""

        def run() -> None:
            self.placer.park_resident()
            change()

        return run

    # ---- steps

    def _image_for_task(self, image: str | Path | Image.Image | None) -> Image.Image | None:
        spec = self.spec
        if image is None:
            if spec.image is ImageUse.REQUIRED:
                raise UserInputError(
                    f"{spec.name} needs a start image", "give one with --image PATH"
                )
            return None
        if spec.image is ImageUse.REFUSED:
            raise UserInputError(
                f"{spec.name} does not take an image",
                "use i2v-A14B or ti2v-5B to start from an image, or drop --image",
            )
        if isinstance(image, Image.Image):
            if min(image.size) < image_prep.MIN_IMAGE_SIDE:
                raise UserInputError(
                    f"the image is too small ({image.width}x{image.height})",
                    f"use at least {image_prep.MIN_IMAGE_SIDE} px per side",
                )
            return image.convert("RGB")
        return image_prep.load_image(image)

    @torch.no_grad()
    def _encode_text(
        self, prompt: str, negative: str
    ) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Prompt then negative prompt, as official; T5 visits the device only for this."""
        te = self.text_encoder
        with self._t5_on_device():
            context = te.encode([prompt])
            context_null = te.encode_cached(negative)  # the same default negative, job after job
        return context, context_null

    @contextmanager
    def _t5_on_device(self) -> Iterator[None]:
        """T5 on the device for the enclosed encodes only: streamed through its slots, uploaded
        from its host master (dropped after: nothing copied back), or moved (offload)."""
        model = self.text_encoder.model
        if self.t5_streamer is not None:
            self.t5_streamer.attach()
            try:
                yield
            finally:
                self.t5_streamer.detach()
                self.t5_streamer.pool.release()
                release_cached_memory(self.device)
        elif self.t5_master is not None:
            self.t5_master.upload()
            try:
                yield
            finally:
                self.t5_master.release()
                release_cached_memory(self.device)
        else:
            if not self.memory.t5_cpu:
                move(model, self.device)
            yield
            if self.memory.offload_model and not self.memory.t5_cpu and move(model, CPU):
                release_cached_memory(self.device)

    @contextmanager
    def _vae_on_device(self) -> Iterator[None]:
        """With ``vae_offload``: the VAE on the device for the enclosed encode/decode only."""
        if self.vae_master is None:
            yield
            return
        self.vae_master.upload()
        try:
            yield
        finally:
            self.vae_master.release()
            release_cached_memory(self.device)

    @torch.no_grad()
    def _prepare(
        self,
        image: Image.Image | None,
        width: int,
        height: int,
        frame_num: int,
        seed: int,
        context: list[torch.Tensor],
        context_null: list[torch.Tensor],
    ) -> tuple[torch.Tensor, Conditioning, tuple[int, int]]:
        """Initial latent and DiT conditioning for the task (official shapes and order)."""
        spec, device = self.spec, self.device
        stride = self.vae.stride
        _, ph, pw = spec.patch_size
        z_dim = self.vae.z_dim
        area = width * height  # official MAX_AREA_CONFIGS[size] is W*H of the size
        if spec.model_type == "i2v":
            assert image is not None
            width, height = i2v_output_size(image.width, image.height, area, stride[1], ph)
            _check_output(spec, width, height)
            shape = C.latent_shape(z_dim, frame_num, width, height, stride)
            noise = C.initial_noise(shape, seed, device)
            frame = image_prep.i2v_image(image, width, height)
            with self._vae_on_device():
                video = C.i2v_condition_video(frame, frame_num).to(device)
                encoded = self.vae.encode([video])[0]
            mask = C.i2v_first_frame_mask(frame_num, shape[2], shape[3], device)
            y = torch.cat([mask, encoded.to(device)])
            cond = Conditioning(context, context_null, _seq_len(shape, ph, pw), y=[y])
            return noise, cond, (width, height)
        if spec.model_type == "ti2v" and image is not None:
            g = stride[1] * ph
            try:
                width, height = best_output_size(image.width, image.height, area, g, g)
            except ValueError:  # the area holds no g-px row/column at this aspect ratio
                width = height = 0
            _check_output(spec, width, height)
            shape = C.latent_shape(z_dim, frame_num, width, height, stride)
            noise = C.initial_noise(shape, seed, device)
            frame = image_prep.ti2v_image(image, area, g)
            with self._vae_on_device():
                z = self.vae.encode([frame[:, None].to(device)])[0].to(device)
            mask = C.ti2v_keep_mask(shape, keep_first=True, device=device)
            latent = (1.0 - mask) * z + mask * noise
            cond = Conditioning(
                context,
                context_null,
                _seq_len(shape, ph, pw),
                keep_mask=mask,
                keep_latent=z,
                per_token_t=True,
                patch_hw=(ph, pw),
            )
            return latent, cond, (width, height)
        shape = C.latent_shape(z_dim, frame_num, width, height, stride)
        noise = C.initial_noise(shape, seed, device)
        per_token = spec.model_type == "ti2v"
        no_keep = C.ti2v_keep_mask(shape, keep_first=False, device=device) if per_token else None
        cond = Conditioning(
            context,
            context_null,
            _seq_len(shape, ph, pw),
            keep_mask=no_keep,
            per_token_t=per_token,
            patch_hw=(ph, pw),
        )
        return noise, cond, (width, height)

    def _autocast(self) -> Any:
        enabled = self.dtype in (torch.bfloat16, torch.float16)
        return torch.autocast(self.device.type, dtype=self.dtype, enabled=enabled)


# ---- helpers


def _guidance_pair(value: float | tuple[float, float] | Any) -> tuple[float, float]:
    if isinstance(value, (int, float)):
        return float(value), float(value)
    if isinstance(value, tuple):
        low, high = value
        return float(low), float(high)
    return float(value.low), float(value.high)  # a request's Guidance


def _seq_len(shape: tuple[int, int, int, int], ph: int, pw: int) -> int:
    return sequence_length(shape[1], shape[2], shape[3], ph, pw)


def _check_output(spec: TaskSpec, width: int, height: int) -> None:
    if width <= 0 or height <= 0:
        raise UserInputError(
            f"the image's aspect ratio gives no usable {spec.name} size for this area",
            "use a larger --size or an image closer to the target's shape",
        )


def _usable_device(device: torch.device) -> torch.device:
    """CUDA asked but absent: fall back to the CPU with a warning (tiny checkpoints still run)."""
    if device.type == "cuda" and not torch.cuda.is_available():
        log.warning("CUDA is not available; running on the CPU")
        return CPU
    return device


def _check_components(
    spec: TaskSpec, experts: Mapping[str, WanDiT], vae: VideoVAE, text_encoder: T5TextEncoder
) -> None:
    """Networks that cannot work together are a user error before any step runs."""
    want = set(spec.expert_subfolders) or {SINGLE}
    if set(experts) != want:
        raise UserInputError(
            f"{spec.name} needs the networks {sorted(want)}, got {sorted(experts)}",
            "point --ckpt_dir to a complete checkpoint of this task",
        )
    hint = "The checkpoint folder mixes files of different models; download it again."
    z = vae.z_dim
    for name, dit in experts.items():
        cfg = dit.config
        if cfg.model_type != spec.model_type:
            raise UserInputError(
                f"the {name} DiT is a {cfg.model_type} model, not {spec.model_type}",
                f"use a {spec.name} checkpoint folder",
            )
        in_dim = 2 * z + 4 if spec.model_type == "i2v" else z
        if cfg.in_dim != in_dim or cfg.out_dim != z:
            raise UserInputError(
                f"the {name} DiT ({cfg.in_dim}->{cfg.out_dim} channels) does not fit "
                f"the {z}-channel VAE",
                hint,
            )
        t5_dim = text_encoder.model.config.dim
        if cfg.text_dim != t5_dim:
            raise UserInputError(
                f"the {name} DiT reads {cfg.text_dim}-dim text, the T5 gives {t5_dim}", hint
            )
