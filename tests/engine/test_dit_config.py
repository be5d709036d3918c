"""DiTConfig presets and the config.json mapping (official byte sizes from docs/reference.md §2)."""

from __future__ import annotations

import json

import pytest

from wan22_desktop.engine.wan.dit_config import PRESETS, DiTConfig, preset, tiny_dit_config


@pytest.mark.parametrize(
    ("task", "model_type", "dim", "ffn", "heads", "layers", "in_dim", "out_dim"),
    [
        ("t2v-A14B", "t2v", 5120, 13824, 40, 40, 16, 16),
        ("i2v-A14B", "i2v", 5120, 13824, 40, 40, 36, 16),
        ("ti2v-5B", "ti2v", 3072, 14336, 24, 30, 48, 48),
    ],
)
def test_presets_match_official_table(task, model_type, dim, ffn, heads, layers, in_dim, out_dim):
    cfg = preset(task)
    assert (cfg.model_type, cfg.dim, cfg.ffn_dim, cfg.num_heads, cfg.num_layers) == (
        model_type,
        dim,
        ffn,
        heads,
        layers,
    )
    assert (cfg.in_dim, cfg.out_dim, cfg.head_dim) == (in_dim, out_dim, 128)
    assert (cfg.freq_dim, cfg.text_len, cfg.text_dim, cfg.eps) == (256, 512, 4096, 1e-6)
    assert cfg.patch_size == (1, 2, 2) and cfg.window_size == (-1, -1)
    assert cfg.qk_norm and cfg.cross_attn_norm


@pytest.mark.parametrize(
    ("task", "nbytes"), [("t2v-A14B", 250), ("i2v-A14B", 250), ("ti2v-5B", 251)]
)
def test_config_json_has_official_keys_and_size(task, nbytes):
    data = preset(task).to_config_json()
    assert sorted(data) == [
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
    ]
    assert data["_class_name"] == "WanModel"
    text = json.dumps(data, indent=2, sort_keys=True) + "\n"
    assert len(text.encode()) == nbytes  # the official files are 250 / 251 bytes


def test_from_config_json_round_trip_and_ignores_unknown_keys():
    for cfg in PRESETS.values():
        data = cfg.to_config_json()
        data["some_future_key"] = 1
        assert DiTConfig.from_config_json(data) == cfg


def test_extra_keys_written_only_when_not_official():
    tiny = tiny_dit_config("ti2v-5B", patch_size=(1, 1, 1))
    data = tiny.to_config_json()
    assert data["text_dim"] == 32 and data["patch_size"] == [1, 1, 1]
    assert "window_size" not in data and "qk_norm" not in data
    assert DiTConfig.from_config_json(json.loads(json.dumps(data))) == tiny


def test_tiny_configs_keep_task_channels():
    assert (tiny_dit_config("i2v-A14B").in_dim, tiny_dit_config("i2v-A14B").out_dim) == (36, 16)
    assert tiny_dit_config("ti2v-5B").model_type == "ti2v"
    assert tiny_dit_config("t2v-A14B", text_len=16).text_len == 16


@pytest.mark.parametrize(
    "changes",
    [
        {"model_type": "x2v"},
        {"dim": 30, "num_heads": 4},
        {"dim": 10, "num_heads": 2},
        {"freq_dim": 7},
        {"num_layers": 0},
    ],
)
def test_invalid_values_rejected(changes):
    with pytest.raises(ValueError):
        DiTConfig(**changes)


def test_missing_official_key_rejected():
    data = preset("t2v-A14B").to_config_json()
    del data["dim"]
    with pytest.raises(ValueError, match="dim"):
        DiTConfig.from_config_json(data)


def test_unknown_task():
    with pytest.raises(ValueError, match="unknown task"):
        preset("t2v-1.3B")


@pytest.mark.parametrize(
    ("latent", "sp", "expected"),
    [
        ((21, 90, 160), 1, 75_600),
        ((21, 60, 104), 1, 32_760),
        ((31, 44, 80), 1, 27_280),
        ((21, 60, 104), 8, 32_760),
        ((1, 2, 6), 4, 4),
        ((1, 2, 10), 4, 8),
    ],
)
def test_seq_len_for(latent, sp, expected):
    from wan22_desktop.engine.wan.dit_config import seq_len_for

    assert seq_len_for(latent, sp_size=sp) == expected
