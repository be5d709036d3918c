"""The latent -> RGB preview projection: ComfyUI's published factors for the 16- and 48-channel
Wan latents, the hue fallback for tiny test models."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from wan22_desktop.engine.preview import (
    LATENT_MEAN_16,
    LATENT_MEAN_48,
    LATENT_STD_16,
    LATENT_STD_48,
    WAN21_RGB_BIAS,
    WAN21_RGB_FACTORS,
    WAN22_RGB_BIAS,
    WAN22_RGB_FACTORS,
    fit_projection,
    hue_directions,
    latents_to_rgb,
    projection_for,
    write_preview,
)


def test_official_statistics_have_one_value_per_channel():
    assert len(LATENT_MEAN_16) == len(LATENT_STD_16) == 16
    assert len(LATENT_MEAN_48) == len(LATENT_STD_48) == 48


def test_hue_directions_spread_channels_evenly():
    d = hue_directions(48)
    assert d.shape == (48, 3)
    # Evenly spread hues cancel: no colour cast from a latent that is the same in every channel.
    np.testing.assert_allclose(d.sum(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose((d**2).sum(axis=1), 1.5 / 48, rtol=1e-5)


def test_published_factors_have_one_row_per_channel() -> None:
    assert np.asarray(WAN21_RGB_FACTORS).shape == (16, 3) and len(WAN21_RGB_BIAS) == 3
    assert np.asarray(WAN22_RGB_FACTORS).shape == (48, 3) and len(WAN22_RGB_BIAS) == 3
    for c, (factors, bias) in (
        (16, (WAN21_RGB_FACTORS, WAN21_RGB_BIAS)),
        (48, (WAN22_RGB_FACTORS, WAN22_RGB_BIAS)),
    ):
        w, b = projection_for(c)
        np.testing.assert_array_equal(w, np.asarray(factors, np.float32))
        np.testing.assert_array_equal(b, np.asarray(bias, np.float32))
    w5, b5 = projection_for(5)  # tiny test models: the hue fallback
    np.testing.assert_allclose(w5, hue_directions(5))
    np.testing.assert_allclose(b5, 0.0)


def _to_u8(rgb: np.ndarray) -> np.ndarray:
    return (np.clip((rgb + 1.0) / 2.0, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


@pytest.mark.parametrize("channels", [16, 48])
def test_the_map_is_linear_in_each_channel(channels: int) -> None:
    """z = a * e_c everywhere gives (a * F[c] + b + 1) / 2 in every pixel: one channel, one colour."""
    w, b = projection_for(channels)
    rng = np.random.default_rng(channels)
    for c in rng.choice(channels, 4, replace=False):
        a = float(rng.uniform(-2, 2))
        lat = np.zeros((channels, 1, 3, 4), np.float32)
        lat[c] = a
        img = latents_to_rgb(lat)
        expected = _to_u8(a * w[c] + b)
        assert (img == expected).all()
    # Superposition: the preview of a sum is the sum of the maps (before clipping).
    z1, z2 = rng.standard_normal((2, channels)).astype(np.float32) * 0.5
    np.testing.assert_allclose((z1 + z2) @ w + b, (z1 @ w + b) + (z2 @ w), atol=1e-6)


@pytest.mark.parametrize("channels", [16, 48])
@pytest.mark.parametrize("colour", [(200, 30, 30), (20, 180, 60), (240, 240, 240), (10, 10, 10)])
def test_a_latent_made_for_a_known_colour_previews_as_that_colour(channels, colour) -> None:
    """A latent solving z @ F + b = target (least squares, min-norm) shows the target colour."""
    w, b = projection_for(channels)
    target = np.asarray(colour, np.float64) / 255.0 * 2.0 - 1.0
    z, *_ = np.linalg.lstsq(w.T.astype(np.float64), target - b, rcond=None)
    lat = np.broadcast_to(z.astype(np.float32)[:, None, None, None], (channels, 3, 6, 8)).copy()
    img = latents_to_rgb(lat)
    assert img.shape == (6, 8, 3) and img.dtype == np.uint8
    assert np.abs(img.astype(int) - np.asarray(colour)).max() <= 1


def test_zero_latent_is_the_bias_colour_and_extremes_clip() -> None:
    assert (
        latents_to_rgb(np.zeros((16, 1, 2, 2), np.float32))
        == _to_u8(np.asarray(WAN21_RGB_BIAS, np.float32))
    ).all()
    huge = np.full((48, 1, 2, 2), 1e6, np.float32)
    img = latents_to_rgb(huge)
    assert img.min() >= 0 and img.max() <= 255 and set(np.unique(img)) <= {0, 255}


def test_fit_projection_recovers_a_linear_decoder():
    rng = np.random.default_rng(1)
    true_w = rng.standard_normal((16, 3)).astype(np.float32)
    true_b = np.array([0.1, -0.2, 0.3], np.float32)
    lat = rng.standard_normal((16, 2, 4, 5)).astype(np.float32)
    video = np.einsum("cfhw,ck->kfhw", lat, true_w) + true_b[:, None, None, None]
    video = (
        video.repeat(4, axis=1).repeat(8, axis=2).repeat(8, axis=3)
    )  # a stride-(4, 8, 8) "decode"
    w, b = fit_projection(lat, video, (4, 8, 8))
    np.testing.assert_allclose(w, true_w, atol=1e-4)
    np.testing.assert_allclose(b, true_b, atol=1e-4)


def test_write_preview_makes_a_small_png(tmp_path):
    lat = np.random.default_rng(2).standard_normal((16, 2, 30, 52)).astype(np.float32)
    path = write_preview(lat, tmp_path / "p" / "job-1.png")
    with Image.open(path) as img:
        assert img.format == "PNG" and img.size == (52 * 4, 30 * 4)
    assert not list((tmp_path / "p").glob(".*part"))
