"""Planner table tests: the machines users have, and what each plan must (not) do."""

from __future__ import annotations

import dataclasses

import pytest

from wan22_desktop.runtime.hardware import GPU, Hardware
from wan22_desktop.runtime.planner import (
    HEADS,
    InstalledModel,
    JobShape,
    Plan,
    PlanError,
    PlanOverrides,
    dit_tokens,
    plan,
    usable_ulysses,
)

GB = 1024**3
# mem_get_info totals as cards report them (GiB)
CARDS = {
    8: ("RTX 3070", 7.8, (8, 6)),
    12: ("RTX 3060", 11.7, (8, 6)),
    16: ("RTX 4080", 15.7, (8, 9)),
    24: ("RTX 4090", 23.6, (8, 9)),
    48: ("RTX 6000 Ada", 47.5, (8, 9)),
    80: ("H100 80GB", 79.2, (9, 0)),
}


def machine(n: int = 0, vram: int = 24, ram: float = 128.0, flash: str | None = None) -> Hardware:
    name, total, cap = CARDS[vram]
    gpus = tuple(GPU(i, name, total, total - 0.5, cap) for i in range(n))
    return Hardware(gpus=gpus, ram_total_gib=ram, ram_available_gib=ram * 0.8, flash_attn=flash)


FULL = {
    t: InstalledModel(t, f"/models/{t}", b * GB)
    for t, b in (("t2v-A14B", 114), ("i2v-A14B", 114), ("ti2v-5B", 20))
}
T2V_720 = JobShape("t2v-A14B", 1280, 720, 81)
T2V_480 = JobShape("t2v-A14B", 832, 480, 81)
TI2V_720 = JobShape("ti2v-5B", 1280, 704, 121)
AUTO = JobShape("auto", 1280, 720, 81)

# (shape, machine, expected: None = refused, else dict of fields the plan must have)
TABLE = [
    ("no gpu a14b", T2V_720, machine(0), None),
    ("no gpu 5b", TI2V_720, machine(0), None),
    # Below whole-model offload (issue 12 §5): streaming, FP8 and a tiled VAE.
    (
        "8GB 5b",
        TI2V_720,
        machine(1, 8),
        dict(task="ti2v-5B", offload_model=True, t5_cpu=True, fp8=True, vae_offload=True),
    ),
    ("12GB 5b", TI2V_720, machine(1, 12), dict(task="ti2v-5B", fp8=False, vae_offload=True)),
    ("16GB 5b", TI2V_720, machine(1, 16), dict(task="ti2v-5B", stream_blocks=0)),
    ("16GB a14b", T2V_480, machine(1, 16), dict(task="t2v-A14B", fp8=True, nproc=1)),
    (
        "24GB 5b official recipe",
        TI2V_720,
        machine(1, 24),
        dict(task="ti2v-5B", nproc=1, offload_model=True, convert_model_dtype=True, t5_cpu=True),
    ),
    ("24GB a14b", T2V_720, machine(1, 24), dict(task="t2v-A14B", fp8=True, vae_offload=True)),
    (
        "24GB auto -> 5B",
        AUTO,
        machine(1, 24),
        dict(task="ti2v-5B", t5_cpu=True, width=1280, height=704),
    ),
    (
        "48GB 5b fast",
        TI2V_720,
        machine(1, 48),
        dict(task="ti2v-5B", offload_model=False, convert_model_dtype=True, t5_cpu=False),
    ),
    (
        "48GB a14b 480p",
        T2V_480,
        machine(1, 48),
        dict(task="t2v-A14B", offload_model=True, convert_model_dtype=True, nproc=1),
    ),
    (
        "48GB a14b 720p",
        T2V_720,
        machine(1, 48),
        dict(task="t2v-A14B", offload_model=True, stream_blocks=0, fp8=False),
    ),
    ("48GB auto 720p -> A14B", AUTO, machine(1, 48), dict(task="t2v-A14B")),
    (
        "80GB a14b 720p",
        T2V_720,
        machine(1, 80),
        dict(task="t2v-A14B", offload_model=False, convert_model_dtype=True, nproc=1),
    ),
    ("80GB auto -> A14B", AUTO, machine(1, 80), dict(task="t2v-A14B")),
    ("80GB a14b low RAM", T2V_720, machine(1, 80, ram=32), None),
    ("80GB auto low RAM -> 5B", AUTO, machine(1, 80, ram=32), dict(task="ti2v-5B")),
    ("2x24GB 5b", TI2V_720, machine(2, 24), dict(nproc=2, ulysses_size=2, dit_fsdp=False)),
    ("2x24GB a14b -> one GPU streams", T2V_720, machine(2, 24), dict(nproc=1, fp8=True)),
    (
        "4x80GB a14b",
        T2V_720,
        machine(4, 80),
        dict(nproc=4, ulysses_size=4, dit_fsdp=True, t5_fsdp=True, offload_model=False),
    ),
    (
        "8x80GB a14b",
        T2V_720,
        machine(8, 80, flash="fa3"),
        dict(nproc=8, ulysses_size=8, dit_fsdp=True, attention="flash3"),
    ),
    ("8x80GB 5b", TI2V_720, machine(8, 80), dict(nproc=8, ulysses_size=8)),
]


