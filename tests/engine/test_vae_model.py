"""Structure and behaviour of our Wan VAEs: official layout, config inference, causality, fp32 islands."""

from __future__ import annotations

import pytest
import torch

from wan22_desktop.engine.wan.vae2_2 import AvgDown3D, DupUp3D, patchify, unpatchify
from wan22_desktop.engine.wan.vae_config import (
    TINY_VAE_PRESETS,
    VAE_PRESETS,
    WAN21_LATENT_MEAN,
    WAN22_LATENT_STD,
    VAEConfig,
    vae_config_from_state_dict,
)
from wan22_desktop.engine.wan.vae_io import VideoVAE, build_vae_model, tiny_vae

# Facts about the official modules (wan22-reference.md section 4): key and parameter counts.
OFFICIAL_COUNTS = {"2.1": (194, 126_892_531), "2.2": (196, 704_688_668)}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.mark.parametrize("version", ["2.1", "2.2"])
def test_official_preset_has_official_keys_and_params(version: str) -> None:
    with torch.device("meta"):
        model = build_vae_model(VAE_PRESETS[version])
    sd = model.state_dict()
    n_keys, n_params = OFFICIAL_COUNTS[version]
    assert len(sd) == n_keys
    assert sum(p.numel() for p in model.parameters()) == n_params
    assert vae_config_from_state_dict(sd, version) == VAE_PRESETS[version]


def test_official_key_spot_checks() -> None:
    with torch.device("meta"):
        sd21 = build_vae_model(VAE_PRESETS["2.1"]).state_dict()
        sd22 = build_vae_model(VAE_PRESETS["2.2"]).state_dict()
    assert sd21["decoder.upsamples.3.time_conv.weight"].shape == (768, 384, 3, 1, 1)
    assert sd21["decoder.upsamples.3.resample.1.weight"].shape == (192, 384, 3, 3)
    assert sd21["decoder.upsamples.4.shortcut.weight"].shape == (384, 192, 1, 1, 1)
    assert sd21["encoder.downsamples.5.time_conv.weight"].shape == (192, 192, 3, 1, 1)
    assert sd21["encoder.middle.1.to_qkv.weight"].shape == (1152, 384, 1, 1)
    assert sd21["encoder.head.0.gamma"].shape == (384, 1, 1, 1)
    assert sd21["encoder.middle.1.norm.gamma"].shape == (384, 1, 1)
    assert sd21["conv1.weight"].shape == (32, 32, 1, 1, 1)
    assert sd22["encoder.conv1.weight"].shape == (160, 12, 3, 3, 3)
    assert sd22["encoder.downsamples.1.downsamples.2.time_conv.weight"].shape == (320, 320, 3, 1, 1)
    assert sd22["decoder.conv1.weight"].shape == (1024, 48, 3, 3, 3)
    assert sd22["decoder.upsamples.0.upsamples.3.time_conv.weight"].shape == (2048, 1024, 3, 1, 1)
    assert sd22["decoder.upsamples.2.upsamples.3.resample.1.weight"].shape == (512, 512, 3, 3)
    assert sd22["decoder.head.2.weight"].shape == (12, 256, 3, 3, 3)


@pytest.mark.parametrize(
    "cfg",
    [
        TINY_VAE_PRESETS["2.1"],
        TINY_VAE_PRESETS["2.2"],
        VAEConfig(version="2.1", dim=3, z_dim=16, dim_mult=(1, 1, 1, 1), num_res_blocks=1),
        VAEConfig(
            version="2.2",
            dim=4,
            dec_dim=6,
            z_dim=8,
            dim_mult=(1, 2, 2),
            num_res_blocks=1,
            temperal_downsample=(True, False),
        ),
    ],
    ids=["tiny21", "tiny22", "diffusers-test-21", "odd22"],
)
def test_config_inferred_from_state_dict(cfg: VAEConfig) -> None:
    with torch.device("meta"):
        sd = build_vae_model(cfg).state_dict()
    assert vae_config_from_state_dict(sd, cfg.version) == cfg


def test_config_inference_rejects_the_other_version() -> None:
    with torch.device("meta"):
        sd21 = build_vae_model(TINY_VAE_PRESETS["2.1"]).state_dict()
        sd22 = build_vae_model(TINY_VAE_PRESETS["2.2"]).state_dict()
    with pytest.raises(ValueError, match="channels"):
        vae_config_from_state_dict(sd21, "2.2")
    with pytest.raises(ValueError):
        vae_config_from_state_dict(sd22, "2.1")
    with pytest.raises(ValueError, match="missing"):
        vae_config_from_state_dict({}, "2.1")


def test_config_validation_and_derived_fields() -> None:
    assert VAE_PRESETS["2.1"].stride == (4, 8, 8) and VAE_PRESETS["2.2"].stride == (4, 16, 16)
    assert VAE_PRESETS["2.1"].latents_mean == WAN21_LATENT_MEAN
    assert VAE_PRESETS["2.2"].latents_std == WAN22_LATENT_STD and VAE_PRESETS["2.2"].dec_dim == 256
    assert VAEConfig(version="2.1", dim=4, z_dim=4).latents_std == (1.0,) * 4  # non-official z
    with pytest.raises(ValueError, match="temperal_downsample"):
        VAEConfig(version="2.1", dim=4, z_dim=4, temperal_downsample=(True,))
    with pytest.raises(ValueError, match="dec_dim"):
        VAEConfig(version="2.1", dim=4, dec_dim=8, z_dim=4)
    with pytest.raises(ValueError, match="version"):
        VAEConfig(version="3.0", dim=4, z_dim=4)  # type: ignore[arg-type]


