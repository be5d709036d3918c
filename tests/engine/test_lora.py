"""LoRA merging: every naming gives the same merged DiT, equal to diffusers' own LoRA loading
(``WanPipeline.load_lora_weights``, ``load_into_transformer_2`` for the low-noise expert, then
``fuse_lora``) on the same tiny converted model; full-weight ``.diff`` files against the formula
(diffusers drops block ``.diff`` keys); mismatched LoRAs refused before any weight changes;
switching sets restores the loaded weights exactly."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import save_file

from tests.lora_helpers import LORA_FORMATS, lora_tensors, write_diff_lora, write_lora
from wan22_desktop.engine.wan.dit import WanDiT, sinusoid
from wan22_desktop.engine.wan.dit_config import tiny_dit_config
from wan22_desktop.engine.wan.lora import (
    HIGH,
    LOW,
    SINGLE,
    ExpertLora,
    LoraMerge,
    merge_into,
    read_lora,
)
from wan22_desktop.engine.wan.tiny import random_dit
from wan22_desktop.errors import CheckpointError, UserInputError
from wan22_desktop.lora_formats import describe

ALPHA, RANK = 8.0, 4


def _cfg(task: str = "t2v-A14B", **kw):
    return tiny_dit_config(task, dim=32, num_heads=2, ffn_dim=48, text_len=16, **kw)


def _expected(model: WanDiT, tensors, strength: float) -> dict[str, torch.Tensor]:
    sd = {k: v.clone() for k, v in model.state_dict().items()}
    for module, (down, up) in tensors.items():
        sd[f"{module}.weight"] += strength * (ALPHA / RANK) * (up @ down)
    return sd


@pytest.mark.parametrize("fmt", LORA_FORMATS)
def test_every_naming_merges_the_same_delta(tmp_path, fmt):
    cfg = _cfg()
    model = random_dit(cfg, 0)
    tensors = lora_tensors(cfg, RANK, ALPHA)
    path = write_lora(tmp_path / f"{fmt}.safetensors", tensors, fmt, ALPHA)
    assert read_lora(path).layout.format == fmt.split("_")[0]
    want = _expected(model, tensors, 0.7)
    merge_into({SINGLE: model}, [ExpertLora(SINGLE, str(path), 0.7)])
    got = model.state_dict()
    worst = max((got[k] - want[k]).abs().max().item() for k in want)
    assert worst < 1e-6


def test_diff_file_adds_weight_bias_norm_and_modulation_deltas(tmp_path):
    cfg = _cfg()
    model = random_dit(cfg, 0)
    gen = torch.Generator().manual_seed(3)
    names = [
        "blocks.0.self_attn.q.weight",
        "blocks.0.self_attn.q.bias",
        "blocks.1.ffn.2.bias",
        "blocks.0.self_attn.norm_q.weight",
        "blocks.1.norm3.weight",
        "blocks.1.modulation",
        "head.head.weight",
        "time_projection.1.bias",
    ]
    shapes = {k: v.shape for k, v in model.state_dict().items()}
    deltas = {n: torch.randn(shapes[n], generator=gen) for n in names}
    path = write_diff_lora(tmp_path / "diff.safetensors", deltas)
    assert describe(read_lora(path).layout, read_lora(path).shapes())["kinds"] == ["diff"]
    before = {k: v.clone() for k, v in model.state_dict().items()}
    merge_into({SINGLE: model}, [ExpertLora(SINGLE, str(path), 0.5)])
    after = model.state_dict()
    for name, value in after.items():
        want = before[name] + 0.5 * deltas[name] if name in deltas else before[name]
        assert torch.allclose(value, want, atol=1e-6), name


# ---- the oracle: diffusers' own LoRA loading on the same converted experts


def _diffusers_pair(high: WanDiT, low: WanDiT):
    diffusers = pytest.importorskip("diffusers")
    pytest.importorskip("peft")  # diffusers' LoRA loading needs PEFT
    from wan22_desktop.engine.wan.convert_diffusers import (
        diffusers_config,
        dit_official_to_diffusers,
    )

    def convert(model: WanDiT):
        t = diffusers.WanTransformer3DModel(**diffusers_config(model.config)).eval()
        t.load_state_dict(dit_official_to_diffusers(model.state_dict()), strict=True)
        # the float64 timestep sinusoid of the official code (see test_dit_parity)
        t.condition_embedder.timesteps_proj.forward = lambda ts: sinusoid(
            model.config.freq_dim, ts
        ).float()
        return t

    pipe = diffusers.WanPipeline(
        tokenizer=None,
        text_encoder=None,
        vae=None,
        scheduler=None,
        transformer=convert(high),
        transformer_2=convert(low),
        boundary_ratio=0.875,
    )
    return pipe


def _forward_pair(ours: WanDiT, theirs, cfg, seed: int = 1):
    gen = torch.Generator().manual_seed(seed)
    frames, height, width = 2, 8, 8
    seq = frames * height * width // 4
    x = torch.randn(cfg.in_dim, frames, height, width, generator=gen)
    ctx = torch.randn(5, cfg.text_dim, generator=gen)
    t = torch.tensor([700.0])
    ctx_padded = torch.cat([ctx, ctx.new_zeros(cfg.text_len - 5, cfg.text_dim)])[None]
    with torch.no_grad():
        mine = ours([x], t, [ctx], seq_len=seq)[0]
        ref = theirs(x[None], t, ctx_padded, return_dict=False)[0][0]
    return mine, ref


@pytest.mark.parametrize("fmt", LORA_FORMATS)
def test_merged_experts_match_diffusers_lora_loading(tmp_path, fmt):
    cfg = _cfg()
    high, low = random_dit(cfg, 0), random_dit(cfg, 1)
    pipe = _diffusers_pair(high, low)
    tensors = lora_tensors(cfg, RANK, ALPHA, seed=5)
    gen = torch.Generator().manual_seed(6)
    biases = (  # lightx2v LoRAs carry bias deltas beside the pairs; Kohya files have none
        {f"blocks.{i}.ffn.0": torch.randn(cfg.ffn_dim, generator=gen) for i in range(2)}
        if fmt != "kohya"
        else None
    )
    path = write_lora(tmp_path / f"{fmt}.safetensors", tensors, fmt, ALPHA, biases)
    s_high, s_low = 0.8, 0.6
    base = random_dit(cfg, 0)

    pipe.load_lora_weights(str(path), adapter_name="hi")
    pipe.load_lora_weights(str(path), adapter_name="lo", load_into_transformer_2=True)
    pipe.transformer.set_adapters(["hi"], [s_high])
    pipe.transformer_2.set_adapters(["lo"], [s_low])
    pipe.fuse_lora(components=["transformer", "transformer_2"])

    merge_into(
        {HIGH: high, LOW: low},
        [ExpertLora(HIGH, str(path), s_high), ExpertLora(LOW, str(path), s_low)],
    )
    worst_w = 0.0
    for ours, theirs in ((high, pipe.transformer), (low, pipe.transformer_2)):
        from wan22_desktop.engine.wan.convert_diffusers import dit_diffusers_to_official

        fused = {
            k.replace(".base_layer", ""): v
            for k, v in theirs.state_dict().items()
            if ".lora_" not in k
        }
        fused = dit_diffusers_to_official(fused)
        for k, v in ours.state_dict().items():
            worst_w = max(worst_w, (v - fused[k]).abs().max().item())
    out = {}
    for name, ours, theirs in (("high", high, pipe.transformer), ("low", low, pipe.transformer_2)):
        mine, ref = _forward_pair(ours, theirs, cfg)
        out[name] = (mine - ref).abs().max().item() / ref.abs().max().item()
    unmerged, ref = _forward_pair(base, pipe.transformer, cfg)
    changed = (unmerged - ref).abs().max().item() / ref.abs().max().item()
    assert changed > 1e-2  # the LoRA does change the output
    print(
        f"\nLoRA {fmt}: max|dW| {worst_w:.2e}; output rel max|d| high {out['high']:.2e} "
        f"low {out['low']:.2e} (LoRA's own effect {changed:.2e})"
    )
    assert worst_w < 1e-5
    assert max(out.values()) < 2e-5


# ---- refusals


def test_lora_for_another_family_is_refused_before_any_change(tmp_path):
    a14b, five_b = _cfg(), tiny_dit_config("ti2v-5B", dim=48, num_heads=2, ffn_dim=48)
    model = random_dit(a14b, 0)
    path = write_lora(tmp_path / "five_b.safetensors", lora_tensors(five_b), "official_ab")
    good = write_lora(tmp_path / "good.safetensors", lora_tensors(a14b), "official_ab")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(CheckpointError, match="does not fit"):
        merge_into(
            {HIGH: model},
            [ExpertLora(HIGH, str(good), 1.0), ExpertLora(HIGH, str(path), 1.0)],
        )
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())


def test_lora_with_more_blocks_is_refused(tmp_path):
    model = random_dit(_cfg(), 0)
    path = write_lora(tmp_path / "deep.safetensors", lora_tensors(_cfg(num_layers=3)), "kohya")
    with pytest.raises(CheckpointError, match="reaches 3 DiT blocks.*has 2"):
        merge_into({SINGLE: model}, [ExpertLora(SINGLE, str(path), 1.0)])


def test_t2v_lora_with_input_layer_is_refused_on_i2v(tmp_path):
    t2v, i2v = random_dit(_cfg("t2v-A14B"), 0), random_dit(_cfg("i2v-A14B"), 0)
    delta = {"patch_embedding.weight": torch.zeros_like(t2v.patch_embedding.weight)}
    path = write_diff_lora(tmp_path / "t2v.safetensors", delta)
    about = describe(read_lora(path).layout, read_lora(path).shapes())
    assert about["task"] == "t2v"
    with pytest.raises(CheckpointError, match="patch_embedding.weight"):
        merge_into({LOW: i2v}, [ExpertLora(LOW, str(path), 1.0)])


def test_unknown_keys_are_listed(tmp_path):
    path = tmp_path / "odd.safetensors"
    save_file(
        {
            "diffusion_model.blocks.0.self_attn.q.lora_A.weight": torch.zeros(2, 32),
            "diffusion_model.blocks.0.self_attn.q.lora_B.weight": torch.zeros(32, 2),
            "unet.down_blocks.0.attn.lora_A.weight": torch.zeros(2, 2),
            "text_model.encoder.layers.0.lora.up": torch.zeros(2, 2),
        },
        str(path),
    )
    with pytest.raises(CheckpointError) as err:
        read_lora(path)
    assert "2 key(s)" in err.value.message
    assert "unet.down_blocks.0.attn.lora_A.weight" in err.value.message


def test_only_safetensors(tmp_path):
    path = tmp_path / "lora.pt"
    path.write_bytes(b"x")
    with pytest.raises(UserInputError, match="safetensors"):
        read_lora(path)


# ---- switching sets in a warm pipeline


def test_switching_sets_restores_the_loaded_weights_exactly(tmp_path):
    cfg = _cfg()
    high, low = random_dit(cfg, 0), random_dit(cfg, 1)
    loaded = {
        n: {k: v.clone() for k, v in m.state_dict().items()} for n, m in ((HIGH, high), (LOW, low))
    }
    a = write_lora(tmp_path / "a.safetensors", lora_tensors(cfg, seed=1), "official_ab")
    b = write_lora(tmp_path / "b.safetensors", lora_tensors(cfg, seed=2, blocks=1), "kohya")
    experts = {HIGH: high, LOW: low}

    merge = LoraMerge()
    assert merge.apply(experts, [ExpertLora(HIGH, str(a), 1.0), ExpertLora(LOW, str(a), 0.5)], "m")
    assert not merge.apply(
        experts, [ExpertLora(HIGH, str(a), 1.0), ExpertLora(LOW, str(a), 0.5)], "m"
    )
    assert merge.apply(experts, [ExpertLora(LOW, str(b), 1.0)], "m")
    assert all(torch.equal(v, loaded[HIGH][k]) for k, v in high.state_dict().items())
    # only b's block-0 tensors were copied aside
    assert {k for _, k in merge.originals} == {
        f"blocks.0.{m}.weight"
        for m in (
            "self_attn.q",
            "self_attn.k",
            "self_attn.v",
            "self_attn.o",
            "cross_attn.q",
            "cross_attn.k",
            "cross_attn.v",
            "cross_attn.o",
            "ffn.0",
            "ffn.2",
        )
    }

    fresh = random_dit(cfg, 1)
    merge_into({LOW: fresh}, [ExpertLora(LOW, str(b), 1.0)])
    assert all(torch.equal(v, fresh.state_dict()[k]) for k, v in low.state_dict().items())

    bad = write_lora(tmp_path / "bad.safetensors", lora_tensors(_cfg(num_layers=5)), "kohya")
    with pytest.raises(CheckpointError):
        merge.apply(experts, [ExpertLora(LOW, str(bad), 1.0)], "m")
    assert all(torch.equal(v, fresh.state_dict()[k]) for k, v in low.state_dict().items())

    merge.apply(experts, [], "m")
    for name, model in experts.items():
        assert all(torch.equal(v, loaded[name][k]) for k, v in model.state_dict().items())


@pytest.mark.parametrize(
    ("key", "fmt", "module"),
    [
        ("transformer.blocks.3.attn2.to_out.0.lora_B.weight", "diffusers", "blocks.3.cross_attn.o"),
        ("base_model.model.blocks.0.ffn.net.0.proj.lora_A.weight", "diffusers", "blocks.0.ffn.0"),
        ("diffusion_model.blocks.0.attn1.to_q.lora_A.weight", "diffusers", "blocks.0.self_attn.q"),
        ("diffusion_model.blocks.1.norm3.diff_b", "official", "blocks.1.norm3"),
        ("model.diffusion_model.head.head.diff", "official", "head.head"),
        ("blocks.2.self_attn.norm_k.diff", "official", "blocks.2.self_attn.norm_k"),
        ("lora_unet_blocks_12_cross_attn_norm_q.diff", "kohya", "blocks.12.cross_attn.norm_q"),
        ("lora_unet_time_projection_1.lora_down.weight", "kohya", "time_projection.1"),
    ],
)
def test_key_mapping(key, fmt, module):
    from wan22_desktop.lora_formats import parse_keys

    pairs = {"lora_A": "lora_B", "lora_B": "lora_A", "lora_down": "lora_up", "lora_up": "lora_down"}
    keys = [key] + [key.replace(f".{a}.", f".{b}.") for a, b in pairs.items() if f".{a}." in key]
    layout = parse_keys(keys)
    assert layout.format == fmt and list(layout.modules) == [module]


def test_wan21_image_keys_are_skipped():
    from wan22_desktop.lora_formats import parse_keys

    keys = [
        "diffusion_model.blocks.0.cross_attn.k_img.lora_A.weight",
        "diffusion_model.blocks.0.cross_attn.k_img.lora_B.weight",
        "diffusion_model.blocks.0.cross_attn.q.lora_A.weight",
        "diffusion_model.blocks.0.cross_attn.q.lora_B.weight",
        "diffusion_model.img_emb.proj.1.diff_b",
    ]
    layout = parse_keys(keys)
    assert list(layout.modules) == ["blocks.0.cross_attn.q"] and len(layout.skipped) == 3


def test_fp8_weights_without_their_files_merge_into_the_dequantised_weights(tmp_path):
    """An FP8 DiT that does not know its source files (built in memory): the e4m3 bits are
    dequantised, the delta added in fp32 and the sum quantised again with fresh scales; switching
    the set off restores the loaded bits exactly."""
    from wan22_desktop.engine.wan.fp8 import FP8Linear, quantize_dit

    cfg = _cfg()
    model = quantize_dit(random_dit(cfg, 0))
    loaded = {k: v.clone() for k, v in model.state_dict().items()}
    tensors = lora_tensors(cfg, RANK, ALPHA)
    path = write_lora(tmp_path / "a.safetensors", tensors, "kohya", ALPHA)
    # the reference: the fp32 weight the FP8 layer stands for, plus the delta, quantised
    reference = {}
    for module, (down, up) in tensors.items():
        layer = model.get_submodule(module)
        assert isinstance(layer, FP8Linear)
        reference[module] = FP8Linear.from_linear(_linear(layer, up @ down * ALPHA / RANK * 0.8))

    merge = LoraMerge()
    assert merge.apply({SINGLE: model}, [ExpertLora(SINGLE, str(path), 0.8)], "m")
    for module, want in reference.items():
        got = model.get_submodule(module)
        assert isinstance(got, FP8Linear)
        assert torch.equal(got.weight, want.weight) and torch.equal(
            got.weight_scale, want.weight_scale
        )
    changed = [k for k, v in model.state_dict().items() if not torch.equal(v, loaded[k])]
    assert changed and all(k.rsplit(".", 1)[0] in reference for k in changed)

    merge.apply({SINGLE: model}, [], "m")
    assert all(torch.equal(v, loaded[k]) for k, v in model.state_dict().items())


def _linear(layer, delta: torch.Tensor) -> torch.nn.Linear:
    """An fp32 Linear holding ``layer``'s dequantised weight plus ``delta``."""
    out = torch.nn.Linear(layer.in_features, layer.out_features, bias=layer.bias is not None)
    with torch.no_grad():
        out.weight.copy_(layer.dequantized() + delta)
        if layer.bias is not None:
            out.bias.copy_(layer.bias)
    return out


