"""The usable text encoder: cleaning, tokenization to text_len, trimming, devices, loading from files."""

from __future__ import annotations

import pytest
import torch

from wan22_desktop.engine.wan.t5_io import (
    T5_CHECKPOINT_NAME,
    save_t5_encoder,
    tiny_t5,
    write_tiny_tokenizer,
)
from wan22_desktop.engine.wan.text_encoder import (
    TEXT_LEN,
    T5TextEncoder,
    clean_prompt,
    load_text_encoder,
    load_tokenizer,
    resolve_t5_device,
)
from wan22_desktop.errors import UserInputError

NEG_PROMPT_START = "色调艳丽，过曝，静态，细节模糊不清，字幕，风格，作品，画作，画面，静止，整体发灰，最差质量，低质量"


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    return load_tokenizer(
        write_tiny_tokenizer(tmp_path_factory.mktemp("tok") / "google" / "umt5-xxl")
    )


@pytest.fixture(scope="module")
def encoder(tokenizer) -> T5TextEncoder:
    return T5TextEncoder(tiny_t5(seed=21, vocab_size=len(tokenizer)), tokenizer, text_len=64)


@pytest.mark.parametrize(
    "raw,clean",
    [
        ("  a \t cat\n\n running  ", "a cat running"),
        ("Tom &amp;amp; Jerry", "Tom & Jerry"),  # unescaped twice, as official
        ("&lt;b&gt;bold&lt;/b&gt;", "<b>bold</b>"),
        ("cafÃ©", "café"),  # ftfy repairs mojibake
        ("一只猫\u3000在草地上\n奔跑", "一只猫 在草地上 奔跑"),  # ideographic space is whitespace
        ("a\u00a0b", "a b"),
        ("", ""),
    ],
)
def test_clean_prompt_is_the_official_whitespace_clean(raw: str, clean: str) -> None:
    assert clean_prompt(raw) == clean


def test_tokenize_pads_to_text_len_with_mask_and_eos(encoder: T5TextEncoder, tokenizer) -> None:
    ids, mask = encoder.tokenize(["a cat running on the grass", "  a   dog  "])
    assert ids.shape == mask.shape == (2, 64) and ids.dtype == torch.int64
    n = mask.sum(1).tolist()
    assert n == [7, 3]  # words + </s>
    for row, length in zip(ids, n):
        assert row[length - 1].item() == tokenizer.eos_token_id == 1
        assert (row[length:] == tokenizer.pad_token_id).all() and tokenizer.pad_token_id == 0
    assert mask[0, :7].all() and not mask[0, 7:].any()


def test_tokenize_default_text_len_is_512(tokenizer) -> None:
    enc = T5TextEncoder(tiny_t5(seed=1, vocab_size=len(tokenizer)), tokenizer)
    ids, mask = enc.tokenize("a cat")
    assert enc.text_len == TEXT_LEN == 512 and ids.shape == (1, 512) and mask.sum().item() == 3


def test_encode_trims_each_prompt_to_its_real_length(encoder: T5TextEncoder) -> None:
    prompts = ["a cat running on the grass", "一只猫在草地上奔跑", ""]
    out = encoder.encode(prompts)
    ids, mask = encoder.tokenize(prompts)
    full = encoder.model(ids, mask)
    lengths = mask.sum(1).tolist()
    assert lengths[2] == 1  # an empty prompt is just </s>
    assert [tuple(t.shape) for t in out] == [(n, 32) for n in lengths]
    for i, t in enumerate(out):
        assert torch.equal(t, full[i, : lengths[i]])


def test_chinese_prompt_tokenizes_to_known_pieces_and_encodes(
    encoder: T5TextEncoder, tokenizer
) -> None:
    ids, mask = encoder.tokenize(NEG_PROMPT_START)
    n = int(mask.sum())
    pieces = tokenizer.convert_ids_to_tokens(ids[0, :n].tolist())
    assert tokenizer.unk_token not in pieces
    assert "".join(pieces[:-1]).replace("▁", "") == clean_prompt(NEG_PROMPT_START).replace(" ", "")
    (emb,) = encoder.encode(NEG_PROMPT_START)
    assert emb.shape == (n, 32) and torch.isfinite(emb).all()


def test_batch_equals_one_prompt_at_a_time(encoder: T5TextEncoder) -> None:
    prompts = ["a red car on the street at night", "一只鸟在天空飞"]
    batch = encoder(prompts)
    for prompt, emb in zip(prompts, batch):
        (alone,) = encoder([prompt])
        assert torch.allclose(emb, alone, atol=1e-6, rtol=0)


def test_long_prompt_is_truncated_to_text_len_ending_in_eos(
    encoder: T5TextEncoder, tokenizer
) -> None:
    ids, mask = encoder.tokenize("a cat " * 100)
    assert mask.all() and ids[0, -1].item() == tokenizer.eos_token_id
    (emb,) = encoder.encode("a cat " * 100)
    assert emb.shape == (64, 32)


def test_cleaning_happens_before_tokenization(encoder: T5TextEncoder) -> None:
    a = encoder.tokenize("  a   cat &amp;amp;\n dog ")[0]
    b = encoder.tokenize("a cat & dog")[0]
    assert torch.equal(a, b)


