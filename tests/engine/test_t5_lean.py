"""The lean T5: trimmed encoding (bit-identical to the official padded run), the cached negative
prompt, and fp32 compute for bf16 weights on a CPU without bf16 units."""

from __future__ import annotations

import copy

import pytest
import torch

from wan22_desktop.engine.wan import text_encoder as te_mod
from wan22_desktop.engine.wan.pipelines import WanPipeline
from wan22_desktop.engine.wan.t5_io import tiny_t5, write_tiny_tokenizer
from wan22_desktop.engine.wan.text_encoder import (
    MIN_RUN,
    T5TextEncoder,
    load_tokenizer,
    t5_compute_dtype,
)
from wan22_desktop.engine.wan.tiny import make_tiny_checkpoint

pytestmark = pytest.mark.usefixtures("one_torch_thread")

PROMPTS = ["a cat running on the grass", "一只猫在草地上奔跑", "", "a red car " * 3]


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    return load_tokenizer(
        write_tiny_tokenizer(tmp_path_factory.mktemp("tok") / "google" / "umt5-xxl")
    )


def _encoder(tokenizer, dtype: torch.dtype, **kw) -> T5TextEncoder:
    model = tiny_t5(seed=21, vocab_size=len(tokenizer)).to(dtype)
    return T5TextEncoder(model, tokenizer, text_len=64, **kw)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_trimmed_encode_is_bit_identical_to_the_padded_one(tokenizer, dtype) -> None:
    trimmed = _encoder(tokenizer, dtype)
    padded = _encoder(tokenizer, dtype, trim=False)
    # one prompt per run, as the pipeline encodes (a batch of B prompts vs one differs by
    # GEMM blocking alone, with or without trimming)
    a = trimmed.encode(PROMPTS)
    b = [padded.encode([p])[0] for p in PROMPTS]
    _, mask = trimmed.tokenize(PROMPTS)
    assert [tuple(t.shape) for t in a] == [(int(n), 32) for n in mask.sum(1)]
    for x, y in zip(a, b):
        assert x.dtype == y.dtype == dtype
        delta = (x.float() - y.float()).abs().max().item()
        print(f"trimmed vs padded {dtype}: max |d| = {delta}")
        assert delta == 0.0 and torch.equal(x, y)


def test_trimmed_run_sees_only_the_real_tokens(tokenizer) -> None:
    enc = _encoder(tokenizer, torch.float32)
    seen: list[int] = []
    enc.model.blocks[0].register_forward_pre_hook(lambda m, args: seen.append(args[0].shape[1]))
    enc.encode(["a cat running on the grass " * 3])
    assert seen == [19]  # the words + </s>, not text_len
    enc.encode(["a cat"])
    assert seen[-1] == MIN_RUN  # never shorter (the same kernels as the padded run)


def test_negative_prompt_is_encoded_once_per_text_dtype_and_device(tokenizer) -> None:
    enc = _encoder(tokenizer, torch.float32)
    runs: list[int] = []
    enc.model.register_forward_pre_hook(lambda m, args: runs.append(1))
    first = enc.encode_cached("blurry, static")
    again = enc.encode_cached("blurry, static")
    assert len(runs) == 1 and again[0] is first[0]
    assert torch.equal(first[0], enc.encode(["blurry, static"])[0])
    enc.encode_cached("another text")
    assert len(runs) == 3  # one more for the new text (plus the plain encode above)
    enc.model.to(torch.bfloat16)  # another dtype is another key
    enc.encode_cached("blurry, static")
    assert len(runs) == 4


def test_a_warm_pipeline_encodes_the_default_negative_once(tmp_path) -> None:
    path = make_tiny_checkpoint("ti2v-5B", tmp_path / "ti2v", seed=3)
    pipe = WanPipeline.from_checkpoint(path, "ti2v-5B", device="cpu", dtype=torch.float32)
    texts: list[str] = []
    real_encode = pipe.text_encoder.encode

    def spy(prompts):
        texts.extend([prompts] if isinstance(prompts, str) else prompts)
        return real_encode(prompts)

    pipe.text_encoder.encode = spy  # type: ignore[method-assign]
    kw = dict(size="32*32", frame_num=5, sample_steps=1, seed=1)
    a = pipe.generate("a dog", **kw)
    b = pipe.generate("a dog", **kw)
    pipe.generate("a cat", **kw)
    assert texts.count("a dog") == 2 and texts.count("a cat") == 1
    assert len(texts) == 4  # three prompts + the default negative once
    assert (a.video == b.video).all()


@pytest.mark.parametrize("native,expected", [(True, torch.bfloat16), (False, torch.float32)])
def test_cpu_without_bf16_units_computes_t5_in_fp32(monkeypatch, native, expected) -> None:
    monkeypatch.setattr(te_mod, "cpu_has_native_bf16", lambda: native)
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert t5_compute_dtype(cpu, torch.bfloat16) == expected
    assert t5_compute_dtype(cuda, torch.bfloat16) == torch.bfloat16  # the GPU keeps bf16
    assert t5_compute_dtype(cpu, torch.float32) == torch.float32


def test_cpu_bf16_detection_answers_a_bool() -> None:
    assert isinstance(te_mod.cpu_has_native_bf16(), bool)


def test_fp32_compute_of_bf16_weights_differs_only_by_bf16_rounding(tokenizer) -> None:
    fp32_compute = _encoder(tokenizer, torch.bfloat16, compute_dtype=torch.float32)
    bf16_compute = _encoder(tokenizer, torch.bfloat16)
    # the same bf16 weights, as an fp32 model: what fp32 compute must equal exactly
    reference = T5TextEncoder(copy.deepcopy(fp32_compute.model).float(), tokenizer, text_len=64)
    a = fp32_compute.encode(PROMPTS)
    b = bf16_compute.encode(PROMPTS)
    ref = reference.encode(PROMPTS)
    assert all(p.dtype == torch.bfloat16 for p in fp32_compute.model.parameters())
    worst = 0.0
    for x, y, r in zip(a, b, ref):
        assert x.dtype == torch.bfloat16 and x.shape == y.shape
        assert torch.equal(x, r.to(torch.bfloat16))
        worst = max(worst, (x.float() - y.float()).abs().max().item())
    scale = max(t.float().abs().max().item() for t in b)
    print(f"T5 fp32 vs bf16 compute (bf16 weights): max |d| = {worst:.4g} (max |x| {scale:.3g})")
    assert 0.0 < worst <= 0.05 * scale