@pytest.mark.parametrize("dtype", [None, torch.bfloat16], ids=["as-stored", "bf16"])
def test_a_lora_on_fp8_weights_is_merged_before_quantising(tmp_path, dtype):
    """The issue's rule: with FP8 weights the LoRA goes in before quantising. A loaded FP8 expert
    reads each changed Linear's full-precision weight from its files, adds ΔW and quantises once:
    bit for bit what quantising the merged full-precision expert gives (fresh and cached loads),
    and switching back restores the loaded bits."""
    from wan22_desktop.engine.wan.checkpoints import read_task_dit_config
    from wan22_desktop.engine.wan.dit_io import load_dit
    from wan22_desktop.engine.wan.fp8 import quantize_dit
    from wan22_desktop.engine.wan.fp8_io import load_dit_fp8
    from wan22_desktop.engine.wan.tiny import make_tiny_checkpoint

    ckpt = make_tiny_checkpoint("t2v-A14B", tmp_path / "ckpt", seed=4)
    folder = ckpt / "high_noise_model"
    cfg = read_task_dit_config(ckpt, "t2v-A14B")
    path = write_lora(tmp_path / "a.safetensors", lora_tensors(cfg, seed=6), "kohya", ALPHA)
    items = [ExpertLora(SINGLE, str(path), 0.9)]

    # The Linears: their loaded (dtype-converted) weights in fp32, merged, quantised once. The
    # other tensors (norms, biases, embeddings) merge in the loaded dtype, as without FP8.
    linears = load_dit(folder, dtype=dtype).float()
    merge_into({SINGLE: linears}, items)
    rest = load_dit(folder, dtype=dtype)
    merge_into({SINGLE: rest}, items)
    q, r = quantize_dit(linears).state_dict(), rest.state_dict()
    want = {k: v if v.dtype == torch.uint8 or k not in r else r[k] for k, v in q.items()}
    for _ in ("fresh", "cached"):
        model = load_dit_fp8(folder, dtype=dtype)
        loaded = {k: v.clone() for k, v in model.state_dict().items()}
        merge = LoraMerge()
        assert merge.apply({SINGLE: model}, items, "m")
        got = model.state_dict()
        assert all(torch.equal(got[k], want[k]) for k in want)
        merge.apply({SINGLE: model}, [], "m")
        assert all(torch.equal(v, loaded[k]) for k, v in model.state_dict().items())
