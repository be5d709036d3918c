"""Loading and writing DiT folders in the official layout (tiny checkpoints made here)."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from wan22_desktop.engine.wan.dit import WanDiT
from wan22_desktop.engine.wan.dit_config import DiTConfig, tiny_dit_config
from wan22_desktop.engine.wan.dit_io import (
    INDEX_NAME,
    SINGLE_NAME,
    load_dit,
    save_dit,
    shard_name,
    weight_files,
)
from wan22_desktop.errors import UserInputError


def _random_dit(cfg: DiTConfig, seed: int = 0) -> WanDiT:
    torch.manual_seed(seed)
    model = WanDiT(cfg).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.2)
    return model


@pytest.fixture
def tiny_folder(tmp_path):
    cfg = tiny_dit_config("i2v-A14B", text_len=16)
    model = _random_dit(cfg)
    folder = tmp_path / "high_noise_model"
    written = save_dit(model, cfg, folder, max_shard_bytes=20_000)
    return cfg, model, folder, written


def test_save_writes_official_layout(tiny_folder):
    cfg, model, folder, written = tiny_folder
    config_text = (folder / "config.json").read_text()
    assert config_text == json.dumps(json.loads(config_text), indent=2, sort_keys=True) + "\n"
    data = json.loads(config_text)
    assert data["_class_name"] == "WanModel" and data["model_type"] == "i2v"
    assert data["in_dim"] == 36 and data["text_dim"] == 32 and data["text_len"] == 16

    index = json.loads((folder / INDEX_NAME).read_text())
    shards = sorted(set(index["weight_map"].values()))
    n = len(shards)
    assert n > 1 and shards == [shard_name(k, n) for k in range(1, n + 1)]
    assert shard_name(1, 6) == "diffusion_pytorch_model-00001-of-00006.safetensors"
    sd = model.state_dict()
    assert set(index["weight_map"]) == set(sd)
    assert index["metadata"]["total_size"] == sum(t.numel() * 4 for t in sd.values())
    for name in shards:
        with safe_open(str(folder / name), framework="pt") as f:
            assert f.metadata() == {"format": "pt"}
            for key in f.keys():
                assert index["weight_map"][key] == name
                tensor = f.get_tensor(key)
                assert tensor.dtype == torch.float32 and torch.equal(tensor, sd[key])
    assert not list(folder.glob("*.tmp"))
    assert {p.name for p in written} == {"config.json", INDEX_NAME, *shards}


def test_load_round_trip_gives_same_outputs(tiny_folder):
    cfg, model, folder, _ = tiny_folder
    loaded = load_dit(folder)
    assert loaded.config == cfg and not loaded.training
    assert all(not p.requires_grad and p.device.type == "cpu" for p in loaded.parameters())
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value)
    x, y = [torch.randn(16, 2, 4, 4)], [torch.randn(20, 2, 4, 4)]
    ctx = [torch.randn(5, cfg.text_dim)]
    with torch.no_grad():
        got = loaded(x, torch.tensor([950]), ctx, 8, y)[0]
        want = model(x, torch.tensor([950]), ctx, 8, y)[0]
    # Same weights; only BLAS blocking on differently aligned buffers may differ.
    torch.testing.assert_close(got, want, atol=1e-6, rtol=1e-6)


def test_load_with_dtype_conversion(tiny_folder):
    _, model, folder, _ = tiny_folder
    loaded = load_dit(folder, dtype=torch.bfloat16)
    assert {p.dtype for p in loaded.parameters()} == {torch.bfloat16}
    ref = model.state_dict()["blocks.0.ffn.0.weight"].to(torch.bfloat16)
    assert torch.equal(loaded.state_dict()["blocks.0.ffn.0.weight"], ref)


def test_load_single_file(tmp_path):
    cfg = tiny_dit_config("ti2v-5B", text_len=8)
    model = _random_dit(cfg, seed=2)
    save_dit(model, cfg, tmp_path, max_shard_bytes=1 << 30)
    (tmp_path / INDEX_NAME).unlink()
    (tmp_path / shard_name(1, 1)).rename(tmp_path / SINGLE_NAME)
    loaded = load_dit(tmp_path)
    assert loaded.config.model_type == "ti2v"
    assert torch.equal(loaded.head.head.weight, model.head.head.weight)


def test_save_accepts_state_dict_and_one_shard(tmp_path):
    cfg = tiny_dit_config("t2v-A14B", text_len=8)
    sd = _random_dit(cfg).state_dict()
    save_dit(sd, cfg, tmp_path, max_shard_bytes=1 << 30)
    assert set(weight_files(tmp_path).values()) == {tmp_path / shard_name(1, 1)}


def test_missing_shard_names_the_file(tiny_folder):
    _, _, folder, _ = tiny_folder
    victim = sorted(folder.glob("diffusion_pytorch_model-*.safetensors"))[1]
    victim.unlink()
    with pytest.raises(UserInputError, match=victim.name) as info:
        load_dit(folder)
    assert info.value.hint


def test_missing_config_and_weights(tmp_path):
    with pytest.raises(UserInputError, match="config.json"):
        load_dit(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps(tiny_dit_config("t2v-A14B").to_config_json()))
    with pytest.raises(UserInputError, match="No DiT weights"):
        load_dit(tmp_path)
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(UserInputError, match="Invalid DiT config"):
        load_dit(tmp_path)


def test_unexpected_and_missing_keys(tiny_folder):
    cfg, model, folder, _ = tiny_folder
    sd = model.state_dict()
    sd["img_emb.proj.0.weight"] = torch.zeros(3)
    del sd["blocks.1.ffn.2.bias"]
    other = folder.parent / "other"
    save_dit(sd, cfg, other, max_shard_bytes=1 << 30)
    with pytest.raises(
        UserInputError, match=r"missing 1 \(e.g. blocks.1.ffn.2.bias\).*unexpected 1"
    ):
        load_dit(other)


def test_shape_mismatch_names_key_and_file(tiny_folder):
    cfg, model, folder, _ = tiny_folder
    # Same keys, but config.json says in_dim 16: the patch embedding no longer fits.
    (folder / "config.json").write_text(json.dumps(cfg.replace(in_dim=16).to_config_json()))
    with pytest.raises(UserInputError, match=r"patch_embedding.weight in .*safetensors"):
        load_dit(folder)


def test_index_with_path_traversal_rejected(tmp_path):
    cfg = tiny_dit_config("t2v-A14B", text_len=8)
    save_dit(_random_dit(cfg), cfg, tmp_path, max_shard_bytes=1 << 30)
    index = json.loads((tmp_path / INDEX_NAME).read_text())
    index["weight_map"]["head.head.bias"] = "../evil.safetensors"
    (tmp_path / INDEX_NAME).write_text(json.dumps(index))
    with pytest.raises(UserInputError, match="outside the folder"):
        load_dit(tmp_path)


def test_loads_file_written_by_plain_safetensors(tmp_path):
    """A folder written by other tools (no index metadata of ours) loads the same."""
    cfg = tiny_dit_config("t2v-A14B", text_len=8)
    model = _random_dit(cfg, seed=9)
    (tmp_path / "config.json").write_text(json.dumps(cfg.to_config_json()))
    save_file(
        {k: v.contiguous() for k, v in model.state_dict().items()}, str(tmp_path / SINGLE_NAME)
    )
    assert torch.equal(load_dit(tmp_path).blocks[1].modulation, model.blocks[1].modulation)
