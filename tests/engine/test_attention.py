"""Attention dispatch: SDPA numerics against a naive softmax, and backend selection."""

from __future__ import annotations

import importlib.util

import pytest
import torch

from wan22_desktop.engine.wan import attention as attn_mod
from wan22_desktop.engine.wan.attention import attention, flash_available, select_backend


def _naive(q, k, v, k_lens):
    """float64 softmax(q kᵀ/√d) v with keys ≥ k_lens[i] dropped, one sample at a time."""
    out = []
    for i in range(q.shape[0]):
        n = int(k_lens[i]) if k_lens is not None else k.shape[1]
        qi, ki, vi = q[i].double(), k[i, :n].double(), v[i, :n].double()  # [L, H, D]
        scores = torch.einsum("qhd,khd->hqk", qi, ki) / q.shape[-1] ** 0.5
        out.append(torch.einsum("hqk,khd->qhd", scores.softmax(-1), vi))
    return torch.stack(out).float()


@pytest.mark.parametrize("k_lens", [None, [10, 7], [10, 10], [1, 4]])
def test_sdpa_equals_naive_softmax_with_padding(k_lens):
    torch.manual_seed(0)
    q, k, v = torch.randn(2, 10, 3, 16), torch.randn(2, 10, 3, 16), torch.randn(2, 10, 3, 16)
    lens = None if k_lens is None else torch.tensor(k_lens, dtype=torch.int32)
    out = attention(q, k, v, lens, backend="sdpa")
    assert out.dtype == torch.float32 and out.shape == q.shape
    torch.testing.assert_close(out, _naive(q, k, v, lens), atol=2e-6, rtol=2e-6)


def test_padded_keys_do_not_matter():
    torch.manual_seed(1)
    q, k, v = torch.randn(1, 6, 2, 8), torch.randn(1, 9, 2, 8), torch.randn(1, 9, 2, 8)
    lens = torch.tensor([5])
    ref = attention(q, k, v, lens)
    k2, v2 = k.clone(), v.clone()
    k2[:, 5:] = 1e3
    v2[:, 5:] = -7.0
    assert torch.equal(attention(q, k2, v2, lens), ref)


def test_cross_attention_lengths():
    torch.manual_seed(2)
    q, k, v = torch.randn(2, 5, 2, 8), torch.randn(2, 12, 2, 8), torch.randn(2, 12, 2, 8)
    torch.testing.assert_close(attention(q, k, v), _naive(q, k, v, None), atol=2e-6, rtol=2e-6)


def test_cpu_always_sdpa_even_with_flash_installed(monkeypatch):
    monkeypatch.setattr(attn_mod, "flash_available", lambda: {"flash3": True, "flash2": True})
    assert select_backend(torch.device("cpu"), 128) == "sdpa"


@pytest.mark.parametrize(
    ("available", "head_dim", "expected"),
    [
        ({"flash3": True, "flash2": True}, 128, "flash3"),
        ({"flash3": False, "flash2": True}, 128, "flash2"),
        ({"flash3": False, "flash2": False}, 128, "sdpa"),
        ({"flash3": True, "flash2": True}, 512, "sdpa"),
    ],
)
def test_cuda_selection(monkeypatch, available, head_dim, expected):
    monkeypatch.setattr(attn_mod, "flash_available", lambda: available)
    assert select_backend(torch.device("cuda", 0), head_dim) == expected


def test_flash_availability_reflects_installed_packages():
    found = flash_available()
    assert found["flash2"] == (importlib.util.find_spec("flash_attn") is not None)
    assert found["flash3"] == (importlib.util.find_spec("flash_attn_interface") is not None)
    # On this CPU machine the default dispatch must be SDPA whatever is installed.
    assert select_backend(torch.device("cpu"), 16) == "sdpa"


def test_unknown_backend_rejected():
    x = torch.zeros(1, 2, 1, 4)
    with pytest.raises(ValueError, match="unknown attention backend"):
        attention(x, x, x, backend="xformers")
