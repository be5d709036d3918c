"""Loading and saving the official umT5 file format, and the loader's errors on bad files."""

from __future__ import annotations

import pytest
import torch

from wan22_desktop.engine.wan.t5 import T5Encoder
from wan22_desktop.engine.wan.t5_config import T5Config
from wan22_desktop.engine.wan.t5_io import (
    T5_CHECKPOINT_NAME,
    load_t5_encoder,
    read_t5_state_dict,
    save_t5_encoder,
    t5_encoder_from_state_dict,
    tiny_t5,
    tiny_t5_config,
)
from wan22_desktop.errors import UserInputError


@pytest.fixture()
def tiny_file(tmp_path):
    model = tiny_t5(seed=11, vocab_size=64)
    return model, save_t5_encoder(model, tmp_path / T5_CHECKPOINT_NAME, dtype=torch.float32)


def test_saved_file_is_a_plain_state_dict_with_official_keys(tiny_file) -> None:
    model, path = tiny_file
    raw = torch.load(path, map_location="cpu", weights_only=True)
    assert type(raw) is dict
    assert list(raw) == list(model.state_dict())
    assert "token_embedding.weight" in raw and "blocks.1.pos_embedding.embedding.weight" in raw
    assert not path.with_name(path.name + ".partial").exists()


def test_round_trip_fp32_is_exact(tiny_file) -> None:
    model, path = tiny_file
    loaded = load_t5_encoder(path)
    assert loaded.config == model.config
    assert not loaded.training and not any(p.requires_grad for p in loaded.parameters())
    for k, v in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[k], v), k
    ids = torch.randint(0, 64, (2, 10), generator=torch.Generator().manual_seed(0))
    assert torch.equal(loaded(ids), model(ids))


def test_default_save_is_bf16_and_load_keeps_or_casts_dtype(tmp_path) -> None:
    model = tiny_t5(seed=12, vocab_size=64)
    path = save_t5_encoder(model, tmp_path / "t5.pth")
    assert {v.dtype for v in torch.load(path, weights_only=True).values()} == {torch.bfloat16}
    kept = load_t5_encoder(path)
    assert {p.dtype for p in kept.parameters()} == {torch.bfloat16}
    cast = load_t5_encoder(path, dtype=torch.float32)
    assert {p.dtype for p in cast.parameters()} == {torch.float32}
    assert torch.equal(
        cast.token_embedding.weight, model.token_embedding.weight.to(torch.bfloat16).float()
    )


def test_loader_assigns_mmapped_tensors_instead_of_copying(tiny_file) -> None:
    _, path = tiny_file
    sd = read_t5_state_dict(path)
    model = t5_encoder_from_state_dict(sd)
    assert model.token_embedding.weight.data_ptr() == sd["token_embedding.weight"].data_ptr()
    assert not any(p.is_meta for p in model.parameters())


def test_expected_config_mismatch_is_reported(tiny_file) -> None:
    _, path = tiny_file
    other = tiny_t5_config(64, num_layers=3)
    with pytest.raises(UserInputError, match="another size") as info:
        load_t5_encoder(path, expected=other)
    assert str(path) in info.value.message and info.value.hint


def test_missing_file(tmp_path) -> None:
    with pytest.raises(UserInputError, match="not found") as info:
        load_t5_encoder(tmp_path / "nope.pth")
    assert T5_CHECKPOINT_NAME in info.value.hint


def test_truncated_file_names_the_file(tiny_file) -> None:
    _, path = tiny_file
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(UserInputError, match="truncated or corrupt") as info:
        load_t5_encoder(path)
    assert str(path) in info.value.message
    assert "\n" not in info.value.message and "download" in info.value.hint


def test_garbage_file(tmp_path) -> None:
    path = tmp_path / "t5.pth"
    path.write_bytes(b"this is not a checkpoint at all" * 10)
    with pytest.raises(UserInputError, match="unreadable") as info:
        load_t5_encoder(path)
    assert str(path) in info.value.message


def test_vae_shaped_state_dict_is_rejected_as_foreign(tmp_path) -> None:
    vae_like = {
        "encoder.conv1.weight": torch.randn(8, 3, 3, 3, 3),
        "encoder.conv1.bias": torch.randn(8),
        "decoder.head.2.weight": torch.randn(3, 8, 3, 3, 3),
        "conv1.weight": torch.randn(32, 32, 1, 1, 1),
    }
    path = tmp_path / "Wan2.1_VAE.pth"
    torch.save(vae_like, path)
    with pytest.raises(UserInputError, match="not a umT5 encoder checkpoint") as info:
        load_t5_encoder(path)
    assert str(path) in info.value.message and "another model" in info.value.hint


def test_extra_and_missing_keys_are_listed(tiny_file) -> None:
    model, path = tiny_file
    sd = dict(model.state_dict())
    del sd["blocks.0.ffn.fc2.weight"]
    sd["blocks.0.ffn.fc3.weight"] = torch.zeros(1)
    torch.save(sd, path)
    with pytest.raises(
        UserInputError, match=r"missing 1 \(blocks.0.ffn.fc2.weight\); unexpected 1"
    ):
        load_t5_encoder(path)


def test_inconsistent_layer_shapes_are_rejected(tiny_file) -> None:
    model, path = tiny_file
    sd = dict(model.state_dict())
    sd["blocks.1.ffn.fc1.weight"] = torch.zeros(7, 32)
    torch.save(sd, path)
    with pytest.raises(UserInputError, match="inconsistent tensor shapes"):
        load_t5_encoder(path)


def test_pickled_objects_are_refused(tmp_path) -> None:
    path = tmp_path / "t5.pth"
    torch.save(
        {"token_embedding.weight": torch.zeros(2, 2), "config": T5Config(2, 2, 2, 2, 1, 1)}, path
    )
    with pytest.raises(UserInputError, match="Python objects") as info:
        load_t5_encoder(path)
    assert str(path) in info.value.message


def test_non_dict_file_is_refused(tmp_path) -> None:
    path = tmp_path / "t5.pth"
    torch.save([torch.zeros(2)], path)
    with pytest.raises(UserInputError, match="not a state dict"):
        load_t5_encoder(path)


def test_tiny_t5_is_seeded_and_fully_random() -> None:
    a, b, c = (
        tiny_t5(seed=1, vocab_size=32),
        tiny_t5(seed=1, vocab_size=32),
        tiny_t5(seed=2, vocab_size=32),
    )
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    assert not torch.equal(a.blocks[0].attn.q.weight, c.blocks[0].attn.q.weight)
    assert not torch.equal(a.norm.weight, torch.ones_like(a.norm.weight))  # norms randomized too
    assert isinstance(a, T5Encoder) and a.config.vocab_size == 32
