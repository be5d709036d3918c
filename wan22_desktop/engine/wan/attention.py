"""Attention dispatch: flash-attn varlen on CUDA when installed (as upstream), torch SDPA otherwise.

Both paths compute the same thing: softmax(q·kᵀ·scale)·v where, per sample i, only the first
k_lens[i] keys take part (padded video tokens); every query row is computed. On CUDA q/k/v that
are not already half precision are cast to bf16, like upstream's ``flash_attention`` does even in
an fp32 model; the result is cast back to q's dtype. On CPU the inputs' dtype is kept, so the
fp32 test mode is pure fp32.

Which backend runs is the plan's decision (``runtime.planner``: flash3/flash2/sdpa with a
reason); the pipeline applies it around sampling with ``use_backend``. Only code that runs
without a plan (tests, the parity scripts) falls back to ``select_backend``.
"""

from __future__ import annotations

import contextvars
import importlib
import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

import torch
import torch.nn.functional as F

BACKENDS = ("flash3", "flash2", "sdpa")
_HALF = (torch.float16, torch.bfloat16)
_MAX_FLASH_HEAD_DIM = 256
_CHOSEN: contextvars.ContextVar[str | None] = contextvars.ContextVar("attention", default=None)


@contextmanager
def use_backend(backend: str | None) -> Iterator[None]:
    """Every ``attention`` call inside the block without an explicit backend uses ``backend``
    (the plan's choice); ``None`` keeps the automatic choice."""
    if backend is not None and backend not in BACKENDS:
        raise ValueError(f"unknown attention backend {backend!r}; known: {BACKENDS}")
    token = _CHOSEN.set(backend)
    try:
        yield
    finally:
        _CHOSEN.reset(token)


def flash_available() -> dict[str, bool]:
    """Which flash-attn packages can be imported (checked without importing them)."""
    return {
        "flash3": importlib.util.find_spec("flash_attn_interface") is not None,
        "flash2": importlib.util.find_spec("flash_attn") is not None,
    }


def select_backend(device: torch.device, head_dim: int) -> str:
    """FA3, then FA2, on CUDA for head_dim ≤ 256; SDPA everywhere else."""
    if device.type != "cuda" or head_dim > _MAX_FLASH_HEAD_DIM:
        return "sdpa"
    available = flash_available()
    for name in ("flash3", "flash2"):
        if available[name]:
            return name
    return "sdpa"


def chosen_backend(device: torch.device, head_dim: int) -> str:
    """The backend an ``attention`` call without one would use now (the DiT reads it once per
    forward and passes it on, so compiled blocks never read the context variable)."""
    return _CHOSEN.get() or select_backend(device, head_dim)


def attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    k_lens: torch.Tensor | None = None,
    *,
    softmax_scale: float | None = None,
    backend: str | None = None,
) -> torch.Tensor:
    """q [B, Lq, H, D], k/v [B, Lk, H, D], k_lens [B] (None: all keys) → [B, Lq, H, D]."""
    if backend is None:
        backend = _CHOSEN.get() or select_backend(q.device, q.shape[-1])
    if backend not in BACKENDS:
        raise ValueError(f"unknown attention backend {backend!r}; known: {BACKENDS}")
    out_dtype = q.dtype
    if q.is_cuda:
        q, k, v = (t if t.dtype in _HALF else t.to(torch.bfloat16) for t in (q, k, v))
        k, q = k.to(v.dtype), q.to(v.dtype)
    if backend == "sdpa":
        out = _sdpa(q, k, v, k_lens, softmax_scale)
    else:
        out = _flash_varlen(_import_flash(backend), backend, q, k, v, k_lens, softmax_scale)
    return out.to(out_dtype)


def key_padding_mask(k_lens: torch.Tensor, k_len: int, device: torch.device) -> torch.Tensor:
    """Boolean [B, 1, 1, Lk] mask, True where a key takes part."""
    positions = torch.arange(k_len, device=device)
    return (positions[None, :] < k_lens.to(device)[:, None])[:, None, None, :]


def _sdpa(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    k_lens: torch.Tensor | None,
    softmax_scale: float | None,
) -> torch.Tensor:
    # The DiT passes k_lens only when some sample is padded, so no device sync is spent here.
    mask = None if k_lens is None else key_padding_mask(k_lens, k.shape[1], q.device)
    out = F.scaled_dot_product_attention(
        q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), attn_mask=mask, scale=softmax_scale
    )
    return out.transpose(1, 2)


def _import_flash(backend: str) -> ModuleType:
    name = "flash_attn_interface" if backend == "flash3" else "flash_attn"
    try:
        return importlib.import_module(name)
    except ImportError as exc:  # pragma: no cover - only reachable with a broken install
        raise RuntimeError(f"attention backend {backend} needs the {name} package") from exc


def _flash_varlen(
    module: ModuleType,
    backend: str,
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    k_lens: torch.Tensor | None,
    softmax_scale: float | None,
) -> torch.Tensor:  # pragma: no cover - CUDA only
    """Pack to varlen form: all query rows, the first k_lens[i] keys of each sample."""
    b, lq, lk = q.shape[0], q.shape[1], k.shape[1]
    device = q.device
    q_lens = torch.full((b,), lq, dtype=torch.int32, device=device)
    if k_lens is None:
        k_lens = torch.full((b,), lk, dtype=torch.int32, device=device)
        k_packed, v_packed = k.flatten(0, 1), v.flatten(0, 1)
    else:
        k_lens = k_lens.to(device=device, dtype=torch.int32)
        lens = k_lens.tolist()
        k_packed = torch.cat([u[:n] for u, n in zip(k, lens)])
        v_packed = torch.cat([u[:n] for u, n in zip(v, lens)])
    zero = torch.zeros(1, dtype=torch.int32, device=device)
    cu_q = torch.cat([zero, q_lens]).cumsum(0, dtype=torch.int32)
    cu_k = torch.cat([zero, k_lens]).cumsum(0, dtype=torch.int32)
    result = module.flash_attn_varlen_func(
        q.flatten(0, 1),
        k_packed,
        v_packed,
        cu_seqlens_q=cu_q,
        cu_seqlens_k=cu_k,
        max_seqlen_q=lq,
        max_seqlen_k=lk,
        softmax_scale=softmax_scale,
        causal=False,
    )
    # FA3 returned (out, lse) in the versions upstream targets; newer ones return out only.
    out = result[0] if isinstance(result, tuple) else result
    return out.unflatten(0, (b, lq))
