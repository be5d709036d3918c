"""Moving the networks between the compute device and the CPU, with the official offload meanings.

``offload_model`` (official ``--offload_model``): T5 goes back to the CPU after encoding, only the
active MoE expert sits on the device (the other is parked on the CPU), and every DiT leaves the
device before the VAE decodes. Without it everything stays where it was loaded (the device).
On a CPU-only run every move is a no-op, so the same code path runs in tests; ``moves`` records
what was asked so tests can check the placement sequence without a GPU.

Offloaded experts keep a host master copy (``streaming.HostCopy``, pinned on CUDA): parking drops
the device copy instead of copying it back. With ``stream_blocks`` the active expert's blocks
stream through a shared ``streaming.SlotPool`` instead (only its embeddings and head are uploaded),
so the MoE switch copies no whole model.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Mapping

import torch
from torch import nn

from .streaming import BlockStreamer, HostCopy, SlotPool

log = logging.getLogger(__name__)

CPU = torch.device("cpu")


def module_device(module: nn.Module) -> torch.device:
    """Where a module's parameters are (CPU for a module without parameters)."""
    param = next(module.parameters(), None)
    return CPU if param is None else param.device


def move(module: nn.Module, device: torch.device) -> bool:
    """Move ``module`` to ``device`` if it is elsewhere; True when it moved."""
    if module_device(module) == device:
        return False
    module.to(device)
    return True


def release_cached_memory(device: torch.device) -> None:
    """Give cached blocks back to the driver after a big move (official ``empty_cache``)."""
    gc.collect()
    if device.type == "cuda" and torch.cuda.is_available():
        torch.cuda.synchronize(device)
        torch.cuda.empty_cache()


class ExpertPlacer:
    """Keeps the DiT expert(s) on the right device for each step.

    ``experts`` maps a name (``high_noise_model``/``low_noise_model``, or ``model``) to a module.
    With ``offload`` only the active one is on ``device``; the switch moves the inactive one off
    first, so peak memory holds one expert. ``resident`` is the set of experts placed on the
    compute device, tracked logically so that a CPU-only run (where moves are no-ops) follows
    and records the same decisions a GPU run makes; ``moves`` lists every (name, "device"|"cpu").

    ``stream_blocks`` N > 0: the experts (on the host) stream their blocks through N device slots
    while active; the inactive expert holds no device memory (streaming implies offloading).
    """

    def __init__(
        self,
        experts: Mapping[str, nn.Module],
        device: torch.device,
        offload: bool,
        *,
        stream_blocks: int = 0,
        pool: SlotPool | None = None,
    ) -> None:
        self.experts = dict(experts)
        self.device = torch.device(device)
        self.offload = offload or stream_blocks > 0
        self.pool: SlotPool | None = None
        self.streamers: dict[str, BlockStreamer] = {}
        self.masters: dict[str, HostCopy] = {}
        if stream_blocks > 0:
            self.pool = pool or SlotPool(self.device, stream_blocks)
            self.streamers = {
                n: BlockStreamer(m, self.pool, name=n) for n, m in self.experts.items()
            }
            self.resident: set[str] = set()
        else:
            self.resident = {n for n, m in self.experts.items() if module_device(m) == self.device}
            if offload:  # host masters of the experts loaded on the host
                self.masters = {
                    n: HostCopy(m, self.device)
                    for n, m in self.experts.items()
                    if n not in self.resident
                }
        self.moves: list[tuple[str, str]] = []

    def activate(self, name: str) -> nn.Module:
        """The expert ``name``, on the compute device (parking the others first when offloading)."""
        if self.offload:
            for other in sorted(self.resident - {name}):
                self._park(other)
        if name not in self.resident:
            if name in self.streamers:
                self.streamers[name].attach()
            elif name in self.masters:
                self.masters[name].upload()
            else:
                move(self.experts[name], self.device)
            self.resident.add(name)
            self.moves.append((name, "device"))
        return self.experts[name]

    def park_all(self) -> None:
        """Before decoding, with offload: every expert off the device and the cache released."""
        if not self.offload:
            return
        for name in sorted(self.resident):
            self._park(name)
        if self.pool is not None:
            self.pool.release()
        release_cached_memory(self.device)

    def park_resident(self) -> None:
        """With offload: every expert back to its host weights (no cache release), so a weight
        changed in place now (a LoRA merged mid-job) lands where the next ``activate`` reads it."""
        if self.offload:
            for name in sorted(self.resident):
                self._park(name)

    def _park(self, name: str) -> None:
        if name in self.streamers:
            self.streamers[name].detach()
        elif name in self.masters:
            self.masters[name].release()  # the host master is unchanged: nothing to copy back
        else:
            move(self.experts[name], CPU)
        self.resident.discard(name)
        self.moves.append((name, "cpu"))
        log.debug("parked %s", name)
