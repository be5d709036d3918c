"""3D rotary position embedding of the Wan DiT, in float64 complex arithmetic like the official code.

Each head of size d is rotated as d/2 complex numbers made of adjacent channel pairs (2m, 2m+1).
The pairs are split into frame / height / width groups of d−4·(d//6), 2·(d//6), 2·(d//6) real
channels (44/42/42 for d=128); positions start at 0 on each axis; theta is 10000.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

Grid = tuple[int, int, int]

ROPE_THETA = 10000.0
ROPE_MAX_LEN = 1024  # positions per axis; hard-coded upstream


def rope_split(head_dim: int) -> tuple[int, int, int]:
    """Real channels given to (frame, height, width) for one head."""
    if head_dim % 2 != 0:
        raise ValueError(f"head_dim must be even, got {head_dim}")
    hw = 2 * (head_dim // 6)
    return head_dim - 2 * hw, hw, hw


def rope_params(
    max_len: int, dim: int, theta: float = ROPE_THETA, device: torch.device | str = "cpu"
) -> torch.Tensor:
    """exp(i·pos·theta^(−2j/dim)) for pos < max_len, j < dim/2: complex128 [max_len, dim/2]."""
    inv = 1.0 / torch.pow(theta, torch.arange(0, dim, 2, dtype=torch.float64, device=device) / dim)
    angles = torch.outer(torch.arange(max_len, dtype=torch.float64, device=device), inv)
    return torch.polar(torch.ones_like(angles), angles)


def rope_table(
    head_dim: int, max_len: int = ROPE_MAX_LEN, device: torch.device | str = "cpu"
) -> torch.Tensor:
    """The three axis tables side by side: complex128 [max_len, head_dim/2]."""
    return torch.cat([rope_params(max_len, d, device=device) for d in rope_split(head_dim)], dim=1)


def grid_freqs(table: torch.Tensor, grid: Grid) -> torch.Tensor:
    """Per-token rotations for an (f, h, w) token grid in row-major order: [f·h·w, head_dim/2].

    Built once per forward and shared by every block (upstream rebuilds it per layer)."""
    f, h, w = grid
    half = table.shape[1]
    c_f = half - 2 * (half // 3)
    c_hw = half // 3
    if max(f, h, w) > table.shape[0]:
        raise ValueError(f"token grid {grid} exceeds the RoPE table length {table.shape[0]}")
    t_f, t_h, t_w = table.split([c_f, c_hw, c_hw], dim=1)
    return torch.cat(
        [
            t_f[:f].view(f, 1, 1, -1).expand(f, h, w, -1),
            t_h[:h].view(1, h, 1, -1).expand(f, h, w, -1),
            t_w[:w].view(1, 1, w, -1).expand(f, h, w, -1),
        ],
        dim=-1,
    ).reshape(f * h * w, half)


def apply_rope(x: torch.Tensor, freqs: Sequence[torch.Tensor]) -> torch.Tensor:
    """Rotate x [B, L, H, D] per sample by freqs[i] [L_i, D/2]; tokens past L_i pass unrotated.

    The product is taken in complex128 and returned as float32, like upstream (autocast has
    no effect on these element-wise ops, so no context is needed)."""
    b, seq, heads, d = x.shape
    if len(freqs) != b:
        raise ValueError(f"got {len(freqs)} frequency tables for a batch of {b}")
    lens = [f.shape[0] for f in freqs]
    if all(n == seq for n in lens) and all(f is freqs[0] for f in freqs):
        # Fast path: one grid, no padding: rotate the whole batch at once.
        xc = torch.view_as_complex(x.to(torch.float64).reshape(b, seq, heads, d // 2, 2))
        return torch.view_as_real(xc * freqs[0].view(1, seq, 1, d // 2)).flatten(3).float()
    out = torch.empty(x.shape, dtype=torch.float32, device=x.device)
    for i, (f, n) in enumerate(zip(freqs, lens)):
        xc = torch.view_as_complex(x[i, :n].to(torch.float64).reshape(n, heads, d // 2, 2))
        out[i, :n] = torch.view_as_real(xc * f.view(n, 1, d // 2)).flatten(2)
        out[i, n:] = x[i, n:]
    return out
