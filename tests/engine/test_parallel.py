"""Multi-process proof on CPU (gloo): 2 ranks give the same DiT / T5 forward as one process.

All 2-rank scenarios run in one spawn (a rank start costs seconds on a 2-core CI machine); each
rank saves its results, and the tests below compare them with references computed here, in
the test process, by the plain single-process models.
"""

from __future__ import annotations

import copy
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from wan22_desktop.engine.wan import parallel
from wan22_desktop.engine.wan.dit import WanDiT
from wan22_desktop.engine.wan.dit_config import tiny_dit_config
from wan22_desktop.engine.wan.solvers import make_solver
from wan22_desktop.engine.wan.t5_io import tiny_t5
from wan22_desktop.errors import OperationError

WORLD = 2
TOL = 1e-5


# ---- Shared inputs (built identically in the ranks and in the test process) ------------------


def _random_dit(task: str, seed: int, **overrides: int) -> WanDiT:
    torch.manual_seed(seed)
    model = WanDiT(tiny_dit_config(task, text_len=16, **overrides)).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.2)  # official init zeroes the head: randomise everything
    return model


def _cases() -> dict[str, dict]:
    """DiT inputs: uneven seq_len (padding to a multiple of 2), a batch of two grids, per-token t."""
    g = torch.Generator().manual_seed(7)
    ctx = lambda n: torch.randn(n, 32, generator=g)  # noqa: E731
    t2v = dict(
        task="t2v-A14B",
        x=[torch.randn(16, 3, 4, 6, generator=g), torch.randn(16, 2, 4, 4, generator=g)],
        t=torch.tensor([999, 250]),
        context=[ctx(5), ctx(9)],
        seq_len=19,
    )
    i2v = dict(
        task="i2v-A14B",
        x=[torch.randn(16, 2, 4, 6, generator=g)],
        y=[torch.randn(20, 2, 4, 6, generator=g)],
        t=torch.tensor([700]),
        context=[ctx(3)],
        seq_len=12,
    )
    seq_len = 3 * 2 * 3 + 1  # ti2v: per-token t [1, seq_len], first latent frame at t = 0
    t = torch.full((1, seq_len), 873.25)
    t[0, :6] = 0
    ti2v = dict(
        task="ti2v-5B",
        x=[torch.randn(48, 3, 4, 6, generator=g)],
        t=t,
        context=[ctx(4)],
        seq_len=seq_len,
    )
    return {"t2v": t2v, "i2v": i2v, "ti2v": ti2v}


def _forward(model: torch.nn.Module, case: dict) -> list[torch.Tensor]:
    with torch.no_grad():
        return model(case["x"], case["t"], case["context"], case["seq_len"], y=case.get("y"))


def _t5_inputs() -> tuple[torch.Tensor, torch.Tensor]:
    ids = torch.randint(3, 40, (2, 12), generator=torch.Generator().manual_seed(3))
    mask = torch.ones(2, 12, dtype=torch.long)
    mask[1, 7:] = 0
    return ids, mask


def _sample(
    t5: torch.nn.Module, high: torch.nn.Module, low: torch.nn.Module, seed: int
) -> torch.Tensor:
    """A tiny t2v-A14B run without the VAE: T5 prompt/negative encoding, noise from the seed,
    4 UniPC steps with CFG 3.0, the high-noise expert down to the 875 boundary, then the low one."""
    ids, mask = _t5_inputs()
    with torch.no_grad():
        emb = t5(ids, mask)
    cond, uncond = [emb[0, :12]], [emb[1, :7]]
    latent = torch.randn(16, 2, 4, 6, generator=torch.Generator().manual_seed(seed))
    solver = make_solver("unipc", 4, shift=12.0)
    seq_len = 2 * 2 * 3
    for t in solver.timesteps:
        dit = high if int(t) >= 875 else low
        tt = t.view(1)
        with torch.no_grad():
            v_c = dit([latent], tt, cond, seq_len)[0]
            v_u = dit([latent], tt, uncond, seq_len)[0]
        latent = solver.step(v_u + 3.0 * (v_c - v_u), t, latent)
    return latent


# ---- What each rank runs ---------------------------------------------------------------------


