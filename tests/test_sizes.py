"""The official size rules, checked against the examples the official code produces."""

import pytest

from wan22_desktop.sizes import best_output_size, i2v_output_size, latent_frames, sequence_length


@pytest.mark.parametrize(
    "img,area,expected",
    [
        ((1920, 1080), 1280 * 720, (1280, 720)),  # 16:9 at 720p keeps 1280x720
        ((1920, 1080), 832 * 480, (832, 464)),  # 480p area: 464, not 480 (reference 7.2)
        ((1080, 1920), 832 * 480, (464, 832)),
        ((1024, 1024), 832 * 480, (624, 624)),
    ],
)
def test_i2v_output_size(img, area, expected):
    w, h = i2v_output_size(*img, area)
    assert (w, h) == expected
    assert w % 16 == 0 and h % 16 == 0 and w * h <= area


@pytest.mark.parametrize(
    "img,expected",
    [
        ((1280, 720), (1248, 704)),
        ((1920, 1080), (1248, 704)),
        ((720, 1280), (704, 1248)),
        ((1024, 1024), (960, 928)),
    ],
)
def test_best_output_size_official_examples(img, expected):
    assert best_output_size(*img, 1280 * 704) == expected


def test_latent_frames_and_sequence_length():
    assert latent_frames(81) == 21 and latent_frames(121) == 31 and latent_frames(1) == 1
    assert sequence_length(21, 90, 160) == 75600  # 1280x720, 81 frames (reference 3.2)
    assert sequence_length(21, 60, 104) == 32760  # 832x480
    assert sequence_length(31, 44, 80) == 27280  # TI2V 1280x704, 121 frames
    assert sequence_length(21, 60, 104, sp_size=8) % 8 == 0


def test_best_output_size_refuses_a_too_small_area():
    with pytest.raises(ValueError, match="too small"):
        best_output_size(4000, 100, 32 * 32)
