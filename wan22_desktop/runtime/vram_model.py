"""Peak GPU memory of a plan, per phase: the planner's memory model (pure; no torch).

Every figure is the live tensor bytes on one GPU (what ``torch.cuda.max_memory_allocated``
reports), modelled as weights + activations per 1k DiT tokens + the VAE working set per pixel.
The coefficients were fitted to ``engine/wan/vram_harness.py``, which runs the real CUDA code
path at full size on fake tensors, every memory switch included (block streaming, FP8, the
bf16/tiled VAE, VAE offload; ``benchmarks/bench_vram.py`` prints the fit;
``tests/runtime/test_vram_model.py`` checks the model against the committed table of simulated
peaks). Only the several-GPU terms (FSDP, Ulysses) are arithmetic from the component sizes:
the harness simulates one rank.

``estimate`` gives the modelled tensor peak per phase; ``allocator_margin`` what the CUDA
context and the caching allocator's fragmentation add on top. A plan fits a card when its
tensor peak is at most ``FIT_FRACTION`` of the card and the estimate with the margin fits.
"""

from __future__ import annotations

from dataclasses import dataclass, field

GIB = 1024**3

# ---- component sizes (parameter counts of the official models; engine/wan/*_config.py) --------


@dataclass(frozen=True)
class ModelSizes:
    """Parameter counts of one DiT (one expert for A14B) and its companions."""

    experts: int
    dit_params: int
    blocks: int
    block_params: int
    block_linear_params: int  # weights of the block's nn.Linear layers (what FP8 stores)
    block_linear_out: int  # their output channels (one FP8 scale each)
    vae_params: int
    vae_stride: int  # spatial
    heads: int


T5_PARAMS = 5_680_910_336  # umT5-XXL encoder
T5_BLOCKS = 24
T5_BLOCK_PARAMS = 192_948_224  # attention + gated FFN + norms + relative-position table
SIZES = {
    # i2v-A14B's patch embedding is 409,600 parameters larger than t2v's: the larger is used.
    "A14B": ModelSizes(2, 14_288_901_184, 40, 351_394_304, 351_272_960, 59_904, 126_892_531, 8, 40),
    "5B": ModelSizes(1, 4_999_787_712, 30, 163_656_704, 163_577_856, 41_984, 704_688_668, 16, 24),
}
BYTES = {"fp32": 4, "bf16": 2, "fp16": 2}


def dit_gib(model: str, convert: bool, fp8: bool = False) -> float:
    """One DiT (one A14B expert) on the device: fp32 as shipped, bf16 converted, or FP8 blocks."""
    s = SIZES[model]
    if not fp8:
        return s.dit_params * (2 if convert else 4) / GIB
    return (s.dit_params - s.blocks * s.block_params) * 2 / GIB + s.blocks * block_gib(model, True)


def block_gib(model: str, fp8: bool) -> float:
    """One DiT block in bf16, or with FP8 e4m3 linear weights + fp32 per-channel scales (norms,
    biases and the modulation stay bf16)."""
    s = SIZES[model]
    if not fp8:
        return s.block_params * 2 / GIB
    rest = s.block_params - s.block_linear_params
    return (s.block_linear_params + 4 * s.block_linear_out + 2 * rest) / GIB


def t5_gib() -> float:
    return T5_PARAMS * 2 / GIB  # bf16, as shipped


def t5_streamed_gib(stream_blocks: int) -> float:
    """T5 on the device while it encodes with ``stream_blocks`` of its blocks resident (the
    embedding and final norm are uploaded whole)."""
    blocks = min(stream_blocks, T5_BLOCKS)
    return (T5_PARAMS - T5_BLOCKS * T5_BLOCK_PARAMS + blocks * T5_BLOCK_PARAMS) * 2 / GIB


def vae_gib(model: str, dtype: str = "fp32") -> float:
    return SIZES[model].vae_params * BYTES[dtype] / GIB


# ---- activations and working sets (fitted to the harness) ----------------------------------------------------