def _rank_collectives(r: int) -> dict:
    out: dict = {}
    # Rank r holds value 100·r + i at flat position i of a [2, 4, 6] tensor.
    x = (100 * r + torch.arange(48, dtype=torch.float64)).view(2, 4, 6)
    for dtype in (torch.float32, torch.bfloat16):
        for route in ("single", "gather"):
            y = parallel.all_to_all(
                x.to(dtype), scatter_dim=2, gather_dim=1, via_gather=route == "gather"
            )
            out[f"a2a_{dtype}_{route}"] = y.double()
    out["gathered"] = parallel.gather_sequence(x, dim=1)
    out["shard"] = parallel.shard_sequence(x, r, WORLD, dim=1)
    out["broadcast"] = parallel.broadcast_object({"seed": 1234 + r, "prompt": f"rank {r}"})
    try:
        parallel.apply_sequence_parallel(_random_dit("t2v-A14B", 0, num_heads=1))
    except OperationError as exc:
        out["heads_error"] = exc.message
    return out


def _rank_sp_forward(r: int) -> dict:
    out = {}
    for name, case in _cases().items():
        dit = parallel.apply_sequence_parallel(_random_dit(case["task"], seed=1))
        out[name] = _forward(dit, case)
    dit = parallel.apply_sequence_parallel(_random_dit("ti2v-5B", seed=1))
    dit.per_token_time_mlp = True  # e/e0 with one row per token: sharded, not broadcast
    out["ti2v_per_token_mlp"] = _forward(dit, _cases()["ti2v"])
    return out


def _rank_sp_kernel(r: int) -> dict:
    """Ulysses over an uneven split (padded keys) through the varlen kernel path: a stub
    ``flash_attn`` that checks the call contract and computes with SDPA (tests/engine/
    attention_stubs.py). Counts how often the padded layout was built."""
    import shutil
    import tempfile
    import textwrap

    from tests.engine import attention_stubs
    from wan22_desktop.engine.wan.attention import use_backend

    folder = Path(tempfile.mkdtemp(prefix="kernel-stub"))
    (folder / "flash_attn.py").write_text(textwrap.dedent(attention_stubs.FLASH_OK))
    sys.path.insert(0, str(folder))
    try:
        import flash_attn  # type: ignore[import-not-found]

        case = _cases()["t2v"]
        dit = parallel.apply_sequence_parallel(_random_dit(case["task"], seed=1))
        with use_backend("flash2") as guard:
            out = _forward(dit, case)
        return {
            "out": out,
            "notes": list(guard.notes) if guard else ["no guard"],
            "calls": len(flash_attn.CALLS),
            "layouts": len({id(t) for t in flash_attn.LAYOUTS}),
        }
    finally:
        sys.path.remove(str(folder))
        sys.modules.pop("flash_attn", None)
        shutil.rmtree(folder, ignore_errors=True)


def _rank_fsdp(r: int) -> dict:
    out = {}
    case = _cases()["t2v"]
    # Rank 1 starts from other weights: sync_states must hand it rank 0's.
    dit = parallel.apply_sequence_parallel(_random_dit("t2v-A14B", seed=1 + r))
    sharded = parallel.shard_model_fsdp(dit, param_dtype=torch.float32)
    out["fsdp_sp_fp32"] = _forward(sharded, case)
    out["local_numel"] = sum(p.numel() for p in sharded.parameters())
    out["wrapped_blocks"] = sum(type(b).__name__ == "FullyShardedDataParallel" for b in dit.blocks)
    # The other order: SP applied to an already sharded DiT reaches the module inside.
    sharded = parallel.shard_model_fsdp(_random_dit("t2v-A14B", seed=1), param_dtype=torch.float32)
    out["fsdp_then_sp"] = _forward(parallel.apply_sequence_parallel(sharded), case)
    out["fsdp_then_sp_active"] = sharded.module.sequence_parallel is not None
    # Official mixed precision (bf16 params, fp32 reduce/buffers), no SP: each rank runs the
    # full sequence, so it must match the single process with bf16-rounded weights.
    sharded = parallel.shard_model_fsdp(_random_dit("t2v-A14B", seed=1), param_dtype=torch.bfloat16)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out["fsdp_bf16"] = _forward(sharded, case)
    t5 = parallel.shard_model_fsdp(
        tiny_t5(seed=5, vocab_size=40), sync_states=False, param_dtype=torch.float32
    )
    with torch.no_grad():
        out["t5_fsdp"] = t5(*_t5_inputs())
    return out


