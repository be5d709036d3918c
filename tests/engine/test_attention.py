"""Attention dispatch: SDPA numerics against a naive softmax; the kernel backends' call contract
and packing through stub kernels on the CPU; the run-time guard that falls back to SDPA."""

from __future__ import annotations

import logging

import pytest
import torch

from tests.engine import attention_stubs
from tests.engine.attention_stubs import (
    BROKEN_IMPORT,
    FLASH_OK,
    NAN_OUTPUT,
    RAISES_AT_CALL,
    SAGE_OK,
)
from wan22_desktop.engine.wan import attention as attn_mod
from wan22_desktop.engine.wan.attention import (
    CHECKED_CALLS,
    attention,
    select_backend,
    usable_backends,
    use_backend,
    varlen_layout,
)

kernel_stubs = attention_stubs.kernel_stubs  # the fixture: stub kernels on sys.path


def _naive(q, k, v, k_lens):
    """float64 softmax(q kᵀ/√d) v with keys ≥ k_lens[i] dropped, one sample at a time."""
    out = []
    for i in range(q.shape[0]):
        n = int(k_lens[i]) if k_lens is not None else k.shape[1]
        qi, ki, vi = q[i].double(), k[i, :n].double(), v[i, :n].double()  # [L, H, D]
        scores = torch.einsum("qhd,khd->hqk", qi, ki) / q.shape[-1] ** 0.5
        out.append(torch.einsum("hqk,khd->qhd", scores.softmax(-1), vi))
    return torch.stack(out).float()


def _qkv(b=2, lq=10, lk=10, h=3, d=16, dtype=torch.float32, seed=0):
    g = torch.Generator().manual_seed(seed)
    return tuple(torch.randn(b, n, h, d, generator=g).to(dtype) for n in (lq, lk, lk))  # q, k, v


@pytest.mark.parametrize("k_lens", [None, [10, 7], [10, 10], [1, 4]])
def test_sdpa_equals_naive_softmax_with_padding(k_lens):
    q, k, v = _qkv()
    lens = None if k_lens is None else torch.tensor(k_lens, dtype=torch.int32)
    out = attention(q, k, v, lens, backend="sdpa")
    assert out.dtype == torch.float32 and out.shape == q.shape
    torch.testing.assert_close(out, _naive(q, k, v, lens), atol=2e-6, rtol=2e-6)


def test_padded_keys_do_not_matter():
    q, k, v = _qkv(1, 6, 9, 2, 8, seed=1)
    lens = torch.tensor([5])
    ref = attention(q, k, v, lens)
    k2, v2 = k.clone(), v.clone()
    k2[:, 5:] = 1e3
    v2[:, 5:] = -7.0
    assert torch.equal(attention(q, k2, v2, lens), ref)


def test_cross_attention_lengths():
    q, k, v = _qkv(2, 5, 12, 2, 8, seed=2)
    torch.testing.assert_close(attention(q, k, v), _naive(q, k, v, None), atol=2e-6, rtol=2e-6)


def test_unknown_backend_rejected():
    x = torch.zeros(1, 2, 1, 4)
    with pytest.raises(ValueError, match="unknown attention backend"):
        attention(x, x, x, backend="xformers")
    with pytest.raises(ValueError, match="unknown attention backend"):
        with use_backend("xformers"):
            pass


# ---- the kernels' contract, through stubs that compute with SDPA -----------------------------


def _bf16_reference(q, k, v, lens):
    """What a correct kernel returns for bf16 inputs: fp32 attention, rounded to bf16."""
    return attention(q.float(), k.float(), v.float(), lens, backend="sdpa").to(torch.bfloat16)


@pytest.mark.parametrize("backend", ["flash3", "flash2", "sage"])
@pytest.mark.parametrize("k_lens", [None, [10, 7], [3, 10]], ids=["full", "pad1", "pad0"])
def test_kernel_varlen_path_matches_sdpa(kernel_stubs, backend, k_lens):
    stub = kernel_stubs({backend: SAGE_OK if backend == "sage" else FLASH_OK})[backend]
    q, k, v = _qkv(lq=10, lk=10, dtype=torch.bfloat16)
    lens = None if k_lens is None else torch.tensor(k_lens, dtype=torch.int32)
    out = attention(q, k, v, lens, backend=backend)
    assert out.dtype == torch.bfloat16 and out.shape == q.shape
    assert stub.CALLS, "the kernel was not called"
    ref = _bf16_reference(q, k, v, lens)
    diff = (out.float() - ref.float()).abs().max().item()
    print(f"{backend} k_lens={k_lens}: max |Δ| vs SDPA {diff:.2e}")
    # Both sides compute in fp32 and round to bf16: equal up to one bf16 step of fp32 round-off.
    torch.testing.assert_close(out.float(), ref.float(), atol=1e-6, rtol=2**-7)


