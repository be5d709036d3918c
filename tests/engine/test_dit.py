"""WanDiT structure (official keys and parameter counts) and behaviour on tiny random weights."""

from __future__ import annotations

import pytest
import torch

from wan22_desktop.engine.wan.dit import WanDiT, sinusoid
from wan22_desktop.engine.wan.dit_config import PRESETS, DiTConfig, tiny_dit_config

# Parameter counts of the official models (docs/reference.md §1.2).
OFFICIAL_PARAMS = {"t2v-A14B": 14_288_491_584, "i2v-A14B": 14_288_901_184, "ti2v-5B": 4_999_787_712}


def _official_keys(num_layers: int) -> set[str]:
    """Key list written out from docs/reference.md §3.9, independently of the model code."""
    keys = {
        "patch_embedding.weight",
        "patch_embedding.bias",
        "head.modulation",
        "head.head.weight",
        "head.head.bias",
        "time_projection.1.weight",
        "time_projection.1.bias",
    }
    for m in ("text_embedding", "time_embedding"):
        keys |= {f"{m}.{i}.{p}" for i in (0, 2) for p in ("weight", "bias")}
    for b in range(num_layers):
        pre = f"blocks.{b}."
        keys |= {pre + "modulation", pre + "norm3.weight", pre + "norm3.bias"}
        for a in ("self_attn", "cross_attn"):
            keys |= {f"{pre}{a}.{lin}.{p}" for lin in "qkvo" for p in ("weight", "bias")}
            keys |= {f"{pre}{a}.norm_q.weight", f"{pre}{a}.norm_k.weight"}
        keys |= {f"{pre}ffn.{i}.{p}" for i in (0, 2) for p in ("weight", "bias")}
    return keys


@pytest.mark.parametrize("task", sorted(PRESETS))
def test_official_keys_and_parameter_count(task):
    cfg = PRESETS[task]
    with torch.device("meta"):
        model = WanDiT(cfg)
    sd = model.state_dict()
    assert set(sd) == _official_keys(cfg.num_layers)
    assert len(sd) == 27 * cfg.num_layers + 15
    assert sum(p.numel() for p in model.parameters()) == OFFICIAL_PARAMS[task]
    assert sd["patch_embedding.weight"].shape == (cfg.dim, cfg.in_dim, 1, 2, 2)
    assert sd["head.head.weight"].shape == (4 * cfg.out_dim, cfg.dim)
    assert sd["blocks.0.self_attn.norm_q.weight"].shape == (cfg.dim,)


def _random_dit(cfg: DiTConfig, seed: int = 0) -> WanDiT:
    torch.manual_seed(seed)
    model = WanDiT(cfg).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.2)  # the official init zeroes head.head.weight: randomise everything
    return model


def test_sinusoid_cos_first_float64():
    t = torch.tensor([0, 1, 999])
    s = sinusoid(8, t)
    assert s.dtype == torch.float64 and s.shape == (3, 8)
    assert torch.equal(s[0], torch.tensor([1.0] * 4 + [0.0] * 4, dtype=torch.float64))
    assert s[2, 1].item() == pytest.approx(
        torch.cos(torch.tensor(999 * 10000**-0.25, dtype=torch.float64)).item()
    )
    assert s[2, 5].item() == pytest.approx(
        torch.sin(torch.tensor(999 * 10000**-0.25, dtype=torch.float64)).item()
    )


@pytest.mark.parametrize("task", ["t2v-A14B", "i2v-A14B", "ti2v-5B"])
def test_forward_shapes(task):
    cfg = tiny_dit_config(task, text_len=16)
    model = _random_dit(cfg)
    x = [torch.randn(16 if task == "i2v-A14B" else cfg.in_dim, 3, 4, 6)]
    y = [torch.randn(20, 3, 4, 6)] if task == "i2v-A14B" else None
    with torch.no_grad():
        out = model(x, torch.tensor([500]), [torch.randn(5, cfg.text_dim)], seq_len=18, y=y)
    assert (
        len(out) == 1 and out[0].shape == (cfg.out_dim, 3, 4, 6) and out[0].dtype == torch.float32
    )
    assert torch.isfinite(out[0]).all()