# Sampling activations, GiB per 1k DiT tokens, one CFG forward at a time (flash attention): the
# fp32 residual stream, the bf16 q/k/v/attention and FFN temporaries of one block, e/e0.
# Fitted: A14B 480p/720p (32.76k/75.6k tokens) 6.04/13.92 GiB; 5B 480p/720p (12.09k/27.28k)
# 1.38/3.11 GiB; both linear with a ~0 intercept.
ACT_PER_KTOK = {"A14B": 0.1840, "5B": 0.1140}
# fp32 DiT weights under bf16 autocast: the per-call weight casts (A14B +0.62 GiB at 480p,
# +1.46 at 720p; 5B +0.14/+0.32).
ACT_FP32_EXTRA_PER_KTOK = {"A14B": 0.0193, "5B": 0.0118}
# TI2V with an image: per-token timesteps give a [1, L, 6, C] fp32 e0 plus a per-block copy
# (+4.06 GiB at 720p, +1.80 at 480p).
ACT_PER_TOKEN_T_PER_KTOK = {"5B": 0.1489}
T5_ACT_GIB = 0.22  # encoding 512 positions on the GPU (bf16)
# VAE decode: working set per output pixel of a frame (the causal decode holds one latent frame's
# activations at a time) + the decoded video (fp32 frames and the final concatenation).
DECODE_PER_PX = {"A14B": 1.7369e-5, "5B": 1.617e-5}  # GiB per pixel of one frame
DECODE_PER_PX_FRAME = {"A14B": 13.57 / GIB, "5B": 13.33 / GIB}  # GiB per pixel per frame
# Image encoding. I2V-A14B encodes the whole conditioning video (image + F-1 zero frames);
# TI2V-5B one frame.
ENCODE_PER_PX = {"A14B": 1.39e-5, "5B": 1.9e-6}
ENCODE_INPUT_BYTES_PER_PX_FRAME = 12  # the [3, F, H, W] fp32 video on the device (I2V)
# FP8 weights with ``torch._scaled_mm``: every block Linear quantises its input per token (an
# fp32 copy and an e4m3 copy of the activation). Fitted: A14B +1.08 GiB at 720p, +0.40 at 480p;
# 5B (FFN 4.7x wider than the model) +1.72 GiB at 720p.
ACT_FP8_EXTRA_PER_KTOK = {"A14B": 0.0143, "5B": 0.0635}
# Tiled VAE decode (``vae_io.VideoVAE.tile``): one tile's working set (``DECODE_PER_PX`` per pixel
# of the tile) + the fp32 output and blend accumulators of the whole video + the tile's decoded
# frames in fp32 (the part and the part times its blend ramp), per pixel of the tile per frame.
VAE_TILE_PART_BYTES = 24
VAE_BF16_WORKING_SET = 0.5  # the bf16 VAE's activations per pixel, relative to fp32
# Model-vs-harness rounding: the fits are within 0.05 GiB; this keeps the model above.
FIT_SAFETY = 1.01
FIT_SAFETY_GIB = 0.02

# ---- terms for several GPUs (the harness simulates one rank; these are arithmetic) -----------
ULYSSES_ACT_OVERHEAD = 1.25  # all-to-all buffers on top of the rank's token slice
FSDP_GATHER_BLOCKS = 2  # one gathered block computing, one prefetched

# ---- fitting a card ------------------------------------------------------------------------
FIT_FRACTION = 0.92  # the modelled tensor peak may use at most this share of the card
MARGIN_GIB = 0.3  # CUDA context and allocator bookkeeping
MARGIN_FRACTION = 0.03  # caching-allocator fragmentation, proportional to the peak


def allocator_margin(tensor_gib: float) -> float:
    """What the card needs beyond the live tensors (context, fragmentation)."""
    return MARGIN_GIB + MARGIN_FRACTION * tensor_gib


@dataclass(frozen=True)
class Switches:
    """The plan's memory switches (``runtime.planner.Plan`` fields of the same names)."""

    offload_model: bool = False
    convert_model_dtype: bool = False
    t5_cpu: bool = False
    stream_blocks: int = 0
    fp8: bool = False
    vae_dtype: str = "fp32"
    vae_tile: int = 0
    vae_offload: bool = False
    nproc: int = 1
    ulysses_size: int = 1
    dit_fsdp: bool = False
    t5_fsdp: bool = False
    cfg_batch: bool = False  # CFG's two forwards as one batch of two: twice the activations


@dataclass(frozen=True)
class VramEstimate:
    """Modelled tensor peaks (GiB) per phase and the terms that make the larger one."""

    text: float  # prompt (and image) encoding
    sampling: float
    decode: float
    terms: dict[str, float] = field(default_factory=dict)
    formula_only: bool = False  # several GPUs: arithmetic terms the harness does not simulate

    @property
    def peak(self) -> float:
        return max(self.text, self.sampling, self.decode)

    @property
    def with_margin(self) -> float:
        return self.peak + allocator_margin(self.peak)

    def fits(self, card_gib: float) -> bool:
        return self.peak <= FIT_FRACTION * card_gib and self.with_margin <= card_gib


