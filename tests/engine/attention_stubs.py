"""Stand-ins for the optional attention kernels, written as real packages into a tmp folder.

``flash_attn_interface`` / ``flash_attn`` / ``sageattention`` stubs check the call contract the
real kernels have (half dtype, one dtype, [total, H, D] contiguous, int32 cu_seqlens on q's
device, int max lengths that bound every sequence, no causal mask) and compute the result with
fp32 SDPA per sequence, so the dispatch's packing and unpacking is covered on the CPU. Variants
break the way real installs do: at import, at the first call, or with NaN output.
"""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

_CONTRACT = """
import torch
import torch.nn.functional as F

CALLS = []


def _check(q, k, v, cu_q, cu_k, max_q, max_k):
    for t in (q, k, v):
        assert t.dtype in (torch.bfloat16, torch.float16), f"dtype {t.dtype}"
        assert t.dtype == q.dtype, "q, k, v in different dtypes"
        assert t.dim() == 3 and t.is_contiguous(), f"not [total, H, D] contiguous: {t.shape}"
        assert t.device == q.device
    assert k.shape == v.shape and q.shape[1:] == k.shape[1:]
    for cu in (cu_q, cu_k):
        assert cu.dtype == torch.int32 and cu.device == q.device and cu.dim() == 1
    assert len(cu_q) == len(cu_k)
    for m in (max_q, max_k):
        assert type(m) is int, f"max length {m!r} is not an int"
    assert int(cu_q[-1]) == q.shape[0] and int(cu_k[-1]) == k.shape[0]
    assert int((cu_q[1:] - cu_q[:-1]).max()) <= max_q
    assert int((cu_k[1:] - cu_k[:-1]).max()) <= max_k


def _varlen(q, k, v, cu_q, cu_k, scale):
    out = torch.empty_like(q)
    for i in range(len(cu_q) - 1):
        a, b = int(cu_q[i]), int(cu_q[i + 1])
        c, d = int(cu_k[i]), int(cu_k[i + 1])
        qi, ki, vi = (t.float().transpose(0, 1) for t in (q[a:b], k[c:d], v[c:d]))
        out[a:b] = F.scaled_dot_product_attention(qi, ki, vi, scale=scale).transpose(0, 1)
    return out
"""

FLASH_OK = (
    _CONTRACT
    + """
__version__ = "0.0-stub"
RETURN_TUPLE = False
LAYOUTS = []


def flash_attn_varlen_func(
    q, k, v, cu_seqlens_q, cu_seqlens_k, max_seqlen_q, max_seqlen_k,
    softmax_scale=None, causal=False, **kwargs
):
    assert causal is False
    _check(q, k, v, cu_seqlens_q, cu_seqlens_k, max_seqlen_q, max_seqlen_k)
    CALLS.append((tuple(q.shape), tuple(k.shape), cu_seqlens_k.tolist(), max_seqlen_k))
    LAYOUTS.append(cu_seqlens_k)  # held: the same object across calls means laid out once
    out = _varlen(q, k, v, cu_seqlens_q, cu_seqlens_k, softmax_scale)
    return (out, None) if RETURN_TUPLE else out
"""
)

SAGE_OK = (
    _CONTRACT
    + """
__version__ = "2.2-stub"


def sageattn(q, k, v, tensor_layout="HND", is_causal=False, sm_scale=None, **kwargs):
    assert tensor_layout == "NHD" and is_causal is False
    assert q.dtype in (torch.bfloat16, torch.float16) and q.dtype == k.dtype == v.dtype
    CALLS.append(("dense", tuple(q.shape), tuple(k.shape)))
    qi, ki, vi = (t.float().transpose(1, 2) for t in (q, k, v))
    out = F.scaled_dot_product_attention(qi, ki, vi, scale=sm_scale)
    return out.transpose(1, 2).to(q.dtype)


def sageattn_varlen(
    q, k, v, cu_seqlens_q, cu_seqlens_k, max_seqlen_q, max_seqlen_k,
    is_causal=False, sm_scale=None, smooth_k=True, **kwargs
):
    assert is_causal is False
    _check(q, k, v, cu_seqlens_q, cu_seqlens_k, max_seqlen_q, max_seqlen_k)
    CALLS.append(("varlen", tuple(q.shape), tuple(k.shape)))
    return _varlen(q, k, v, cu_seqlens_q, cu_seqlens_k, sm_scale)
"""
)

BROKEN_IMPORT = """
raise ImportError("libcudart.so.12: cannot open shared object file: No such file or directory")
"""

RAISES_AT_CALL = """
CALLS = []


def _fail(*args, **kwargs):
    CALLS.append(1)
    raise RuntimeError("CUDA error: no kernel image is available for execution on the device")


flash_attn_varlen_func = sageattn = sageattn_varlen = _fail
"""

NAN_OUTPUT = """
import torch

CALLS = []


def _nan(q, *args, **kwargs):
    CALLS.append(1)
    return torch.full_like(q, float("nan"))


flash_attn_varlen_func = sageattn = sageattn_varlen = _nan
"""

MODULES = {"flash3": "flash_attn_interface", "flash2": "flash_attn", "sage": "sageattention"}


def install(
    monkeypatch: pytest.MonkeyPatch, folder: Path, stubs: dict[str, str]
) -> dict[str, object]:
    """Put ``{backend: source}`` on sys.path as the real module names; return the modules that
    import (so tests can read their ``CALLS``). The dispatch's import cache is cleared."""
    from wan22_desktop.engine.wan import attention as attn

    folder.mkdir(parents=True, exist_ok=True)
    monkeypatch.syspath_prepend(str(folder))
    for name in MODULES.values():
        monkeypatch.delitem(sys.modules, name, raising=False)
    for backend, source in stubs.items():
        (folder / f"{MODULES[backend]}.py").write_text(textwrap.dedent(source))
    importlib.invalidate_caches()
    attn._import_kernel.cache_clear()
    loaded: dict[str, object] = {}
    for backend in stubs:
        try:
            loaded[backend] = __import__(MODULES[backend])
        except ImportError:
            continue
    return loaded


def forget() -> None:
    """Drop the stubs from sys.modules and the dispatch's import cache (test teardown)."""
    from wan22_desktop.engine.wan import attention as attn

    for name in MODULES.values():
        sys.modules.pop(name, None)
    importlib.invalidate_caches()
    attn._import_kernel.cache_clear()


@pytest.fixture
def kernel_stubs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[object]:
    """``kernel_stubs({"flash2": FLASH_OK, ...})`` installs stubs for one test."""
    count = iter(range(100))

    def _install(stubs: dict[str, str]) -> dict[str, object]:
        return install(monkeypatch, tmp_path / f"stubs{next(count)}", stubs)

    yield _install
    forget()
