"""FP8 (e4m3, per-output-channel scales) DiT weights: the quantisation error, the CPU fallback's
math, the scaled-matmul contract (checked on meta tensors), the loader's verified disk cache,
and the end-to-end error of a tiny video against bf16. Figures print with ``pytest -s``."""

from __future__ import annotations

import json
import os
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from safetensors import safe_open
from torch import nn
from torch._subclasses.fake_tensor import FakeTensorMode

from wan22_desktop.engine.wan import fp8 as fp8_mod
from wan22_desktop.engine.wan import fp8_io
from wan22_desktop.engine.wan.dit_io import load_dit
from wan22_desktop.engine.wan.fp8 import (
    FP8Linear,
    is_quantized,
    quantizable_linears,
    quantize_dit,
    quantize_weight,
    scaled_mm_ok,
)
from wan22_desktop.engine.wan.fp8_io import CACHE_NAME, load_dit_fp8
from wan22_desktop.engine.wan.pipelines import MemoryConfig, WanPipeline
from wan22_desktop.engine.wan.tiny import make_tiny_checkpoint

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a.float() - b.float()).norm() / b.float().norm()).item()


def _layer_errors(out_f: int, in_f: int, seed: int) -> tuple[float, float]:
    gen = torch.Generator().manual_seed(seed)
    lin = nn.Linear(in_f, out_f)
    with torch.no_grad():
        lin.weight.copy_(torch.randn(out_f, in_f, generator=gen) / in_f**0.5)
    q = FP8Linear.from_linear(lin)
    x = torch.randn(64, in_f, generator=gen)
    with torch.no_grad():
        return _rel(q.dequantized(), lin.weight), _rel(q(x), lin(x))


@pytest.mark.parametrize("shape", [(32, 32), (96, 32), (48, 64)])
def test_per_layer_error_on_tiny_layers(shape) -> None:
    w_err, y_err = _layer_errors(*shape, seed=1)
    print(f"fp8 {shape}: weight rel. error {w_err:.4f}, output rel. error {y_err:.4f}")
    # e4m3 keeps 3 mantissa bits: a relative rounding error <= 2^-4 per element, ~2.5 % rms
    assert 0.0 < w_err < 0.04 and 0.0 < y_err < 0.04


def test_per_layer_error_on_a_full_size_layer() -> None:
    """One 5120 x 5120 layer (the A14B width), Gaussian weights."""
    w_err, y_err = _layer_errors(5120, 5120, seed=2)
    print(f"fp8 5120x5120: weight rel. error {w_err:.4f}, output rel. error {y_err:.4f}")
    assert 0.0 < w_err < 0.04 and 0.0 < y_err < 0.04


def test_quantised_weight_is_e4m3_with_per_channel_scales() -> None:
    w = torch.randn(8, 16)
    w[3] = 0.0  # an all-zero row gets scale 1, not a division by zero
    w[5] *= 1000.0
    q, scale = quantize_weight(w)
    assert q.dtype == torch.float8_e4m3fn and scale.dtype == torch.float32 and scale.shape == (8,)
    assert q.float().abs().amax(dim=1)[[0, 5]].tolist() == [448.0, 448.0]
    assert scale[3].item() == 1.0 and (q[3].float() == 0).all()


def test_cpu_forward_is_the_dequantised_linear() -> None:
    torch.manual_seed(0)
    lin = nn.Linear(32, 48)
    q = FP8Linear.from_linear(lin)
    x = torch.randn(2, 5, 32)
    with torch.no_grad():
        want = F.linear(x, q.dequantized(), lin.bias)
        got = q(x)
    assert got.shape == want.shape and got.dtype == torch.float32
    assert torch.allclose(got, want, atol=1e-5, rtol=1e-5)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        assert q(x).dtype == torch.bfloat16  # what nn.Linear gives under autocast


def test_fp8_layers_are_plain_buffers_that_survive_dtype_casts() -> None:
    """Streaming copies parameters and buffers; a ``.to(dtype)`` must not re-cast the e4m3 bits."""
    q = FP8Linear.from_linear(nn.Linear(32, 16))
    assert {n for n, _ in q.named_buffers()} == {"weight", "weight_scale", "bias"}
    assert not list(q.parameters())
    bits = q.weight.clone()
    q.to(torch.bfloat16)
    assert q.weight.dtype == torch.uint8 and torch.equal(q.weight, bits)
    assert q.weight_fp8.dtype == torch.float8_e4m3fn


def test_quantize_dit_converts_the_block_linears_only(tmp_path) -> None:
    path = make_tiny_checkpoint("ti2v-5B", tmp_path / "ckpt", seed=3)
    dit = load_dit(path)
    names = quantizable_linears(dit)
    assert names and all(n.startswith("blocks.") for n in names)
    quantize_dit(dit)
    assert is_quantized(dit)
    assert all(isinstance(dit.get_submodule(n), FP8Linear) for n in names)
    assert isinstance(dit.text_embedding[0], nn.Linear) and isinstance(dit.head.head, nn.Linear)
    full = sum(t.numel() for t in load_dit(path).state_dict().values())
    print(f"tiny DiT: {len(names)} Linears quantised")
    assert sum(t.numel() for t in dit.state_dict().values()) > full  # + one scale per row


