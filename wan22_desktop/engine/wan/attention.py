"""Attention dispatch: FlashAttention 3/2 or SageAttention when the plan says so, torch SDPA
otherwise, with one contract for every backend and a run-time guard that falls back to SDPA.

Every backend computes softmax(q·kᵀ·scale)·v where, per sample i, only the first k_lens[i] keys
take part (padded video tokens); every query row is computed. The kernels get q/k/v in bf16
(inputs that are not already half precision are cast, like upstream's ``flash_attention`` even
in an fp32 model) in packed varlen form; the result is cast back to q's dtype. SDPA keeps the
inputs' dtype on the CPU, so the fp32 test mode is pure fp32, and casts to bf16 on CUDA.

Which backend runs is the plan's decision (``runtime.planner.choose_attention``: only kernels
that imported in the probe and run on the card); the pipeline applies it around sampling with
``use_backend``, which also *guards* it for the job: a kernel that raises at one of its first
calls, or returns NaN/inf there while SDPA does not, is replaced by SDPA for the rest of the job
(that call is re-run with SDPA), with one logged warning and a note the job reports. Only the
first ``CHECKED_CALLS`` calls are checked: the check reads the output back (a device sync).
Code that runs without a plan (the parity scripts) falls back to ``select_backend``.
"""

from __future__ import annotations

import importlib
import logging
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from types import ModuleType

import torch
import torch.nn.functional as F

from wan22_desktop.runtime.hardware import (
    ATTENTION_BACKENDS,
    ATTENTION_KERNELS,
    kernel_unsupported,
)

log = logging.getLogger(__name__)

BACKENDS = ATTENTION_BACKENDS  # ("flash3", "flash2", "sage", "sdpa")
CHECKED_CALLS = 4  # first calls of a job's kernel whose output is checked for NaN/inf
_HALF = (torch.float16, torch.bfloat16)
_MAX_FLASH_HEAD_DIM = 256


@dataclass
class BackendGuard:
    """One job's attention backend: the plan's choice until it fails, then SDPA."""

    backend: str
    checks_left: int = CHECKED_CALLS
    fallback: str | None = None  # why this job runs on SDPA now (None: it does not)
    notes: list[str] = field(default_factory=list)  # what the job reports (log, history)

    @property
    def active(self) -> str:
        return "sdpa" if self.fallback is not None else self.backend

    def fall_back(self, why: str) -> None:
        self.fallback = why
        note = f"attention: {why}; this job ran on PyTorch SDPA from then on"
        self.notes.append(note)
        log.warning("%s", note)


# The job's guard while ``use_backend`` is active. A module global, not a ContextVar: dynamo
# cannot trace ``ContextVar.get`` (a graph break in every block under torch.compile), and a
# worker runs one job at a time.
_GUARD: BackendGuard | None = None


@contextmanager
def use_backend(backend: str | None) -> Iterator[BackendGuard | None]:
    """Every ``attention`` call inside the block without an explicit backend uses ``backend``
    (the plan's choice), guarded for the block (one job); ``None`` keeps the automatic choice.
    Yields the guard, whose ``notes`` say whether the job had to fall back."""
    if backend is not None and backend not in BACKENDS:
        raise ValueError(f"unknown attention backend {backend!r}; known: {BACKENDS}")
    global _GUARD
    guard = None if backend is None else BackendGuard(backend)
    previous, _GUARD = _GUARD, guard
    try:
        yield guard
    finally:
        _GUARD = previous


@cache
def _import_kernel(backend: str) -> tuple[ModuleType | None, str | None]:
    """(module, None) when the kernel imports, else (None, why): a real import, once."""
    kernel = ATTENTION_KERNELS[backend]
    try:
        module = importlib.import_module(kernel.module)
        getattr(module, kernel.function)
    except Exception as exc:  # noqa: BLE001 - whatever a broken build raises
        return None, f"{type(exc).__name__}: {exc}"
    return module, None


def usable_backends(device: torch.device) -> list[str]:
    """The backends that import and run on ``device`` (SDPA always; kernels on CUDA only)."""
    if device.type != "cuda":
        return ["sdpa"]
    cap = torch.cuda.get_device_capability(device)
    found = [
        name
        for name in ATTENTION_KERNELS
        if _import_kernel(name)[0] is not None and kernel_unsupported(name, cap) is None
    ]
    return [*found, "sdpa"]


