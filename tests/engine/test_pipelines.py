"""The T2V / I2V / TI2V pipelines on tiny random-weight checkpoints (official layout), CPU fp32.

What is pinned here: the MoE switch at the official step (against the official timestep lists),
seed determinism, cancellation between steps, CFG skipping at guidance 1.0, offload placement,
TI2V's held first latent frame, I2V's image conditioning and the input errors.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from wan22_desktop.engine.wan import image_prep
from wan22_desktop.engine.wan.pipelines import (
    HIGH_NOISE,
    LOW_NOISE,
    SINGLE,
    STOP,
    Cancelled,
    MemoryConfig,
    StepInfo,
    WanPipeline,
    expert_schedule,
)
from wan22_desktop.engine.wan.pipelines import conditioning as C
from wan22_desktop.engine.wan.pipelines.loop import Conditioning, model_timestep
from wan22_desktop.engine.wan.tiny import make_tiny_checkpoint
from wan22_desktop.errors import UserInputError
from wan22_desktop.sizes import i2v_output_size

SCHEDULES = Path(__file__).parent / "data" / "official_schedules.json"
# From the official timestep lists (docs/reference.md §6.4): steps at or above the boundary.
OFFICIAL_HIGH_NOISE_STEPS = {("t2v-A14B", 40, 12.0): 26, ("i2v-A14B", 40, 5.0): 15}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def ckpts(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("ckpt")
    return {
        task: make_tiny_checkpoint(task, root / task, seed=3)
        for task in ("t2v-A14B", "i2v-A14B", "ti2v-5B")
    }


@pytest.fixture(scope="module")
def pipes(ckpts) -> dict[str, WanPipeline]:
    return {
        task: WanPipeline.from_checkpoint(path, task, device="cpu", dtype=torch.float32)
        for task, path in ckpts.items()
    }


@pytest.fixture(scope="module")
def image_path(tmp_path_factory) -> Path:
    rng = np.random.default_rng(0)
    path = tmp_path_factory.mktemp("img") / "start.png"
    Image.fromarray(rng.integers(0, 256, (40, 64, 3), dtype=np.uint8)).save(path)
    return path


def _official_timesteps(solver: str, steps: int, shift: float) -> list[int]:
    for entry in json.loads(SCHEDULES.read_text())["schedules"]:
        if (
            entry["solver"] == solver
            and int(entry["steps"]) == steps
            and float(entry["shift"]) == shift
        ):
            return (
                json.loads(entry["timesteps"])
                if isinstance(entry["timesteps"], str)
                else entry["timesteps"]
            )
    raise KeyError((solver, steps, shift))


def _record_until_end(seen: list[StepInfo]):
    """Record every step and stop after the last (skips the decode: only the loop is under test)."""

    def callback(info: StepInfo):
        seen.append(info)
        return STOP if info.step == info.total else None

    return callback


# ---- MoE switch ----------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    "task,solver", [("t2v-A14B", "unipc"), ("t2v-A14B", "dpm++"), ("i2v-A14B", "unipc")]
)
def test_moe_switch_happens_at_the_official_step(pipes, image_path, task, solver) -> None:
    spec = pipes[task].spec
    official = _official_timesteps(solver, 40, spec.sample_shift)
    seen: list[StepInfo] = []
    with pytest.raises(Cancelled):
        pipes[task].generate(
            "a cat",
            image=image_path if task == "i2v-A14B" else None,
            size="32*32",
            frame_num=5,
            sample_steps=40,
            solver=solver,
            seed=0,
            callback=_record_until_end(seen),
        )
    assert [s.timestep for s in seen] == official
    high = OFFICIAL_HIGH_NOISE_STEPS[(task, 40, spec.sample_shift)]
    assert [s.expert for s in seen] == [HIGH_NOISE] * high + [LOW_NOISE] * (40 - high)
    assert expert_schedule(official, spec.boundary) == [s.expert for s in seen]


def test_expert_schedule_boundary_is_inclusive() -> None:
    assert expert_schedule([1000, 875, 874, 0], 0.875) == [
        HIGH_NOISE,
        HIGH_NOISE,
        LOW_NOISE,
        LOW_NOISE,
    ]
    assert expert_schedule([900, 899], 0.9) == [HIGH_NOISE, LOW_NOISE]
    assert expert_schedule([999, 1], None) == [SINGLE, SINGLE]


def test_guidance_follows_the_active_expert(pipes) -> None:
    """(low, high) = (3, 4): the high-noise expert's steps must use 4, the low-noise ones 3."""
    pipe = pipes["t2v-A14B"]
    seen: list[tuple[str, float]] = []
    import wan22_desktop.engine.wan.pipelines.loop as loop

    original = loop.guided_velocity

    def spy(model, latent, t, cond, guide, **kw):
        seen.append((next(n for n, m in pipe.experts.items() if m is model), guide))
        return original(model, latent, t, cond, guide, **kw)

    loop.guided_velocity = spy
    try:
        with pytest.raises(Cancelled):
            pipe.generate(
                "a cat",
                size="32*32",
                frame_num=5,
                sample_steps=4,
                seed=0,
                callback=_record_until_end([]),
            )
    finally:
        loop.guided_velocity = original
    # 4 UniPC steps at shift 12 are t = 999, 972, 923, 799: three above 875, one below.
    assert seen == [(HIGH_NOISE, 4.0)] * 3 + [(LOW_NOISE, 3.0)]


