"""Our Wan VAEs against diffusers' independent ``AutoencoderKLWan`` on tiny random weights, fp32 CPU.

Weights are made in the official layout, renamed with our pure key mapping and loaded into diffusers
with ``strict=True``. Latents are compared both raw (mu, before normalisation, vs diffusers'
``latent_dist.mode()``) and normalised (vs the diffusers pipelines' ``(mu - mean) * (1/std)``).
"""

from __future__ import annotations

import pytest
import torch

from wan22_desktop.engine.wan.convert_diffusers_vae import (
    diffusers_to_official_vae,
    diffusers_vae_kwargs,
    official_to_diffusers_vae,
)
from wan22_desktop.engine.wan.vae_config import TINY_VAE_PRESETS, vae_config_from_state_dict
from wan22_desktop.engine.wan.vae_io import VideoVAE, build_vae_model, tiny_vae

diffusers = pytest.importorskip("diffusers")
AutoencoderKLWan = diffusers.AutoencoderKLWan

ATOL = 1e-6
SIZE = {"2.1": 16, "2.2": 32}  # pixels; both give a 2x2 latent


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _diffusers_twin(model: torch.nn.Module) -> torch.nn.Module:
    cfg = model.config
    ref = AutoencoderKLWan(**diffusers_vae_kwargs(cfg)).eval()
    ref.load_state_dict(official_to_diffusers_vae(model.state_dict(), cfg.version), strict=True)
    return ref


def _stats(ref: torch.nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
    """The diffusers pipelines' normalisation tensors (mean, 1/std), as WanPipeline builds them."""
    z = ref.config.z_dim
    mean = torch.tensor(ref.config.latents_mean).view(1, z, 1, 1, 1)
    inv_std = 1.0 / torch.tensor(ref.config.latents_std).view(1, z, 1, 1, 1)
    return mean, inv_std


@pytest.fixture(scope="module", params=["2.1", "2.2"])
def pair(request: pytest.FixtureRequest) -> tuple[torch.nn.Module, torch.nn.Module]:
    torch.manual_seed(0)
    model = tiny_vae(request.param, seed=1)
    return model, _diffusers_twin(model)


def _video(version: str, frames: int, batch: int = 1, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    s = SIZE[version]
    return torch.rand(batch, 3, frames, s, s, generator=g) * 2 - 1


@pytest.mark.parametrize("frames", [1, 9, 13])
def test_encode_matches_diffusers(pair, frames: int) -> None:
    model, ref = pair
    version = model.config.version
    x = _video(version, frames, batch=2 if frames == 9 else 1)
    with torch.no_grad():
        ours_raw = model.encode_raw(x)
        ours = model.encode(x)
        ref_mu = ref.encode(x).latent_dist.mode()
    mean, inv_std = _stats(ref)
    assert ours_raw.shape == (x.shape[0], model.config.z_dim, 1 + (frames - 1) // 4, 2, 2)
    assert ours_raw.abs().max() > 0.05  # a live signal, not a degenerate all-zero latent
    assert (ours_raw - ref_mu).abs().max().item() <= ATOL
    assert (ours - (ref_mu - mean) * inv_std).abs().max().item() <= ATOL


@pytest.mark.parametrize("latent_frames", [1, 3, 4])
def test_decode_matches_diffusers(pair, latent_frames: int) -> None:
    model, ref = pair
    g = torch.Generator().manual_seed(latent_frames)
    z = torch.randn(1, model.config.z_dim, latent_frames, 2, 2, generator=g)
    mean, inv_std = _stats(ref)
    with torch.no_grad():
        ours = VideoVAE(model).decode([z[0]])[0].unsqueeze(0)
        ref_video = ref.decode(z / inv_std + mean).sample
    frames = 1 + 4 * (latent_frames - 1)
    assert ours.shape == (1, 3, frames, SIZE[model.config.version], SIZE[model.config.version])
    inside = (ours.abs() < 0.999).float().mean().item()
    assert inside > 0.5  # most values are unclamped, so the comparison sees the network's output
    assert (ours - ref_video).abs().max().item() <= ATOL


def test_decode_raw_matches_unclamped_diffusers_decoder(pair) -> None:
    """Before clamping, over 3 latent frames (two chunk boundaries, "Rep" + regular cache)."""
    model, ref = pair
    z = torch.randn(1, model.config.z_dim, 3, 2, 2, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        ours = model.decode_raw(z)
        ref.clear_cache()
        x = ref.post_quant_conv(z)
        outs = []
        for i in range(3):
            ref._conv_idx = [0]
            outs.append(
                ref.decoder(
                    x[:, :, i : i + 1],
                    feat_cache=ref._feat_map,
                    feat_idx=ref._conv_idx,
                    first_chunk=i == 0,
                )
            )
        out = torch.cat(outs, 2)
        if ref.config.patch_size is not None:
            from diffusers.models.autoencoders.autoencoder_kl_wan import unpatchify

            out = unpatchify(out, ref.config.patch_size)
    assert (ours - out).abs().max().item() <= ATOL


@pytest.mark.parametrize("version", ["2.1", "2.2"])
def test_key_round_trip_official_diffusers_official(version: str) -> None:
    with torch.device("meta"):
        model = build_vae_model(TINY_VAE_PRESETS[version])
    sd = model.state_dict()
    there = official_to_diffusers_vae(sd, version)
    with torch.device("meta"):
        ref = AutoencoderKLWan(**diffusers_vae_kwargs(model.config))
    assert set(there) == set(ref.state_dict())
    assert all(there[k].shape == ref.state_dict()[k].shape for k in there)
    back = diffusers_to_official_vae(there, version)
    assert list(back) == list(sd)


@pytest.mark.parametrize("version", ["2.1", "2.2"])
def test_diffusers_own_tiny_config_runs_through_our_loader_path(version: str) -> None:
    """diffusers' test config (base_dim 3, dim_mult 1,1,1,1, 1 res block) mapped into our model."""
    kwargs = dict(
        base_dim=3,
        z_dim=16,
        dim_mult=[1, 1, 1, 1],
        num_res_blocks=1,
        temperal_downsample=[False, True, True],
    )
    if version == "2.2":
        kwargs.update(
            z_dim=48,
            is_residual=True,
            in_channels=12,
            out_channels=12,
            patch_size=2,
            scale_factor_spatial=16,
            latents_mean=[0.0] * 48,
            latents_std=[1.0] * 48,
        )
    torch.manual_seed(0)
    ref = AutoencoderKLWan(**kwargs).eval()
    g = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for p in ref.parameters():  # also the RMS gammas, which diffusers initialises to ones
            p.add_(0.1 * torch.randn(p.shape, generator=g))
    sd = diffusers_to_official_vae(ref.state_dict(), version)
    cfg = vae_config_from_state_dict(sd, version)
    assert (cfg.dim, cfg.dim_mult, cfg.num_res_blocks) == (3, (1, 1, 1, 1), 1)
    model = build_vae_model(cfg).eval()
    model.load_state_dict(sd, strict=True)
    x = _video(version, 5)
    with torch.no_grad():
        assert (model.encode_raw(x) - ref.encode(x).latent_dist.mode()).abs().max().item() <= ATOL
        z = torch.randn(1, cfg.z_dim, 2, 2, 2, generator=g)
        ours = model.decode_raw(z).clamp(-1, 1)
        assert (ours - ref.decode(z).sample).abs().max().item() <= ATOL
