"""The latent -> RGB preview projection."""

from __future__ import annotations

import numpy as np
from PIL import Image

from wan22_desktop.engine.preview import (
    LATENT_MEAN_16,
    LATENT_MEAN_48,
    LATENT_STD_16,
    LATENT_STD_48,
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


def test_projection_undoes_the_official_normalisation():
    w, b = projection_for(16)
    z = np.random.default_rng(0).standard_normal(16).astype(np.float32)
    raw = z * np.asarray(LATENT_STD_16, np.float32) + np.asarray(LATENT_MEAN_16, np.float32)
    np.testing.assert_allclose(z @ w + b, raw @ hue_directions(16), rtol=1e-5, atol=1e-5)
    w5, b5 = projection_for(5)  # tiny test models: plain hue map
    np.testing.assert_allclose(w5, hue_directions(5))
    np.testing.assert_allclose(b5, 0.0)


def test_latents_to_rgb_shape_range_and_structure():
    lat = np.zeros((48, 3, 11, 20), np.float32)
    lat[:, 1, :, 10:] = 2.0  # right half differs in the middle frame
    img = latents_to_rgb(lat)
    assert img.shape == (11, 20, 3) and img.dtype == np.uint8
    assert not np.array_equal(img[:, :10], img[:, 10:])
    np.testing.assert_array_equal(img[:, :10], img[:1, :1].repeat(11, 0).repeat(10, 1))


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