def test_kernel_gets_only_the_real_keys(kernel_stubs):
    stub = kernel_stubs({"flash2": FLASH_OK})["flash2"]
    q, k, v = _qkv(2, 4, 9, dtype=torch.bfloat16)
    attention(q, k, v, torch.tensor([9, 5], dtype=torch.int32), backend="flash2")
    q_shape, k_shape, cu_k, max_k = stub.CALLS[-1]
    assert q_shape == (8, 3, 16) and k_shape == (14, 3, 16)
    assert cu_k == [0, 9, 14] and max_k == 9


def test_fp32_inputs_are_cast_to_bf16_for_a_kernel_and_back(kernel_stubs):
    kernel_stubs({"flash3": FLASH_OK})
    q, k, v = _qkv()
    out = attention(q, k, v, torch.tensor([10, 6]), backend="flash3")
    assert out.dtype == torch.float32
    ref = _naive(q, k, v, torch.tensor([10, 6]))
    torch.testing.assert_close(out, ref, atol=3e-2, rtol=3e-2)  # bf16 inputs


def test_fa3_tuple_result_is_unpacked(kernel_stubs):
    stub = kernel_stubs({"flash3": FLASH_OK})["flash3"]
    stub.RETURN_TUPLE = True
    q, k, v = _qkv(dtype=torch.bfloat16)
    out = attention(q, k, v, backend="flash3")
    torch.testing.assert_close(
        out.float(), _bf16_reference(q, k, v, None).float(), atol=1e-6, rtol=2**-7
    )


def test_varlen_layout_is_computed_once_per_k_lens_tensor(monkeypatch):
    """The padded layout costs a host sync (``tolist``): once per k_lens tensor (one per DiT
    forward, shared by every block and Ulysses call), not once per call."""
    lens = torch.tensor([10, 7], dtype=torch.int32)
    calls = []
    real = torch.Tensor.tolist

    def counting(self):
        calls.append(1)
        return real(self)

    monkeypatch.setattr(torch.Tensor, "tolist", counting)
    first = varlen_layout(lens, 2, 10, 10, torch.device("cpu"))
    for _ in range(5):
        assert varlen_layout(lens, 2, 10, 10, torch.device("cpu")) is first
    assert len(calls) == 1
    assert first.cu_k.tolist() == [0, 10, 17] and first.max_k == 10
    other = torch.tensor([10, 7], dtype=torch.int32)  # a new forward's tensor: computed again
    assert varlen_layout(other, 2, 10, 10, torch.device("cpu")) is not first
    lens[1] = 3  # changed in place: computed again
    assert varlen_layout(lens, 2, 10, 10, torch.device("cpu")).cu_k.tolist() == [0, 10, 13]
    full = varlen_layout(None, 2, 4, 10, torch.device("cpu"))
    assert full.cu_q.tolist() == [0, 4, 8] and full.cu_k.tolist() == [0, 10, 20]
    assert full.key_rows is None


# ---- choosing without a plan: real imports and the card's capability -------------------------


def _cuda_card(monkeypatch, capability):
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: capability)


def test_cpu_always_sdpa_even_with_kernels_installed(kernel_stubs):
    kernel_stubs({"flash3": FLASH_OK, "flash2": FLASH_OK})
    assert select_backend(torch.device("cpu"), 128) == "sdpa"
    assert usable_backends(torch.device("cpu")) == ["sdpa"]