def select_backend(device: torch.device, head_dim: int) -> str:
    """Without a plan: FA3, then FA2, on CUDA for head_dim ≤ 256, if they import and run on this
    card; SDPA everywhere else (SageAttention only when a plan asks for it)."""
    if device.type != "cuda" or head_dim > _MAX_FLASH_HEAD_DIM:
        return "sdpa"
    usable = usable_backends(device)
    return next((n for n in ("flash3", "flash2") if n in usable), "sdpa")


def chosen_backend(device: torch.device, head_dim: int) -> str:
    """The backend an ``attention`` call without one would use now (the DiT reads it once per
    forward and passes it on, so compiled blocks never read the context variable)."""
    guard = _GUARD
    return guard.active if guard is not None else select_backend(device, head_dim)


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
    guard = _GUARD
    if backend is None:
        backend = guard.active if guard is not None else select_backend(q.device, q.shape[-1])
    if backend not in BACKENDS:
        raise ValueError(f"unknown attention backend {backend!r}; known: {BACKENDS}")
    if backend == "sdpa":
        return _sdpa_any(q, k, v, k_lens, softmax_scale)
    return _run_kernel(backend, guard, q, k, v, k_lens, softmax_scale)


@torch.compiler.disable
def _run_kernel(
    backend: str,
    guard: BackendGuard | None,
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    k_lens: torch.Tensor | None,
    softmax_scale: float | None,
) -> torch.Tensor:
    """An optional kernel, guarded while the job's first calls are checked. Opaque to
    torch.compile: the layout cache and the guard are Python state a graph must not capture
    (SDPA, the path compile sees, stays traceable). A job that has fallen back runs SDPA even
    where a forward read the backend before the fallback and passes the kernel explicitly."""
    if guard is not None and guard.fallback is not None:
        return _sdpa_any(q, k, v, k_lens, softmax_scale)
    if guard is None or guard.active != backend or guard.checks_left <= 0:
        return _kernel(backend, q, k, v, k_lens, softmax_scale)
    label = ATTENTION_KERNELS[backend].label
    try:
        out = _kernel(backend, q, k, v, k_lens, softmax_scale)
    except torch.cuda.OutOfMemoryError:
        raise  # memory is the plan's problem, not the kernel's: the job reports it
    except Exception as exc:  # noqa: BLE001 - any kernel failure: this job falls back to SDPA
        guard.fall_back(f"{label} failed ({type(exc).__name__}: {_first_line(exc)})")
        return _sdpa_any(q, k, v, k_lens, softmax_scale)
    guard.checks_left -= 1
    if not bool(torch.isfinite(out).all()):
        ref = _sdpa_any(q, k, v, k_lens, softmax_scale)
        if bool(torch.isfinite(ref).all()):  # the kernel's fault, not the inputs'
            guard.fall_back(f"{label} returned NaN/inf where PyTorch SDPA did not")
            return ref
    return out


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else "")[:200]


def key_padding_mask(k_lens: torch.Tensor, k_len: int, device: torch.device) -> torch.Tensor:
    """Boolean [B, 1, 1, Lk] mask, True where a key takes part."""
    positions = torch.arange(k_len, device=device)
    return (positions[None, :] < k_lens.to(device)[:, None])[:, None, None, :]


def _sdpa_any(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    k_lens: torch.Tensor | None,
    softmax_scale: float | None,
) -> torch.Tensor:
    """SDPA in the inputs' dtype on the CPU, in bf16 on CUDA (as upstream); out in q's dtype."""
    out_dtype = q.dtype
    if q.is_cuda:
        q, k, v = _to_half(q, k, v)
    return _sdpa(q, k, v, k_lens, softmax_scale).to(out_dtype)


def _to_half(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    q, k, v = (t if t.dtype in _HALF else t.to(torch.bfloat16) for t in (q, k, v))
    return q.to(v.dtype), k.to(v.dtype), v


def _sdpa(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    k_lens: torch.Tensor | None,
    softmax_scale: float | None,
) -> torch.Tensor:
    # The DiT passes k_lens only when some sample is padded, so no device sync is spent here.
    # Without a mask, SDPA picks its fastest kernel itself (flash, memory-efficient or cuDNN).
    mask = None if k_lens is None else key_padding_mask(k_lens, k.shape[1], q.device)
    out = F.scaled_dot_product_attention(
        q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), attn_mask=mask, scale=softmax_scale
    )
    return out.transpose(1, 2)


# ---- the kernels: packed varlen form -------------------------------------------------------