def _rank_sampling(r: int) -> dict:
    """The official multi-GPU recipe: T5 and both experts FSDP-sharded, Ulysses on, the seed
    drawn on rank 0 and broadcast."""
    seed = parallel.broadcast_object(2026 if r == 0 else -1)
    t5 = parallel.shard_model_fsdp(
        tiny_t5(seed=5, vocab_size=40), sync_states=False, param_dtype=torch.float32
    )
    experts = [
        parallel.shard_model_fsdp(
            parallel.apply_sequence_parallel(_random_dit("t2v-A14B", seed=s)),
            param_dtype=torch.float32,
        )
        for s in (11, 12)
    ]
    return {"latent": _sample(t5, *experts, seed=seed)}


SCENARIOS: dict[str, Callable[[int], dict]] = {
    "collectives": _rank_collectives,
    "sp_forward": _rank_sp_forward,
    "sp_kernel": _rank_sp_kernel,
    "fsdp": _rank_fsdp,
    "sampling": _rank_sampling,
}


def _rank_main(r: int, port: int, out_dir: str) -> None:
    """A torchrun-like rank: the group comes from the environment, as in the worker, and the
    rendezvous store is the parent's (torchrun's agent store), so no rank races for a port."""
    os.environ.update(
        RANK=str(r),
        LOCAL_RANK=str(r),
        WORLD_SIZE=str(WORLD),
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
        TORCHELASTIC_USE_AGENT_STORE="True",
    )
    torch.set_num_threads(1)
    try:
        from datetime import timedelta

        ctx = parallel.init_distributed("gloo", timeout=timedelta(seconds=60))
        assert (ctx.rank, ctx.world_size, ctx.backend) == (r, WORLD, "gloo")
        for name, scenario in SCENARIOS.items():
            torch.save(scenario(r), Path(out_dir) / f"{name}.{r}.pt")
        parallel.barrier()
    except BaseException:
        (Path(out_dir) / f"error.{r}.txt").write_text(traceback.format_exc())
        raise
    finally:
        parallel.shutdown_distributed()


def _torchrun_rank(out_dir: str) -> None:
    """Body of a rank started by real torchrun (the group comes from its env and agent store)."""
    from datetime import timedelta

    ctx = parallel.init_distributed(timeout=timedelta(seconds=60))
    try:
        case = _cases()["t2v"]
        dit = parallel.apply_sequence_parallel(_random_dit(case["task"], seed=1))
        torch.save(
            {"world": ctx.world_size, "out": _forward(dit, case)},
            Path(out_dir) / f"torchrun.{ctx.rank}.pt",
        )
    finally:
        parallel.shutdown_distributed()


def _run_ranks(out_dir: Path, timeout: float = 180.0) -> None:
    """Start WORLD rank processes and wait; none outlives this call, whatever happens."""
    ctx = mp.get_context("spawn")
    store = torch.distributed.TCPStore(
        "127.0.0.1", 0, WORLD, is_master=True, wait_for_workers=False
    )  # held until the ranks are gone
    procs = [
        ctx.Process(target=_rank_main, args=(r, store.port, str(out_dir)), daemon=True)
        for r in range(WORLD)
    ]
    for p in procs:
        p.start()
    deadline = time.monotonic() + timeout
    try:
        for p in procs:
            p.join(max(0.0, deadline - time.monotonic()))
            if p.exitcode not in (None, 0):
                break  # one rank failed: the others would wait on it until their timeout
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()
            p.join(5)
    errors = sorted(out_dir.glob("error.*.txt"))
    codes = [p.exitcode for p in procs]
    assert codes == [0] * WORLD and not errors, (codes, [e.read_text() for e in errors])


@pytest.fixture(scope="module")
def ranks(tmp_path_factory) -> Callable[[str], list[dict]]:
    out_dir = tmp_path_factory.mktemp("ranks")
    _run_ranks(out_dir)
    return lambda name: [
        torch.load(out_dir / f"{name}.{r}.pt", weights_only=True) for r in range(WORLD)
    ]


def _max_diff(a: list[torch.Tensor], b: list[torch.Tensor]) -> float:
    assert [u.shape for u in a] == [v.shape for v in b]
    return max((u - v).abs().max().item() for u, v in zip(a, b))


# ---- Two ranks ---------------------------------------------------------------------------------


