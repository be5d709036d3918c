"""The denoising step without host synchronisations: what the DiT, the solvers and the loop do
so a forward can be traced whole (``torch._dynamo.explain``: 0 graph breaks) and compiled, and
CFG's two forwards batched, each pinned against the previous behaviour on tiny models (CPU fp32).
"""

from __future__ import annotations

import functools

import pytest
import torch

from wan22_desktop.engine.wan.attention import attention, use_backend
from wan22_desktop.engine.wan.dit import WanDiT
from wan22_desktop.engine.wan.dit_config import DiTConfig, tiny_dit_config
from wan22_desktop.engine.wan.pipelines import conditioning as C
from wan22_desktop.engine.wan.pipelines.loop import (
    Conditioning,
    clean_prefix,
    guided_velocity,
    model_timestep,
    sample,
)
from wan22_desktop.engine.wan.solvers import FlowUniPC, _unic_rhos, make_solver

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _random_dit(cfg: DiTConfig, seed: int = 0) -> WanDiT:
    torch.manual_seed(seed)
    model = WanDiT(cfg).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.2)
    return model


def _ti2v_inputs(seed: int = 0) -> tuple[WanDiT, list[torch.Tensor], list[torch.Tensor], int]:
    cfg = tiny_dit_config("ti2v-5B", text_len=16)
    torch.manual_seed(seed + 100)
    x = [torch.randn(cfg.in_dim, 3, 4, 6)]  # 3 latent frames of 2x3 tokens: 18 tokens
    ctx = [torch.randn(5, cfg.text_dim)]
    return _random_dit(cfg, seed), x, ctx, 18


# ---- the DiT: t [B] (+ clean prefix) instead of a per-token vector, bit for bit ---------------


def test_clean_prefix_equals_the_per_token_vector_bit_for_bit() -> None:
    """TI2V with an image: t [1] + clean_tokens gives exactly what the official per-token
    t = mask * t (float32, as the loop built it) gave through the host-side lookup."""
    model, x, ctx, seq = _ti2v_inputs()
    mask = C.ti2v_keep_mask((48, 3, 4, 6), keep_first=True, device=torch.device("cpu"))
    cond = Conditioning(ctx, ctx, seq, keep_mask=mask, per_token_t=True, patch_hw=(2, 2))
    t = torch.tensor([733])
    per_token = model_timestep(t, cond)
    assert per_token.shape == (1, seq) and per_token.dtype == torch.float32
    assert clean_prefix(cond) == 6  # latent frame 0: 2x3 tokens
    with torch.no_grad():
        old = model(x, per_token, ctx, seq_len=seq)[0]
        new = model(x, t, ctx, seq_len=seq, clean_tokens=6)[0]
        e_old, e0_old = model.embed_time(per_token, seq)
        e_new, e0_new = model.embed_time(t, seq, clean_tokens=6)
    assert torch.equal(new, old)
    assert torch.equal(e_new, e_old) and torch.equal(e0_new, e0_old)


def test_scalar_t_equals_a_constant_per_token_vector_bit_for_bit() -> None:
    """TI2V without an image (mask all ones) and A14B: t [1] is what the constant vector gave."""
    model, x, ctx, seq = _ti2v_inputs(seed=1)
    mask = C.ti2v_keep_mask((48, 3, 4, 6), keep_first=False, device=torch.device("cpu"))
    cond = Conditioning(ctx, ctx, seq, keep_mask=mask, per_token_t=True, patch_hw=(2, 2))
    assert clean_prefix(cond) == 0
    t = torch.tensor([512])
    with torch.no_grad():
        old = model(x, model_timestep(t, cond), ctx, seq_len=seq)[0]
        new = model(x, t, ctx, seq_len=seq)[0]
    assert torch.equal(new, old)


