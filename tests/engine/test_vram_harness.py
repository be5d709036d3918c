"""The fake-CUDA VRAM harness: the real CUDA pipeline path at full model size, without a GPU.

Small frame sizes keep the fast tests to seconds (the models are full size: fake tensors have no
storage); the official reproductions and the table re-simulation run at full size (slow)."""

from __future__ import annotations

import pytest
import torch

from wan22_desktop.engine.wan.vram_harness import GIB, _TransferOrder, plan_for, simulate
from wan22_desktop.runtime import vram_model as vm
from wan22_desktop.runtime import vram_table as vt

OFFLOAD = dict(offload_model=True, convert_model_dtype=True)


def test_a14b_runs_both_experts_on_fake_cuda_and_meets_the_flash_contract():
    r = simulate(plan_for("t2v-A14B", 256, 256, **OFFLOAD), 5)
    assert r.experts_run == ("high_noise_model", "low_noise_model")
    assert r.flash_calls > 0 and r.flash_errors == ()
    # Offload: one bf16 expert at a time beside the VAE, nothing of the DiT while decoding (the
    # rest at this tiny size is the fp32 copy of time_projection's weight, 0.59 GiB, per call).
    expert = vm.dit_gib("A14B", convert=True)
    assert expert < r.sampling_gib < expert + 1.5
    assert r.decode_gib < 2.0 and r.loaded_gib == pytest.approx(vm.vae_gib("A14B"), abs=0.01)
    assert r.text_gib > vm.t5_gib()  # T5 visits the GPU to encode


def test_resident_plan_holds_both_experts_and_the_harness_leaves_nothing_patched():
    r = simulate(plan_for("t2v-A14B", 256, 256, convert_model_dtype=True, t5_cpu=True), 5)
    assert r.sampling_gib > 2 * vm.dit_gib("A14B", convert=True)
    assert r.decode_gib > 2 * vm.dit_gib("A14B", convert=True)  # no park without offload
    assert not torch.cuda.is_available()
    assert torch.tensor([1.0]).device.type == "cpu"
    assert torch.Generator().device.type == "cpu"


def test_ti2v_with_an_image_gets_the_true_per_token_timesteps():
    """The per-token t of TI2V with an image has two values: the harness's real 'shadow' values
    make ``torch.unique`` and ``bool()`` in the engine answer as on a GPU, so the gathered e0
    (an extra [1, L, 6, C] fp32) shows in the peak."""
    plan = plan_for("ti2v-5B", 1280, 704, **OFFLOAD, t5_cpu=True)
    text = simulate(plan, 17, decode=False)
    image = simulate(plan, 17, has_image=True, decode=False)
    tokens = 5 * 22 * 40
    e0 = tokens * 6 * 3072 * 4 / GIB
    assert image.sampling_gib - text.sampling_gib >= e0


def test_streaming_fp8_and_the_lean_vae_run_for_real_on_fake_cuda():
    """The savers are the engine's own code here: only 4 FP8 block slots of the active expert on
    the device (T5 streams through 4 of its own), every block computed after the compute stream
    waited for its copy, the VAE off the device while sampling and decoded in tiles."""
    switches = dict(OFFLOAD, stream_blocks=4, fp8=True, vae_tile=16, vae_offload=True)
    r = simulate(plan_for("t2v-A14B", 256, 256, **switches), 5)
    assert r.experts_run == ("high_noise_model", "low_noise_model")
    assert r.flash_errors == () and r.transfer_errors == ()
    s = vm.SIZES["A14B"]
    assert r.blocks_computed == r.steps * 2 * s.blocks + 2 * vm.T5_BLOCKS  # CFG; prompt + negative
    assert r.block_copies >= r.blocks_computed  # 4 slots < 40 blocks: every forward copies
    resident = vm.dit_gib("A14B", True, fp8=True) - (s.blocks - 4) * vm.block_gib("A14B", True)
    assert resident < r.sampling_gib < resident + 1.5  # nothing else of the DiT, no VAE
    assert r.text_gib < vm.t5_streamed_gib(4) + vm.vae_gib("A14B") + 0.5 < vm.t5_gib()
    assert r.loaded_gib == 0.0  # everything waits in (pinned) host memory


def test_the_transfer_check_catches_a_block_used_before_its_copy_arrived():
    ops = _TransferOrder()
    copy = ops.side_stream()
    with ops.use(copy):
        ops.record(copy)
    ops.trace("copy_issued", 0, 0)
    ops.record(ops.current_stream())
    ops.trace("computed", 0, 0)  # no wait on the copy's event
    assert ops.errors == ["block 0 computed before its copy was waited on"]


@pytest.mark.slow
@pytest.mark.parametrize("size,official", [((1280, 720), 59.8), ((832, 480), 41.3)])
def test_reproduces_the_official_a14b_peaks_with_upstreams_time_embedding(size, official):
    """Wan2.2 README, one GPU, offload + bf16: 59.8 (720p) and 41.3 (480p); these are
    max_memory_allocated / 2**30 (GiB) although the README says GB."""
    r = simulate(plan_for("t2v-A14B", *size, **OFFLOAD), 81, upstream_e0=True, decode=False)
    assert r.sampling_gib == pytest.approx(official, rel=0.05)


@pytest.mark.slow
def test_our_engine_peaks_at_41_gib_for_a14b_720p():
    r = simulate(plan_for("t2v-A14B", 1280, 720, **OFFLOAD), 81, decode=False)
    assert r.sampling_gib == pytest.approx(41.0, abs=0.2)


@pytest.mark.slow
@pytest.mark.parametrize(
    "card,task,size,frames,decode",
    [
        (24, "t2v-A14B", (1280, 720), 81, True),  # streaming + FP8 + VAE offload
        (12, "ti2v-5B", (1280, 704), 121, True),  # streaming + tiled VAE (tiles of 32)
        (8, "ti2v-5B", (1280, 704), 121, False),  # streaming + FP8 (its 16-tile decode: 150 s)
    ],
)
def test_the_committed_table_is_current(card, task, size, frames, decode):
    """Re-simulate representative saver rows: a changed engine, harness or planner must rewrite
    the table (``benchmarks/bench_vram.py --write-table``)."""
    from wan22_desktop.runtime.planner import JobShape, plan

    p = plan(JobShape(task, *size, frames), vt.hardware(card, 1))
    assert p.stream_blocks and (p.fp8 or p.vae_tile)
    row = vt.load_table()[vt.row_key(p, frames, False)]
    r = simulate(p, frames, decode=decode)
    assert r.transfer_errors == ()
    for phase in ("text_gib", "sampling_gib") + (("decode_gib",) if decode else ()):
        assert getattr(r, phase) == pytest.approx(row[phase], abs=0.02), phase
