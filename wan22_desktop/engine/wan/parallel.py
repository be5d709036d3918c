"""Multi-GPU building blocks: the process group from torchrun's environment, Ulysses sequence
parallelism for the DiT and FSDP sharding of the DiT and T5 blocks (official ``--ulysses_size``,
``--dit_fsdp``, ``--t5_fsdp``; docs/reference.md §9).

Ulysses (DeepSpeed-Ulysses, arXiv:2309.14509): every rank holds 1/N of the tokens. Everything
per-token (embeddings, modulation, cross-attention, FFN, head) runs on the local slice; only
self-attention needs the whole sequence, so q/k/v are exchanged all-to-all from "my tokens, all
heads" to "all tokens, my heads", attended, and exchanged back. The outputs are gathered once,
before unpatchify. Needs num_heads % N == 0.

Every helper works in a single process too (world size 1: no group, identity), and on CPU with
gloo, which is how the tests prove parity without GPUs.

Use in a worker started by ``torchrun --nproc_per_node N`` (official order: SP, then FSDP)::

    ctx = init_distributed()                      # every rank; no-op without torchrun
    t5 = shard_model_fsdp(t5, sync_states=False) if plan.t5_fsdp else t5.to(ctx.device)
    for dit in experts:
        apply_sequence_parallel(dit)              # when plan.ulysses_size > 1 (= N)
        dit = shard_model_fsdp(dit) if plan.dit_fsdp else dit.to(ctx.device)
    seed = broadcast_object(seed)                 # and the extended prompt: rank 0 decides
    ...                                           # every rank samples; every rank gets the
    if ctx.rank == 0: decode, write, report       # full latent, only rank 0 decodes/writes
    shutdown_distributed()
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from ...errors import OperationError
from .attention import attention as local_attention
from .dit import WanDiT

_HALF = (torch.float16, torch.bfloat16)


# ---- Process group ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DistContext:
    """Where this process sits in the job; world_size 1 means a plain single-process run."""

    rank: int
    world_size: int
    local_rank: int
    device: torch.device
    backend: str | None  # None: no process group


def default_backend() -> str:
    """nccl on CUDA, gloo on CPU (the official code always uses nccl: GPU-only)."""
    return "nccl" if torch.cuda.is_available() else "gloo"


def _env_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, str(default))
    try:
        return int(raw)
    except ValueError:
        raise OperationError(
            f"the launcher set {name}={raw!r}, which is not a number",
            "start multi-GPU jobs through torchrun",
        ) from None


def init_distributed(
    backend: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    timeout: timedelta | None = None,
) -> DistContext:
    """Join the process group described by torchrun's RANK / WORLD_SIZE / LOCAL_RANK (and
    MASTER_ADDR / MASTER_PORT). A no-op when WORLD_SIZE is 1 or the group already exists, so the
    worker can call it unconditionally."""
    env = os.environ if env is None else env
    world = _env_int(env, "WORLD_SIZE", 1)
    rank = _env_int(env, "RANK", 0)
    local_rank = _env_int(env, "LOCAL_RANK", 0)
    backend = backend or default_backend()
    if backend == "nccl":
        if not torch.cuda.is_available():
            raise OperationError(
                "the nccl backend needs CUDA, and no GPU is visible", "use the gloo backend on CPU"
            )
        if local_rank >= torch.cuda.device_count():
            raise OperationError(
                f"rank {rank} wants GPU {local_rank}, but only "
                f"{torch.cuda.device_count()} are visible",
                "start no more processes than there are GPUs",
            )
        torch.cuda.set_device(local_rank)  # before the group, so nccl binds the right GPU
        device = torch.device("cuda", local_rank)
    else:
        device = torch.device("cpu")
    if world == 1 and not dist.is_initialized():
        return DistContext(0, 1, 0, device, None)
    if not dist.is_initialized():
        addr, port = env.get("MASTER_ADDR"), env.get("MASTER_PORT")
        if not addr or not port:
            raise OperationError(
                f"WORLD_SIZE is {world} but MASTER_ADDR/MASTER_PORT are not set",
                "start multi-GPU jobs through torchrun",
            )
        try:
            # tcp:// from the same mapping is what env:// reads (and it still reuses the
            # torchrun agent's store when TORCHELASTIC_USE_AGENT_STORE is set).
            extra: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
            dist.init_process_group(
                backend, init_method=f"tcp://{addr}:{port}", rank=rank, world_size=world, **extra
            )
        except (RuntimeError, ValueError) as exc:
            raise OperationError(
                f"could not join the {world}-process group: {exc}",
                "check that every rank was started by the same torchrun and that the port is free",
            ) from exc
    return DistContext(
        dist.get_rank(), dist.get_world_size(), local_rank, device, dist.get_backend()
    )


def shutdown_distributed() -> None:
    """Leave the process group (idempotent), so a rank exits without warnings or hangs."""
    if dist.is_initialized():
        dist.destroy_process_group()


def world_size(group: dist.ProcessGroup | None = None) -> int:
    return dist.get_world_size(group) if dist.is_initialized() else 1


def rank(group: dist.ProcessGroup | None = None) -> int:
    return dist.get_rank(group) if dist.is_initialized() else 0


def barrier() -> None:
    if world_size() > 1:
        dist.barrier()


def broadcast_object(obj: object, src: int = 0) -> object:
    """Rank ``src``'s ``obj`` on every rank (seed, extended prompt: sampled once, used by all)."""
    if world_size() == 1:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=src)
    return box[0]