def _meta_contract(calls: list[dict]):
    """A ``torch._scaled_mm`` stand-in: checks the call on meta tensors (torch's own meta kernel
    enforces dtypes, layouts and scale shapes) and returns the emulated product."""

    real = torch._scaled_mm

    def scaled_mm(a, b, *, scale_a, scale_b, out_dtype):
        meta = real(
            a.to("meta"),
            b.to("meta"),
            scale_a=scale_a.to("meta"),
            scale_b=scale_b.to("meta"),
            out_dtype=out_dtype,
        )
        calls.append(
            dict(
                a=a.dtype, b=b.dtype, col_major=b.stride(0) == 1, sa=scale_a.shape, sb=scale_b.shape
            )
        )
        out = (a.float() * scale_a) @ (b.float() * scale_b)
        assert out.shape == meta.shape
        return out.to(out_dtype)

    return scaled_mm


def test_scaled_mm_path_contract_and_error(monkeypatch) -> None:
    """The sm89+ path, run on the CPU with the kernel emulated: fp8 x fp8 with row-wise scales."""
    torch.manual_seed(0)
    lin = nn.Linear(64, 32)
    q = FP8Linear.from_linear(lin)
    calls: list[dict] = []
    monkeypatch.setattr(torch, "_scaled_mm", _meta_contract(calls))
    monkeypatch.setattr(fp8_mod, "scaled_mm_ok", lambda x, layer, dtype: True)
    x = torch.randn(3, 7, 64)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        y = q(x)
    assert calls == [
        dict(
            a=torch.float8_e4m3fn,
            b=torch.float8_e4m3fn,
            col_major=True,
            sa=(21, 1),
            sb=(1, 32),
        )
    ]
    assert y.shape == (3, 7, 32) and y.dtype == torch.bfloat16
    with torch.no_grad():
        err = _rel(y, lin(x))
    print(f"fp8 scaled-mm path (activations quantised per token too): output rel. error {err:.4f}")
    assert err < 0.06


def test_scaled_mm_is_chosen_only_on_cuda_8_9_with_bf16_and_16_multiples() -> None:
    layer = FP8Linear(64, 32)
    odd = FP8Linear(60, 32)
    with (
        mock.patch("torch.cuda.is_available", return_value=True),
        FakeTensorMode(allow_non_fake_inputs=True),
    ):
        x = torch.empty(4, 64, device="cuda:0", dtype=torch.bfloat16)
        for cap, want in (((9, 0), True), ((8, 9), True), ((8, 6), False)):
            with mock.patch("torch.cuda.get_device_capability", return_value=cap):
                assert scaled_mm_ok(x, layer, torch.bfloat16) is want
        with mock.patch("torch.cuda.get_device_capability", return_value=(9, 0)):
            assert not scaled_mm_ok(x, odd, torch.bfloat16)
            assert not scaled_mm_ok(x, layer, torch.float32)
    assert not scaled_mm_ok(torch.empty(4, 64, dtype=torch.bfloat16), layer, torch.bfloat16)


def test_a_failing_scaled_mm_falls_back_for_good(monkeypatch) -> None:
    q = FP8Linear.from_linear(nn.Linear(32, 16))
    monkeypatch.setattr(fp8_mod, "scaled_mm_ok", lambda x, layer, dtype: True)

    def broken(*args, **kwargs):
        raise RuntimeError("no row-wise fp8 here")

    monkeypatch.setattr(torch, "_scaled_mm", broken)
    x = torch.randn(4, 32)
    with torch.no_grad():
        y = q(x)
    assert not q.use_scaled_mm
    assert torch.allclose(y, F.linear(x, q.dequantized(), q.bias), atol=1e-5)


# ---- the loader and its cache ------------------------------------------------------------------


@pytest.fixture
def ckpt(tmp_path) -> Path:
    return make_tiny_checkpoint("ti2v-5B", tmp_path / "ckpt", seed=3)