@pytest.mark.parametrize(
    ("stubs", "capability", "head_dim", "expected"),
    [
        ({"flash3": FLASH_OK, "flash2": FLASH_OK}, (9, 0), 128, "flash3"),
        ({"flash3": FLASH_OK, "flash2": FLASH_OK}, (8, 0), 128, "flash2"),  # FA3 is Hopper-only
        ({"flash3": FLASH_OK, "flash2": FLASH_OK}, (7, 5), 128, "sdpa"),  # FA2 needs sm80
        ({"flash3": BROKEN_IMPORT, "flash2": FLASH_OK}, (9, 0), 128, "flash2"),
        ({"flash3": BROKEN_IMPORT, "flash2": BROKEN_IMPORT}, (9, 0), 128, "sdpa"),
        ({"flash3": FLASH_OK, "flash2": FLASH_OK}, (9, 0), 512, "sdpa"),
        ({"sage": SAGE_OK}, (8, 9), 128, "sdpa"),  # Sage only when a plan asks
    ],
)
def test_selection_without_a_plan(kernel_stubs, monkeypatch, stubs, capability, head_dim, expected):
    kernel_stubs(stubs)
    _cuda_card(monkeypatch, capability)
    assert select_backend(torch.device("cuda", 0), head_dim) == expected


def test_a_broken_install_is_reported_with_its_error(kernel_stubs):
    kernel_stubs({"flash2": BROKEN_IMPORT})
    module, error = attn_mod._import_kernel("flash2")
    assert module is None and "libcudart.so.12" in error
    q, k, v = _qkv(dtype=torch.bfloat16)
    with pytest.raises(RuntimeError, match="needs the flash_attn package"):
        attention(q, k, v, backend="flash2")  # unguarded: no plan, no fallback


# ---- the run-time guard: first calls checked, SDPA for the rest of the job -------------------


@pytest.mark.parametrize(
    ("source", "why"),
    [
        (BROKEN_IMPORT, "needs the flash_attn package"),
        (RAISES_AT_CALL, "no kernel image is available"),
        (NAN_OUTPUT, "returned NaN/inf"),
    ],
    ids=["broken-import", "raises", "nan"],
)
@pytest.mark.parametrize("k_lens", [None, [10, 6]], ids=["full", "padded"])
def test_failing_kernel_falls_back_to_sdpa_for_the_job(
    kernel_stubs,
    caplog,
    source,
    why,
    k_lens,
):
    loaded = kernel_stubs({"flash2": source})
    q, k, v = _qkv()
    lens = None if k_lens is None else torch.tensor(k_lens)
    ref = attention(q, k, v, lens, backend="sdpa")
    with caplog.at_level(logging.WARNING), use_backend("flash2") as guard:
        outs = [attention(q, k, v, lens) for _ in range(3)]
    assert guard is not None and guard.active == "sdpa"
    assert all(torch.equal(o, ref) for o in outs)  # the failed call re-ran on SDPA
    assert len(guard.notes) == 1 and why in guard.notes[0] and "SDPA" in guard.notes[0]
    assert "FlashAttention 2" in guard.notes[0]
    assert [r.getMessage() for r in caplog.records if why in r.getMessage()] == guard.notes
    stub = loaded.get("flash2")
    if stub is not None:
        assert len(stub.CALLS) == 1  # never tried again in this job


def test_sage_nan_falls_back(kernel_stubs):
    kernel_stubs({"sage": NAN_OUTPUT})
    q, k, v = _qkv(dtype=torch.bfloat16)
    with use_backend("sage") as guard:
        out = attention(q, k, v)
    assert torch.equal(out, attention(q, k, v, backend="sdpa"))
    assert guard is not None and "SageAttention (8-bit) returned NaN/inf" in guard.notes[0]


def test_a_good_kernel_is_checked_only_on_its_first_calls(kernel_stubs, monkeypatch):
    stub = kernel_stubs({"flash2": FLASH_OK})["flash2"]
    checks = []
    real = torch.isfinite
    monkeypatch.setattr(torch, "isfinite", lambda t: checks.append(1) or real(t))
    q, k, v = _qkv(dtype=torch.bfloat16)
    with use_backend("flash2") as guard:
        for _ in range(CHECKED_CALLS + 5):
            attention(q, k, v)
    assert guard is not None and guard.active == "flash2" and guard.notes == []
    assert len(stub.CALLS) == CHECKED_CALLS + 5 and len(checks) == CHECKED_CALLS


def test_nan_from_the_inputs_is_not_blamed_on_the_kernel(kernel_stubs):
    kernel_stubs({"flash2": FLASH_OK})
    q, k, v = _qkv(dtype=torch.bfloat16)
    v[0, 0, 0, 0] = float("nan")  # a NaN value reaches every output row: SDPA too
    with use_backend("flash2") as guard:
        attention(q, k, v)
    assert guard is not None and guard.active == "flash2" and guard.notes == []


