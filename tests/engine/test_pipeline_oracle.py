"""Whole-pipeline parity with diffusers' ``WanPipeline`` / ``WanImageToVideoPipeline``.

Same tiny random weights (our official-format checkpoint, converted to diffusers names with our
key maps and loaded with ``strict=True``), same initial noise, same text embeddings (our T5 output,
zero-padded to text_len as both DiTs expect), same conditioning image tensor, CPU fp32:

* T2V-A14B: ``transformer`` = high-noise expert, ``transformer_2`` = low-noise, ``boundary_ratio``
  0.875, ``guidance_scale`` = high 4.0, ``guidance_scale_2`` = low 3.0.
* I2V-A14B: the same with the 36-channel input, boundary 0.9, image encoder None.
* TI2V-5B: ``expand_timesteps=True`` (per-token t), text-only and with an image.

Intended deviations, removed here so the comparison is of the pipelines, not the defaults:
diffusers' UniPC builds its own sigma grid (linspace(1, 1/1000) instead of the official
linspace(0.999, 0), up to half the integer timesteps one off), so the official sigmas are
injected (``flow_shift=1``); diffusers' DiT uses an fp32 timestep sinusoid (official: fp64),
which is the residual difference. TI2V with an image: diffusers keeps noise in the solver state's
first frame and mixes only the model input; the official code overwrites the state; frames agree.

Measured here (max |ours - diffusers| of the raw video in [-1, 1], 4 UniPC steps, printed with
``-s``): t2v-A14B 8.1e-6, i2v-A14B 5.4e-6, ti2v-5B text 1.3e-5, ti2v-5B image 5.8e-6. A negative
control (the two guidance scales swapped) differs by more than 100x the tolerance.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

diffusers = pytest.importorskip("diffusers")

from wan22_desktop.engine.wan import image_prep  # noqa: E402
from wan22_desktop.engine.wan.convert_diffusers import diffusers_config, dit_official_to_diffusers  # noqa: E402
from wan22_desktop.engine.wan.convert_diffusers_vae import (  # noqa: E402
    diffusers_vae_kwargs,
    official_to_diffusers_vae,
)  # noqa: E402
from wan22_desktop.engine.wan.pipelines import HIGH_NOISE, LOW_NOISE, SINGLE, WanPipeline  # noqa: E402
from wan22_desktop.engine.wan.pipelines import conditioning as C  # noqa: E402
from wan22_desktop.engine.wan.solvers import unipc_sigmas  # noqa: E402
from wan22_desktop.engine.wan.tiny import make_tiny_checkpoint  # noqa: E402
from wan22_desktop.tasks import DEFAULT_NEGATIVE_PROMPT  # noqa: E402

# diffusers warns that [-1, 1] tensors are deprecated input; it uses them unchanged, as we need.
pytestmark = [
    pytest.mark.filterwarnings("ignore:Passing `image` as torch tensor:FutureWarning"),
    pytest.mark.usefixtures("one_torch_thread"),
]

ATOL = 2e-4  # raw video in [-1, 1]; the fp32-vs-fp64 sinusoid, amplified over the steps
STEPS, FRAMES, SEED = 4, 5, 77
PROMPT = "a cat running on the grass"


def official_unipc(steps: int, shift: float) -> diffusers.UniPCMultistepScheduler:
    """diffusers UniPC fed the official sigma grid (its own grid differs, see the docstring)."""

    class OfficialGridUniPC(diffusers.UniPCMultistepScheduler):
        def set_timesteps(self, num_inference_steps=None, device=None, **kwargs):  # type: ignore[override]
            super().set_timesteps(device=device, sigmas=unipc_sigmas(steps, shift))

    return OfficialGridUniPC(
        prediction_type="flow_prediction",
        use_flow_sigmas=True,
        flow_shift=1.0,
        num_train_timesteps=1000,
    )


def _transformer(dit) -> torch.nn.Module:
    model = diffusers.WanTransformer3DModel(**diffusers_config(dit.config)).eval()
    model.load_state_dict(dit_official_to_diffusers(dit.state_dict()), strict=True)
    return model


def _vae(video_vae) -> torch.nn.Module:
    cfg = video_vae.config
    model = diffusers.AutoencoderKLWan(**diffusers_vae_kwargs(cfg)).eval()
    model.load_state_dict(
        official_to_diffusers_vae(video_vae.model.state_dict(), cfg.version), strict=True
    )
    return model


def _embeds(pipe: WanPipeline) -> tuple[torch.Tensor, torch.Tensor]:
    text_len = next(iter(pipe.experts.values())).config.text_len
    out = []
    for text in (PROMPT, DEFAULT_NEGATIVE_PROMPT):
        e = pipe.text_encoder.encode([text])[0]
        out.append(torch.nn.functional.pad(e, (0, 0, 0, text_len - e.shape[0]))[None])
    return out[0], out[1]


def _compare(ours: np.ndarray, theirs: torch.Tensor) -> float:
    """theirs: diffusers 'pt' output [1, F, 3, H, W] in [0, 1]; returns max diff in [-1, 1] units."""
    theirs_signed = theirs[0].permute(1, 0, 2, 3).numpy() * 2 - 1
    assert ours.shape == theirs_signed.shape
    return float(np.abs(ours - theirs_signed).max())


def _assert_informative(video: np.ndarray) -> None:
    """A video mostly clamped to +-1 would hide differences; these tiny ones are not."""
    assert np.mean(np.abs(video) >= 0.999) < 0.5 and video.std() > 0.05


@pytest.fixture(scope="module")
def pipes(tmp_path_factory) -> dict[str, WanPipeline]:
    root = tmp_path_factory.mktemp("oracle")
    return {
        task: WanPipeline.from_checkpoint(
            make_tiny_checkpoint(task, root / task, seed=5), task, device="cpu", dtype=torch.float32
        )
        for task in ("t2v-A14B", "i2v-A14B", "ti2v-5B")
    }


@pytest.fixture(scope="module")
def image():
    from PIL import Image

    rng = np.random.default_rng(3)
    return Image.fromarray(rng.integers(0, 256, (40, 64, 3), dtype=np.uint8))


@pytest.mark.slow
def test_t2v_a14b_matches_diffusers_two_expert_pipeline(pipes) -> None:
    pipe = pipes["t2v-A14B"]
    spec = pipe.spec
    ours = pipe.generate(PROMPT, size="32*32", frame_num=FRAMES, sample_steps=STEPS, seed=SEED)
    noise = C.initial_noise(
        C.latent_shape(16, FRAMES, 32, 32, (4, 8, 8)), SEED, torch.device("cpu")
    )
    ref = diffusers.WanPipeline(
        tokenizer=None,
        text_encoder=None,
        vae=_vae(pipe.vae),
        scheduler=official_unipc(STEPS, spec.sample_shift),
        transformer=_transformer(pipe.experts[HIGH_NOISE]),
        transformer_2=_transformer(pipe.experts[LOW_NOISE]),
        boundary_ratio=spec.boundary,
    )
    cond, uncond = _embeds(pipe)
    theirs = ref(
        prompt_embeds=cond,
        negative_prompt_embeds=uncond,
        height=32,
        width=32,
        num_frames=FRAMES,
        num_inference_steps=STEPS,
        guidance_scale=spec.guidance[1],
        guidance_scale_2=spec.guidance[0],
        latents=noise[None],
        output_type="pt",
    ).frames
    diff = _compare(ours.video, theirs)
    print(f"t2v-A14B max |diff| = {diff:.3g}")
    assert diff < ATOL, diff
    _assert_informative(ours.video)
    # Negative control: the (low, high) guidance order matters at this tolerance.
    swapped = ref(
        prompt_embeds=cond,
        negative_prompt_embeds=uncond,
        height=32,
        width=32,
        num_frames=FRAMES,
        num_inference_steps=STEPS,
        guidance_scale=spec.guidance[0],
        guidance_scale_2=spec.guidance[1],
        latents=noise[None],
        output_type="pt",
    ).frames
    assert _compare(ours.video, swapped) > 100 * ATOL


@pytest.mark.slow
def test_i2v_a14b_matches_diffusers_image_to_video_pipeline(pipes, image) -> None:
    pipe = pipes["i2v-A14B"]
    spec = pipe.spec
    ours = pipe.generate(
        PROMPT, image=image, size="32*32", frame_num=FRAMES, sample_steps=STEPS, seed=SEED
    )
    w, h = ours.size
    noise = C.initial_noise(C.latent_shape(16, FRAMES, w, h, (4, 8, 8)), SEED, torch.device("cpu"))
    frame = image_prep.i2v_image(image, w, h)
    ref = diffusers.WanImageToVideoPipeline(
        tokenizer=None,
        text_encoder=None,
        vae=_vae(pipe.vae),
        scheduler=official_unipc(STEPS, spec.sample_shift),
        image_processor=None,
        image_encoder=None,
        transformer=_transformer(pipe.experts[HIGH_NOISE]),
        transformer_2=_transformer(pipe.experts[LOW_NOISE]),
        boundary_ratio=spec.boundary,
    )
    cond, uncond = _embeds(pipe)
    theirs = ref(
        image=frame[None],
        prompt_embeds=cond,
        negative_prompt_embeds=uncond,
        height=h,
        width=w,
        num_frames=FRAMES,
        num_inference_steps=STEPS,
        guidance_scale=spec.guidance[1],
        guidance_scale_2=spec.guidance[0],
        latents=noise[None],
        output_type="pt",
    ).frames
    diff = _compare(ours.video, theirs)
    print(f"i2v-A14B max |diff| = {diff:.3g}")
    assert diff < ATOL, diff
    _assert_informative(ours.video)


@pytest.mark.slow
@pytest.mark.parametrize("with_image", [False, True])
def test_ti2v_5b_matches_diffusers_expand_timesteps(pipes, image, with_image) -> None:
    pipe = pipes["ti2v-5B"]
    spec = pipe.spec
    size = "64*64" if with_image else "32*32"
    ours = pipe.generate(
        PROMPT,
        image=image if with_image else None,
        size=size,
        frame_num=FRAMES,
        sample_steps=STEPS,
        seed=SEED,
    )
    w, h = ours.size
    noise = C.initial_noise(
        C.latent_shape(48, FRAMES, w, h, (4, 16, 16)), SEED, torch.device("cpu")
    )
    common = dict(
        tokenizer=None,
        text_encoder=None,
        vae=_vae(pipe.vae),
        scheduler=official_unipc(STEPS, spec.sample_shift),
        transformer=_transformer(pipe.experts[SINGLE]),
        expand_timesteps=True,
    )
    cond, uncond = _embeds(pipe)
    call = dict(
        prompt_embeds=cond,
        negative_prompt_embeds=uncond,
        height=h,
        width=w,
        num_frames=FRAMES,
        num_inference_steps=STEPS,
        guidance_scale=spec.guidance[0],
        latents=noise[None],
        output_type="pt",
    )
    if with_image:
        ref = diffusers.WanImageToVideoPipeline(image_processor=None, image_encoder=None, **common)
        frame = image_prep.ti2v_image(image, 64 * 64)
        theirs = ref(image=frame[None], **call).frames
    else:
        theirs = diffusers.WanPipeline(**common)(**call).frames
    diff = _compare(ours.video, theirs)
    print(f"ti2v-5B ({'image' if with_image else 'text'}) max |diff| = {diff:.3g}")
    assert diff < ATOL, diff
    _assert_informative(ours.video)