def _same(a: nn.Module, b: nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def _count_full_loads(monkeypatch) -> list[Path]:
    seen: list[Path] = []
    real = fp8_io.load_dit

    def spy(folder, **kw):
        seen.append(Path(folder))
        return real(folder, **kw)

    monkeypatch.setattr(fp8_io, "load_dit", spy)
    return seen


def test_first_load_quantises_and_writes_a_verified_cache(ckpt, monkeypatch, tmp_path) -> None:
    full = _count_full_loads(monkeypatch)
    first = load_dit_fp8(ckpt, fallback_dir=tmp_path / "cache")
    cache = ckpt / CACHE_NAME
    assert cache.is_file() and full == [ckpt]
    with safe_open(str(cache), framework="pt") as f:
        meta = f.metadata()
    assert meta["format"] == fp8_io.FORMAT and meta["format_version"] == fp8_io.FORMAT_VERSION
    assert {s["name"] for s in json.loads(meta["sources"])} >= {"config.json"}
    second = load_dit_fp8(ckpt, fallback_dir=tmp_path / "cache")
    assert full == [ckpt]  # from the cache: the original weights were not read again
    assert is_quantized(second) and _same(first, second)
    reference = quantize_dit(load_dit(ckpt))
    assert _same(second, reference)


@pytest.mark.parametrize("change", ["touch_source", "truncate", "garbage", "extra_key", "dtype"])
def test_a_cache_that_does_not_match_is_rebuilt(ckpt, monkeypatch, change) -> None:
    load_dit_fp8(ckpt)
    cache = ckpt / CACHE_NAME
    kw: dict = {}
    if change == "touch_source":
        shard = next(ckpt.glob("diffusion_pytorch_model*.safetensors"))
        st = shard.stat()
        os.utime(shard, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    elif change == "truncate":
        data = cache.read_bytes()
        cache.write_bytes(data[: len(data) // 2])
    elif change == "garbage":
        cache.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}")
    elif change == "extra_key":
        kw["extra_key"] = "lora:abc@1.0"
    else:
        kw["dtype"] = torch.bfloat16
    full = _count_full_loads(monkeypatch)
    model = load_dit_fp8(ckpt, **kw)
    assert full == [ckpt]  # rebuilt from the original files
    assert _same(model, quantize_dit(load_dit(ckpt, dtype=kw.get("dtype"))))
    full.clear()
    load_dit_fp8(ckpt, **kw)
    assert full == []  # and the rebuilt cache is used next time


def test_read_only_model_folder_uses_the_app_cache(ckpt, tmp_path, monkeypatch) -> None:
    """A model folder we may not write to (simulated: the tests may run as root)."""
    real_save = fp8_io.save_file

    def save(state, filename, metadata=None):
        if Path(filename).parent == ckpt.resolve():
            raise PermissionError(13, "Permission denied", filename)
        return real_save(state, filename, metadata=metadata)

    monkeypatch.setattr(fp8_io, "save_file", save)
    load_dit_fp8(ckpt, fallback_dir=tmp_path / "app-cache")
    assert not (ckpt / CACHE_NAME).exists() and not list(ckpt.glob("*.tmp"))
    written = list((tmp_path / "app-cache").glob("*-wan22-fp8.safetensors"))
    assert len(written) == 1 and written[0].name.startswith("ckpt-")
    full = _count_full_loads(monkeypatch)
    load_dit_fp8(ckpt, fallback_dir=tmp_path / "app-cache")
    assert full == []


def test_prepare_runs_before_quantising(ckpt) -> None:
    """The LoRA hook: weight changes are quantised, not lost."""

    def zero_first_q(model):
        with torch.no_grad():
            model.blocks[0].self_attn.q.weight.zero_()

    model = load_dit_fp8(ckpt, prepare=zero_first_q, extra_key="zeroed", use_cache=False)
    assert (model.blocks[0].self_attn.q.weight_fp8.float() == 0).all()


# ---- end to end ------------------------------------------------------------------------------


def test_tiny_video_with_fp8_weights_vs_bf16(tmp_path) -> None:
    path = make_tiny_checkpoint("ti2v-5B", tmp_path / "ckpt", seed=3)
    kw = dict(size="32*32", frame_num=5, sample_steps=4, seed=7)
    bf16 = WanPipeline.from_checkpoint(
        path, "ti2v-5B", device="cpu", memory=MemoryConfig(convert_model_dtype=True)
    )
    fp8 = WanPipeline.from_checkpoint(
        path, "ti2v-5B", device="cpu", memory=MemoryConfig(convert_model_dtype=True, fp8=True)
    )
    assert is_quantized(next(iter(fp8.experts.values())))
    a = bf16.generate("a cat running", **kw).video
    b = fp8.generate("a cat running", **kw).video
    assert a is not None and b is not None and a.shape == b.shape
    d = np.abs(a - b)
    print(f"tiny ti2v video, fp8 vs bf16 DiT weights: max |d| {d.max():.4f}, mean {d.mean():.5f}")
    assert 0.0 < d.max() <= 0.25 and d.mean() <= 0.03


@pytest.mark.parametrize("task", ["t2v-A14B", "ti2v-5B"])
def test_full_size_expert_bytes_on_meta(task) -> None:
    """What FP8 saves at full size (meta tensors, no storage): the planner's weight figures."""
    from wan22_desktop.engine.wan.dit import WanDiT
    from wan22_desktop.engine.wan.dit_config import preset

    with torch.device("meta"):
        dit = WanDiT(preset(task))
    bf16 = sum(t.numel() * 2 for t in dit.state_dict().values())
    quantize_dit(dit)
    fp8 = sum(
        t.numel() * (t.element_size() if t.dtype in (torch.uint8, torch.float32) else 2)
        for t in dit.state_dict().values()
    )
    # the unquantised rest (embeddings, norms, modulation, head) counted in bf16, scales fp32
    print(f"{task} expert: bf16 {bf16 / 2**30:.2f} GiB, fp8 {fp8 / 2**30:.2f} GiB")
    assert 0.5 < fp8 / bf16 < 0.53