@dataclass(frozen=True)
class Varlen:
    """The packed layout of one attention shape: int32 cumulative lengths on the device, the
    max lengths as ints, and (padded keys only) which flattened key rows take part."""

    cu_q: torch.Tensor
    cu_k: torch.Tensor
    max_q: int
    max_k: int
    key_rows: torch.Tensor | None  # int64 rows of k.flatten(0, 1); None: all of them


# k_lens is one tensor per DiT forward, shared by every block (and by every Ulysses call): its
# layout is computed once (the only host sync of a padded forward) and reused while that tensor
# lives and is unchanged. Keyed by identity through a weak reference, so a new tensor never hits.
_padded_cache: tuple[weakref.ref[torch.Tensor], int, tuple[int, int, int], Varlen] | None = None
_full_cache: dict[tuple[int, int, int, torch.device], Varlen] = {}


def varlen_layout(
    k_lens: torch.Tensor | None, b: int, lq: int, lk: int, device: torch.device
) -> Varlen:
    """The ``Varlen`` of q [b, lq], k [b, lk] with ``k_lens`` keys per sample (None: all)."""
    global _padded_cache
    if k_lens is None:
        key = (b, lq, lk, device)
        if key not in _full_cache:  # shapes only: no sync
            step_q = torch.arange(b + 1, dtype=torch.int32, device=device)
            _full_cache[key] = Varlen(step_q * lq, step_q * lk, lq, lk, None)
        return _full_cache[key]
    shape = (b, lq, lk)
    hit = _padded_cache
    if hit is not None and hit[0]() is k_lens and hit[1] == k_lens._version and hit[2] == shape:
        layout = hit[3]
        if layout.cu_q.device == device:
            return layout
    lens = [min(int(n), lk) for n in k_lens.tolist()]  # once per k_lens tensor
    rows = torch.cat([torch.arange(n) + i * lk for i, n in enumerate(lens)])
    cu_k = torch.tensor([0, *lens], dtype=torch.int64).cumsum(0).to(torch.int32)
    layout = Varlen(
        torch.arange(b + 1, dtype=torch.int32, device=device) * lq,
        cu_k.to(device),
        lq,
        max(lens),
        rows.to(device),
    )
    _padded_cache = (weakref.ref(k_lens), k_lens._version, shape, layout)
    return layout


def _kernel(
    backend: str,
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    k_lens: torch.Tensor | None,
    softmax_scale: float | None,
) -> torch.Tensor:
    """One optional kernel in varlen form: all query rows, the first k_lens[i] keys of each
    sample, half precision, [total, H, D] contiguous, int32 cu_seqlens on q's device."""
    module, error = _import_kernel(backend)
    if module is None:
        kernel = ATTENTION_KERNELS[backend]
        raise RuntimeError(
            f"attention backend {backend} needs the {kernel.module} package: {error}"
        )
    out_dtype = q.dtype
    q, k, v = _to_half(q, k, v)
    b, lq, lk = q.shape[0], q.shape[1], k.shape[1]
    if backend == "sage" and k_lens is None:
        # Nothing padded: Sage's plain kernel takes [B, L, H, D] ("NHD") as it is.
        out = module.sageattn(q, k, v, tensor_layout="NHD", is_causal=False, sm_scale=softmax_scale)
        return out.to(out_dtype)
    layout = varlen_layout(k_lens, b, lq, lk, q.device)
    q_packed = q.reshape(b * lq, *q.shape[2:])
    k_packed, v_packed = k.reshape(b * lk, *k.shape[2:]), v.reshape(b * lk, *v.shape[2:])
    if layout.key_rows is not None:
        k_packed = k_packed.index_select(0, layout.key_rows)
        v_packed = v_packed.index_select(0, layout.key_rows)
    q_packed, k_packed, v_packed = (t.contiguous() for t in (q_packed, k_packed, v_packed))
    if backend == "sage":
        result = module.sageattn_varlen(
            q_packed,
            k_packed,
            v_packed,
            layout.cu_q,
            layout.cu_k,
            layout.max_q,
            layout.max_k,
            is_causal=False,
            sm_scale=softmax_scale,
        )
    else:
        result = module.flash_attn_varlen_func(
            q_packed,
            k_packed,
            v_packed,
            cu_seqlens_q=layout.cu_q,
            cu_seqlens_k=layout.cu_k,
            max_seqlen_q=layout.max_q,
            max_seqlen_k=layout.max_k,
            softmax_scale=softmax_scale,
            causal=False,
        )
    # FA3 returned (out, lse) in the versions upstream targets; newer ones return out only.
    out = result[0] if isinstance(result, tuple) else result
    return out.unflatten(0, (b, lq)).to(out_dtype)
