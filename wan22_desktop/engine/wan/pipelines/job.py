"""One whole job: prompt extension, loading (or reusing) the pipeline, generating, saving.

The order is the official one: the prompt is extended before T5 and the DiT are loaded (a local
Qwen must not share memory with them), and the output is written under a temporary name and
renamed only when complete (``video_io.save_video``), so a failed or cancelled run leaves nothing.
"""

from __future__ import annotations

import re
import time
from datetime import datetime
from pathlib import Path

import torch

from wan22_desktop.engine import video_io
from wan22_desktop.errors import UserInputError
from wan22_desktop.request import GenerationRequest

from .. import parallel
from .loop import StepCallback
from .pipeline import GenerationResult, MemoryConfig, PhaseCallback, WanPipeline, resolve_seed

_UNSAFE = re.compile(r'[\x00-\x1f<>:"\\|?*/ ]')


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


def run_request(
    request: GenerationRequest,
    ckpt_dir: str | Path | None,
    output: str | Path,
    *,
    pipeline: WanPipeline | None = None,
    device: torch.device | str = "cuda",
    dtype: torch.dtype = torch.bfloat16,
    memory: MemoryConfig = MemoryConfig(),
    callback: StepCallback | None = None,
    on_phase: PhaseCallback | None = None,
    extend_device: str = "cpu",
) -> GenerationResult:
    """Run ``request`` and write the video to ``output`` (suffix: .mp4, .npy, or none for PNGs).

    ``pipeline``: an already loaded pipeline of the same task (the worker keeps one between
    jobs); otherwise one is loaded from ``ckpt_dir``. Under torchrun every rank calls this; only
    rank 0 extends the prompt and writes the file. Raises ``Cancelled`` when the callback
    stops the run, ``Wan22Error`` subclasses for bad input and failures."""
    from wan22_desktop.engine.prompt_extend import extend_with_options

    output = check_output_path(Path(output))
    if pipeline is not None and pipeline.spec.name != request.task:
        raise UserInputError(
            f"the loaded pipeline is {pipeline.spec.name}, the job is {request.task}"
        )
    if pipeline is None and ckpt_dir is None:
        raise UserInputError("no checkpoint folder given", "pass --ckpt_dir PATH")
    timings: dict[str, float] = {}
    # Under torchrun rank 0 decides the seed and the extended prompt, and alone saves.
    main_rank = parallel.rank() == 0
    seed = int(parallel.broadcast_object(resolve_seed(request.seed)))  # type: ignore[call-overload]
    prompt, original, warning = request.prompt, None, None
    if request.prompt_extend.enabled and main_rank:
        if on_phase:
            on_phase("prompt_extension")
        started = time.perf_counter()
        ext = extend_with_options(
            request.prompt_extend,
            request.prompt,
            image=request.image,
            seed=seed,
            device=extend_device,
        )
        timings["prompt_extension"] = time.perf_counter() - started
        if ext is not None:
            prompt, original, warning = ext.prompt, ext.original, ext.warning
    if request.prompt_extend.enabled:
        prompt, original, warning = parallel.broadcast_object((prompt, original, warning))  # type: ignore[misc]
    if pipeline is None:
        if on_phase:
            on_phase("loading")
        assert ckpt_dir is not None
        pipeline = WanPipeline.from_checkpoint(
            ckpt_dir, request.task, device=device, dtype=dtype, memory=memory
        )
        timings["loading"] = pipeline.load_seconds
    result = pipeline.generate(
        prompt,
        image=request.image,
        size=request.size,
        frame_num=request.frame_num,
        sample_steps=request.sample_steps,
        sample_shift=request.sample_shift,
        guidance=(request.guidance.low, request.guidance.high),
        solver=request.solver,
        seed=seed,
        negative_prompt=request.negative_prompt,
        callback=callback,
        on_phase=on_phase,
    )
    result.timings = {**timings, **result.timings}
    result.original_prompt = original
    result.prompt_extension_warning = warning
    result.fps = request.effective_fps
    if not main_rank:
        return result
    if on_phase:
        on_phase("saving")
    started = time.perf_counter()
    assert result.video is not None
    result.outputs.append(video_io.save_video(result.video, output, result.fps))
    result.timings["saving"] = time.perf_counter() - started
    return result
