"""Tiny checkpoints: the official folder layout, file formats and names, at a few MB."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors import safe_open

from wan22_desktop.engine.wan.dit_config import tiny_dit_config
from wan22_desktop.engine.wan.t5_config import t5_config_from_state_dict
from wan22_desktop.engine.wan.tiny import make_tiny_checkpoint
from wan22_desktop.engine.wan.vae_config import vae_config_from_state_dict
from wan22_desktop.errors import UserInputError
from wan22_desktop.model_layout import check_layout, detect_task, required_files
from wan22_desktop.tasks import TASKS

OFFICIAL_CONFIG_KEYS = {
    "_class_name",
    "_diffusers_version",
    "dim",
    "eps",
    "ffn_dim",
    "freq_dim",
    "in_dim",
    "model_type",
    "num_heads",
    "num_layers",
    "out_dim",
    "text_len",
}


@pytest.mark.parametrize("task", list(TASKS))
def test_layout_and_formats_are_official(tmp_path, task):
    spec = TASKS[task]
    root = make_tiny_checkpoint(task, tmp_path / task)
    assert detect_task(root) == task
    report = check_layout(root, task)
    assert report.ok, report.problems

    cfg = tiny_dit_config(task)
    for folder in spec.dit_folders:
        dit = root / folder if folder else root
        config = json.loads((dit / "config.json").read_text())
        # The official keys, plus only the one constructor field the tiny size changes.
        assert set(config) == OFFICIAL_CONFIG_KEYS | {"text_dim"}
        assert (config["_class_name"], config["model_type"]) == ("WanModel", spec.model_type)
        assert (config["in_dim"], config["out_dim"]) == (cfg.in_dim, cfg.out_dim)
        index = json.loads((dit / "diffusion_pytorch_model.safetensors.index.json").read_text())
        shards = sorted(set(index["weight_map"].values()))
        n = len(shards)
        assert n >= 2  # the index path is exercised
        assert shards == [
            f"diffusion_pytorch_model-{k:05d}-of-{n:05d}.safetensors" for k in range(1, n + 1)
        ]
        for shard in shards:
            with safe_open(str(dit / shard), framework="pt") as f:
                assert all(f.get_slice(k).get_dtype() == "F32" for k in f.keys())  # fp32 as shipped

    vae = torch.load(root / spec.vae_file, map_location="cpu", weights_only=True)
    version = "2.2" if task == "ti2v-5B" else "2.1"
    assert vae_config_from_state_dict(vae, version).z_dim == cfg.out_dim
    assert all(v.dtype == torch.float32 for v in vae.values())
    t5 = torch.load(root / spec.t5_file, map_location="cpu", weights_only=True)
    assert all(v.dtype == torch.bfloat16 for v in t5.values())  # "enc-bf16", like the real file
    assert t5_config_from_state_dict(t5).dim == cfg.text_dim
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        assert (root / spec.tokenizer_dir / name).is_file()
    assert set(required_files(task, root)) <= {
        p.relative_to(root).as_posix() for p in root.rglob("*")
    }


def test_same_seed_same_bytes_other_seed_other_weights(tmp_path):
    a = make_tiny_checkpoint("t2v-A14B", tmp_path / "a", seed=3)
    b = make_tiny_checkpoint("t2v-A14B", tmp_path / "b", seed=3)
    c = make_tiny_checkpoint("t2v-A14B", tmp_path / "c", seed=4)
    shard = "high_noise_model/diffusion_pytorch_model-00001-of-00003.safetensors"
    assert (a / shard).read_bytes() == (b / shard).read_bytes()
    assert (a / shard).read_bytes() != (c / shard).read_bytes()
    high = (a / shard).read_bytes()
    low = (a / shard.replace("high_noise", "low_noise")).read_bytes()
    assert high != low  # the two experts differ, so a test can see which one ran


def test_size_overrides_reach_the_dit_and_the_t5(tmp_path):
    root = make_tiny_checkpoint(
        "ti2v-5B", tmp_path / "x", num_layers=1, dim=48, num_heads=3, text_dim=24
    )
    config = json.loads((root / "config.json").read_text())
    assert (config["num_layers"], config["dim"], config["num_heads"], config["text_dim"]) == (
        1,
        48,
        3,
        24,
    )
    t5 = torch.load(root / TASKS["ti2v-5B"].t5_file, map_location="cpu", weights_only=True)
    assert t5_config_from_state_dict(t5).dim == 24
    assert check_layout(root, "ti2v-5B").ok


def test_refuses_a_folder_with_files(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "keep.txt").write_text("mine")
    with pytest.raises(UserInputError, match="not an empty folder"):
        make_tiny_checkpoint("ti2v-5B", tmp_path / "x")
    assert [p.name for p in (tmp_path / "x").iterdir()] == ["keep.txt"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert check_layout(make_tiny_checkpoint("ti2v-5B", empty), "ti2v-5B").ok