def test_all_to_all_moves_chunk_j_to_rank_j(ranks):
    results = ranks("collectives")
    xs = [(100 * r + torch.arange(48, dtype=torch.float64)).view(2, 4, 6) for r in range(WORLD)]
    for r, res in enumerate(results):
        # Rank r receives column block r (dim 2) of every rank, stacked along dim 1 in rank order.
        expected = torch.cat([x[:, :, 3 * r : 3 * r + 3] for x in xs], dim=1)
        for key in (
            "a2a_torch.float32_single",
            "a2a_torch.float32_gather",
            "a2a_torch.bfloat16_single",
            "a2a_torch.bfloat16_gather",
        ):
            want = expected.to(torch.bfloat16).double() if "bfloat16" in key else expected
            assert torch.equal(res[key], want), key
        assert torch.equal(res["gathered"], torch.cat(xs, dim=1))
        assert torch.equal(res["shard"], xs[r][:, 2 * r : 2 * r + 2])
        assert res["broadcast"] == {"seed": 1234, "prompt": "rank 0"}
        assert "2 processes cannot split the model's 1 attention heads" in res["heads_error"]


@pytest.mark.parametrize("name", ["t2v", "i2v", "ti2v"])
def test_ulysses_forward_matches_single_process(ranks, name):
    case = _cases()[name]
    ref = _forward(_random_dit(case["task"], seed=1), case)
    for res in ranks("sp_forward"):
        assert _max_diff(res[name], ref) <= TOL


def test_ulysses_uneven_split_through_a_kernel_lays_out_keys_once_per_forward(ranks):
    """The padded-key layout (a host sync) is built once per forward, not per block and call;
    the output equals the single-process SDPA forward up to the kernel's bf16 inputs."""
    case = _cases()["t2v"]
    ref = _forward(_random_dit(case["task"], seed=1), case)
    blocks = len(_random_dit(case["task"], seed=1).blocks)
    for res in ranks("sp_kernel"):
        assert res["notes"] == []
        assert res["calls"] == 2 * blocks  # self- and cross-attention of every block
        assert res["layouts"] == 2  # one padded self-attention layout, one for the text keys
        diff = _max_diff(res["out"], ref)
        print(f"Ulysses 2 ranks, uneven split, flash2 stub vs single-process SDPA: {diff:.2e}")
        assert diff <= 5e-2


def test_ulysses_with_per_token_time_rows(ranks):
    case = _cases()["ti2v"]
    ref = _forward(_random_dit("ti2v-5B", seed=1), case)
    for res in ranks("sp_forward"):
        assert _max_diff(res["ti2v_per_token_mlp"], ref) <= TOL


def test_fsdp_with_ulysses_matches_single_process_and_shards(ranks):
    case = _cases()["t2v"]
    model = _random_dit("t2v-A14B", seed=1)
    ref = _forward(model, case)
    total = sum(p.numel() for p in model.parameters())
    results = ranks("fsdp")
    for res in results:
        assert _max_diff(res["fsdp_sp_fp32"], ref) <= TOL  # rank 1's own weights were replaced
        assert _max_diff(res["fsdp_then_sp"], ref) <= TOL and res["fsdp_then_sp_active"]
        assert res["wrapped_blocks"] == len(model.blocks)
        assert res["local_numel"] <= total // WORLD + 16  # each rank keeps about half
    assert sum(res["local_numel"] for res in results) >= total


def test_fsdp_bf16_mixed_precision_matches_bf16_weights(ranks):
    case = _cases()["t2v"]
    model = _random_dit("t2v-A14B", seed=1).to(torch.bfloat16)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        ref = _forward(model, case)
    fp32 = _forward(_random_dit("t2v-A14B", seed=1), case)
    for res in ranks("fsdp"):
        assert _max_diff(res["fsdp_bf16"], ref) <= TOL
        assert _max_diff(res["fsdp_bf16"], fp32) > 1e-3  # bf16 compute really happened


def test_t5_fsdp_matches_single_process(ranks):
    with torch.no_grad():
        ref = tiny_t5(seed=5, vocab_size=40)(*_t5_inputs())
    for res in ranks("fsdp"):
        assert (res["t5_fsdp"] - ref).abs().max().item() <= TOL


def test_sharded_moe_sampling_matches_single_process(ranks):
    """FSDP T5 + two FSDP/Ulysses experts over 4 CFG steps: the same latent as one process."""
    ref = _sample(
        tiny_t5(seed=5, vocab_size=40),
        _random_dit("t2v-A14B", seed=11),
        _random_dit("t2v-A14B", seed=12),
        seed=2026,
    )
    steps = make_solver("unipc", 4, shift=12.0).timesteps
    assert (steps >= 875).any() and (steps < 875).any()  # both experts take part
    for res in ranks("sampling"):
        assert (res["latent"] - ref).abs().max().item() <= TOL