def test_padding_and_batching_do_not_change_real_tokens():
    """Padded keys are masked, so a sample's output does not depend on seq_len or its batch mates."""
    cfg = tiny_dit_config("t2v-A14B", text_len=16)
    model = _random_dit(cfg, seed=3)
    a, b = torch.randn(16, 2, 4, 4), torch.randn(16, 3, 4, 6)  # 8 and 18 tokens
    ca, cb = torch.randn(4, cfg.text_dim), torch.randn(9, cfg.text_dim)
    with torch.no_grad():
        alone = model([a], torch.tensor([700]), [ca], seq_len=8)[0]
        padded = model([a], torch.tensor([700]), [ca], seq_len=20)[0]
        batch = model([a, b], torch.tensor([700, 10]), [ca, cb], seq_len=20)
        b_alone = model([b], torch.tensor([10]), [cb], seq_len=18)[0]
    torch.testing.assert_close(padded, alone, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(batch[0], alone, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(batch[1], b_alone, atol=1e-5, rtol=1e-5)


def test_per_token_timesteps():
    """Constant per-token t equals scalar t; a frame-0 t=0 changes only through modulation."""
    cfg = tiny_dit_config("ti2v-5B", text_len=16)
    model = _random_dit(cfg, seed=4)
    x, ctx = torch.randn(48, 3, 4, 4), torch.randn(6, cfg.text_dim)
    seq = 12
    with torch.no_grad():
        scalar = model([x], torch.tensor([900.0]), [ctx], seq_len=seq)[0]
        const = model([x], torch.full((1, seq), 900.0), [ctx], seq_len=seq)[0]
        t = torch.full((1, seq), 900.0)
        t[0, :4] = 0.0  # latent frame 0 (2x2 tokens) is clean
        mixed = model([x], t, [ctx], seq_len=seq)[0]
    torch.testing.assert_close(const, scalar, atol=1e-6, rtol=1e-6)
    assert not torch.allclose(mixed, scalar, atol=1e-3)
    e, e0 = model.embed_time(t, seq)
    assert e.shape == (1, seq, cfg.dim) and e0.shape == (1, seq, 6, cfg.dim)
    e_scalar, _ = model.embed_time(torch.tensor([0.0]), seq)
    torch.testing.assert_close(e[0, 0], e_scalar[0, 0], atol=1e-6, rtol=1e-6)


def test_text_padding_rows_are_zeros_not_masked():
    """Upstream pads context with zeros and attends to all text_len slots: a longer text_len
    changes the output (the zero rows still get embedded biases), an explicit zero row does not."""
    cfg = tiny_dit_config("t2v-A14B", text_len=8)
    model = _random_dit(cfg, seed=5)
    x, ctx = torch.randn(16, 1, 4, 4), torch.randn(3, cfg.text_dim)
    with torch.no_grad():
        short = model([x], torch.tensor([100]), [ctx], seq_len=4)[0]
        explicit = model(
            [x], torch.tensor([100]), [torch.cat([ctx, torch.zeros(5, cfg.text_dim)])], seq_len=4
        )[0]
    assert torch.equal(short, explicit)
    with pytest.raises(ValueError, match="text_len"):
        model([x], torch.tensor([100]), [torch.randn(9, cfg.text_dim)], seq_len=4)


def test_rope_table_not_in_state_dict_and_not_cast():
    model = _random_dit(tiny_dit_config("t2v-A14B", text_len=8))
    table = model.rope_table(torch.device("cpu"))
    model.to(torch.bfloat16)
    assert model.rope_table(torch.device("cpu")).dtype == torch.complex128
    assert model.rope_table(torch.device("cpu")) is table
    assert not any("freq" in k or "rope" in k for k in model.state_dict())


def test_bf16_autocast_mode_keeps_fp32_islands():
    """Under CPU bf16 autocast the matmuls drop to bf16 but the output stays close to fp32."""
    cfg = tiny_dit_config("t2v-A14B", text_len=8)
    model = _random_dit(cfg, seed=6)
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(0.5)
    x, ctx = torch.randn(16, 2, 4, 4), torch.randn(3, cfg.text_dim)
    seen: dict[str, torch.dtype] = {}
    model.blocks[0].register_forward_hook(
        lambda mod, args, out: seen.update(block_in=args[0].dtype, block_out=out.dtype)
    )
    model.blocks[0].self_attn.q.register_forward_hook(
        lambda mod, args, out: seen.update(q=out.dtype)
    )
    with torch.no_grad():
        ref = model([x], torch.tensor([500]), [ctx], seq_len=8)[0]
        assert set(seen.values()) == {torch.float32}
        with torch.autocast("cpu", dtype=torch.bfloat16):
            e, e0 = model.embed_time(torch.tensor([500]), 8)
            low = model([x], torch.tensor([500]), [ctx], seq_len=8)[0]
    assert e.dtype == torch.float32 and e0.dtype == torch.float32  # time MLP is an fp32 island
    assert low.dtype == torch.float32
    # Patch embedding runs in bf16; the residual stream is fp32 after the first residual add.
    assert seen == {"block_in": torch.bfloat16, "q": torch.bfloat16, "block_out": torch.float32}
    rel = (low - ref).abs().max() / ref.abs().max()
    assert 0 < rel < 0.1


def test_bad_inputs():
    cfg = tiny_dit_config("t2v-A14B", text_len=8)
    model = _random_dit(cfg)
    x, ctx = torch.randn(16, 1, 4, 4), torch.randn(3, cfg.text_dim)
    with pytest.raises(ValueError, match="seq_len"):
        model([x], torch.tensor([1]), [ctx], seq_len=3)
    with pytest.raises(ValueError, match="batch"):
        model([x], torch.tensor([1, 2]), [ctx], seq_len=4)
    with pytest.raises(ValueError, match="seq_len"):
        model([x], torch.ones(1, 5), [ctx], seq_len=4)
    i2v = _random_dit(tiny_dit_config("i2v-A14B", text_len=8))
    with pytest.raises(ValueError, match="36 input channels"):
        i2v([x], torch.tensor([1]), [ctx], seq_len=4)


def test_per_token_time_mlp_mode_matches_default():
    """The upstream-style per-token time MLP and our distinct-t MLP give the same numbers."""
    cfg = tiny_dit_config("ti2v-5B", text_len=8)
    model = _random_dit(cfg, seed=7)
    x, ctx = torch.randn(48, 2, 4, 4), torch.randn(3, cfg.text_dim)
    t = torch.full((1, 8), 640.0)
    t[0, :4] = 0.0
    with torch.no_grad():
        fast = model([x], t, [ctx], seq_len=8)[0]
        model.per_token_time_mlp = True
        e, e0 = model.embed_time(torch.tensor([640.0]), 8)
        slow = model([x], t, [ctx], seq_len=8)[0]
    assert e.shape == (1, 8, cfg.dim) and e0.shape == (1, 8, 6, cfg.dim)
    torch.testing.assert_close(slow, fast, atol=1e-5, rtol=1e-5)
