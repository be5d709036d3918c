"""The Wan2.2 generation pipelines (T2V-A14B, I2V-A14B, TI2V-5B), as the official ``generate.py``.

API (what the worker and ``wan22 generate`` call)::

    from wan22_desktop.engine.wan.pipelines import (
        WanPipeline, MemoryConfig, GenerationResult, StepInfo, Cancelled, STOP, run_request)

    pipe = WanPipeline.from_checkpoint(ckpt_dir, "ti2v-5B", device="cuda", dtype=torch.bfloat16,
                                       memory=MemoryConfig(offload_model=True, t5_cpu=True))
    result = pipe.generate("a cat", image=None, size="1280*704", frame_num=121, seed=42,
                           callback=on_step, on_phase=on_phase)
    result.video           # np.ndarray [3, F, H, W] float32 in [-1, 1], as decoded
    result.seed, result.timings, result.prompt

    # or the whole job (prompt extension, load or reuse the pipeline, generate, save atomically):
    result = run_request(request, ckpt_dir, "out.mp4", pipeline=pipe, callback=on_step)

Step callback: ``callback(StepInfo(step, total, timestep, expert, latents))`` after every step.
To cancel, return ``STOP`` or raise ``Cancelled``; ``generate`` then raises ``Cancelled`` before
the next step and nothing is written. ``on_phase(name)`` announces text_encoding,
image_encoding/preparing, sampling and decoding (``run_request`` adds prompt_extension, loading
and saving).
"""

from .job import default_output_name, run_request
from .loop import HIGH_NOISE, LOW_NOISE, SINGLE, STOP, Cancelled, StepInfo, expert_schedule
from .pipeline import GenerationResult, MemoryConfig, WanPipeline

__all__ = [
    "Cancelled",
    "GenerationResult",
    "HIGH_NOISE",
    "LOW_NOISE",
    "MemoryConfig",
    "SINGLE",
    "STOP",
    "StepInfo",
    "WanPipeline",
    "default_output_name",
    "expert_schedule",
    "run_request",
]