@pytest.mark.slow  # real processes: in `make test`, not `make test-fast`
def test_ranks_started_by_torchrun(tmp_path):
    """The launch the worker gets: `torchrun --standalone --nproc_per_node 2`."""
    here = Path(__file__).resolve().parent
    script = tmp_path / "rank.py"
    script.write_text(
        f"import sys\nsys.path.insert(0, {str(here)!r})\n"
        f"import test_parallel\ntest_parallel._torchrun_rank({str(tmp_path)!r})\n"
    )
    env = {**os.environ, "PYTHONPATH": str(here.parents[1])}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        str(WORLD),
        str(script),
    ]
    proc = subprocess.Popen(
        cmd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        text=True,
    )
    try:
        log, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:  # timed out: take torchrun and its ranks down together
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 0, log
    case = _cases()["t2v"]
    ref = _forward(_random_dit(case["task"], seed=1), case)
    for r in range(WORLD):
        res = torch.load(tmp_path / f"torchrun.{r}.pt", weights_only=True)
        assert res["world"] == WORLD
        assert _max_diff(res["out"], ref) <= TOL


# ---- One process ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seq", "world", "want"),
    [(18, 1, 18), (18, 2, 18), (19, 2, 20), (1, 4, 4), (75600, 8, 75600), (27280, 3, 27282)],
)
def test_padded_len(seq, world, want):
    assert parallel.padded_len(seq, world) == want


def test_rank_freqs_pad_with_identity_and_tile_the_sequence():
    freqs = torch.polar(
        torch.ones(5, 3, dtype=torch.float64), torch.rand(5, 3, dtype=torch.float64)
    )
    parts = [parallel.rank_freqs(freqs, 8, r, 4) for r in range(4)]
    assert all(p.shape == (2, 3) for p in parts)
    full = torch.cat(parts)
    assert torch.equal(full[:5], freqs)
    assert torch.equal(full[5:], torch.ones(3, 3, dtype=torch.complex128))


def test_single_process_helpers_are_identities():
    assert parallel.world_size() == 1 and parallel.rank() == 0
    x = torch.randn(2, 6, 4)
    assert parallel.all_to_all(x, 2, 1) is x
    assert parallel.gather_sequence(x) is x
    assert torch.equal(parallel.shard_sequence(x, 0, 1), x)
    assert parallel.broadcast_object({"a": 1}) == {"a": 1}
    with pytest.raises(ValueError, match="do not split evenly"):
        parallel.shard_sequence(x, 0, 4)


def test_init_distributed_without_torchrun_is_single_process():
    ctx = parallel.init_distributed(env={})
    assert ctx == parallel.DistContext(0, 1, 0, torch.device("cpu"), None)
    assert not torch.distributed.is_initialized()


def test_init_distributed_reports_a_broken_environment():
    with pytest.raises(OperationError, match="not a number"):
        parallel.init_distributed("gloo", env={"WORLD_SIZE": "two"})
    with pytest.raises(OperationError, match="MASTER_ADDR"):
        parallel.init_distributed("gloo", env={"WORLD_SIZE": "2", "RANK": "1"})
    with pytest.raises(OperationError, match="could not join the 2-process group"):
        parallel.init_distributed(
            "gloo",
            env={
                "WORLD_SIZE": "2",
                "RANK": "1",
                "MASTER_ADDR": "127.0.0.1",
                "MASTER_PORT": "99999",
            },
        )
    assert not torch.distributed.is_initialized()


def test_sequence_parallel_is_a_noop_in_one_process():
    case = _cases()["t2v"]
    ref = _forward(_random_dit("t2v-A14B", seed=1), case)
    dit = parallel.apply_sequence_parallel(_random_dit("t2v-A14B", seed=1))
    assert dit.sequence_parallel is None
    assert _max_diff(_forward(dit, case), ref) == 0.0
    with pytest.raises(TypeError, match="needs a WanDiT"):
        parallel.apply_sequence_parallel(copy.deepcopy(torch.nn.Linear(2, 2)))
    with pytest.raises(OperationError, match="multi-process group"):
        parallel.shard_model_fsdp(dit)
