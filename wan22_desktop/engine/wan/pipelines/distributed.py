"""A loaded pipeline spread over torchrun's ranks: Ulysses on every expert, then FSDP sharding of
the experts and T5 (official order and switches ``--ulysses_size``, ``--dit_fsdp``, ``--t5_fsdp``).

The one seam both the worker and ``wan22 generate`` use after ``WanPipeline.from_checkpoint``:
every rank loads the same files, then calls ``parallelize`` with the same plan.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace
from typing import cast

import torch
from torch import nn

from wan22_desktop.errors import OperationError, UserInputError

from .. import parallel
from ..dit import WanDiT
from ..offload import CPU, ExpertPlacer
from ..t5 import T5Encoder
from .pipeline import MemoryConfig, WanPipeline

log = logging.getLogger(__name__)

_HALF = (torch.float16, torch.bfloat16)


def check_parallel_plan(
    ulysses_size: int, dit_fsdp: bool, t5_fsdp: bool, t5_cpu: bool, world: int
) -> None:
    """The official ``generate.py`` asserts, as one-line user errors."""
    if ulysses_size < 1:
        raise UserInputError(f"--ulysses_size {ulysses_size} must be at least 1")
    if ulysses_size > 1 and ulysses_size != world:
        raise UserInputError(
            f"--ulysses_size {ulysses_size} must equal the number of processes ({world})",
            f"start {ulysses_size} processes with torchrun --nproc_per_node {ulysses_size}",
        )
    if (dit_fsdp or t5_fsdp) and world == 1:
        raise UserInputError(
            "--dit_fsdp and --t5_fsdp need several processes",
            "start the job with torchrun, or drop these flags",
        )
    if t5_fsdp and t5_cpu:
        raise UserInputError("--t5_fsdp and --t5_cpu cannot be used together", "drop one of them")


def loading_memory(memory: MemoryConfig, *, dit_fsdp: bool, t5_fsdp: bool) -> MemoryConfig:
    """The memory options to load with: models to be sharded are loaded on the CPU (official
    ``init_on_cpu``), so a rank never holds a whole A14B expert on its GPU; FSDP then moves each
    rank's shard to its device, and ``parallelize`` turns offloading off."""
    return replace(memory, offload_model=True) if (dit_fsdp or t5_fsdp) else memory


def parallelize(
    pipeline: WanPipeline, *, ulysses_size: int = 1, dit_fsdp: bool = False, t5_fsdp: bool = False
) -> WanPipeline:
    """Spread ``pipeline`` over the process group in place (and return it). Every rank still
    makes the same ``generate`` call and gets the full video; with FSDP each rank keeps 1/N of
    every block's weights and the models stay on the rank's device (no offloading)."""
    world = parallel.world_size()
    if pipeline.memory.stream_blocks > 0 and (ulysses_size > 1 or dit_fsdp or t5_fsdp):
        raise UserInputError(
            "block streaming runs on one GPU, without Ulysses or FSDP",
            "drop --stream_blocks, or run on one GPU without --ulysses_size/--dit_fsdp/--t5_fsdp",
        )
    if ulysses_size > 1:
        if world != ulysses_size:
            raise OperationError(
                f"the plan splits the sequence over {ulysses_size} processes but "
                f"this job has {world}",
                "start as many processes as --ulysses_size",
            )
        for dit in pipeline.experts.values():
            parallel.apply_sequence_parallel(dit)
        log.info("Ulysses sequence parallelism over %d ranks", ulysses_size)
    if not (dit_fsdp or t5_fsdp):
        return pipeline
    device = CPU if pipeline.device.type == "cpu" else None  # None: the rank's current GPU
    param_dtype = pipeline.dtype if pipeline.dtype in _HALF else torch.float32
    if dit_fsdp:
        full = _numel(pipeline.experts.values())
        pipeline.experts = {
            # FSDP wraps each expert; the pipeline calls it exactly as the bare module.
            name: cast(
                WanDiT, parallel.shard_model_fsdp(dit, device=device, param_dtype=param_dtype)
            )
            for name, dit in pipeline.experts.items()
        }
        log.info(
            "FSDP: rank %d holds %d of %d DiT parameters",
            parallel.rank(),
            _numel(pipeline.experts.values()),
            full,
        )
    if t5_fsdp:
        te = pipeline.text_encoder
        t5_dtype = next(te.model.parameters()).dtype
        sharded = parallel.shard_model_fsdp(
            te.model, device=device, sync_states=False, param_dtype=t5_dtype
        )
        te.model = cast(T5Encoder, sharded)
        te.compute_dtype = None  # sharded weights compute as stored (no per-layer recast)
    # Sharded modules live on the rank's device for good: moving them would break FSDP.
    pipeline.memory = replace(pipeline.memory, offload_model=False)
    pipeline.placer = ExpertPlacer(pipeline.experts, pipeline.device, offload=False)
    log.info("FSDP sharding over %d ranks (DiT: %s, T5: %s)", world, dit_fsdp, t5_fsdp)
    return pipeline


def _numel(models: Iterable[nn.Module]) -> int:
    """Parameters held by this process (a sharded model's local shards)."""
    return sum(p.numel() for m in models for p in m.parameters())