# ---- determinism -----------------------------------------------------------------------------


def test_same_seed_same_raw_video_and_another_seed_differs(pipes) -> None:
    pipe = pipes["t2v-A14B"]
    kw = dict(size="32*32", frame_num=5, sample_steps=3)
    a = pipe.generate("a cat running", seed=1234, **kw)
    b = pipe.generate("a cat running", seed=1234, **kw)
    c = pipe.generate("a cat running", seed=1235, **kw)
    assert a.video.shape == (3, 5, 32, 32) and a.video.dtype == np.float32
    assert np.array_equal(a.video, b.video)
    assert not np.array_equal(a.video, c.video)
    assert a.seed == 1234 and set(a.timings) == {"text_encoding", "sampling", "decoding"}


def test_initial_noise_is_one_official_randn() -> None:
    noise = C.initial_noise((16, 2, 4, 6), 42, torch.device("cpu"))
    expected = torch.randn(
        16, 2, 4, 6, dtype=torch.float32, generator=torch.Generator().manual_seed(42)
    )
    assert torch.equal(noise, expected)


def test_random_seed_is_reported(pipes) -> None:
    r = pipes["ti2v-5B"].generate("a dog", size="32*32", frame_num=5, sample_steps=2, seed=-1)
    again = pipes["ti2v-5B"].generate(
        "a dog", size="32*32", frame_num=5, sample_steps=2, seed=r.seed
    )
    assert r.seed >= 0 and np.array_equal(r.video, again.video)


# ---- every task, both solvers ------------------------------------------------------------------


@pytest.mark.parametrize(
    "task,with_image,solver",
    [
        ("t2v-A14B", False, "dpm++"),
        ("i2v-A14B", True, "unipc"),
        ("i2v-A14B", True, "dpm++"),
        ("ti2v-5B", False, "unipc"),
        ("ti2v-5B", True, "dpm++"),
    ],
)
def test_each_task_makes_a_video(pipes, image_path, task, with_image, solver) -> None:
    pipe = pipes[task]
    size = "64*64" if task == "ti2v-5B" and with_image else "32*32"  # 32*32 is too small an area
    r = pipe.generate(
        "a bird flying",
        image=image_path if with_image else None,
        size=size,
        frame_num=5,
        sample_steps=2,
        solver=solver,
        seed=5,
    )
    w, h = r.size
    if task == "i2v-A14B":
        assert (w, h) == i2v_output_size(64, 40, 32 * 32) == (32, 16)
    assert r.video.shape == (3, 5, h, w)
    assert np.isfinite(r.video).all() and r.video.min() >= -1 and r.video.max() <= 1
    assert r.video.std() > 0.01  # not a constant frame
    assert r.fps == pipe.spec.fps


def test_ti2v_image_holds_the_first_latent_frame_after_every_step(pipes, image_path) -> None:
    pipe = pipes["ti2v-5B"]
    frame = image_prep.ti2v_image(image_prep.load_image(image_path), 64 * 64)
    z = pipe.vae.encode([frame[:, None]])[0]
    firsts: list[torch.Tensor] = []
    rests: list[torch.Tensor] = []

    def callback(info: StepInfo) -> None:
        firsts.append(info.latents[:, :1].clone())
        rests.append(info.latents[:, 1:].clone())

    pipe.generate(
        "a cat",
        image=image_path,
        size="64*64",
        frame_num=9,
        sample_steps=3,
        seed=2,
        callback=callback,
    )
    assert len(firsts) == 3
    for first in firsts:
        assert torch.equal(first, z)
    assert not torch.equal(rests[0], rests[1])  # the other frames do move


