"""The TAEHV tiny decoders: shapes for both Wan latents, loading the published key layout,
refusing other files, and frame-by-frame streaming equal to the parallel decode."""

from __future__ import annotations

import pytest
import torch

from tests.taehv_helpers import taehv_state, write_taehv
from wan22_desktop.engine.wan.taehv import (
    TAEHVConfig,
    activation_bytes,
    config_from_state,
    load_decoder,
    preview_space_upscale,
)
from wan22_desktop.errors import CheckpointError


@pytest.mark.parametrize(("channels", "patch"), [(16, 1), (48, 2)])
def test_shapes_for_both_latents(tmp_path, channels, patch):
    path = write_taehv(tmp_path / "taew.pth", channels, patch)
    dec = load_decoder(path)
    assert dec.config.latent_channels == channels and dec.config.patch_size == patch
    latents = torch.randn(channels, 3, 4, 5)  # [C, F, h, w]
    frames = dec.decode_latents(latents)
    assert frames.shape == (4 * 3 - 3, 3, 4 * 8 * patch, 5 * 8 * patch)
    assert dec.config.frames_for(21) == 81  # 81 frames of Wan: 21 latent frames
    assert 0.0 <= float(frames.min()) and float(frames.max()) <= 1.0


@pytest.mark.parametrize(("channels", "patch"), [(16, 1), (48, 2)])
def test_streaming_equals_parallel(tmp_path, channels, patch):
    dec = load_decoder(write_taehv(tmp_path / "t.safetensors", channels, patch, seed=3))
    latents = torch.randn(channels, 4, 3, 4, generator=torch.Generator().manual_seed(1))
    streamed = dec.decode_latents(latents)
    parallel = dec.decode_latents(latents, parallel=True)
    assert streamed.shape == parallel.shape == (13, 3, 24 * patch, 32 * patch)
    delta = float((streamed - parallel).abs().max())
    print(f"taehv {channels}ch streaming vs parallel max |delta| = {delta:.3g}")
    assert delta < 1e-5


def test_safetensors_and_pth_load_the_same(tmp_path):
    a = load_decoder(write_taehv(tmp_path / "a.pth", seed=5))
    b = load_decoder(write_taehv(tmp_path / "a.safetensors", seed=5))  # fp16 on disk
    z = torch.randn(16, 2, 3, 3)
    assert float((a.decode_latents(z) - b.decode_latents(z)).abs().max()) < 2e-2


def test_published_stride2_first_tgrow_keeps_its_last_channels(tmp_path):
    sd = taehv_state(seed=2)
    dec = load_decoder(sd)
    c = dec.config.widths[0]
    assert torch.equal(dec.decoder[7].conv.weight, sd["decoder.7.conv.weight"][-c:])


def test_wrong_files_are_refused_with_the_keys(tmp_path):
    sd = taehv_state()
    del sd["decoder.10.conv.2.weight"]
    sd["decoder.99.weight"] = torch.zeros(1)
    with pytest.raises(CheckpointError) as err:
        load_decoder(sd, name="taew2_1.pth")
    assert "missing decoder.10.conv.2.weight" in err.value.message
    assert "unexpected decoder.99.weight" in err.value.message

    other = tmp_path / "model.safetensors"  # some other model's weights
    from safetensors.torch import save_file

    save_file({"blocks.0.weight": torch.zeros(2, 2)}, str(other))
    with pytest.raises(CheckpointError, match="not a TAEHV decoder"):
        load_decoder(other)

    junk = tmp_path / "taew2_2.pth"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="cannot read"):
        load_decoder(junk)
    with pytest.raises(CheckpointError, match="missing"):
        load_decoder(tmp_path / "absent.pth")


def test_wrong_shape_is_refused():
    sd = taehv_state()
    sd["decoder.4.conv.0.weight"] = torch.zeros(3, 3, 3, 3)
    with pytest.raises(CheckpointError, match="decoder.4.conv.0.weight has shape"):
        load_decoder(sd)


def test_config_is_read_from_the_weights():
    cfg = config_from_state(taehv_state(48, 2, widths=(10, 8, 6, 4)))
    assert (cfg.latent_channels, cfg.patch_size, cfg.widths) == (48, 2, (10, 8, 6, 4))


def test_preview_upscale_caps_the_output_size():
    # A14B 720p: latent 90x160, 8x -> 1280; one stage off -> 640.
    assert preview_space_upscale((90, 160), 1) == (True, True, False)
    # TI2V-5B 720p: latent 44x80, patch 2 -> 1280 at full size.
    assert preview_space_upscale((44, 80), 2) == (True, True, False)
    assert preview_space_upscale((8, 8), 1) == (True, True, True)
    assert preview_space_upscale((200, 200), 1) == (True, False, False)


def test_reduced_upscale_decodes_smaller_frames():
    sd = taehv_state(16, 1)
    dec = load_decoder(sd, space_upscale=(True, True, False))
    assert dec.decode_latents(torch.randn(16, 2, 3, 4)).shape == (5, 3, 12, 16)


def test_activation_bound_is_small_at_720p():
    cfg = TAEHVConfig(16, 1, space_upscale=preview_space_upscale((90, 160), 1))
    gib = activation_bytes(cfg, (90, 160), 2) / 1024**3
    print(f"taew2_1 720p preview working set bound: {gib:.2f} GiB (fp16)")
    assert 0.05 < gib < 1.0