def test_each_job_gets_a_fresh_guard(kernel_stubs):
    kernel_stubs({"flash2": RAISES_AT_CALL})
    q, k, v = _qkv()
    for _ in range(2):
        with use_backend("flash2") as guard:
            attention(q, k, v)
        assert guard is not None and len(guard.notes) == 1


def test_out_of_memory_is_not_a_fallback(monkeypatch):
    def oom(*a, **kw):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory")

    monkeypatch.setattr(attn_mod, "_kernel", oom)
    q, k, v = _qkv()
    with pytest.raises(torch.cuda.OutOfMemoryError), use_backend("flash2"):
        attention(q, k, v)


def _tiny_dit(unequal: bool = False):
    """A tiny random A14B-layout DiT and its inputs; ``unequal``: two samples of 8 and 18
    tokens in a 20-token sequence (padded keys in self-attention)."""
    from wan22_desktop.engine.wan.dit import WanDiT
    from wan22_desktop.engine.wan.dit_config import tiny_dit_config

    cfg = tiny_dit_config("t2v-A14B", text_len=16)
    torch.manual_seed(3)
    model = WanDiT(cfg).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.2)
    a, b = torch.randn(16, 2, 4, 4), torch.randn(16, 3, 4, 6)
    ca, cb = torch.randn(4, cfg.text_dim), torch.randn(9, cfg.text_dim)
    if unequal:
        inputs = dict(x=[a, b], t=torch.tensor([700, 10]), context=[ca, cb], seq_len=20)
    else:
        inputs = dict(x=[b], t=torch.tensor([700]), context=[cb], seq_len=18)
    return model, inputs


def test_dit_forward_with_a_failing_kernel_equals_sdpa(kernel_stubs):
    """The whole tiny DiT (every block's self- and cross-attention) under a kernel that raises:
    the output equals the SDPA forward's, with one note."""
    kernel_stubs({"flash2": RAISES_AT_CALL})
    model, inputs = _tiny_dit()
    with torch.no_grad():
        ref = model(**inputs)
        with use_backend("flash2") as guard:
            out = model(**inputs)
    assert guard is not None and len(guard.notes) == 1
    assert all(torch.equal(a, b) for a, b in zip(out, ref))


def test_dit_forward_through_the_stub_kernel_matches_sdpa(kernel_stubs):
    """Unequal samples (padded keys in self-attention) through the varlen kernel path."""
    stub = kernel_stubs({"flash2": FLASH_OK})["flash2"]
    model, inputs = _tiny_dit(unequal=True)
    with torch.no_grad():
        ref = model(**inputs)
        with use_backend("flash2") as guard:
            out = model(**inputs)
    assert guard is not None and guard.notes == [] and stub.CALLS
    diff = max((a - b).abs().max().item() for a, b in zip(out, ref))
    print(f"tiny DiT, flash2 stub (bf16 q/k/v) vs SDPA fp32: max |Δ| {diff:.2e}")
    assert diff < 5e-2


def test_compile_traces_sdpa_without_a_break_and_runs_a_kernel_outside_the_graph(kernel_stubs):
    """torch.compile (dynamo) traces the SDPA path with no graph break (the backend choice is
    read from a plain global: dynamo cannot trace ``ContextVar.get``); an optional kernel, with
    its layout cache and guard, runs eagerly outside the graph instead of being captured."""
    stub = kernel_stubs({"flash2": FLASH_OK})["flash2"]
    q, k, v = _qkv(dtype=torch.bfloat16)
    lens = torch.tensor([10, 6])

    def f(q, k, v):
        return attention(q, k, v, lens) * 2

    for backend in ("sdpa", "flash2"):
        torch._dynamo.reset()
        with use_backend(backend) as guard:
            explained = torch._dynamo.explain(f)(q, k, v)
        assert explained.graph_break_count == 0, explained.break_reasons
        assert guard is not None and guard.notes == []
        ops = " ".join(str(g.graph) for g in explained.graphs)
        assert ("scaled_dot_product_attention" in ops) == (backend == "sdpa")
    assert stub.CALLS  # the kernel ran, eagerly
    torch._dynamo.reset()
