"""The Wan2.2 generation pipelines (T2V-A14B, I2V-A14B, TI2V-5B), as the official ``generate.py``.

API (what the worker and ``wan22 generate`` call)::

    from wan22_desktop.engine.wan.pipelines import (
        WanPipeline, MemoryConfig, GenerationResult, StepInfo, Cancelled, STOP, run_job)

    pipe = WanPipeline.from_checkpoint(ckpt_dir, "ti2v-5B", device="cuda", dtype=torch.bfloat16,
                                       memory=MemoryConfig(offload_model=True, t5_cpu=True))
    result = pipe.generate("a cat", image=None, size="1280*704", frame_num=121, seed=42,
                           callback=on_step, on_phase=on_phase)
    result.video           # np.ndarray [3, F, H, W] float32 in [-1, 1], as decoded
    result.seed, result.timings, result.prompt

    # or the whole job, the one path of the worker and the CLI (prompt extension first, then
    # load or reuse the pipeline as the typed Plan says, generate, save atomically):
    result = run_job(request, plan, ckpt_dir, "out.mp4", cache=cache, on_step=on_step)

Step callback: ``callback(StepInfo(step, total, timestep, expert, latents))`` after every step.
To cancel, return ``STOP`` or raise ``Cancelled`` (``errors.Cancelled``); ``generate`` then
raises ``Cancelled`` before the next step and nothing is written. Phases (text_encoding,
image_encoding, sampling, decoding; ``run_job`` adds prompt_extension, loading and saving) are
timed by one ``PhaseClock``.
"""

from .clock import PhaseClock
from .job import (
    JobResult,
    PipelineCache,
    WanEngine,
    default_output_name,
    pipeline_key,
    run_job,
)
from .loop import HIGH_NOISE, LOW_NOISE, SINGLE, STOP, Cancelled, StepInfo, expert_schedule
from .pipeline import GenerationResult, MemoryConfig, WanPipeline

__all__ = [
    "Cancelled",
    "GenerationResult",
    "HIGH_NOISE",
    "JobResult",
    "LOW_NOISE",
    "MemoryConfig",
    "PhaseClock",
    "PipelineCache",
    "SINGLE",
    "STOP",
    "StepInfo",
    "WanEngine",
    "WanPipeline",
    "default_output_name",
    "expert_schedule",
    "pipeline_key",
    "run_job",
]