def test_ti2v_per_token_timesteps_put_frame_zero_at_zero() -> None:
    shape = (48, 3, 4, 6)  # 2x3 tokens per frame, 18 tokens
    mask = C.ti2v_keep_mask(shape, keep_first=True)
    cond = Conditioning([], [], seq_len=20, keep_mask=mask, per_token_t=True)
    t = model_timestep(torch.tensor([700]), cond)
    assert t.shape == (1, 20)
    assert t[0, :6].eq(0).all() and t[0, 6:].eq(700).all()  # padding tokens carry t, as official
    text_only = Conditioning(
        [], [], seq_len=18, keep_mask=C.ti2v_keep_mask(shape, False), per_token_t=True
    )
    assert model_timestep(torch.tensor([700]), text_only).eq(700).all()


def test_i2v_mask_marks_only_the_first_latent_frame() -> None:
    mask = C.i2v_first_frame_mask(9, 2, 3)
    assert mask.shape == (4, 3, 2, 3)
    assert mask[:, 0].eq(1).all() and mask[:, 1:].eq(0).all()
    video = C.i2v_condition_video(torch.ones(3, 4, 6), 9)
    assert video.shape == (3, 9, 4, 6) and video[:, 0].eq(1).all() and video[:, 1:].eq(0).all()


def test_i2v_conditioning_changes_the_video(pipes, image_path, tmp_path) -> None:
    other = tmp_path / "other.png"
    Image.new("RGB", (64, 40), (250, 10, 10)).save(other)
    kw = dict(size="32*32", frame_num=5, sample_steps=2, seed=9)
    a = pipes["i2v-A14B"].generate("a cat", image=image_path, **kw)
    b = pipes["i2v-A14B"].generate("a cat", image=other, **kw)
    assert not np.array_equal(a.video, b.video)


# ---- callback, cancel, CFG, offload --------------------------------------------------------------


@pytest.mark.parametrize("how", ["return", "raise"])
def test_cancel_takes_effect_between_steps(pipes, how) -> None:
    calls: list[int] = []

    def callback(info: StepInfo):
        calls.append(info.step)
        if info.step == 2:
            if how == "raise":
                raise Cancelled("user")
            return STOP
        return None

    with pytest.raises(Cancelled):
        pipes["t2v-A14B"].generate(
            "a cat", size="32*32", frame_num=5, sample_steps=4, seed=0, callback=callback
        )
    assert calls == [1, 2]


def test_guidance_one_skips_the_unconditional_forward(pipes) -> None:
    pipe = pipes["ti2v-5B"]
    calls: list[int] = []
    handle = pipe.experts[SINGLE].register_forward_hook(lambda *a: calls.append(1))
    try:
        pipe.generate(
            "a cat",
            size="32*32",
            frame_num=5,
            sample_steps=3,
            guidance=1.0,
            seed=0,
            callback=_record_until_end([]),
        )
    except Cancelled:
        pass
    n_one = len(calls)
    calls.clear()
    try:
        pipe.generate(
            "a cat",
            size="32*32",
            frame_num=5,
            sample_steps=3,
            guidance=5.0,
            seed=0,
            callback=_record_until_end([]),
        )
    except Cancelled:
        pass
    handle.remove()
    assert (n_one, len(calls)) == (3, 6)


def test_offload_keeps_only_the_active_expert_placed(ckpts) -> None:
    pipe = WanPipeline.from_checkpoint(
        ckpts["t2v-A14B"],
        "t2v-A14B",
        device="cpu",
        dtype=torch.float32,
        memory=MemoryConfig(offload_model=True),
    )
    resident: list[set[str]] = []
    pipe.generate(
        "a cat",
        size="32*32",
        frame_num=5,
        sample_steps=4,
        seed=0,
        callback=lambda info: resident.append(set(pipe.placer.resident)),
    )
    assert resident == [{HIGH_NOISE}] * 3 + [{LOW_NOISE}]  # t = 999, 972, 923 | 799
    assert pipe.placer.resident == set()  # every DiT parked before the VAE decode
    assert ("high_noise_model", "cpu") in pipe.placer.moves


# ---- image preparation ---------------------------------------------------------------------------


