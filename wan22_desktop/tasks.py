"""The task catalogue: the three Wan2.2 tasks with the official defaults (wan/configs/*.py).

Pure data, no torch: the GUI, the CLI, validation and the downloader all read it, and only the
engine turns it into models. Values follow the official ``Wan-Video/Wan2.2`` configs.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from enum import Enum

from wan22_desktop.errors import UserInputError


class ImageUse(str, Enum):
    """Whether a task takes a start image."""

    REQUIRED = "required"
    OPTIONAL = "optional"
    REFUSED = "refused"


@dataclass(frozen=True)
class TaskSpec:
    """One task: what the official code uses by default, and where its files are."""

    name: str
    title: str
    model_type: str  # config.json "model_type": t2v / i2v / ti2v
    repo_id: str  # same id on Hugging Face and ModelScope
    supported_sizes: tuple[str, ...]  # official presets, "W*H"
    default_size: str
    frame_num: int
    sample_steps: int
    sample_shift: float
    guidance: tuple[float, float]  # (low-noise, high-noise) expert scales; equal for one expert
    boundary: float | None  # t >= boundary * 1000 runs the high-noise expert; None: one model
    fps: int
    vae_stride: tuple[int, int, int]
    patch_size: tuple[int, int, int]
    spatial_granularity: int  # W and H must be multiples (vae stride x patch)
    image: ImageUse
    expert_subfolders: tuple[str, ...]  # () means the DiT sits in the checkpoint root
    vae_file: str
    t5_file: str
    tokenizer_dir: str
    example_prompt: str

    @property
    def is_moe(self) -> bool:
        return bool(self.expert_subfolders)

    @property
    def dit_folders(self) -> tuple[str, ...]:
        """Folders (relative to the checkpoint root) that hold a DiT: the experts, or the root."""
        return self.expert_subfolders or ("",)


# ---- input limits: the one home of every numeric range a request is checked against.
# Each says why; ``request.GenerationRequest.validate`` turns them into errors with hints.

# 4n+1 only (the VAEs compress time 4x after the first frame). 5 frames is the shortest clip;
# 241 is ~10 s at 24 fps, three times the longest the models were trained on (121 frames).
FRAME_MIN, FRAME_MAX = 5, 241
# Pixels per side for sizes outside the presets; tiny test checkpoints run at 32x32.
SIDE_MIN, SIDE_MAX = 32, 2048
# At most a 1080p frame: 2.3x the largest official area (1280*720). The DiT's attention grows with
# the square of the tokens, so larger frames need far more memory than any GPU has.
AREA_MAX = 1920 * 1088
STEPS_MIN, STEPS_MAX = 1, 200  # the official defaults are 40-50; more adds time, not quality
SHIFT_MAX = 100.0  # the noise-schedule shift: official values are 5-12, must be > 0
GUIDANCE_MIN, GUIDANCE_MAX = 0.0, 30.0  # classifier-free guidance: official 3-5
SEED_MIN, SEED_MAX = 0, sys.maxsize  # official: random.randint(0, sys.maxsize); -1 means random
GPUS_MAX = 64  # processes in one multi-GPU run (--ulysses_size)
FPS_MIN, FPS_MAX = 1, 120
IMAGE_MIN_SIDE = 32  # start images smaller than this carry no usable detail
# Step caching (--turbo, EasyCache): the threshold bounds the accumulated estimated relative
# change of the prediction between computed steps; 0.02-0.2 are the thresholds in use (wrapper,
# ComfyUI) and above 1 almost every step would reuse the last one. Fewer steps than this leave
# nothing to skip (step-distilled 4- and 8-step recipes change a lot at every step).
STEP_CACHE_MAX = 1.0
STEP_CACHE_MIN_STEPS = 10

T5_FILE = "models_t5_umt5-xxl-enc-bf16.pth"
TOKENIZER_DIR = "google/umt5-xxl"
EXPERTS = ("high_noise_model", "low_noise_model")

# Official MAX_AREA_CONFIGS: I2V/TI2V-with-image use only the area; the aspect follows the image.
SIZE_AREAS: dict[str, int] = {
    "720*1280": 720 * 1280,
    "1280*720": 1280 * 720,
    "480*832": 480 * 832,
    "832*480": 832 * 480,
    "704*1280": 704 * 1280,
    "1280*704": 1280 * 704,
    "1024*704": 1024 * 704,
    "704*1024": 704 * 1024,
}

# Official wan/configs/shared_config.py sample_neg_prompt; the official CLI always uses it.
DEFAULT_NEGATIVE_PROMPT = (
    "色调艳丽，过曝，静态，细节模糊不清，字幕，风格，作品，画作，画面，静止，整体发灰，最差质量，"
    "低质量，JPEG压缩残留，丑陋的，残缺的，多余的手指，画得不好的手部，画得不好的脸部，畸形的，"
    "毁容的，形态畸形的肢体，手指融合，静止不动的画面，杂乱的背景，三条腿，背景人很多，倒着走"
)

_CATS_PROMPT = (
    "Two anthropomorphic cats in comfy boxing gear and bright gloves fight intensely on a "
    "spotlighted stage."
)
_BEACH_CAT_PROMPT = (
    "Summer beach vacation style, a white cat wearing sunglasses sits on a surfboard. The "
    "fluffy-furred feline gazes directly at the camera with a relaxed expression. Blurred beach "
    "scenery forms the background featuring crystal-clear waters, distant green hills, and a blue "
    "sky dotted with white clouds. The cat assumes a naturally relaxed posture, as if savoring the "
    "sea breeze and warm sunlight. A close-up shot highlights the feline's intricate details and "
    "the refreshing atmosphere of the seaside."
)

_A14B_SIZES = ("720*1280", "1280*720", "480*832", "832*480")

TASKS: dict[str, TaskSpec] = {
    "t2v-A14B": TaskSpec(
        name="t2v-A14B",
        title="Text to video (A14B, two experts)",
        model_type="t2v",
        repo_id="Wan-AI/Wan2.2-T2V-A14B",
        supported_sizes=_A14B_SIZES,
        default_size="1280*720",
        frame_num=81,
        sample_steps=40,
        sample_shift=12.0,
        guidance=(3.0, 4.0),
        boundary=0.875,
        fps=16,
        vae_stride=(4, 8, 8),
        patch_size=(1, 2, 2),
        spatial_granularity=16,
        image=ImageUse.REFUSED,
        expert_subfolders=EXPERTS,
        vae_file="Wan2.1_VAE.pth",
        t5_file=T5_FILE,
        tokenizer_dir=TOKENIZER_DIR,
        example_prompt=_CATS_PROMPT,
    ),
    "i2v-A14B": TaskSpec(
        name="i2v-A14B",
        title="Image to video (A14B, two experts)",
        model_type="i2v",
        repo_id="Wan-AI/Wan2.2-I2V-A14B",
        supported_sizes=_A14B_SIZES,
        default_size="1280*720",
        frame_num=81,
        sample_steps=40,
        sample_shift=5.0,
        guidance=(3.5, 3.5),
        boundary=0.900,
        fps=16,
        vae_stride=(4, 8, 8),
        patch_size=(1, 2, 2),
        spatial_granularity=16,
        image=ImageUse.REQUIRED,
        expert_subfolders=EXPERTS,
        vae_file="Wan2.1_VAE.pth",
        t5_file=T5_FILE,
        tokenizer_dir=TOKENIZER_DIR,
        example_prompt=_BEACH_CAT_PROMPT,
    ),
    "ti2v-5B": TaskSpec(
        name="ti2v-5B",
        title="Text or image to video (5B, one model)",
        model_type="ti2v",
        repo_id="Wan-AI/Wan2.2-TI2V-5B",
        supported_sizes=("704*1280", "1280*704"),
        default_size="1280*704",
        frame_num=121,
        sample_steps=50,
        sample_shift=5.0,
        guidance=(5.0, 5.0),
        boundary=None,
        fps=24,
        vae_stride=(4, 16, 16),
        patch_size=(1, 2, 2),
        spatial_granularity=32,
        image=ImageUse.OPTIONAL,
        expert_subfolders=(),
        vae_file="Wan2.2_VAE.pth",
        t5_file=T5_FILE,
        tokenizer_dir=TOKENIZER_DIR,
        example_prompt=_CATS_PROMPT,
    ),
}


def get_task(name: str) -> TaskSpec:
    """The spec for ``name``; a user-facing error listing the valid names otherwise."""
    try:
        return TASKS[name]
    except (KeyError, TypeError):
        raise UserInputError(
            f"unknown task {name!r}", f"choose one of: {', '.join(TASKS)}"
        ) from None


def task_for_model_type(model_type: str) -> TaskSpec | None:
    """The task whose checkpoints carry this config.json ``model_type`` (t2v / i2v / ti2v)."""
    return next((t for t in TASKS.values() if t.model_type == model_type), None)


_SIZE_RE = re.compile(r"([0-9]{1,6})\s*[*x]\s*([0-9]{1,6})")


def parse_size(size: str) -> tuple[int, int]:
    """``"W*H"`` -> (W, H); also accepts ``x`` as separator. Raises UserInputError."""
    match = _SIZE_RE.fullmatch(str(size).strip().lower())
    if not match:
        raise UserInputError(
            f"size {size!r} is not WIDTH*HEIGHT", "write it like 1280*720 (width first)"
        )
    w, h = int(match.group(1)), int(match.group(2))
    if w <= 0 or h <= 0:
        raise UserInputError(f"size {size!r} has a zero side", "write it like 1280*720")
    return w, h


def frames_for_seconds(seconds: float, fps: int) -> int:
    """The 4n+1 frame count nearest to ``seconds`` of video at ``fps`` (at least 1).

    The VAEs compress time 4x after the first frame, so only 4n+1 frames decode cleanly.
    """
    if fps <= 0:
        raise ValueError("fps must be positive")
    raw = max(0.0, float(seconds)) * fps
    n = max(0, round((raw - 1) / 4))
    return 4 * n + 1


def seconds_for_frames(frames: int, fps: int) -> float:
    """Video length of ``frames`` at ``fps``, in seconds."""
    return frames / fps
