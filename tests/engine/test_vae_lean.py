"""The lean VAE decode: overlapping spatial tiles blended linearly, bf16, channels_last_3d, and
one decode per job (rank 0 only). Figures are printed (pytest -s) and bounded honestly: the
decoder's middle attention sees the whole frame, so a tiled decode is never bit-equal; on
random-weight tiny VAEs the seams are at their worst."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from wan22_desktop.engine.wan import parallel
from wan22_desktop.engine.wan.pipelines import MemoryConfig, WanPipeline
from wan22_desktop.engine.wan.tiny import make_tiny_checkpoint
from wan22_desktop.engine.wan.vae_io import VideoVAE, blend_ramp, tile_spans, tiny_vae

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _latent(vae: VideoVAE, h: int = 12, w: int = 12) -> torch.Tensor:
    return torch.randn(vae.z_dim, 2, h, w, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize(
    "size,tile,overlap", [(12, 8, 2), (12, 8, 4), (30, 8, 2), (9, 4, 1), (16, 16, 4), (5, 8, 2)]
)
def test_tiles_cover_the_axis_with_full_tiles_and_complementary_ramps(size, tile, overlap):
    spans = tile_spans(size, tile, overlap)
    assert spans[0][0] == 0 and spans[-1][1] == size
    weight = torch.zeros(size * 2)
    for i, (start, end, (r_in, r_out)) in enumerate(spans):
        assert end - start == min(tile, size)
        if i:
            prev_end = spans[i - 1][1]
            assert r_in == prev_end - start >= min(overlap, tile - 1)
        weight[start * 2 : end * 2] += blend_ramp(end - start, 2, (r_in, r_out), weight.device)
    # neighbours' linear ramps add up to one: the blend is a partition of unity
    assert torch.allclose(weight, torch.ones_like(weight), atol=1e-6)


def test_tiled_decode_of_a_local_decoder_is_exact(monkeypatch):
    """The tiling machinery alone (positions, ramps, normalisation): with a decoder that looks at
    each latent pixel alone, tiles and the whole frame must agree to float rounding."""
    vae = VideoVAE(tiny_vae("2.1", seed=1))
    s = vae.stride[1]

    def local(z: torch.Tensor) -> torch.Tensor:
        x = torch.tanh(z[:, :3]).repeat_interleave(s, dim=3).repeat_interleave(s, dim=4)
        return torch.cat([x[:, :, :1], x[:, :, 1:].repeat_interleave(4, dim=2)], dim=2)

    monkeypatch.setattr(vae.model, "decode_raw", local)
    z = _latent(vae, 11, 17)
    ref = vae.decode([z])[0]
    vae.tile, vae.overlap = 5, 2
    out = vae.decode([z])[0]
    assert out.shape == ref.shape == (3, 5, 11 * s, 17 * s)
    assert (out - ref).abs().max().item() <= 1e-6


@pytest.mark.parametrize("version", ["2.1", "2.2"])
def test_tiled_vs_untiled_decode_on_tiny_vaes(version):
    vae = VideoVAE(tiny_vae(version, seed=1))
    z = _latent(vae)
    ref = vae.decode([z])[0]
    vae.tile = 12  # the whole latent fits one tile: the untiled code path, bit for bit
    assert torch.equal(vae.decode([z])[0], ref)
    errors = {}
    for tile, overlap in ((6, 2), (8, 4), (10, 4)):
        vae.tile, vae.overlap = tile, overlap
        out = vae.decode([z])[0]
        assert out.shape == ref.shape and out.dtype == torch.float32
        assert torch.isfinite(out).all() and out.abs().max() <= 1.0
        d = (out - ref).abs()
        errors[tile] = (d.max().item(), d.mean().item())
        print(
            f"VAE {version} tiled {tile}/{overlap} of 12x12 latents vs untiled: "
            f"max |d| {errors[tile][0]:.3f}, mean |d| {errors[tile][1]:.4f}"
        )
    # random weights and a global attention in the middle: seams are large but shrink as the
    # tiles grow; measured max 0.49-1.6, mean 0.04-0.19 on this 96-192 px output
    assert errors[10][1] < errors[8][1] < errors[6][1] < 0.25
    assert errors[10][0] < 1.0


@pytest.mark.parametrize("version", ["2.1", "2.2"])
def test_bf16_decode_is_close_to_fp32(version):
    fp32 = VideoVAE(tiny_vae(version, seed=1))
    bf16 = VideoVAE(tiny_vae(version, seed=1).to(torch.bfloat16))
    z = _latent(fp32)
    a, b = fp32.decode([z])[0], bf16.decode([z])[0]
    assert bf16.dtype == torch.bfloat16 and b.dtype == torch.float32 and b.shape == a.shape
    d = (a - b).abs()
    print(f"VAE {version} bf16 vs fp32: max |d| {d.max().item():.4f}, mean {d.mean().item():.5f}")
    assert d.max().item() <= 0.15 and d.mean().item() <= 0.015


def test_channels_last_3d_changes_layout_not_values():
    vae = VideoVAE(tiny_vae("2.2", seed=1), channels_last=True)
    plain = VideoVAE(tiny_vae("2.2", seed=1))
    assert plain._use_channels_last() is False  # auto: CUDA only
    z = _latent(vae, 6, 6)
    assert torch.allclose(vae.decode([z])[0], plain.decode([z])[0], atol=1e-5, rtol=0)
    convs = [m for m in vae.model.modules() if isinstance(m, torch.nn.Conv3d)]
    assert convs and all(
        c.weight.is_contiguous(memory_format=torch.channels_last_3d) for c in convs
    )


@pytest.fixture(scope="module")
def ti2v(tmp_path_factory):
    return make_tiny_checkpoint("ti2v-5B", tmp_path_factory.mktemp("ckpt") / "ti2v", seed=3)


def test_memory_config_picks_the_vae_dtype_and_tile(ti2v):
    memory = MemoryConfig(vae_dtype="bf16", vae_tile=1)
    pipe = WanPipeline.from_checkpoint(ti2v, "ti2v-5B", device="cpu", memory=memory)
    assert pipe.vae.dtype == torch.bfloat16 and pipe.vae.tile == 1
    result = pipe.generate("a dog", size="32*32", frame_num=5, sample_steps=1, seed=1)
    assert result.video is not None and result.video.shape == (3, 5, 32, 32)
    default = WanPipeline.from_checkpoint(ti2v, "ti2v-5B", device="cpu", dtype=torch.float32)
    assert default.vae.dtype == torch.float32 and default.vae.tile == 0


def test_only_rank_zero_decodes(ti2v, monkeypatch):
    pipe = WanPipeline.from_checkpoint(ti2v, "ti2v-5B", device="cpu", dtype=torch.float32)
    decodes: list[int] = []
    real = pipe.vae.decode
    monkeypatch.setattr(pipe.vae, "decode", lambda zs: decodes.append(1) or real(zs))
    kw = dict(size="32*32", frame_num=5, sample_steps=1, seed=1)
    first = pipe.generate("a dog", **kw)
    monkeypatch.setattr(parallel, "rank", lambda group=None: 1)
    other = pipe.generate("a dog", **kw)
    assert decodes == [1] and other.video is None and other.size == first.size
    assert isinstance(first.video, np.ndarray)


class _NoVideoOnOtherRanks:
    """A ``job.Engine`` that, like WanEngine on a rank other than 0, decodes nothing."""

    def load(self, checkpoint, plan):
        return checkpoint

    def generate(self, pipeline, request, prompt, job):
        job.phase("decoding")
        return None

    def release(self, pipeline):
        pass


def test_a_job_on_another_rank_saves_nothing_and_reports_the_request_shape(
    tmp_path, monkeypatch
) -> None:
    from tests.runtime.helpers import TASK, cpu_plan
    from wan22_desktop.engine.wan.pipelines import run_job
    from wan22_desktop.request import GenerationRequest
    from wan22_desktop.runtime.planner import Plan

    monkeypatch.setattr(parallel, "rank", lambda group=None: 1)
    request = GenerationRequest.for_task(
        TASK, prompt="a cat", size="128*128", frame_num=5, sample_steps=1, seed=3
    )
    out = tmp_path / "video.npy"
    result = run_job(
        request, Plan.from_dict(cpu_plan()), "/ckpt", out, engine=_NoVideoOnOtherRanks()
    )
    assert result.outputs == [] and not out.exists() and result.video is None
    assert result.size == (128, 128) and result.frame_num == 5