def test_outputs_go_to_output_device(tokenizer) -> None:
    """The t5_cpu split: weights where they are, embeddings moved to the pipeline's device."""
    enc = T5TextEncoder(
        tiny_t5(seed=2, vocab_size=len(tokenizer)), tokenizer, text_len=16, output_device="meta"
    )
    (emb,) = enc.encode("a cat")
    assert enc.device.type == "cpu" and emb.device.type == "meta" and emb.shape == (3, 32)


def test_token_ids_beyond_the_embedding_are_a_user_error(tokenizer) -> None:
    enc = T5TextEncoder(tiny_t5(seed=3, vocab_size=8), tokenizer, text_len=16)
    with pytest.raises(UserInputError, match="only 8 embeddings"):
        enc.encode("a cat running")


@pytest.mark.parametrize(
    "device,t5_cpu,cuda,expected",
    [
        ("cuda", False, True, "cuda"),
        ("cuda:1", False, True, "cuda:1"),
        ("cuda", True, True, "cpu"),
        ("cuda", False, False, "cpu"),  # the CPU fallback
        ("cpu", False, False, "cpu"),
        ("cpu", True, True, "cpu"),
    ],
)
def test_resolve_t5_device(device: str, t5_cpu: bool, cuda: bool, expected: str) -> None:
    assert resolve_t5_device(device, t5_cpu, cuda) == torch.device(expected)


def _checkpoint_folder(tmp_path, tokenizer_vocab: int):
    save_t5_encoder(tiny_t5(seed=4, vocab_size=tokenizer_vocab), tmp_path / T5_CHECKPOINT_NAME)
    return tmp_path / T5_CHECKPOINT_NAME, write_tiny_tokenizer(tmp_path / "google" / "umt5-xxl")


def test_load_text_encoder_from_an_official_layout(tmp_path, tokenizer) -> None:
    ckpt, tok_dir = _checkpoint_folder(tmp_path, len(tokenizer))
    assert sorted(p.name for p in tok_dir.iterdir()) == [
        "special_tokens_map.json",
        "tokenizer.json",
        "tokenizer_config.json",
    ]  # the real folder has these plus spiece.model, which AutoTokenizer does not need
    enc = load_text_encoder(
        ckpt, tok_dir, device="cpu", dtype=torch.float32, text_len=32, expected=None
    )
    assert enc.dtype == torch.float32 and enc.device.type == "cpu"
    (emb,) = enc("一只猫在草地上奔跑")
    assert emb.dtype == torch.float32 and emb.shape[1] == 32
    bf16 = load_text_encoder(ckpt, tok_dir, dtype=torch.bfloat16, text_len=32, expected=None)
    (emb16,) = bf16("一只猫在草地上奔跑")
    assert emb16.dtype == torch.bfloat16 and emb16.shape == emb.shape
    assert torch.allclose(emb16.float(), emb, atol=0.1)  # the file is bf16; only activations differ


@pytest.mark.skipif(torch.cuda.is_available(), reason="tests the no-CUDA fallback")
def test_load_text_encoder_falls_back_to_cpu_without_cuda(tmp_path, tokenizer) -> None:
    ckpt, tok_dir = _checkpoint_folder(tmp_path, len(tokenizer))
    enc = load_text_encoder(
        ckpt, tok_dir, device="cuda", dtype=torch.float32, text_len=16, expected=None
    )
    assert enc.device.type == "cpu" and enc.encode("a cat")[0].device.type == "cpu"


def test_load_text_encoder_rejects_a_tiny_file_as_umt5_xxl(tmp_path, tokenizer) -> None:
    ckpt, tok_dir = _checkpoint_folder(tmp_path, len(tokenizer))
    with pytest.raises(UserInputError, match="another size"):
        load_text_encoder(ckpt, tok_dir, text_len=16)


def test_missing_tokenizer_folder(tmp_path) -> None:
    with pytest.raises(UserInputError, match="tokenizer not found") as info:
        load_tokenizer(tmp_path / "google" / "umt5-xxl")
    assert "tokenizer.json" in info.value.hint


@pytest.mark.parametrize("drop", ["tokenizer_config.json", "special_tokens_map.json"])
def test_either_config_file_is_enough(tmp_path, drop: str) -> None:
    folder = write_tiny_tokenizer(tmp_path / "tok")
    (folder / drop).unlink()
    tok = load_tokenizer(folder)
    assert (tok.pad_token_id, tok.eos_token_id) == (0, 1)
    assert tok("a cat")["input_ids"][-1] == 1


def test_tokenizer_without_special_token_files_is_rejected(tmp_path) -> None:
    folder = write_tiny_tokenizer(tmp_path / "tok")
    (folder / "tokenizer_config.json").unlink()
    (folder / "special_tokens_map.json").unlink()
    with pytest.raises(UserInputError, match="no pad or end-of-sequence token") as info:
        load_tokenizer(folder)
    assert "tokenizer_config.json" in info.value.hint


def test_broken_tokenizer_json(tmp_path) -> None:
    folder = write_tiny_tokenizer(tmp_path / "tok")
    (folder / "tokenizer.json").write_text("{ not json", encoding="utf-8")
    with pytest.raises(UserInputError, match="cannot load the umT5 tokenizer") as info:
        load_tokenizer(folder)
    assert str(folder) in info.value.message
