"""Weights that live in host memory and visit the device only while used.

Two mechanisms, one master-copy rule (ADR "block streaming"):

* ``HostCopy``: a whole module (or the part of it outside its blocks) with its parameters and
  buffers kept on the host, pinned when the device is CUDA. ``upload`` gives the module device
  copies; ``release`` puts the host tensors back and drops the device ones. Nothing is copied
  back, because inference never changes a weight (a weight that *was* changed in place is
  detected by its version counter and copied back, so nothing is ever lost).
* ``BlockStreamer``: a model's ``blocks`` (DiT or T5) stream through ``SlotPool``'s N device
  slots. Forward pre-hooks on every block make sure the block and the next N-1 are in slots
  (copies issued on a side CUDA stream with ``non_blocking`` from pinned memory), then make the
  compute stream wait on the block's copy event; a forward hook records a compute event, and a
  slot is overwritten only after the copy stream has waited on that event. The model's math is
  untouched: the hooks only swap which tensor each parameter slot of a block points to.

A block is bound to a slot by replacing its module's ``Parameter`` objects with ones that wrap
the slot's preallocated device tensors (and back to the host ones when it leaves), so there is no
device allocation per step and no weight dtype is assumed: every parameter and buffer a block
has (fp32, bf16, float8 + scales) is copied as it is.

``CudaOps`` is the only place that touches CUDA streams, events and pinning. On the CPU the
same code runs with ``SyncOps`` (no streams, no pinning; copies are synchronous), which is what
the bit-identity tests exercise; a recorder subclass of it checks the order of operations on
fake CUDA tensors (and the fake-CUDA memory harness can plug in its own).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.hooks import RemovableHandle

log = logging.getLogger(__name__)

CPU = torch.device("cpu")

# ---- the CUDA primitives, and their CPU stand-ins


class SyncOps:
    """Streams, events and pinning where there are none (the CPU): every copy is synchronous,
    so every wait is already satisfied. Subclass to record the order of operations."""

    pins = False

    def pin(self, tensor: Tensor) -> Tensor:
        """``tensor`` in page-locked memory (here: as it is)."""
        return tensor

    def copy(self, dst: Tensor, src: Tensor) -> None:
        """Host to device, asynchronous from pinned memory where streams exist."""
        dst.copy_(src, non_blocking=self.pins)

    def side_stream(self) -> Any:
        """A stream for the copies (None: the current one)."""
        return None

    def current_stream(self) -> Any:
        return None

    def use(self, stream: Any) -> AbstractContextManager[Any]:
        """Issue the enclosed work on ``stream``."""
        return nullcontext()

    def record(self, stream: Any) -> Any:
        """An event marking the work queued on ``stream`` so far."""
        return None

    def wait(self, stream: Any, event: Any) -> None:
        """Make ``stream`` wait for ``event`` (without blocking the host)."""

    def synchronize(self) -> None:
        """Block the host until every queued copy and kernel is done."""

    # What the streamer reports; a recorder overrides this (block index, slot).
    def trace(self, what: str, block: int, slot: int) -> None:
        """``copy_issued`` / ``copy_waited`` / ``computed`` / ``evicted`` for ``block``."""


class CudaOps(SyncOps):
    """The real thing: pinned host tensors, a side stream for copies, CUDA events."""

    pins = True

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self._warned = False

    def pin(self, tensor: Tensor) -> Tensor:
        if tensor.is_pinned():
            return tensor
        try:
            return tensor.pin_memory()
        except RuntimeError as exc:  # page-locked memory exhausted: slower copies, still right
            if not self._warned:
                log.warning("cannot pin host memory (%s); copies will be synchronous", exc)
                self._warned = True
            return tensor

    def side_stream(self) -> Any:
        return torch.cuda.Stream(self.device)

    def current_stream(self) -> Any:
        return torch.cuda.current_stream(self.device)

    def use(self, stream: Any) -> AbstractContextManager[Any]:
        return torch.cuda.stream(stream)

    def record(self, stream: Any) -> Any:
        event = torch.cuda.Event()
        event.record(stream)
        return event

    def wait(self, stream: Any, event: Any) -> None:
        if event is not None:
            stream.wait_event(event)

    def synchronize(self) -> None:
        torch.cuda.synchronize(self.device)


def ops_for(device: torch.device) -> SyncOps:
    """``CudaOps`` for a CUDA device, the synchronous stand-ins otherwise."""
    return CudaOps(device) if device.type == "cuda" else SyncOps()


# ---- one module's tensors


@dataclass
class _Slot:
    """Where one tensor of a module lives: ``owner._parameters[name]`` or ``owner._buffers[name]``."""

    key: str  # dotted path inside the tree it was collected from
    owner: nn.Module
    name: str
    is_param: bool
    host: Tensor  # the master: a Parameter for parameters

    def get(self) -> Tensor:
        table = self.owner._parameters if self.is_param else self.owner._buffers
        value = table[self.name]
        assert value is not None
        return value

    def put(self, value: Tensor) -> None:
        table = self.owner._parameters if self.is_param else self.owner._buffers
        table[self.name] = value  # type: ignore[assignment]


def _collect(root: nn.Module, skip: nn.Module | None = None) -> list[_Slot]:
    """Every parameter and buffer under ``root`` (outside ``skip``), each storage once."""
    skipped = set() if skip is None else {id(m) for m in skip.modules()}
    seen: set[int] = set()
    out: list[_Slot] = []
    for prefix, module in root.named_modules():
        if id(module) in skipped:
            continue
        for is_param, table in ((True, module._parameters), (False, module._buffers)):
            for name, tensor in table.items():
                if tensor is None or id(tensor) in seen:
                    continue
                seen.add(id(tensor))
                key = f"{prefix}.{name}" if prefix else name
                out.append(_Slot(key, module, name, is_param, tensor))
    return out


def _wrap(tensor: Tensor, like: Tensor, is_param: bool) -> Tensor:
    if not is_param:
        return tensor
    return nn.Parameter(tensor, requires_grad=like.requires_grad and tensor.is_floating_point())


def _to_host(slots: list[_Slot], ops: SyncOps) -> None:
    """Make every master a host tensor (pinned where ``ops`` pins) and put it in the module."""
    for s in slots:
        data = s.host.detach()
        moved = data.device != CPU
        if moved:
            data = data.to(CPU)
        pinned = ops.pin(data)
        if moved or pinned is not data:
            s.host = _wrap(pinned, s.host, s.is_param)
            s.put(s.host)


def tensor_bytes(tensors: Sequence[Tensor]) -> int:
    return sum(t.numel() * t.element_size() for t in tensors)


# ---- whole modules


class HostCopy:
    """A module (minus ``skip``) whose weights live on the host; ``upload`` puts copies on the
    device, ``release`` drops them (no device-to-host copy unless a weight changed in place).

    With ``device`` the CPU both are no-ops: the host tensors are already where compute happens
    (the official offload on a CPU-only run, and the tests)."""

    def __init__(
        self,
        module: nn.Module,
        device: torch.device,
        *,
        ops: SyncOps | None = None,
        skip: nn.Module | None = None,
    ) -> None:
        self.device = torch.device(device)
        self.ops = ops_for(self.device) if ops is None else ops
        self.slots = _collect(module, skip)
        self.noop = self.device.type == "cpu"
        if not self.noop:
            _to_host(self.slots, self.ops)
        self.on_device = False
        self._versions: list[int] = []
        self.copied_back = 0  # weights found changed on the device and copied back (tests)

    @property
    def nbytes(self) -> int:
        return tensor_bytes([s.host for s in self.slots])

    def upload(self) -> None:
        """Device copies of every tensor, queued on the current stream (ordered before use)."""
        if self.on_device:
            return
        self.on_device = True
        if self.noop:
            return
        self._versions = []
        for s in self.slots:
            dev = torch.empty_like(s.host, device=self.device)
            self.ops.copy(dev, s.host)
            wrapped = _wrap(dev, s.host, s.is_param)
            s.put(wrapped)
            self._versions.append(wrapped._version)

    def release(self) -> None:
        """Back to the host masters; the device tensors are dropped, not copied back."""
        if not self.on_device:
            return
        self.on_device = False
        if self.noop:
            return
        for s, version in zip(self.slots, self._versions):
            dev = s.get()
            if dev._version != version:  # changed in place on the device: keep the change
                s.host.data.copy_(dev.detach().to(CPU))
                self.copied_back += 1
            s.put(s.host)


def module_bytes(module: nn.Module) -> int:
    return tensor_bytes(list(module.parameters()) + list(module.buffers()))


# ---- blocks through N device slots


@dataclass
class _DeviceSlot:
    """One block's worth of device tensors, reused by every block that passes through."""

    index: int
    tensors: dict[str, Tensor] = field(default_factory=dict)
    wrapped: dict[str, Tensor] = field(default_factory=dict)
    owner: tuple[int, int] | None = None  # (streamer id, block index) bound here
    ready: Any = None  # copy event: the block's weights are in
    done: Any = None  # compute event: the last block bound here has been used

    def buffer(self, slot: _Slot, device: torch.device) -> tuple[Tensor, Tensor]:
        """The device tensor for ``slot`` (allocated once per key/shape/dtype) and its wrapper."""
        have = self.tensors.get(slot.key)
        host = slot.host
        if have is None or have.shape != host.shape or have.dtype != host.dtype:
            have = torch.empty_like(host, device=device)
            self.tensors[slot.key] = have
            self.wrapped[slot.key] = _wrap(have, host, slot.is_param)
        return have, self.wrapped[slot.key]