# ---- Collectives on the token / head axes ----------------------------------------------------

# (backend, dtype) pairs whose all_to_all_single failed once; they use the all_gather route.
_NO_ALL_TO_ALL: set[tuple[str, torch.dtype]] = set()


def all_to_all(
    x: torch.Tensor,
    scatter_dim: int,
    gather_dim: int,
    group: dist.ProcessGroup | None = None,
    *,
    via_gather: bool = False,
) -> torch.Tensor:
    """Split ``x`` into N chunks along ``scatter_dim``, send chunk j to rank j, and concatenate
    what arrives (in rank order) along ``gather_dim``.

    Uses ``all_to_all_single``; where a backend lacks it for a dtype, each rank all-gathers
    everything and keeps its column (N times the traffic, same result). ``via_gather`` forces
    that route (tests)."""
    n = world_size(group)
    if n == 1:
        return x
    if x.shape[scatter_dim] % n:
        raise ValueError(
            f"dim {scatter_dim} of size {x.shape[scatter_dim]} does not split into {n} ranks"
        )
    send = torch.stack(x.chunk(n, dim=scatter_dim)).contiguous()  # [N, *chunk]
    key = (str(dist.get_backend(group)), x.dtype)
    if not via_gather and key not in _NO_ALL_TO_ALL:
        try:
            received = torch.empty_like(send)
            dist.all_to_all_single(received, send, group=group)
            return _cat_received(received, gather_dim)
        except (RuntimeError, NotImplementedError) as exc:
            if "support" not in str(exc).lower():
                raise  # a real failure (timeout, peer gone), not a missing op
            _NO_ALL_TO_ALL.add(key)
    table = [torch.empty_like(send) for _ in range(n)]
    dist.all_gather(table, send, group=group)
    me = rank(group)
    return _cat_received(torch.stack([sent[me] for sent in table]), gather_dim)


def _cat_received(received: torch.Tensor, gather_dim: int) -> torch.Tensor:
    """[N, *chunk] from ranks 0..N-1 -> chunks concatenated along ``gather_dim``."""
    return torch.cat(received.unbind(0), dim=gather_dim).contiguous()


