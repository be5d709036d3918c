"""Table of official <-> diffusers ``AutoencoderKLWan`` VAE key names (num_res_blocks = 2)."""

from __future__ import annotations

import pytest

from wan22_desktop.engine.wan.convert_diffusers_vae import (
    diffusers_key_to_official,
    official_key_to_diffusers,
)

CASES = [
    ("2.1", "conv1.weight", "quant_conv.weight"),
    ("2.1", "conv2.bias", "post_quant_conv.bias"),
    ("2.1", "encoder.conv1.weight", "encoder.conv_in.weight"),
    ("2.1", "encoder.downsamples.0.residual.0.gamma", "encoder.down_blocks.0.norm1.gamma"),
    ("2.1", "encoder.downsamples.3.shortcut.weight", "encoder.down_blocks.3.conv_shortcut.weight"),
    ("2.1", "encoder.downsamples.2.resample.1.bias", "encoder.down_blocks.2.resample.1.bias"),
    ("2.1", "encoder.downsamples.5.time_conv.weight", "encoder.down_blocks.5.time_conv.weight"),
    ("2.1", "encoder.middle.1.to_qkv.weight", "encoder.mid_block.attentions.0.to_qkv.weight"),
    ("2.1", "encoder.middle.1.norm.gamma", "encoder.mid_block.attentions.0.norm.gamma"),
    ("2.1", "encoder.middle.2.residual.6.weight", "encoder.mid_block.resnets.1.conv2.weight"),
    ("2.1", "encoder.head.0.gamma", "encoder.norm_out.gamma"),
    ("2.1", "decoder.head.2.weight", "decoder.conv_out.weight"),
    ("2.1", "decoder.middle.0.residual.3.gamma", "decoder.mid_block.resnets.0.norm2.gamma"),
    (
        "2.1",
        "decoder.upsamples.3.time_conv.weight",
        "decoder.up_blocks.0.upsamplers.0.time_conv.weight",
    ),
    ("2.1", "decoder.upsamples.4.residual.2.weight", "decoder.up_blocks.1.resnets.0.conv1.weight"),
    (
        "2.1",
        "decoder.upsamples.11.resample.1.weight",
        "decoder.up_blocks.2.upsamplers.0.resample.1.weight",
    ),
    ("2.1", "decoder.upsamples.14.residual.3.gamma", "decoder.up_blocks.3.resnets.2.norm2.gamma"),
    (
        "2.2",
        "encoder.downsamples.0.downsamples.1.residual.0.gamma",
        "encoder.down_blocks.0.resnets.1.norm1.gamma",
    ),
    (
        "2.2",
        "encoder.downsamples.1.downsamples.0.shortcut.weight",
        "encoder.down_blocks.1.resnets.0.conv_shortcut.weight",
    ),
    (
        "2.2",
        "encoder.downsamples.1.downsamples.2.time_conv.weight",
        "encoder.down_blocks.1.downsampler.time_conv.weight",
    ),
    (
        "2.2",
        "encoder.downsamples.0.downsamples.2.resample.1.weight",
        "encoder.down_blocks.0.downsampler.resample.1.weight",
    ),
    (
        "2.2",
        "decoder.upsamples.0.upsamples.3.resample.1.weight",
        "decoder.up_blocks.0.upsampler.resample.1.weight",
    ),
    (
        "2.2",
        "decoder.upsamples.1.upsamples.3.time_conv.bias",
        "decoder.up_blocks.1.upsampler.time_conv.bias",
    ),
    (
        "2.2",
        "decoder.upsamples.3.upsamples.2.residual.6.bias",
        "decoder.up_blocks.3.resnets.2.conv2.bias",
    ),
    ("2.2", "decoder.middle.1.proj.weight", "decoder.mid_block.attentions.0.proj.weight"),
]


@pytest.mark.parametrize(("version", "official", "diffusers_key"), CASES)
def test_key_table(version: str, official: str, diffusers_key: str) -> None:
    assert official_key_to_diffusers(official, version, 2) == diffusers_key
    assert diffusers_key_to_official(diffusers_key, version, 2) == official


def test_wan21_decoder_index_follows_num_res_blocks() -> None:
    # With one res block per encoder level the decoder has 2 resnets + 1 upsampler per level.
    assert official_key_to_diffusers("decoder.upsamples.2.resample.1.weight", "2.1", 1) == (
        "decoder.up_blocks.0.upsamplers.0.resample.1.weight"
    )
    assert official_key_to_diffusers("decoder.upsamples.3.residual.0.gamma", "2.1", 1) == (
        "decoder.up_blocks.1.resnets.0.norm1.gamma"
    )


@pytest.mark.parametrize(
    ("version", "key"),
    [
        ("2.1", "model.conv1.weight"),
        ("2.2", "decoder.upsamples.3.residual.0.gamma"),  # a 2.1 layout key
        ("2.1", "decoder.upsamples.0.upsamples.1.residual.0.gamma"),  # a 2.2 layout key
    ],
)
def test_foreign_keys_are_rejected(version: str, key: str) -> None:
    with pytest.raises(ValueError):
        official_key_to_diffusers(key, version, 2)


def test_unknown_diffusers_key_is_rejected() -> None:
    with pytest.raises(ValueError):
        diffusers_key_to_official("decoder.up_blocks.0.attentions.0.proj.weight", "2.2", 2)