def test_patchify_channel_order_is_c_w_h() -> None:
    x = torch.arange(2 * 1 * 4 * 4, dtype=torch.float32).view(1, 2, 1, 4, 4)
    p = patchify(x)
    assert p.shape == (1, 8, 1, 2, 2)
    # channel c*4 + r*2 + q holds pixel (2i + q, 2j + r): r is the width offset, q the height offset.
    for c in range(2):
        for r in range(2):
            for q in range(2):
                assert torch.equal(p[0, c * 4 + r * 2 + q, 0], x[0, c, 0, q::2, r::2])
    assert torch.equal(unpatchify(p), x)


def test_avgdown_dupup_shapes_and_first_chunk() -> None:
    x = torch.randn(1, 4, 3, 4, 4)
    down = AvgDown3D(4, 8, factor_t=2, factor_s=2)(x)  # 3 frames front-padded to 4
    assert down.shape == (1, 8, 2, 2, 2)
    # group 0 averages channel 0's first 4 of its 8 (t, h, w) offsets; t-offset 0 of block 0 is the pad.
    block = torch.nn.functional.pad(x, (0, 0, 0, 0, 1, 0))[0, 0, 0:2, 0:2, 0:2].reshape(-1)
    assert torch.allclose(down[0, 0, 0, 0, 0], block[:4].mean())
    up = DupUp3D(8, 4, factor_t=2, factor_s=2)
    assert up(down).shape == (1, 4, 4, 4, 4)
    assert up(down[:, :, :1], first_chunk=True).shape == (1, 4, 1, 4, 4)


@pytest.mark.parametrize("version", ["2.1", "2.2"])
def test_encoder_is_causal_in_time(version: str) -> None:
    """Latent frame k depends only on frames up to 4k: encoding a prefix gives the same prefix."""
    model = tiny_vae(version, seed=2)
    s = 8 * model.config.patch_size
    x = torch.rand(1, 3, 9, s, s, generator=torch.Generator().manual_seed(0)) * 2 - 1
    with torch.no_grad():
        full = model.encode(x)
        prefix = model.encode(x[:, :, :5])
        trailing = model.encode(x[:, :, :11])  # frames 9, 10 are an incomplete chunk: dropped
    assert full.shape[2] == 3 and prefix.shape[2] == 2
    # Not bit-equal: the whole-sequence 1x1x1 conv may pick another CPU kernel for another length.
    assert torch.allclose(full[:, :, :2], prefix, rtol=0, atol=1e-5)
    assert torch.allclose(full, trailing, rtol=0, atol=1e-5)


@pytest.mark.parametrize("version", ["2.1", "2.2"])
def test_decoder_is_causal_and_first_frame_stands_alone(version: str) -> None:
    model = tiny_vae(version, seed=3)
    z = torch.randn(1, model.config.z_dim, 3, 1, 1, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        full = model.decode(z)
        first = model.decode(z[:, :, :1])
        two = model.decode(z[:, :, :2])
    assert full.shape == (1, 3, 9, *(model.config.stride[1:]))
    assert torch.allclose(full[:, :, :1], first, rtol=0, atol=1e-5)
    assert torch.allclose(full[:, :, :5], two, rtol=0, atol=1e-5)
    assert not torch.allclose(full[:, :, 1:5], full[:, :, 5:9], atol=1e-3)  # frames do differ
    assert full.min() >= -1 and full.max() <= 1


@pytest.mark.parametrize("version", ["2.1", "2.2"])
def test_video_vae_wrapper_lists_and_fp32_inside_bf16_autocast(version: str) -> None:
    vae = VideoVAE(tiny_vae(version, seed=4))
    assert vae.z_dim == vae.config.z_dim and vae.stride == vae.config.stride
    s = vae.stride[1]
    videos = [torch.rand(3, 5, s, 2 * s) * 2 - 1, torch.rand(3, 1, 2 * s, s) * 2 - 1]
    latents = vae.encode(videos)
    assert [tuple(z.shape) for z in latents] == [(vae.z_dim, 2, 1, 2), (vae.z_dim, 1, 2, 1)]
    decoded = vae.decode(latents)
    assert [tuple(v.shape) for v in decoded] == [(3, 5, s, 2 * s), (3, 1, 2 * s, s)]
    with torch.autocast("cpu", dtype=torch.bfloat16):
        latents_ac = vae.encode(videos)
        decoded_ac = vae.decode(latents)
    for a, b in zip(latents + decoded, latents_ac + decoded_ac):
        assert b.dtype == torch.float32
        assert torch.equal(a, b)
    with pytest.raises(TypeError):
        vae.decode(latents[0])  # a bare tensor, not a list