def padded_len(seq_len: int, world: int) -> int:
    """seq_len rounded up to a multiple of the world size (equal slices on every rank)."""
    return -(-seq_len // world) * world


def shard_sequence(x: torch.Tensor, rank_: int, world: int, dim: int = 1) -> torch.Tensor:
    """Rank ``rank_``'s contiguous slice [r·s, (r+1)·s) of ``dim`` (its length must divide)."""
    if x.shape[dim] % world:
        raise ValueError(f"{x.shape[dim]} tokens do not split evenly into {world} ranks")
    return x.chunk(world, dim=dim)[rank_]


def gather_sequence(
    x: torch.Tensor, dim: int = 1, group: dist.ProcessGroup | None = None
) -> torch.Tensor:
    """Every rank's slice, concatenated in rank order along ``dim``."""
    n = world_size(group)
    if n == 1:
        return x
    parts = [torch.empty_like(x) for _ in range(n)]
    dist.all_gather(parts, x.contiguous(), group=group)
    return torch.cat(parts, dim=dim)


def rank_freqs(freqs: torch.Tensor, padded: int, rank_: int, world: int) -> torch.Tensor:
    """RoPE rotations [L, D/2] of the rank's token slice, at their global positions. Padding
    tokens get 1 (identity), as upstream; the single-process DiT leaves them unrotated too."""
    if freqs.shape[0] < padded:
        ones = torch.ones(
            padded - freqs.shape[0], freqs.shape[1], dtype=freqs.dtype, device=freqs.device
        )
        freqs = torch.cat([freqs, ones])
    return shard_sequence(freqs, rank_, world, dim=0)


# ---- Ulysses sequence parallelism ------------------------------------------------------------


def ulysses_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    k_lens: torch.Tensor | None,
    group: dist.ProcessGroup | None = None,
) -> torch.Tensor:
    """Self-attention over the full sequence from local slices q/k/v [B, S/N, H, D] -> [B, S/N,
    H, D]: heads scattered and tokens gathered, attention with the global k_lens (padded keys
    masked), then the inverse exchange."""
    out_dtype = q.dtype
    if q.is_cuda:
        # attention() runs CUDA in bf16 anyway; casting first halves the all-to-all traffic.
        q, k, v = (u if u.dtype in _HALF else u.to(torch.bfloat16) for u in (q, k, v))
    q, k, v = (all_to_all(u, scatter_dim=2, gather_dim=1, group=group) for u in (q, k, v))
    out = local_attention(q, k, v, k_lens)  # [B, S, H/N, D]
    return all_to_all(out, scatter_dim=1, gather_dim=2, group=group).to(out_dtype)


