"""Block streaming, host master copies and the VAE off the device while sampling.

The streamed pipeline runs the same code on the CPU (slot copies are real, streams and pinning are
the synchronous stand-ins) and must give the resident model's video bit for bit. The order of the
copies, waits and computes is checked with a recorder, on the CPU and on fake CUDA tensors of a
full-size A14B expert (no storage), where the live device bytes of the blocks are counted too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import pytest
import torch
from torch import nn

from wan22_desktop.engine.wan import streaming
from wan22_desktop.engine.wan.attention import use_backend
from wan22_desktop.engine.wan.pipelines import MemoryConfig, WanPipeline
from wan22_desktop.engine.wan.streaming import BlockStreamer, HostCopy, SlotPool, SyncOps
from wan22_desktop.engine.wan.tiny import make_tiny_checkpoint
from wan22_desktop.errors import UserInputError

pytestmark = pytest.mark.usefixtures("one_torch_thread")

ALL = 99  # more slots than blocks: every block stays once loaded


class Recorder(SyncOps):
    """The CPU stand-ins, with every streamer event and stream operation logged in order."""

    def __init__(self) -> None:
        self.log: list[tuple[Any, ...]] = []

    def trace(self, what: str, block: int, slot: int) -> None:
        self.log.append((what, block, slot))


def check_order(log: list[tuple[Any, ...]], slots: int) -> int:
    """No block computed unless its latest copy was waited on; at most ``slots`` blocks bound.
    Returns the number of copies issued."""
    bound: dict[int, int] = {}  # block -> slot
    waited: dict[int, bool] = {}
    copies = 0
    for what, block, slot in (e for e in log if len(e) == 3):
        if what == "copy_issued":
            assert block not in bound and slot not in bound.values()
            bound[block] = slot
            waited[block] = False
            copies += 1
            assert len(bound) <= slots
        elif what == "evicted":
            assert bound.pop(block) == slot
        elif what == "copy_waited":
            assert bound.get(block) == slot, f"block {block} waited on but not bound"
            waited[block] = True
        elif what == "computed":
            assert bound.get(block) == slot and waited[block], f"block {block} computed early"
    return copies


@pytest.fixture(scope="module")
def ckpts(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("ckpt")
    return {
        task: make_tiny_checkpoint(task, root / task, seed=5)
        for task in ("t2v-A14B", "i2v-A14B", "ti2v-5B")
    }


@pytest.fixture(scope="module")
def image(tmp_path_factory) -> Path:
    from PIL import Image

    rng = np.random.default_rng(1)
    path = tmp_path_factory.mktemp("img") / "start.png"
    Image.fromarray(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)).save(path)
    return path


def _generate(ckpt: Path, task: str, memory: MemoryConfig, image: Path | None) -> Any:
    pipe = WanPipeline.from_checkpoint(ckpt, task, device="cpu", dtype=torch.float32, memory=memory)
    result = pipe.generate(
        "a red fox in snow",
        image=image,
        size=(64, 64),
        frame_num=5,
        sample_steps=4,
        seed=7,
    )
    return pipe, result.video


_RESIDENT: dict[tuple[str, bool], np.ndarray] = {}


def _resident(ckpts, task: str, image: Path | None) -> np.ndarray:
    key = (task, image is not None)
    if key not in _RESIDENT:
        _RESIDENT[key] = _generate(ckpts[task], task, MemoryConfig(), image)[1]
    return _RESIDENT[key]


@pytest.mark.parametrize("slots", [1, 2, ALL])
@pytest.mark.parametrize(
    "task, with_image", [("t2v-A14B", False), ("ti2v-5B", False), ("i2v-A14B", True)]
)
def test_streamed_generation_is_bit_identical_to_the_resident_model(
    ckpts, image, monkeypatch, task, with_image, slots
):
    recorders: list[Recorder] = []

    def recording_ops(device: torch.device) -> SyncOps:
        recorders.append(Recorder())
        return recorders[-1]

    monkeypatch.setattr(streaming, "ops_for", recording_ops)
    img = image if with_image else None
    memory = MemoryConfig(stream_blocks=slots, vae_offload=True)
    pipe, video = _generate(ckpts[task], task, memory, img)
    assert np.array_equal(video, _resident(ckpts, task, img))  # max |Δ| = 0.0

    # Every pool (the experts' and T5's) streamed in order; each block visited its slots.
    pools = [r for r in recorders if any(e[0] == "copy_issued" for e in r.log)]
    assert len(pools) == 2  # the DiT experts share one pool, T5 has its own
    for rec in pools:
        assert check_order(rec.log, slots) > 0
    # The experts' pool: both experts streamed when it is A14B (the switch), none left bound.
    dit = pipe.placer
    assert dit.pool is not None and all(s.owner is None for s in dit.pool.slots)
    assert dit.pool.nbytes == 0  # released before the VAE decode
    if task.endswith("A14B"):
        assert [m for m in dit.moves] == [
            ("high_noise_model", "device"),
            ("high_noise_model", "cpu"),
            ("low_noise_model", "device"),
            ("low_noise_model", "cpu"),
        ]
    # The blocks went back to their host tensors.
    for expert in pipe.experts.values():
        assert {p.device.type for p in expert.parameters()} == {"cpu"}


def test_a_small_pool_recopies_blocks_and_an_all_block_pool_copies_each_once(ckpts):
    torch.manual_seed(0)
    from wan22_desktop.engine.wan.dit import WanDiT
    from wan22_desktop.engine.wan.dit_config import tiny_dit_config

    dit = WanDiT(tiny_dit_config("t2v-A14B", num_layers=5)).eval().requires_grad_(False)
    n = len(dit.blocks)
    x = [torch.randn(dit.config.in_dim, 1, 4, 4)]
    ctx = [torch.randn(6, dit.config.text_dim)]
    t = torch.tensor([500])
    with torch.no_grad():
        want = dit(x, t=t, context=ctx, seq_len=4)[0]
    for slots, copies in ((1, 3 * n), (2, 3 * n), (ALL, n)):
        rec = Recorder()
        streamer = BlockStreamer(dit, SlotPool(torch.device("cpu"), slots, rec))
        streamer.attach()
        with torch.no_grad():
            outs = [dit(x, t=t, context=ctx, seq_len=4)[0] for _ in range(3)]
        streamer.detach()
        assert all(torch.equal(o, want) for o in outs)
        # Prefetch wraps to the next forward's first blocks, so 2 slots copy 3n (+1 look-ahead).
        assert check_order(rec.log, slots) in (copies, copies + 1)


class FakeCudaOps(Recorder):
    """Streams, events and pinning for fake CUDA tensors: tokens, with every operation logged."""

    pins = True

    def __init__(self) -> None:
        super().__init__()
        self._events = 0

    def pin(self, tensor: torch.Tensor) -> torch.Tensor:
        self.log.append(("pin",))
        return tensor

    def copy(self, dst: torch.Tensor, src: torch.Tensor) -> None:
        assert dst.device.type == "cuda" and src.device.type == "cpu"
        self.log.append(("h2d", self._stream))

    _stream = "compute"

    def side_stream(self) -> Any:
        return "copy"

    def current_stream(self) -> Any:
        return "compute"

    def use(self, stream: Any) -> Any:
        ops = self

        class _Use:
            def __enter__(self) -> None:
                ops._stream = stream

            def __exit__(self, *exc: object) -> None:
                ops._stream = "compute"

        return _Use()

    def record(self, stream: Any) -> Any:
        self._events += 1
        self.log.append(("record", stream, self._events))
        return self._events

    def wait(self, stream: Any, event: Any) -> None:
        self.log.append(("wait", stream, event))


def _device_bytes(module: nn.Module) -> int:
    seen: set[int] = set()
    total = 0
    for t in list(module.parameters()) + list(module.buffers()):
        if t.device.type == "cuda" and id(t) not in seen:
            seen.add(id(t))
            total += t.numel() * t.element_size()
    return total


def test_fake_cuda_full_size_expert_streams_in_order_within_its_slots(monkeypatch):
    """A full-size A14B expert (fp32, 1.31 GiB a block) on fake ``cuda:0``: copies on the side
    stream after the slot's last compute, compute after the copy event, ≤ N blocks' bytes live."""
    from torch._subclasses.fake_tensor import FakeTensorMode

    from wan22_desktop.engine.wan import dit as dit_module
    from wan22_desktop.engine.wan.dit import WanDiT
    from wan22_desktop.engine.wan.dit_config import preset

    # Complex RoPE has no fake CUDA kernel on a CPU-only build; shapes are all that matter here.
    monkeypatch.setattr(dit_module, "apply_rope", lambda x, freqs: x)
    cfg = preset("t2v-A14B")
    slots = 2
    with (
        mock.patch("torch.cuda.is_available", return_value=True),
        FakeTensorMode(allow_non_fake_inputs=True),
    ):
        dit = WanDiT(cfg)
        ops = FakeCudaOps()
        pool = SlotPool(torch.device("cuda:0"), slots, ops)
        streamer = BlockStreamer(dit, pool)
        block_bytes = streamer.block_bytes
        rest_bytes = streamer.rest.nbytes
        peaks: list[int] = []

        def measure(module: nn.Module, args: Any) -> None:
            on_device = [
                i for i, b in enumerate(dit.blocks) if next(b.parameters()).device.type == "cuda"
            ]
            assert len(on_device) <= slots
            peaks.append(_device_bytes(dit))

        streamer.attach()
        assert _device_bytes(dit) == rest_bytes + block_bytes * slots  # window filled at attach
        handles = [b.register_forward_pre_hook(measure) for b in dit.blocks]
        dev = torch.device("cuda:0")
        seq = 64
        h = torch.randn(1, seq, cfg.dim, device=dev)
        e0 = torch.randn(1, 1, 6, cfg.dim, device=dev)
        ctx = torch.randn(1, cfg.text_len, cfg.dim, device=dev)
        freqs = [torch.empty(seq, cfg.head_dim // 2, dtype=torch.complex128, device=dev)]
        with torch.no_grad(), use_backend("sdpa"):
            for _ in range(2):  # two forwards: the window wraps round to block 0
                x = h
                for block in dit.blocks:
                    x = block(x, e0, None, freqs, ctx)
        assert x.device == dev and x.shape == h.shape
        for handle in handles:
            handle.remove()
        streamer.detach()
        assert _device_bytes(dit) == 0
        pool_bytes = pool.nbytes

    d, f = (
        cfg.dim,
        cfg.ffn_dim,
    )  # one fp32 A14B block: 8 attention Linears, 4 norms, FFN, modulation
    assert block_bytes == 4 * (8 * (d * d + d) + 6 * d + (2 * d * f + f + d) + 6 * d)  # 1.31 GiB
    assert max(peaks) == rest_bytes + slots * block_bytes
    assert pool_bytes == slots * block_bytes  # preallocated once, reused by every block
    log = ops.log
    assert check_order(log, slots) == 2 * cfg.num_layers + 1  # + the look-ahead of block 0
    assert sum(1 for e in log if e == ("pin",)) == len(list(dit.parameters()))
    # Stream order: a copy into a slot waits on the compute event of its last user, and a
    # block's compute waits on its copy event, whose record follows the block's copies.
    ready: dict[int, int] = {}  # slot -> copy event
    done: dict[int, int] = {}  # slot -> compute event
    last_wait: dict[str, int | None] = {"copy": None, "compute": None}
    last_record: dict[str, int] = {}
    h2d_since_record = 0
    for e in log:
        if e[0] == "wait":
            last_wait[e[1]] = e[2]
        elif e[0] == "record":
            last_record[e[1]] = e[2]
        elif e[0] == "h2d" and e[1] == "copy":
            h2d_since_record += 1
        elif e[0] == "copy_issued":
            slot = e[2]
            assert h2d_since_record > 0  # the block's tensors were copied on the side stream
            h2d_since_record = 0
            if slot in done:
                assert last_wait["copy"] == done[slot], "slot overwritten before its compute"
            ready[slot] = last_record["copy"]
        elif e[0] == "copy_waited":
            assert last_wait["compute"] == ready[e[2]]
        elif e[0] == "computed":
            done[e[2]] = last_record["compute"]


def test_host_copy_releases_without_copying_back_unless_a_weight_changed():
    from torch._subclasses.fake_tensor import FakeTensorMode

    with (
        mock.patch("torch.cuda.is_available", return_value=True),
        FakeTensorMode(allow_non_fake_inputs=True),
    ):
        model = nn.Sequential(nn.Linear(4096, 4096), nn.LayerNorm(4096))
        ops = FakeCudaOps()
        master = HostCopy(model, torch.device("cuda:0"), ops=ops)
        host = [p for p in model.parameters()]
        master.upload()
        assert {p.device.type for p in model.parameters()} == {"cuda"}
        master.release()
        assert [p for p in model.parameters()] == host  # the same host tensors, no D2H copy
        assert master.copied_back == 0
        master.upload()
        with torch.no_grad():
            model[0].bias.add_(1.0)  # changed on the device: must not be lost
        master.release()
        assert master.copied_back == 1
    assert sum(1 for e in ops.log if e[0] == "h2d") == 2 * len(host)


def test_whole_model_offload_parks_by_dropping_the_device_copy(monkeypatch):
    """offload_model on (fake) CUDA: the experts keep pinned host masters; the switch and the park
    before decoding put them back without a device-to-host copy."""
    from torch._subclasses.fake_tensor import FakeTensorMode

    from wan22_desktop.engine.wan.offload import ExpertPlacer

    ops = FakeCudaOps()
    monkeypatch.setattr(streaming, "ops_for", lambda device: ops)
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: None)
    monkeypatch.setattr(torch.cuda, "empty_cache", lambda: None)
    with (
        mock.patch("torch.cuda.is_available", return_value=True),
        FakeTensorMode(allow_non_fake_inputs=True),
    ):
        experts = {n: nn.Linear(5120, 5120) for n in ("high_noise_model", "low_noise_model")}
        host = {n: list(m.parameters()) for n, m in experts.items()}
        placer = ExpertPlacer(experts, torch.device("cuda:0"), offload=True)
        assert placer.resident == set() and set(placer.masters) == set(experts)
        placer.activate("high_noise_model")
        assert experts["high_noise_model"].weight.device.type == "cuda"
        placer.activate("low_noise_model")
        assert list(experts["high_noise_model"].parameters()) == host["high_noise_model"]
        assert experts["low_noise_model"].weight.device.type == "cuda"
        placer.park_all()
        assert all(list(m.parameters()) == host[n] for n, m in experts.items())
    assert all(m.copied_back == 0 for m in placer.masters.values())
    assert sum(1 for e in ops.log if e[0] == "h2d") == 4  # two uploads of two tensors, no D2H
    assert sum(1 for e in ops.log if e == ("pin",)) == 4


def test_streaming_is_refused_with_ulysses_or_fsdp(ckpts):
    from wan22_desktop.engine.wan.pipelines.distributed import parallelize

    pipe = WanPipeline.from_checkpoint(
        ckpts["ti2v-5B"], "ti2v-5B", device="cpu", memory=MemoryConfig(stream_blocks=2)
    )
    with pytest.raises(UserInputError, match="one GPU"):
        parallelize(pipe, ulysses_size=2)
    with pytest.raises(UserInputError, match="one GPU"):
        parallelize(pipe, dit_fsdp=True)


def test_a_plan_with_stream_blocks_runs_streamed_through_the_job_path(ckpts, tmp_path):
    from tests.runtime.helpers import cpu_plan
    from wan22_desktop.engine.wan.pipelines import PipelineCache, WanEngine, run_job
    from wan22_desktop.request import GenerationRequest
    from wan22_desktop.runtime.planner import Plan

    request = GenerationRequest.for_task(
        "ti2v-5B", prompt="a cat", size="64*64", frame_num=5, sample_steps=2, seed=3
    )
    videos = {}
    for slots in (0, 2):
        cache = PipelineCache(WanEngine())
        plan = Plan.from_dict(cpu_plan("ti2v-5B", stream_blocks=slots, vae_offload=slots > 0))
        out = tmp_path / f"v{slots}.npy"
        run_job(request, plan, ckpts["ti2v-5B"], out, cache=cache)
        videos[slots] = np.load(out)
        pipe = cache.pipeline
        assert pipe.memory.stream_blocks == slots
        assert (pipe.placer.pool is not None) == (slots > 0)
        assert (pipe.vae_master is not None) == (slots > 0)
    assert np.array_equal(videos[0], videos[2])


def test_vae_offload_keeps_the_vae_on_the_device_only_to_encode_and_decode(ckpts, image):
    pipe = WanPipeline.from_checkpoint(
        ckpts["i2v-A14B"], "i2v-A14B", device="cpu", memory=MemoryConfig(vae_offload=True)
    )
    master = pipe.vae_master
    assert master is not None
    seen: list[str] = []

    def spy(name: str, fn: Any) -> Any:
        def wrapped(*args: Any, **kw: Any) -> Any:
            seen.append(name)
            return fn(*args, **kw)

        return wrapped

    master.upload = spy("up", master.upload)  # type: ignore[method-assign]
    master.release = spy("down", master.release)  # type: ignore[method-assign]
    pipe.vae.encode = spy("encode", pipe.vae.encode)  # type: ignore[method-assign]
    pipe.vae.decode = spy("decode", pipe.vae.decode)  # type: ignore[method-assign]
    pipe.placer.activate = spy("dit", pipe.placer.activate)  # type: ignore[method-assign]
    pipe.generate("a fox", image=image, size=(64, 64), frame_num=5, sample_steps=2, seed=1)
    assert seen == ["up", "encode", "down", "dit", "dit", "up", "decode", "down"]


def test_fake_cuda_expert_switch_reuses_the_slots_and_copies_no_whole_model(monkeypatch):
    """Two full-size A14B experts streaming with 2 slots: the switch detaches one (its device
    bytes drop to 0), the other fills the same slot memory; park frees it all for the decode."""
    from torch._subclasses.fake_tensor import FakeTensorMode

    from wan22_desktop.engine.wan.dit import WanDiT
    from wan22_desktop.engine.wan.dit_config import preset
    from wan22_desktop.engine.wan.offload import ExpertPlacer

    ops = FakeCudaOps()
    monkeypatch.setattr(streaming, "ops_for", lambda device: ops)
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: None)
    monkeypatch.setattr(torch.cuda, "empty_cache", lambda: None)
    cfg = preset("t2v-A14B")
    with (
        mock.patch("torch.cuda.is_available", return_value=True),
        FakeTensorMode(allow_non_fake_inputs=True),
    ):
        experts = {n: WanDiT(cfg) for n in ("high_noise_model", "low_noise_model")}
        placer = ExpertPlacer(experts, torch.device("cuda:0"), offload=False, stream_blocks=2)
        assert all(_device_bytes(m) == 0 for m in experts.values())
        high, low = (placer.streamers[n] for n in experts)
        placer.activate("high_noise_model")
        first = _device_bytes(experts["high_noise_model"])
        pool_bytes = placer.pool.nbytes if placer.pool else -1
        copies_before = sum(1 for e in ops.log if e[0] == "h2d")
        placer.activate("low_noise_model")  # the switch
        switch_copies = sum(1 for e in ops.log if e[0] == "h2d") - copies_before
        assert _device_bytes(experts["high_noise_model"]) == 0
        assert _device_bytes(experts["low_noise_model"]) == first
        assert placer.pool is not None and placer.pool.nbytes == pool_bytes
        placer.park_all()
        assert all(_device_bytes(m) == 0 for m in experts.values())
        assert placer.pool.nbytes == 0
    whole = len(list(experts["low_noise_model"].parameters()))
    per_block = len(list(experts["low_noise_model"].blocks[0].parameters()))
    assert first == high.rest.nbytes + 2 * high.block_bytes
    # The switch copied the resident part and two blocks: a fraction of the model's tensors.
    assert switch_copies == len(low.rest.slots) + 2 * per_block < whole
    assert pool_bytes == 2 * high.block_bytes


def test_fp8_weights_stream_bit_identically_to_resident_fp8(ckpts, monkeypatch):
    """FP8 storage and streaming together (the 24 GB A14B plan): the FP8 buffers and their scales
    travel through the slots like any weight, so the video is the resident FP8 model's bit for bit."""
    monkeypatch.setattr(streaming, "ops_for", lambda device: Recorder())
    task = "t2v-A14B"
    # Both from the FP8 cache: the first load quantises from the official files, whose mmapped
    # non-block tensors sit at other alignments than the cache's, which moves fp32 GEMM rounding
    # (max |Δ| ~3e-6) without any change of value.
    _generate(ckpts[task], task, MemoryConfig(fp8=True), None)
    resident = _generate(ckpts[task], task, MemoryConfig(fp8=True), None)[1]
    pipe, streamed = _generate(
        ckpts[task], task, MemoryConfig(fp8=True, stream_blocks=1, vae_offload=True), None
    )
    assert np.array_equal(streamed, resident)
    dtypes = {b.dtype for e in pipe.experts.values() for b in e.buffers()}
    assert torch.uint8 in dtypes  # the e4m3 bits