@pytest.mark.parametrize("name,shape,hw,expected", TABLE, ids=[t[0] for t in TABLE])
def test_plan_table(name, shape, hw, expected):
    if expected is None:
        with pytest.raises(PlanError) as err:
            plan(shape, hw, FULL)
        assert err.value.message and err.value.hint
        return
    p = plan(shape, hw, FULL)
    for key, value in expected.items():
        assert getattr(p, key) == value, (key, p)
    assert HEADS["A14B" if "A14B" in p.task else "5B"] % p.ulysses_size == 0
    assert p.est_vram_gib <= min(g.total_gib for g in hw.gpus)
    assert max(p.est_vram_sampling_gib, p.est_vram_decode_gib) <= p.est_vram_gib
    for field in ("task", "gpus", "offload_model", "convert_model_dtype", "t5_cpu", "attention"):
        assert p.reasons.get(field), field
    assert Plan.from_dict(p.to_dict()) == p


def test_refusals_say_why():
    with pytest.raises(PlanError, match="no CUDA GPU"):
        plan(T2V_720, machine(0), FULL)
    with pytest.raises(PlanError, match="system RAM"):
        plan(T2V_720, machine(1, 80, ram=32), FULL)
    with pytest.raises(PlanError, match="needs about .* GiB per GPU") as err:
        plan(T2V_720, machine(1, 12), FULL)
    assert "smallest card that fits this job is 24 GB" in err.value.hint


def test_ulysses_always_divides_heads():
    for heads in HEADS.values():
        for gpus in range(1, 17):
            u = usable_ulysses(heads, gpus)
            assert heads % u == 0 and 1 <= u <= gpus
    p = plan(T2V_480, machine(3, 80), FULL)  # 40 heads: 3 does not divide, use 2
    assert p.nproc == 2 and "divide" in p.reasons["gpus"]
    p = plan(TI2V_720, machine(3, 24), FULL)  # 24 heads: 3 works
    assert p.nproc == 3


def test_tiny_checkpoint_runs_on_cpu_and_full_one_does_not():
    tiny = {"ti2v-5B": InstalledModel("ti2v-5B", "/tmp/tiny", 2_000_000)}
    p = plan(JobShape("ti2v-5B", 64, 64, 5), machine(0), tiny)
    assert (p.device, p.attention, p.offload_model) == ("cpu", "sdpa", False)
    with pytest.raises(PlanError, match="too large for the CPU"):
        plan(TI2V_720, machine(1, 80), FULL, PlanOverrides(device="cpu"))


def test_overrides_win_and_are_explained():
    p = plan(TI2V_720, machine(1, 80), FULL, PlanOverrides(t5_cpu=True, offload_model=True))
    assert p.t5_cpu and p.offload_model
    assert p.reasons["t5_cpu"].endswith("set by you")
    with pytest.raises(PlanError, match="GPUs requested"):
        plan(TI2V_720, machine(1, 80), FULL, PlanOverrides(gpus=2))
    with pytest.raises(PlanError, match="does not divide"):
        plan(T2V_720, machine(4, 80), FULL, PlanOverrides(ulysses_size=3))
    with pytest.raises(PlanError, match="FSDP sharding needs several GPUs"):
        plan(T2V_480, machine(1, 80), FULL, PlanOverrides(dit_fsdp=True))
    with pytest.raises(PlanError, match="sharded across GPUs and kept on the CPU"):
        plan(T2V_720, machine(4, 80), FULL, PlanOverrides(t5_cpu=True))


def test_attention_choice():
    assert plan(TI2V_720, machine(1, 80, flash="fa3"), FULL).attention == "flash3"
    assert plan(TI2V_720, machine(1, 48, flash="fa3"), FULL).attention == "flash2"  # not Hopper
    assert plan(TI2V_720, machine(1, 48), FULL).attention == "sdpa"