def estimate(
    model: str,
    tokens: int,
    width: int,
    height: int,
    frame_num: int,
    sw: Switches,
    *,
    has_image: bool = False,
    task_is_i2v: bool = False,
) -> VramEstimate:
    """Per-GPU tensor peaks of a job (``tokens`` = DiT tokens, ``planner.task_tokens``)."""
    s = SIZES[model]
    ktok = tokens / 1000
    px = width * height
    n = max(sw.nproc, 1)
    uly = max(sw.ulysses_size, 1)
    formula = n > 1

    # Weights on the device, per phase.
    one_dit = dit_gib(model, sw.convert_model_dtype, sw.fp8)
    if sw.dit_fsdp and n > 1:
        # Arithmetic: fp32 master shards of every expert + gathered bf16 blocks.
        dit_sampling = s.experts * dit_gib(model, False) / n
        dit_sampling += FSDP_GATHER_BLOCKS * block_gib(model, False)
        dit_text = dit_decode = dit_sampling
    elif sw.stream_blocks > 0:
        # The blocks outside the stream + the pool's N block slots (the prefetch fills a slot
        # the window has left), of the active expert only; the slots are freed at park.
        nonblock = one_dit - s.blocks * block_gib(model, sw.fp8)
        resident = min(sw.stream_blocks, s.blocks)
        dit_sampling = nonblock + resident * block_gib(model, sw.fp8)
        dit_text = 0.0 if sw.offload_model else dit_sampling
        dit_decode = 0.0 if sw.offload_model else dit_sampling
    elif sw.offload_model:
        dit_text, dit_sampling, dit_decode = 0.0, one_dit, 0.0
    else:
        dit_text = dit_sampling = dit_decode = s.experts * one_dit
    vae_w = vae_gib(model, sw.vae_dtype)
    vae_away = vae_w if sw.vae_offload else 0.0  # off the GPU until decode
    if sw.t5_cpu:
        t5_text = t5_resident = 0.0
    elif sw.stream_blocks > 0 and n == 1:  # T5 streams through its own N slots, then leaves
        t5_text, t5_resident = t5_streamed_gib(sw.stream_blocks), 0.0
    elif sw.t5_fsdp and n > 1:
        t5_text = t5_resident = t5_gib() / n  # arithmetic (several GPUs)
    else:
        t5_text = t5_gib()
        t5_resident = 0.0 if sw.offload_model else t5_text

    # Activations.
    rank_ktok = ktok / uly * (ULYSSES_ACT_OVERHEAD if uly > 1 else 1.0)
    act = ACT_PER_KTOK[model] * rank_ktok
    if not sw.convert_model_dtype and not sw.fp8:
        act += ACT_FP32_EXTRA_PER_KTOK[model] * rank_ktok
    if sw.fp8:
        act += ACT_FP8_EXTRA_PER_KTOK[model] * rank_ktok
    if has_image and model == "5B":
        act += ACT_PER_TOKEN_T_PER_KTOK["5B"] * rank_ktok
    if sw.cfg_batch:
        act *= 2
    act = act * FIT_SAFETY + FIT_SAFETY_GIB

    encode = 0.0
    if has_image:
        encode = ENCODE_PER_PX[model] * px
        if task_is_i2v:
            encode += ENCODE_INPUT_BYTES_PER_PX_FRAME * px * frame_num / GIB
        encode = encode * FIT_SAFETY + FIT_SAFETY_GIB
    t5_act = T5_ACT_GIB if t5_text and not sw.t5_cpu else 0.0
    # The image is encoded after T5 has left the GPU (offload), else beside it.
    text = max(
        dit_text + t5_text + vae_w - vae_away + t5_act,
        dit_text + t5_resident + vae_w + encode if has_image else 0.0,
    )

    sampling = dit_sampling + t5_resident + vae_w - vae_away + act

    out_video = DECODE_PER_PX_FRAME[model] * px * frame_num
    per_px = DECODE_PER_PX[model] * (VAE_BF16_WORKING_SET if sw.vae_dtype != "fp32" else 1.0)
    lat_h, lat_w = height // s.vae_stride, width // s.vae_stride
    if sw.vae_tile > 0 and max(lat_h, lat_w) > sw.vae_tile:  # one tile at a time + the video
        tile_px = min(sw.vae_tile, lat_h) * min(sw.vae_tile, lat_w) * s.vae_stride**2
        decode_ws = per_px * tile_px + out_video + VAE_TILE_PART_BYTES * tile_px * frame_num / GIB
    else:
        decode_ws = per_px * px + out_video
    decode_ws = decode_ws * FIT_SAFETY + FIT_SAFETY_GIB
    decode = dit_decode + t5_resident + vae_w + decode_ws

    terms = {
        "dit": round(dit_sampling, 2),
        "t5": round(t5_resident, 2),
        "vae": round(vae_w - vae_away, 2),
        "activations": round(act, 2),
        "decode_working_set": round(decode_ws, 2),
    }
    return VramEstimate(text, sampling, decode, terms, formula)


def max_resident_blocks(
    model: str,
    tokens: int,
    width: int,
    height: int,
    frame_num: int,
    sw: Switches,
    card_gib: float,
    *,
    has_image: bool = False,
    task_is_i2v: bool = False,
) -> int:
    """The most DiT blocks that can stay resident with streaming on this card (0: none fit);
    ``SIZES[model].blocks`` means no streaming is needed."""
    blocks = SIZES[model].blocks
    from dataclasses import replace

    def ok(n: int) -> bool:
        trial = replace(sw, stream_blocks=0 if n >= blocks else n)
        est = estimate(
            model,
            tokens,
            width,
            height,
            frame_num,
            trial,
            has_image=has_image,
            task_is_i2v=task_is_i2v,
        )
        return est.fits(card_gib)

    if ok(blocks):
        return blocks
    lo, hi = 0, blocks - 1  # largest n in [1, hi] with ok(n); ok is monotone (fewer fit better)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if ok(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo if lo >= 1 and ok(lo) else 0