class SlotPool:
    """N preallocated block slots on one device, shared by the models that stream through it
    (both A14B experts: one at a time, so the switch reuses the same memory)."""

    def __init__(self, device: torch.device, size: int, ops: SyncOps | None = None) -> None:
        if size < 1:
            raise ValueError(f"a slot pool needs at least one slot, got {size}")
        self.device = torch.device(device)
        self.ops = ops_for(self.device) if ops is None else ops
        self.slots = [_DeviceSlot(i) for i in range(size)]
        self._copy_stream: Any = None

    @property
    def size(self) -> int:
        return len(self.slots)

    @property
    def copy_stream(self) -> Any:
        if self._copy_stream is None:
            self._copy_stream = self.ops.side_stream()
        return self._copy_stream

    @property
    def nbytes(self) -> int:
        return sum(tensor_bytes(list(s.tensors.values())) for s in self.slots)

    def release(self) -> None:
        """Free every slot's device memory (before the VAE decode): the queued work first."""
        if any(s.tensors for s in self.slots):
            self.ops.synchronize()
        for s in self.slots:
            if s.owner is not None:
                raise RuntimeError("release the pool only after every streamer has detached")
            s.tensors.clear()
            s.wrapped.clear()
            s.ready = s.done = None


class BlockStreamer:
    """Streams ``model.blocks`` through ``pool`` while attached; the rest of ``model`` (embeddings,
    head, final norm) is a ``HostCopy`` uploaded for as long as it is attached.

    ``attach`` before the forwards, ``detach`` after (it drops the device copies). A block's pre-hook
    ensures the window of the next ``pool.size`` blocks (cyclically: after the last block comes
    the first one of the next forward) is bound to slots, then makes compute wait on its copy."""

    def __init__(self, model: nn.Module, pool: SlotPool, *, name: str = "model") -> None:
        blocks = getattr(model, "blocks", None)
        if not isinstance(blocks, nn.ModuleList) or len(blocks) == 0:
            raise TypeError(f"{type(model).__name__} has no blocks to stream")
        self.name = name
        self.pool = pool
        self.ops = pool.ops
        self.device = pool.device
        self.blocks: list[nn.Module] = list(blocks)
        self.rest = HostCopy(model, self.device, ops=self.ops, skip=blocks)
        self.block_slots = [_collect(b) for b in self.blocks]
        for slots in self.block_slots:
            _to_host(slots, self.ops)
        self.where: list[int | None] = [None] * len(self.blocks)  # block -> pool slot
        self._hooks: list[RemovableHandle] = []
        self._tick = 0
        self._last_use: dict[int, int] = {}

    @property
    def attached(self) -> bool:
        return bool(self._hooks)

    @property
    def block_bytes(self) -> int:
        """The largest block's bytes (a slot's size)."""
        return max(tensor_bytes([s.host for s in slots]) for slots in self.block_slots)

    def resident_blocks(self) -> list[int]:
        return [i for i, s in enumerate(self.where) if s is not None]

    def attach(self) -> None:
        if self.attached:
            return
        for s in self.pool.slots:
            if s.owner is not None and s.owner[0] != id(self):
                raise RuntimeError("another model still streams through this slot pool")
        self.rest.upload()
        for i, block in enumerate(self.blocks):
            self._hooks.append(block.register_forward_pre_hook(self._pre_hook(i)))
            self._hooks.append(block.register_forward_hook(self._post_hook(i)))
        self._fill_window(0)  # the first blocks' copies overlap the embeddings

    def detach(self) -> None:
        """Unhook, put every block's host tensors back, drop the resident part's device copy."""
        for handle in self._hooks:
            handle.remove()
        self._hooks.clear()
        for i in range(len(self.blocks)):
            self._unbind(i)
        self.rest.release()

    # ---- hooks

    def _pre_hook(self, i: int) -> Callable[..., None]:
        def hook(module: nn.Module, args: Any) -> None:
            self._fill_window(i)
            slot = self.pool.slots[self._slot_of(i)]
            self.ops.wait(self.ops.current_stream(), slot.ready)
            self.ops.trace("copy_waited", i, slot.index)

        return hook

    def _post_hook(self, i: int) -> Callable[..., None]:
        def hook(module: nn.Module, args: Any, output: Any) -> None:
            slot = self.pool.slots[self._slot_of(i)]
            slot.done = self.ops.record(self.ops.current_stream())
            self.ops.trace("computed", i, slot.index)

        return hook

    def _slot_of(self, i: int) -> int:
        where = self.where[i]
        assert where is not None, f"block {i} is not on the device"
        return where

    # ---- placement

    def _fill_window(self, i: int) -> None:
        n = len(self.blocks)
        window = [(i + k) % n for k in range(min(self.pool.size, n))]
        for j in window:
            if self.where[j] is None:
                self._load(j, keep=window)
            self._tick += 1
            self._last_use[j] = self._tick

    def _load(self, j: int, keep: list[int]) -> None:
        """Bind block ``j`` to a free slot (or the least recently used one outside ``keep``) and
        queue its copy on the side stream after the slot's last compute."""
        pool = self.pool
        free = [s for s in pool.slots if s.owner is None]
        if free:
            slot = free[0]
        else:
            mine = [s for s in pool.slots if s.owner is not None and s.owner[1] not in keep]
            slot = min(mine, key=lambda s: self._last_use.get(s.owner[1], -1) if s.owner else -1)
            assert slot.owner is not None
            self._unbind(slot.owner[1])
        # Buffers are allocated (once) on the compute stream, which uses them; only the copies
        # run on the side stream.
        targets = [slot.buffer(s, self.device) for s in self.block_slots[j]]
        stream = pool.copy_stream
        self.ops.wait(stream, slot.done)  # the previous occupant's compute is finished
        with self.ops.use(stream):
            for s, (dev, wrapped) in zip(self.block_slots[j], targets):
                self.ops.copy(dev, s.host)
                s.put(wrapped)
            slot.ready = self.ops.record(stream)
        slot.owner = (id(self), j)
        self.where[j] = slot.index
        self.ops.trace("copy_issued", j, slot.index)

    def _unbind(self, j: int) -> None:
        where = self.where[j]
        if where is None:
            return
        for s in self.block_slots[j]:
            s.put(s.host)
        self.pool.slots[where].owner = None
        self.where[j] = None
        self.ops.trace("evicted", j, where)


def iter_block_tensors(model: nn.Module) -> Iterator[Tensor]:
    """Every parameter and buffer inside ``model.blocks`` (tests and byte counts)."""
    blocks = getattr(model, "blocks", None)
    if isinstance(blocks, nn.Module):
        yield from blocks.parameters()
        yield from blocks.buffers()