def test_ti2v_image_is_lanczos_resized_and_centre_cropped() -> None:
    # 1280x720 at the 1280*704 area gives 1248x704 (official best_output_size).
    img = Image.new("RGB", (1280, 720), (0, 0, 0))
    img.paste((255, 255, 255), (0, 0, 16, 720))  # a white strip at the far left is cropped away
    x = image_prep.ti2v_image(img, 1280 * 704)
    assert x.shape == (3, 704, 1248)
    assert x.min() >= -1 and x.max() <= 1
    # scale = max(1248/1280, 704/720) = 0.978: 1252 wide, 2 px cropped on the left
    assert x[:, :, 0].mean() > 0.9 and x[:, :, 20:].max() <= -0.99


def test_i2v_image_is_a_bicubic_resize_of_the_whole_image() -> None:
    rng = np.random.default_rng(1)
    arr = rng.integers(0, 256, (36, 64, 3), dtype=np.uint8)
    x = image_prep.i2v_image(Image.fromarray(arr), 48, 32)
    src = torch.from_numpy(arr).permute(2, 0, 1).float().div(255).sub(0.5).div(0.5)[None]
    expected = torch.nn.functional.interpolate(src, size=(32, 48), mode="bicubic")[0]
    assert x.shape == (3, 32, 48) and torch.equal(x, expected)


# ---- bad input ---------------------------------------------------------------------------------


def test_input_errors(pipes, image_path, tmp_path) -> None:
    """What only the pipeline can judge (the image it reads, the size it yields on the model's
    grid, the solver). Frame counts and sizes are the request's rules (``request.py``), not
    checked again here."""
    tiny = tmp_path / "tiny.png"
    Image.new("RGB", (16, 16)).save(tiny)
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"not an image")
    cases = [
        ("t2v-A14B", dict(image=image_path), "does not take an image"),
        ("i2v-A14B", dict(), "needs a start image"),
        ("i2v-A14B", dict(image=tiny), "too small"),
        ("i2v-A14B", dict(image=junk), "cannot read image"),
        ("ti2v-5B", dict(image=image_path), "no usable ti2v-5B size"),  # 64x40 image, area 32*32
        ("t2v-A14B", dict(solver="heun"), "unknown sample solver"),
    ]
    for task, kw, message in cases:
        args = dict(size="32*32", frame_num=5, sample_steps=2, seed=0)
        args.update(kw)
        with pytest.raises(UserInputError, match=message):
            pipes[task].generate("a cat", **args)


def test_checkpoint_of_another_task_is_refused(ckpts) -> None:
    with pytest.raises(UserInputError, match="t2v-A14B"):
        WanPipeline.from_checkpoint(
            ckpts["t2v-A14B"], "i2v-A14B", device="cpu", dtype=torch.float32
        )


# ---- devices and precision -----------------------------------------------------------------------


@pytest.mark.skipif(
    torch.cuda.is_available(), reason="tests the fallback of a machine without CUDA"
)
def test_cuda_requested_without_a_gpu_falls_back_to_the_cpu(ckpts) -> None:
    pipe = WanPipeline.from_checkpoint(
        ckpts["ti2v-5B"], "ti2v-5B", device="cuda", dtype=torch.float32
    )
    assert pipe.device == torch.device("cpu")
    r = pipe.generate("a cat", size="32*32", frame_num=5, sample_steps=2, seed=0)
    assert r.video.shape == (3, 5, 32, 32)


def test_official_bf16_mode_with_memory_options_runs_close_to_fp32(ckpts, pipes) -> None:
    """bf16 autocast with converted DiT weights, T5 on the CPU in bf16, offload: the GPU recipe,
    here on the CPU. bf16 rounding keeps it near, not equal to, the fp32 video."""
    memory = MemoryConfig(offload_model=True, convert_model_dtype=True, t5_cpu=True)
    pipe = WanPipeline.from_checkpoint(
        ckpts["t2v-A14B"], "t2v-A14B", device="cpu", dtype=torch.bfloat16, memory=memory
    )
    assert {next(m.parameters()).dtype for m in pipe.experts.values()} == {torch.bfloat16}
    assert pipe.text_encoder.dtype == torch.bfloat16
    kw = dict(size="32*32", frame_num=5, sample_steps=3, seed=1)
    bf16 = pipe.generate("a cat", **kw).video
    fp32 = pipes["t2v-A14B"].generate("a cat", **kw).video
    assert bf16.dtype == np.float32 and 0 < np.abs(bf16 - fp32).max() < 0.1