class UlyssesSplit:
    """The DiT's ``SequenceParallel`` seam over a process group (see ``dit.SequenceParallel``)."""

    def __init__(self, group: dist.ProcessGroup | None = None) -> None:
        self.group = group
        self.world = world_size(group)
        self.rank = rank(group)

    def pad(self, seq_len: int, t: torch.Tensor) -> tuple[int, torch.Tensor]:
        padded = padded_len(seq_len, self.world)
        if t.dim() == 2 and t.shape[1] == seq_len and padded > seq_len:
            # Padding tokens' t only changes rows that unpatchify drops; repeat the last one.
            t = torch.cat([t, t[:, -1:].expand(-1, padded - seq_len)], dim=1)
        return padded, t

    def shard(
        self, x: torch.Tensor, e: torch.Tensor, e0: torch.Tensor, freqs: list[torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, list[torch.Tensor]]:
        seq = x.shape[1]
        r, n = self.rank, self.world
        # e/e0 carry one row per token, or a single broadcast row when t is constant.
        e = e if e.shape[1] == 1 else shard_sequence(e, r, n)
        e0 = e0 if e0.shape[1] == 1 else shard_sequence(e0, r, n)
        local: dict[int, torch.Tensor] = {}  # equal grids share one table (apply_rope fast path)
        for f in freqs:
            if id(f) not in local:
                local[id(f)] = rank_freqs(f, seq, r, n)
        return shard_sequence(x, r, n), e, e0, [local[id(f)] for f in freqs]

    def attention(
        self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, k_lens: torch.Tensor | None
    ) -> torch.Tensor:
        return ulysses_attention(q, k, v, k_lens, self.group)

    def gather(self, x: torch.Tensor) -> torch.Tensor:
        return gather_sequence(x, dim=1, group=self.group)


def _unwrap(model: nn.Module) -> nn.Module:
    """The module inside an FSDP wrapper (FSDP forwards attribute reads, but not writes)."""
    inner = getattr(model, "_fsdp_wrapped_module", None)
    return inner if isinstance(inner, nn.Module) else model


def apply_sequence_parallel(dit: nn.Module, group: dist.ProcessGroup | None = None) -> nn.Module:
    """Make ``dit`` run every forward sequence-parallel over ``group`` (the default group: all
    ranks, as official ``--ulysses_size`` = world size). Same call, same full output on every
    rank. A no-op with one process. Returns ``dit``."""
    model = _unwrap(dit)
    if not isinstance(model, WanDiT):
        raise TypeError(f"sequence parallelism needs a WanDiT, got {type(model).__name__}")
    n = world_size(group)
    heads = model.config.num_heads
    if heads % n:
        raise OperationError(
            f"{n} processes cannot split the model's {heads} attention heads",
            "use a number of GPUs that divides the head count",
        )
    model.sequence_parallel = UlyssesSplit(group) if n > 1 else None
    return dit


# ---- FSDP ------------------------------------------------------------------------------------


def sync_module_states(
    model: nn.Module, src: int = 0, group: dist.ProcessGroup | None = None
) -> None:
    """Copy rank ``src``'s parameters and buffers to every rank (what FSDP's
    ``sync_module_states`` does, which it refuses on CPU)."""
    if world_size(group) == 1:
        return
    with torch.no_grad():
        for tensor in [*model.parameters(), *model.buffers()]:
            dist.broadcast(tensor.data, src=src, group=group)


def shard_model_fsdp(
    model: nn.Module,
    *,
    blocks_attr: str = "blocks",
    device: torch.device | None = None,
    param_dtype: torch.dtype | None = torch.bfloat16,
    reduce_dtype: torch.dtype = torch.float32,
    buffer_dtype: torch.dtype = torch.float32,
    sync_states: bool = True,
    group: dist.ProcessGroup | None = None,
) -> nn.Module:
    """FULL_SHARD FSDP as the official ``shard_model``: every module of ``model.<blocks_attr>``
    is its own unit (gathered only while it runs), the root holds the rest; parameters are
    cast to ``param_dtype`` for compute. ``sync_states``: True for the DiT, False for T5 (as
    official). ``device``: the rank's GPU, CPU for gloo (default: the current CUDA device, else
    CPU).

    One difference: the root does not cast forward inputs to ``param_dtype`` (official does):
    the models cast their inputs themselves, and a float per-token t (TI2V) would otherwise be
    rounded to bf16 (999 -> 1000)."""
    from torch.distributed.fsdp import FullyShardedDataParallel, MixedPrecision, ShardingStrategy
    from torch.distributed.fsdp.wrap import lambda_auto_wrap_policy

    if world_size(group) == 1:
        raise OperationError(
            "FSDP sharding needs a multi-process group",
            "start the job with torchrun, or turn FSDP off for one GPU",
        )
    blocks = getattr(model, blocks_attr, None)
    if not isinstance(blocks, nn.ModuleList):
        raise TypeError(f"{type(model).__name__}.{blocks_attr} is not a ModuleList of blocks")
    if device is None:
        device = (
            torch.device("cuda", torch.cuda.current_device())
            if torch.cuda.is_available()
            else torch.device("cpu")
        )
    on_cpu = device.type == "cpu"
    if sync_states and on_cpu:
        sync_module_states(model, group=group)
    block_ids = {id(b) for b in blocks}
    return FullyShardedDataParallel(
        model,
        process_group=group,
        sharding_strategy=ShardingStrategy.FULL_SHARD,
        auto_wrap_policy=partial(lambda_auto_wrap_policy, lambda_fn=lambda m: id(m) in block_ids),
        mixed_precision=MixedPrecision(
            param_dtype=param_dtype,
            reduce_dtype=reduce_dtype,
            buffer_dtype=buffer_dtype,
            cast_root_forward_inputs=False,
        ),
        device_id=device,
        sync_module_states=sync_states and not on_cpu,
        use_orig_params=False,
    )
