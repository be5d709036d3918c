"""umT5 modules and config: official key names/shapes, buckets, masking, dtype behaviour."""

from __future__ import annotations

import math

import pytest
import torch

from wan22_desktop.engine.wan.t5 import T5Encoder, T5LayerNorm, gelu_tanh, relative_position_buckets
from wan22_desktop.engine.wan.t5_config import (
    UMT5_XXL,
    T5Config,
    t5_config_from_state_dict,
    t5_num_params,
    t5_preset,
)
from wan22_desktop.engine.wan.t5_io import tiny_t5


def official_umt5_xxl_shapes() -> dict[str, tuple[int, ...]]:
    """The 242 tensors of models_t5_umt5-xxl-enc-bf16.pth, as listed in docs/reference.md §5.3."""
    shapes: dict[str, tuple[int, ...]] = {"token_embedding.weight": (256384, 4096)}
    for i in range(24):
        shapes[f"blocks.{i}.norm1.weight"] = (4096,)
        for p in "qkvo":
            shapes[f"blocks.{i}.attn.{p}.weight"] = (4096, 4096)
        shapes[f"blocks.{i}.norm2.weight"] = (4096,)
        shapes[f"blocks.{i}.ffn.gate.0.weight"] = (10240, 4096)
        shapes[f"blocks.{i}.ffn.fc1.weight"] = (10240, 4096)
        shapes[f"blocks.{i}.ffn.fc2.weight"] = (4096, 10240)
        shapes[f"blocks.{i}.pos_embedding.embedding.weight"] = (32, 64)
    shapes["norm.weight"] = (4096,)
    return shapes


def test_umt5_xxl_on_meta_has_exactly_the_official_keys_and_shapes() -> None:
    with torch.device("meta"):
        model = T5Encoder(UMT5_XXL)
    got = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert got == official_umt5_xxl_shapes()
    assert len(got) == 242
    assert sum(p.numel() for p in model.parameters()) == 5_680_910_336 == t5_num_params(UMT5_XXL)


def test_config_derived_from_official_shapes_is_the_preset() -> None:
    sd = {k: torch.empty(s, device="meta") for k, s in official_umt5_xxl_shapes().items()}
    assert t5_config_from_state_dict(sd) == UMT5_XXL == t5_preset("umt5-xxl")
    assert UMT5_XXL.head_dim == 64


@pytest.mark.parametrize(
    "fields",
    [
        dict(
            vocab_size=50, dim=8, dim_attn=12, dim_ffn=20, num_heads=3, num_layers=1, num_buckets=8
        ),
        dict(
            vocab_size=70,
            dim=16,
            dim_attn=16,
            dim_ffn=24,
            num_heads=2,
            num_layers=4,
            num_buckets=32,
        ),
    ],
)
def test_config_round_trips_through_shapes(fields: dict) -> None:
    cfg = T5Config(**fields)
    with torch.device("meta"):
        sd = T5Encoder(cfg).state_dict()
    assert t5_config_from_state_dict(sd) == cfg  # num_heads comes from the position table


def test_config_from_foreign_state_dicts_fails_with_reason() -> None:
    vae_like = {
        "encoder.conv1.weight": torch.empty(96, 3, 3, 3, 3),
        "decoder.head.0.gamma": torch.empty(96, 1, 1, 1),
    }
    with pytest.raises(ValueError, match="token_embedding.weight"):
        t5_config_from_state_dict(vae_like)
    with torch.device("meta"):
        cfg = T5Config(vocab_size=10, dim=8, dim_attn=8, dim_ffn=8, num_heads=2, num_layers=3)
        sd = dict(T5Encoder(cfg).state_dict())
    for key in [k for k in sd if k.startswith("blocks.1.")]:
        del sd[key]
    with pytest.raises(ValueError, match=r"blocks \[1\] are missing"):
        t5_config_from_state_dict(sd)


@pytest.mark.parametrize(
    "field,value",
    [
        ("dim", 0),
        ("num_heads", -1),
        ("dim_attn", 10),
        ("num_buckets", 7),
        ("max_distance", 2),
        ("eps", 0.0),
    ],
)
def test_config_rejects_bad_values_naming_the_field(field: str, value) -> None:
    fields = dict(vocab_size=10, dim=8, dim_attn=8, dim_ffn=8, num_heads=4, num_layers=1)
    fields[field] = value
    with pytest.raises(ValueError, match=field if field != "dim_attn" else "divisible"):
        T5Config(**fields)


def test_unknown_preset_lists_known_ones() -> None:
    with pytest.raises(ValueError, match="umt5-xxl"):
        t5_preset("t5-small")