def test_per_token_mlp_mode_and_clean_prefix_agree() -> None:
    """The upstream-style per-token time MLP honours clean_tokens too (same rows as the vector)."""
    model, x, ctx, seq = _ti2v_inputs(seed=2)
    t = torch.tensor([640])
    vector = torch.full((1, seq), 640.0)
    vector[0, :6] = 0.0
    model.per_token_time_mlp = True
    with torch.no_grad():
        e, e0 = model.embed_time(t, seq, clean_tokens=6)
        e_vec, e0_vec = model.embed_time(vector, seq)
    assert e.shape == (1, seq, model.config.dim) and e0.shape == (1, seq, 6, model.config.dim)
    assert torch.equal(e, e_vec) and torch.equal(e0, e0_vec)


def test_clean_tokens_input_errors() -> None:
    model, _, _, seq = _ti2v_inputs()
    with pytest.raises(ValueError, match="clean_tokens"):
        model.embed_time(torch.full((1, seq), 5.0), seq, clean_tokens=3)
    with pytest.raises(ValueError, match="clean_tokens"):
        model.embed_time(torch.tensor([5]), seq, clean_tokens=seq + 1)


def test_clean_prefix_falls_back_for_a_mask_that_is_not_a_prefix() -> None:
    mask = torch.ones(48, 3, 4, 6)
    mask[:, 1] = 0  # a clean middle frame: not a prefix
    cond = Conditioning([], [], 18, keep_mask=mask, per_token_t=True, patch_hw=(2, 2))
    assert clean_prefix(cond) is None
    assert clean_prefix(Conditioning([], [], 18)) == 0


# ---- no graph breaks: one block and whole forwards --------------------------------------------


def _explain(fn, *args, **kwargs):
    torch._dynamo.reset()
    with torch.no_grad(), use_backend("sdpa"):
        out = torch._dynamo.explain(fn)(*args, **kwargs)
    torch._dynamo.reset()
    return out


def _breaks(explained) -> str:
    return "; ".join(str(r.reason).splitlines()[0] for r in explained.break_reasons)


@pytest.mark.parametrize("task", ["t2v-A14B", "i2v-A14B", "ti2v-5B"])
def test_whole_forward_has_no_graph_break(task: str) -> None:
    cfg = tiny_dit_config(task, text_len=16)
    model = _random_dit(cfg)
    x = [torch.randn(16 if task == "i2v-A14B" else cfg.in_dim, 3, 4, 6)]
    y = [torch.randn(20, 3, 4, 6)] if task == "i2v-A14B" else None
    clean = 6 if task == "ti2v-5B" else 0
    ex = _explain(
        model, x, torch.tensor([500]), [torch.randn(5, cfg.text_dim)], 18, y, clean_tokens=clean
    )
    assert ex.graph_break_count == 0, _breaks(ex)
    assert ex.graph_count == 1


def test_one_block_has_no_graph_break() -> None:
    """As ``WanDiT.forward`` calls it: with the attention cores already bound to a backend."""
    cfg = tiny_dit_config("t2v-A14B", text_len=16)
    model = _random_dit(cfg)
    h = torch.randn(1, 18, cfg.dim)
    e0 = torch.randn(1, 1, 6, cfg.dim)
    freqs = model.rope_freqs([(3, 2, 3)], h.device)
    ctx = torch.randn(1, 16, cfg.dim)
    core = functools.partial(attention, backend="sdpa")
    ex = _explain(model.blocks[0], h, e0, None, freqs, ctx, core, core)
    assert ex.graph_break_count == 0, _breaks(ex)
    assert ex.graph_count == 1


# ---- the solver: UniC's weights solved once, as the per-step solve gave them -------------------


@pytest.mark.parametrize(("steps", "shift"), [(2, 5.0), (7, 12.0), (50, 5.0)])
def test_unic_weights_precomputed_bit_for_bit(steps: int, shift: float) -> None:
    solver = FlowUniPC(steps, shift)
    rhos = solver.unic_rhos(torch.device("cpu"))
    assert rhos.shape == (steps, 2)
    sig = solver.sigmas
    lam = [torch.log(1 - s) - torch.log(s) for s in sig]
    for i in range(2, steps):
        h = lam[i] - lam[i - 1]
        rk = (lam[i - 2] - lam[i - 1]) / h
        want = _unic_rhos(rk, -h, torch.expm1(-h), device=torch.device("cpu"))
        assert torch.equal(rhos[i], want)
    assert solver.unic_rhos(torch.device("cpu")) is rhos  # solved once per device