def _kernels(vram: int, n: int = 1, **imports: str | None) -> Hardware:
    """A machine whose probe found ``imports``: backend -> None (imports) or the error text."""
    hw = machine(n, vram)
    return dataclasses.replace(
        hw,
        attention_kernels={b: "1.0" for b, err in imports.items() if err is None},
        attention_errors={b: err for b, err in imports.items() if err is not None},
    )


@pytest.mark.parametrize(
    ("vram", "imports", "expected", "why"),
    [
        (80, dict(flash3=None, flash2=None), "flash3", "sm90, Hopper"),
        (48, dict(flash3=None, flash2=None), "flash2", "sm89"),  # FA3 on a non-Hopper card
        (48, dict(flash3=None), "sdpa", "FlashAttention 3 runs on Hopper (sm90) only"),
        (80, dict(flash3="ImportError: undefined symbol", flash2=None), "flash2", "sm90"),
        (80, dict(flash3="OSError: libcudart.so", flash2="ImportError: x"), "sdpa", "libcudart"),
        (24, dict(sage=None), "sdpa", "FlashAttention 2 is not installed"),  # Sage: asked only
    ],
)
def test_attention_from_what_imports_and_the_card_runs(vram, imports, expected, why):
    p = plan(TI2V_720, _kernels(vram, **imports), FULL)
    assert p.attention == expected and why in p.reasons["attention"]


def test_attention_follows_the_oldest_gpu():
    hw = _kernels(80, n=2, flash3=None, flash2=None)
    old = GPU(1, "A100", 79.2, 79.0, (8, 0))
    hw = dataclasses.replace(hw, gpus=(hw.gpus[0], old))
    p = plan(TI2V_720, hw, FULL)  # the 5B splits over both (A14B runs on one 80 GB card)
    assert p.nproc == 2 and p.attention == "flash2"


def test_fa2_on_turing_is_refused_when_pinned():
    hw = dataclasses.replace(
        _kernels(48, flash2=None), gpus=(GPU(0, "Quadro RTX 8000", 47.5, 47.0, (7, 5)),)
    )
    p = plan(TI2V_720, hw, FULL)
    assert p.attention == "sdpa" and "sm80 or newer; this GPU is sm75" in p.reasons["attention"]
    with pytest.raises(PlanError, match="needs compute capability sm80 or newer; this GPU is sm75"):
        plan(TI2V_720, hw, FULL, PlanOverrides(attention="flash2"))


def test_a_pinned_backend_is_honoured_only_where_it_runs():
    hw = _kernels(24, flash2=None, sage=None, flash3="ImportError: no module")
    p = plan(TI2V_720, hw, FULL, PlanOverrides(attention="sage"))
    assert p.attention == "sage" and p.reasons["attention"] == "SageAttention (8-bit): set by you"
    assert plan(TI2V_720, hw, FULL, PlanOverrides(attention="sdpa")).attention == "sdpa"
    assert plan(TI2V_720, hw, FULL, PlanOverrides(attention="auto")).attention == "flash2"
    with pytest.raises(PlanError) as err:
        plan(TI2V_720, hw, FULL, PlanOverrides(attention="flash3"))
    assert "FlashAttention 3 is not installed (importing flash_attn_interface failed" in str(
        err.value.message
    )
    assert err.value.hint == "use one of auto, flash2, sage, sdpa"
    assert err.value.field == "attention"
    with pytest.raises(PlanError, match="unknown attention backend 'xformers'"):
        plan(TI2V_720, hw, FULL, PlanOverrides(attention="xformers"))


def test_cpu_runs_sdpa_and_refuses_a_pinned_kernel():
    tiny = {"ti2v-5B": InstalledModel("ti2v-5B", "/m/tiny", 1000)}
    small = JobShape("ti2v-5B", 128, 128, 5)
    assert plan(small, machine(0), tiny).attention == "sdpa"
    with pytest.raises(PlanError, match="FlashAttention 2 needs a CUDA GPU") as err:
        plan(small, machine(0), tiny, PlanOverrides(attention="flash2"))
    assert err.value.hint == "use one of auto, sdpa"


def test_missing_model_is_a_warning_not_a_refusal():
    p = plan(TI2V_720, machine(1, 24), {})
    assert any("not installed" in w for w in p.warnings)


def test_token_counts_match_official():
    assert dit_tokens("A14B", 1280, 720, 81) == 75600
    assert dit_tokens("5B", 1280, 704, 121) == 27280