def _bucket_by_hand(rel: int, num_buckets: int = 32, max_distance: int = 128) -> int:
    """Scalar restatement of the rule in docs/reference.md §5.1 (16 buckets per sign, 8 exact)."""
    half = num_buckets // 2
    max_exact = half // 2
    offset = half if rel > 0 else 0
    a = abs(rel)
    if a < max_exact:
        return offset + a
    large = max_exact + int(
        math.log(a / max_exact) / math.log(max_distance / max_exact) * (half - max_exact)
    )
    return offset + min(half - 1, large)


def test_relative_position_buckets_follow_the_t5_rule() -> None:
    n = 300  # covers distances beyond max_distance on both sides
    buckets = relative_position_buckets(n, n, 32, 128)
    assert buckets.shape == (n, n) and buckets.dtype == torch.int64
    for q in (0, 7, 150, 299):
        for k in range(n):
            assert buckets[q, k].item() == _bucket_by_hand(k - q), (q, k)
    assert buckets.min().item() == 0 and buckets.max().item() == 31


def test_relative_position_buckets_match_transformers() -> None:
    transformers = pytest.importorskip("transformers")
    cfg = transformers.UMT5Config(
        relative_attention_num_buckets=32, relative_attention_max_distance=128
    )
    attn = transformers.models.umt5.modeling_umt5.UMT5Attention(
        cfg, has_relative_attention_bias=True
    )
    rel = torch.arange(600)[None, :] - torch.arange(600)[:, None]
    assert torch.equal(
        relative_position_buckets(600, 600, 32, 128), attn._relative_position_bucket(rel)
    )


def test_gelu_tanh_is_the_tanh_approximation() -> None:
    x = torch.linspace(-6, 6, 1001, dtype=torch.float64)
    assert torch.allclose(gelu_tanh(x), torch.nn.functional.gelu(x, approximate="tanh"), atol=1e-12)


def test_layer_norm_is_rms_without_mean_subtraction() -> None:
    norm = T5LayerNorm(4, eps=1e-6)
    with torch.no_grad():
        norm.weight.copy_(torch.tensor([1.0, 2.0, 0.5, -1.0]))
    x = torch.tensor([[3.0, 3.0, 3.0, 3.0], [1.0, -2.0, 3.0, 4.0]])
    rms = x.pow(2).mean(-1, keepdim=True).add(1e-6).sqrt()
    assert torch.allclose(norm(x), x / rms * norm.weight, atol=1e-6)
    assert not torch.allclose(
        norm(x)[0], torch.zeros(4)
    )  # a constant row is not zeroed (no mean removal)


def test_layer_norm_computes_in_fp32_and_returns_the_weight_dtype() -> None:
    norm = T5LayerNorm(8).to(torch.bfloat16)
    x = (torch.randn(2, 8) * 1e3).to(torch.bfloat16)
    y = norm(x)
    assert y.dtype == torch.bfloat16
    ref = (x.float() * torch.rsqrt(x.float().pow(2).mean(-1, keepdim=True) + 1e-6)).to(
        torch.bfloat16
    )
    assert torch.equal(y, ref)


def test_padding_does_not_change_real_tokens() -> None:
    """Padded keys are masked, so a padded row equals the same prompt run alone."""
    model = tiny_t5(seed=5, vocab_size=40)
    ids = torch.randint(3, 40, (1, 9), generator=torch.Generator().manual_seed(0))
    alone = model(ids)
    padded = torch.cat([ids, torch.zeros(1, 23, dtype=torch.long)], dim=1)
    mask = torch.cat([torch.ones(1, 9), torch.zeros(1, 23)], dim=1).long()
    out = model(padded, mask)
    assert out.shape == (1, 32, 32)
    assert torch.allclose(out[:, :9], alone, atol=1e-5, rtol=0)
    unmasked = model(padded)
    assert not torch.allclose(
        unmasked[:, :9], alone, atol=1e-3
    )  # without the mask the padding leaks in


def test_each_layer_uses_its_own_position_table() -> None:
    model = tiny_t5(seed=6, vocab_size=40)
    ids = torch.randint(3, 40, (1, 12), generator=torch.Generator().manual_seed(1))
    before = model(ids)
    with torch.no_grad():
        model.blocks[1].pos_embedding.embedding.weight.mul_(-1)
    assert not torch.allclose(model(ids), before, atol=1e-4)


def test_bf16_forward_tracks_fp32() -> None:
    model = tiny_t5(seed=7, vocab_size=40)
    ids = torch.randint(3, 40, (2, 16), generator=torch.Generator().manual_seed(2))
    mask = torch.ones(2, 16, dtype=torch.long)
    mask[1, 10:] = 0
    ref = model(ids, mask)
    out = model.to(torch.bfloat16)(ids, mask)
    assert out.dtype == torch.bfloat16 and torch.isfinite(out).all()
    rel = (out.float() - ref).norm() / ref.norm()
    assert rel < 0.05, rel