# ---- CFG as one batch of two ------------------------------------------------------------------


@pytest.mark.parametrize("task", ["t2v-A14B", "i2v-A14B", "ti2v-5B"])
def test_cfg_batch_equals_two_forwards_for_every_expert(task: str) -> None:
    cfg = tiny_dit_config(task, text_len=16)
    experts = [_random_dit(cfg, seed) for seed in ((0, 1) if "A14B" in task else (0,))]
    torch.manual_seed(5)
    latent = torch.randn(cfg.out_dim, 3, 4, 6)
    y = [torch.randn(20, 3, 4, 6)] if task == "i2v-A14B" else None
    ctx, ctx_null = [torch.randn(7, cfg.text_dim)], [torch.randn(12, cfg.text_dim)]
    cond = Conditioning(ctx, ctx_null, 18, y=y)
    clean = 6 if task == "ti2v-5B" else 0
    for model in experts:
        with torch.no_grad(), use_backend("sdpa"):
            two = guided_velocity(model, latent, torch.tensor([800]), cond, 4.0, clean_tokens=clean)
            one = guided_velocity(
                model, latent, torch.tensor([800]), cond, 4.0, clean_tokens=clean, cfg_batch=True
            )
        torch.testing.assert_close(one, two, atol=1e-5, rtol=1e-5)
        assert not torch.equal(one, torch.zeros_like(one))


def test_cfg_batch_whole_loop_matches_two_forwards() -> None:
    """The whole loop (TI2V with a clean first frame, UniPC) ends at the same latent."""
    model, _, ctx, seq = _ti2v_inputs(seed=3)
    shape = (48, 3, 4, 6)
    mask = C.ti2v_keep_mask(shape, keep_first=True, device=torch.device("cpu"))
    torch.manual_seed(9)
    z, noise = torch.randn(shape), torch.randn(shape)
    cond = Conditioning(
        ctx, [torch.randn(3, 32)], seq, keep_mask=mask, keep_latent=z, per_token_t=True
    )
    ends = []
    for batch in (False, True):
        with torch.no_grad(), use_backend("sdpa"):
            ends.append(
                sample(
                    latent=(1 - mask) * z + mask * noise,
                    solver=make_solver("unipc", 5, 5.0),
                    cond=cond,
                    activate=lambda name: model,
                    guidance=(5.0, 5.0),
                    boundary=None,
                    cfg_batch=batch,
                )
            )
    torch.testing.assert_close(ends[1], ends[0], atol=1e-5, rtol=1e-5)


# ---- compiled blocks equal eager ------------------------------------------------------------


@pytest.mark.slow  # inductor compiles C++ on the CPU: ~40 s on 2 busy cores
def test_compiled_blocks_equal_eager_within_fp32_rounding(tmp_path) -> None:
    """One compile serves every block (parameters are graph inputs), the t value is an input
    (no recompile per step), and the output matches eager to fp32 round-off."""
    from wan22_desktop.engine.wan.compile import CACHE_ENV, compile_blocks

    model, x, ctx, seq = _ti2v_inputs(seed=4)
    mp = pytest.MonkeyPatch()
    for name in CACHE_ENV:
        mp.setenv(name, str(tmp_path / "inductor"))
    try:
        torch._dynamo.reset()
        torch._dynamo.utils.counters.clear()
        with torch.no_grad(), use_backend("sdpa"):
            eager = [model(x, torch.tensor([t]), ctx, seq, clean_tokens=6)[0] for t in (900, 300)]
            assert compile_blocks([model]) == model.config.num_layers
            compiled = [
                model(x, torch.tensor([t]), ctx, seq, clean_tokens=6)[0] for t in (900, 300)
            ]
        graphs = torch._dynamo.utils.counters["stats"]["unique_graphs"]
    finally:
        torch._dynamo.reset()
        mp.undo()
    for got, want in zip(compiled, eager):
        torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)
    assert graphs == 1
