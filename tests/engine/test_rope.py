"""3D RoPE against an independent per-channel rotation written from the reference description."""

from __future__ import annotations

import math

import pytest
import torch

from wan22_desktop.engine.wan.rope import apply_rope, grid_freqs, rope_split, rope_table


@pytest.mark.parametrize(
    ("d", "split"), [(128, (44, 42, 42)), (12, (4, 4, 4)), (16, (8, 4, 4)), (64, (24, 20, 20))]
)
def test_split(d, split):
    assert rope_split(d) == split
    assert sum(split) == d


def test_table_is_complex128_unit_rotations():
    table = rope_table(128)
    assert table.dtype == torch.complex128 and table.shape == (1024, 64)
    assert torch.allclose(table.abs(), torch.ones((), dtype=torch.float64))
    # frame axis: 22 frequencies 10000^(-2j/44); position 3, frequency 5
    assert table[3, 5].angle().item() == pytest.approx(3 * 10000 ** (-10 / 44))
    # height axis starts at column 22 with 10000^(-2j/42)
    assert table[2, 22 + 1].angle().item() == pytest.approx(2 * 10000 ** (-2 / 42))


def _naive_rope(x: torch.Tensor, grid: tuple[int, int, int], n: int) -> torch.Tensor:
    """Rotate channel pairs (2m, 2m+1) one by one with explicit cos/sin."""
    d = x.shape[-1]
    dims = rope_split(d)
    f, h, w = grid
    out = x.clone().double()
    for token in range(n):
        pos = (token // (h * w), (token // w) % h, token % w)
        m = 0
        for axis, axis_dim in enumerate(dims):
            for j in range(axis_dim // 2):
                angle = pos[axis] * 10000.0 ** (-2 * j / axis_dim)
                a, b = x[:, token, :, 2 * m].double(), x[:, token, :, 2 * m + 1].double()
                out[:, token, :, 2 * m] = a * math.cos(angle) - b * math.sin(angle)
                out[:, token, :, 2 * m + 1] = a * math.sin(angle) + b * math.cos(angle)
                m += 1
    return out.float()


@pytest.mark.parametrize("d", [12, 16])
def test_apply_rope_matches_naive_rotation_and_skips_padding(d):
    torch.manual_seed(0)
    grid = (2, 3, 4)
    n = 24
    x = torch.randn(2, 30, 2, d)  # 6 padded tokens
    freqs = grid_freqs(rope_table(d), grid)
    out = apply_rope(x, [freqs, freqs])
    torch.testing.assert_close(out, _naive_rope(x, grid, n), atol=1e-6, rtol=1e-6)
    assert torch.equal(out[:, n:], x[:, n:])


def test_fast_path_equals_per_sample_path():
    torch.manual_seed(1)
    freqs = grid_freqs(rope_table(16), (2, 2, 3))
    x = torch.randn(2, 12, 3, 16)
    fast = apply_rope(x, [freqs, freqs])
    slow = apply_rope(x, [freqs, freqs.clone()])  # distinct objects take the per-sample loop
    assert torch.equal(fast, slow)


def test_grid_larger_than_table_rejected():
    with pytest.raises(ValueError, match="exceeds"):
        grid_freqs(rope_table(16, max_len=4), (5, 1, 1))
