"""Peak VRAM of a plan without a GPU: the real CUDA code path on fake tensors at full model size.

``simulate(plan, frame_num)`` builds the pipeline the worker builds for ``plan`` (``WanPipeline.
from_checkpoint`` with the plan's ``MemoryConfig``, so ``load_components``, ``ExpertPlacer`` and
whatever the memory switches do are the engine's own code), at the official model sizes, with
every tensor a ``FakeTensor`` (shape, dtype, device; no storage). It then runs the worker's
phases: T5 → (image encode) → sampling with CFG and the MoE switch → park → VAE decode, and
counts the live bytes of every storage on ``cuda:0`` after each op: the analogue of
``torch.cuda.max_memory_allocated`` (no allocator rounding, no CUDA context: see
``ALLOCATOR_MARGIN`` in ``runtime/planner.py``).

What makes a CPU-only build run CUDA code (all undone on exit; nothing here is used outside):

* ``torch.cuda.is_available``/``is_bf16_supported`` return True, so ``autocast('cuda', bf16)``
  is active and every ``is_cuda`` branch is taken.
* One dispatch mode (``_Sim``) sends an op to the fake mode when a fake tensor or a CUDA device
  is involved and runs it for real otherwise (the solver's schedule, the tokenizer's ids stay
  real). Small values are also computed for real beside their fake tensor ("shadows": what
  ``torch.tensor(..., device='cuda')``, masks and per-token timesteps hold), so host syncs in the
  engine (``int()``, ``bool()``, ``.tolist()``, ``torch.unique``) get their true values whether
  the engine still makes them or not.
* The C++ device guard of a CPU-only build rejects ``cuda`` in a few Python bindings
  (``Tensor.__getitem__``/``__setitem__``/``to``/``contiguous``/``copy_``/``new_tensor``,
  ``torch.tensor``, ``torch.Generator``): re-expressed for fake tensors with ``torch.ops.aten``.
* ``nn.Module._apply`` swaps tensors, which fake parameters refuse: parameters are replaced.
* The checkpoint loaders of ``pipelines/loading.py`` build the full-size networks as fake
  tensors instead of reading files; a memory switch applied inside those loaders (rather than in
  ``load_components`` or the pipeline) must be mirrored in ``_fake_loaders``.
* Attention: a stub ``flash_attn_interface`` that checks the varlen call contract (half dtypes,
  [total, H, D] with a contiguous last dim, int32 ``cu_seqlens`` on the device) and has the flash
  kernel's footprint (output + fp32 log-sum-exp).
"""

from __future__ import annotations

import contextlib
import sys
import time
import types
import weakref
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any
from unittest import mock

import torch
from torch import nn
from torch._subclasses.fake_tensor import FakeTensor, FakeTensorMode
from torch.utils import _pytree as pytree
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.weak import WeakIdKeyDictionary

from wan22_desktop.runtime.planner import Plan
from wan22_desktop.runtime.vram_table import SIMULATED_SWITCHES
from wan22_desktop.tasks import ImageUse, get_task

from .streaming import SyncOps

GIB = 1024**3
CUDA = torch.device("cuda", 0)
SHADOW_MAX_NUMEL = 1 << 23  # values computed for real only for tensors up to this size
PROMPT_TOKENS = 120  # real tokens of the simulated prompt (the negative prompt has its own)
NEGATIVE_TOKENS = 160
aten = torch.ops.aten


# ---- the counting, routing mode ------------------------------------------------------------


class _Sim(TorchDispatchMode):
    """Routes ops to the fake mode or the CPU, keeps small values real, counts device bytes."""

    def __init__(self, fake: FakeTensorMode) -> None:
        super().__init__()
        self.fake = fake
        self.shadow: WeakIdKeyDictionary = WeakIdKeyDictionary()
        self.live: WeakIdKeyDictionary = WeakIdKeyDictionary()  # storage -> nbytes
        self._refs: dict[int, weakref.ref[Any]] = {}
        self.current = 0
        self.peak = 0
        self.all_fake = False  # while building modules: CPU tensors are fake too (no real RAM)

    @contextlib.contextmanager
    def building(self) -> Iterator[None]:
        self.all_fake = True
        try:
            yield
        finally:
            self.all_fake = False

    # counting
    def _count(self, out: Any) -> None:
        for t in pytree.tree_leaves(out):
            if isinstance(t, FakeTensor) and t.device.type == "cuda":
                st = t.untyped_storage()
                if st in self.live:
                    continue
                n = st.nbytes()
                self.live[st] = n
                self.current += n
                key = id(st)
                self._refs[key] = weakref.ref(st, self._freed(key, n))
        self.peak = max(self.peak, self.current)

    def _freed(self, key: int, n: int) -> Any:
        def cb(_: Any) -> None:
            self.current -= n
            self._refs.pop(key, None)

        return cb

    def reset_peak(self) -> None:
        self.peak = self.current

    # values
    def _real(self, x: Any) -> Any:
        if isinstance(x, FakeTensor):
            r = self.shadow.get(x)
            if r is None:
                raise LookupError
            return r
        if isinstance(x, torch.device) and x.type == "cuda":
            return torch.device("cpu")
        return x

    def _fakify(self, x: Any) -> Any:
        """Real CPU tensors meeting fake ones become fake (no data is copied)."""
        if isinstance(x, torch.Tensor) and not isinstance(x, FakeTensor):
            return self.fake.from_tensor(x)
        return x

    def _small(self, out: Any) -> bool:
        return all(
            t.numel() <= SHADOW_MAX_NUMEL
            for t in pytree.tree_leaves(out)
            if isinstance(t, torch.Tensor)
        )

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        leaves = pytree.tree_leaves((args, kwargs))
        fake_in = any(isinstance(a, FakeTensor) for a in leaves)
        to_cuda = any(isinstance(a, torch.device) and a.type == "cuda" for a in leaves)
        if self.all_fake:
            with self.fake:
                out = func(*args, **kwargs)
            self._count(out)
            return out
        if not fake_in and not to_cuda:
            return func(*args, **kwargs)  # plain CPU work runs for real
        # The real value beside, when every input has one (small tensors only).
        real = None
        try:
            if func not in _RANDOM_OPS:
                r_args, r_kwargs = pytree.tree_map(self._real, (args, kwargs))
                real = func(*r_args, **r_kwargs)
                if not self._small(real):
                    real = None
        except LookupError:
            real = None
        except Exception:  # noqa: BLE001 - a value we cannot compute is simply not shadowed
            real = None
        if func is aten._local_scalar_dense.default:
            if real is None:
                raise RuntimeError(
                    f"the simulated engine read a value the harness cannot know ({func})"
                )
            return real
        if func is aten._to_copy.default and kwargs.get("device", CUDA).type == "cpu":
            if real is not None:  # a device-to-host copy of a known value: the value
                return real
        f_args, f_kwargs = pytree.tree_map(self._fakify, (args, kwargs))
        try:
            with self.fake:
                out = func(*f_args, **f_kwargs)
        except Exception:
            if real is None:
                raise
            out = self._fake_like(real, args, kwargs)  # data-dependent shape (torch.unique)
        if real is not None:
            for o, r in zip(pytree.tree_leaves(out), pytree.tree_leaves(real)):
                if isinstance(o, FakeTensor) and isinstance(r, torch.Tensor):
                    self.shadow[o] = r
        self._count(out)
        return out

    def _fake_like(self, real: Any, args: Any, kwargs: Any) -> Any:
        dev = next(
            (a.device for a in pytree.tree_leaves((args, kwargs)) if isinstance(a, FakeTensor)),
            CUDA,
        )

        def conv(r: Any) -> Any:
            if not isinstance(r, torch.Tensor):
                return r
            with self.fake:
                return aten._to_copy.default(self.fake.from_tensor(r), device=dev)

        return pytree.tree_map(conv, real)


_RANDOM_OPS = {
    aten.randn.default,
    aten.rand.default,
    aten.normal_.default,
    aten.uniform_.default,
    aten.randn.generator,
    aten.empty.memory_format,
    aten.empty_strided.default,
    aten.empty_like.default,
}


# ---- Python bindings that a CPU-only build refuses for cuda tensors ----------------------------


def _is_fake(x: Any) -> bool:
    return isinstance(x, FakeTensor)


def _index(t: torch.Tensor, idx: Any) -> torch.Tensor:
    """Basic and single-tensor advanced indexing with aten ops (no device guard)."""
    if not isinstance(idx, tuple):
        idx = (idx,)
    n_real = sum(1 for i in idx if i is not None and i is not Ellipsis)
    out, dim = t, 0
    tensor_idx: list[tuple[int, torch.Tensor]] = []
    for i in idx:
        if i is Ellipsis:
            dim += t.dim() - n_real
        elif i is None:
            out = aten.unsqueeze.default(out, dim)
            dim += 1
        elif isinstance(i, bool):
            raise NotImplementedError("bool index")
        elif isinstance(i, int):
            out = aten.select.int(out, dim, i)
        elif isinstance(i, slice):
            start, stop, step = i.start, i.stop, i.step or 1
            out = aten.slice.Tensor(out, dim, start, stop, step)
            dim += 1
        elif isinstance(i, torch.Tensor):
            tensor_idx.append((dim, i))
            dim += 1
        else:
            raise NotImplementedError(f"index {type(i)}")
    if tensor_idx:
        full: list[Any] = [None] * out.dim()
        for d, i in tensor_idx:
            full[d] = i
        while full and full[-1] is None:
            full.pop()
        out = aten.index.Tensor(out, full)
    return out


@contextlib.contextmanager
def _bindings() -> Iterator[None]:
    tcls = torch.Tensor
    orig = {
        n: getattr(tcls, n)
        for n in (
            "__getitem__",
            "__setitem__",
            "__invert__",
            "to",
            "contiguous",
            "copy_",
            "new_tensor",
            "cuda",
        )
    }
    orig_tensor, orig_gen, orig_apply = torch.tensor, torch.Generator, nn.Module._apply

    def getitem(self: torch.Tensor, idx: Any) -> Any:
        if _is_fake(self) and self.is_cuda:
            return _index(self, idx)
        return orig["__getitem__"](self, idx)

    def setitem(self: torch.Tensor, idx: Any, value: Any) -> None:
        if _is_fake(self) and self.is_cuda:
            view = _index(self, idx)
            if isinstance(value, torch.Tensor):
                aten.copy_.default(view, value)
            else:
                aten.fill_.Scalar(view, value)
            return
        orig["__setitem__"](self, idx, value)

    def invert(self: torch.Tensor) -> Any:
        if _is_fake(self) and self.is_cuda:
            return aten.bitwise_not.default(self)
        return orig["__invert__"](self)

    def to(self: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
        device, dtype, non_blocking, memory_format = torch._C._nn._parse_to(*args, **kwargs)
        on_cuda = (device is not None and device.type == "cuda") or (
            _is_fake(self) and self.is_cuda
        )
        if not on_cuda:
            return orig["to"](self, *args, **kwargs)
        device = self.device if device is None else device
        if device.type == "cuda" and device.index is None:
            device = CUDA
        dtype = self.dtype if dtype is None else dtype
        if device == self.device and dtype == self.dtype and not kwargs.get("copy", False):
            return self
        return aten._to_copy.default(self, dtype=dtype, device=device)

    def cuda(self: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
        return to(self, CUDA)

    def contiguous(self: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
        if _is_fake(self) and self.is_cuda:
            fmt = kwargs.get("memory_format", args[0] if args else torch.contiguous_format)
            return (
                aten.clone.default(self, memory_format=fmt)
                if not self.is_contiguous(memory_format=fmt)
                else self
            )
        return orig["contiguous"](self, *args, **kwargs)

    def copy_(self: torch.Tensor, src: Any, non_blocking: bool = False) -> Any:
        if (_is_fake(self) and self.is_cuda) or (_is_fake(src) and src.is_cuda):
            return aten.copy_.default(self, src, non_blocking)
        return orig["copy_"](self, src, non_blocking)

    def new_tensor(self: torch.Tensor, data: Any, *args: Any, **kwargs: Any) -> Any:
        if _is_fake(self) and self.is_cuda:
            kwargs.setdefault("dtype", self.dtype)
            kwargs.setdefault("device", self.device)
            return tensor(data, *args, **kwargs)
        return orig["new_tensor"](self, data, *args, **kwargs)

    def tensor(data: Any, *args: Any, **kwargs: Any) -> Any:
        device = kwargs.pop("device", None)
        if isinstance(data, (list, tuple)):  # 0-d tensors in a list: their values
            data = pytree.tree_map(
                lambda x: x.item() if isinstance(x, torch.Tensor) and x.dim() == 0 else x, data
            )
        if device is not None and torch.device(device).type == "cuda":
            return aten._to_copy.default(orig_tensor(data, *args, **kwargs), device=CUDA)
        kwargs["device"] = device
        return orig_tensor(data, *args, **kwargs)

    def generator(device: Any = "cpu") -> Any:
        return orig_gen("cpu")  # the fake mode draws no numbers; the device is the tensor's

    def apply(self: nn.Module, fn: Any, recurse: bool = True) -> nn.Module:
        if not any(_is_fake(p) for p in self.parameters(recurse=False)) and not any(
            _is_fake(b) for b in self.buffers(recurse=False)
        ):
            if recurse:
                for m in self.children():
                    m._apply(fn)
            return orig_apply(self, fn, recurse=False)
        if recurse:
            for m in self.children():
                m._apply(fn)
        for key, p in list(self._parameters.items()):
            if p is not None:
                with torch.no_grad():
                    new = fn(p)
                if new is not p:
                    self._parameters[key] = nn.Parameter(new, requires_grad=p.requires_grad)
        for key, b in list(self._buffers.items()):
            if b is not None:
                self._buffers[key] = fn(b)
        return self

    patches = {
        "__getitem__": getitem,
        "__setitem__": setitem,
        "__invert__": invert,
        "to": to,
        "cuda": cuda,
        "contiguous": contiguous,
        "copy_": copy_,
        "new_tensor": new_tensor,
    }
    try:
        for n, f in patches.items():
            setattr(tcls, n, f)
        torch.tensor = tensor
        torch.Generator = generator  # type: ignore[assignment,misc]
        nn.Module._apply = apply  # type: ignore[method-assign]
        yield
    finally:
        for n, f in orig.items():
            setattr(tcls, n, f)
        torch.tensor = orig_tensor
        torch.Generator = orig_gen  # type: ignore[misc]
        nn.Module._apply = orig_apply  # type: ignore[method-assign]


# ---- flash-attention stub ----------------------------------------------------------------------


@dataclass
class FlashCalls:
    calls: int = 0
    errors: list[str] = field(default_factory=list)


def _flash_module(record: FlashCalls) -> types.ModuleType:
    mod = types.ModuleType("flash_attn_interface")

    def check(ok: bool, what: str) -> None:
        if not ok and len(record.errors) < 20:
            record.errors.append(what)

    def flash_attn_varlen_func(
        q: torch.Tensor,
        k: torch.Tensor,
        v: torch.Tensor,
        cu_seqlens_q: torch.Tensor,
        cu_seqlens_k: torch.Tensor,
        max_seqlen_q: int,
        max_seqlen_k: int,
        softmax_scale: float | None = None,
        causal: bool = False,
        **_: Any,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        record.calls += 1
        half = (torch.float16, torch.bfloat16)
        check(q.dtype in half and k.dtype == q.dtype == v.dtype, f"dtypes {q.dtype} {k.dtype}")
        check(q.dim() == k.dim() == v.dim() == 3, f"not [total, H, D]: {tuple(q.shape)}")
        check(all(x.stride(-1) == 1 for x in (q, k, v)), "last dim not contiguous")
        check(all(x.is_cuda for x in (q, k, v, cu_seqlens_q, cu_seqlens_k)), "not on the device")
        check(cu_seqlens_q.dtype == cu_seqlens_k.dtype == torch.int32, "cu_seqlens not int32")
        check(isinstance(max_seqlen_q, int) and isinstance(max_seqlen_k, int), "max_seqlen")
        out = torch.empty(q.shape[:-1] + (v.shape[-1],), dtype=q.dtype, device=q.device)
        lse = torch.empty(q.shape[1], q.shape[0], dtype=torch.float32, device=q.device)
        return out, lse

    mod.flash_attn_varlen_func = flash_attn_varlen_func  # type: ignore[attr-defined]
    return mod


# ---- streams and events of the block streamer --------------------------------------------------


class _Stream:
    def __init__(self, name: str) -> None:
        self.name = name
        self.waited: set[int] = set()  # events this stream was made to wait for


class _TransferOrder(SyncOps):
    """``streaming.CudaOps`` on fake CUDA: streams and events are tokens (nothing runs
    asynchronously here), the copies are the real ``non_blocking`` ones, and the order the
    streamer issues them in is checked: a block is computed only after the compute stream waited
    for its copy's event, and a slot is refilled only after the copy stream waited for the
    compute that last used it."""

    pins = True

    def __init__(self) -> None:
        self.compute = _Stream("compute")
        self._events = 0
        self._last: dict[str, int] = {}
        self._issued: dict[tuple[int, int], int] = {}  # (slot, block) -> its copy's event
        self._done: dict[int, int] = {}  # slot -> the event after its last compute
        self._copy_streams: list[_Stream] = []
        self.copies_issued = 0
        self.blocks_computed = 0
        self.errors: list[str] = []

    def pin(self, tensor: torch.Tensor) -> torch.Tensor:
        return tensor  # host memory is not counted; pinning changes no device byte

    def side_stream(self) -> Any:
        stream = _Stream("copy")
        self._copy_streams.append(stream)
        return stream

    def current_stream(self) -> Any:
        return self.compute

    def record(self, stream: Any) -> Any:
        self._events += 1
        self._last[stream.name] = self._events
        return self._events

    def wait(self, stream: Any, event: Any) -> None:
        if event is not None:
            stream.waited.add(event)

    def synchronize(self) -> None:
        self._done.clear()  # every queued compute has finished (a pool's release)

    def _error(self, what: str) -> None:
        if len(self.errors) < 20:
            self.errors.append(what)

    def trace(self, what: str, block: int, slot: int) -> None:
        if what == "copy_issued":
            self.copies_issued += 1
            done = self._done.get(slot)
            if done is not None and not any(done in s.waited for s in self._copy_streams):
                self._error(f"slot {slot} refilled with block {block} before its last compute")
            self._issued[(slot, block)] = self._last["copy"]
        elif what == "computed":
            self.blocks_computed += 1
            ready = self._issued.get((slot, block))
            if ready is None or ready not in self.compute.waited:
                self._error(f"block {block} computed before its copy was waited on")
            self._done[slot] = self._last["compute"]


# ---- fake full-size components (the loaders of ``pipelines/loading.py``) ----------------------


class _Tokenizer:
    """Ids [B, text_len] with a fixed number of real tokens (the prompt text is not read)."""

    def __init__(self, vocab: int) -> None:
        self.vocab = vocab

    def __len__(self) -> int:
        return self.vocab

    def __call__(self, texts: list[str], *, max_length: int, **_: Any) -> dict[str, torch.Tensor]:
        n = NEGATIVE_TOKENS if any("色调艳丽" in t for t in texts) else PROMPT_TOKENS
        ids = torch.zeros(len(texts), max_length, dtype=torch.int64)
        mask = torch.zeros(len(texts), max_length, dtype=torch.int64)
        ids[:, :n] = 1
        mask[:, :n] = 1
        return {"input_ids": ids, "attention_mask": mask}


def _fake_loaders(sim: _Sim, upstream_e0: bool) -> dict[str, Any]:
    from . import dit_config, t5_config
    from .dit import WanDiT
    from .fp8 import quantize_dit
    from .t5 import T5Encoder
    from .text_encoder import T5TextEncoder, resolve_t5_device
    from .vae_config import VAE_PRESETS
    from .vae_io import VideoVAE, build_vae_model

    def read_config(root: Path, task: str) -> Any:
        return dit_config.preset(task)

    def load_experts(
        root: Path,
        task: str,
        *,
        device: Any = "cpu",
        dtype: Any = None,
        fp8: bool = False,
        **_: Any,
    ):
        spec = get_task(task)
        out = []
        for _folder in spec.dit_folders:
            with sim.building():
                m = WanDiT(dit_config.preset(task)).eval().requires_grad_(False)
                if dtype is not None:
                    m = m.to(dtype)
                if fp8:  # as ``fp8_io.load_dit_fp8``: the blocks' Linears in e4m3, on the host
                    quantize_dit(m)
            m.per_token_time_mlp = upstream_e0
            out.append(m.to(device))
        return tuple(out)

    def load_vae(
        root: Path, task: str, *, device: Any = "cpu", dtype: Any = torch.float32, **_: Any
    ):
        version = "2.2" if get_task(task).vae_file.startswith("Wan2.2") else "2.1"
        with sim.building():
            model = build_vae_model(VAE_PRESETS[version]).to(dtype)
        return VideoVAE(model.to(device))

    def load_t5(
        root: Path,
        task: str,
        *,
        device: Any = "cpu",
        dtype: Any = torch.bfloat16,
        t5_cpu: bool = False,
        dit_config: Any = None,
        **_: Any,
    ):
        cfg = t5_config.UMT5_XXL
        run_on = resolve_t5_device(device, t5_cpu, True)
        with sim.building():
            model = T5Encoder(cfg).eval().requires_grad_(False).to(dtype)
        model = model.to(run_on)
        return T5TextEncoder(
            model,
            _Tokenizer(cfg.vocab_size),
            text_len=512,
            output_device=resolve_t5_device(device, False, True),
        )

    return {
        "require_layout": lambda root, task: None,
        "read_task_dit_config": read_config,
        "load_experts": load_experts,
        "load_vae_for_task": load_vae,
        "load_text_encoder_for_task": load_t5,
    }


# ---- the run ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SimResult:
    """Peaks (GiB of live tensor bytes on the device) of one simulated job, per phase."""

    task: str
    width: int
    height: int
    frame_num: int
    has_image: bool
    upstream_e0: bool
    plan: dict[str, Any]
    loaded_gib: float  # on the device after loading
    text_gib: float  # peak while encoding the prompts (and the image)
    sampling_gib: float
    decode_gib: float
    steps: int
    experts_run: tuple[str, ...]
    flash_calls: int
    flash_errors: tuple[str, ...]
    seconds: float
    block_copies: int = 0  # streamed block copies issued (T5 and DiT)
    blocks_computed: int = 0  # streamed block forwards
    transfer_errors: tuple[str, ...] = ()  # a block used before its copy was waited on, ...

    @property
    def peak_gib(self) -> float:
        return max(self.loaded_gib, self.text_gib, self.sampling_gib, self.decode_gib)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["experts_run"] = list(self.experts_run)
        d["flash_errors"] = list(self.flash_errors)
        d["transfer_errors"] = list(self.transfer_errors)
        return d


def _steps_for(task: str) -> tuple[int, float]:
    """Few steps that still run both experts (memory does not grow with the step count)."""
    from .pipelines.loop import expert_schedule
    from .solvers import make_solver

    spec = get_task(task)
    for n in range(2, 9):
        sched = expert_schedule(
            make_solver("unipc", n, spec.sample_shift).timesteps.tolist(), spec.boundary
        )
        if spec.boundary is None or len(set(sched)) == 2:
            return n, spec.sample_shift
    raise AssertionError("no short schedule runs both experts")


@contextlib.contextmanager
def _environment(upstream_e0: bool, transfers: _TransferOrder) -> Iterator[tuple[_Sim, FlashCalls]]:
    from . import attention, streaming
    from .pipelines import loading

    fake = FakeTensorMode(allow_non_fake_inputs=True)
    sim = _Sim(fake)
    record = FlashCalls()

    def ops_for(device: torch.device) -> SyncOps:
        return transfers if device.type == "cuda" else SyncOps()

    with contextlib.ExitStack() as stack:
        stack.enter_context(mock.patch("torch.cuda.is_available", lambda: True))
        stack.enter_context(mock.patch("torch.cuda.is_bf16_supported", lambda *a, **k: True))
        stack.enter_context(mock.patch("torch.cuda.device_count", lambda: 1))
        stack.enter_context(mock.patch("torch.cuda._lazy_init", lambda: None))
        stack.enter_context(mock.patch("torch.cuda.synchronize", lambda *a, **k: None))
        stack.enter_context(mock.patch("torch.cuda.empty_cache", lambda: None))
        # An H100: FP8 layers take the ``torch._scaled_mm`` path, as on the cards that have it.
        stack.enter_context(mock.patch("torch.cuda.get_device_capability", lambda *a, **k: (9, 0)))
        stack.enter_context(mock.patch.object(streaming, "ops_for", ops_for))
        stack.enter_context(
            mock.patch.dict(sys.modules, {"flash_attn_interface": _flash_module(record)})
        )
        # The attention module remembers each kernel's import: forget it on the way in (a real
        # import may have failed before) and out (the stub must not outlive the harness).
        stack.callback(attention._import_kernel.cache_clear)
        attention._import_kernel.cache_clear()
        for name, fn in _fake_loaders(sim, upstream_e0).items():
            stack.enter_context(mock.patch.object(loading, name, fn))
        stack.enter_context(_bindings())
        stack.enter_context(sim)
        yield sim, record


def simulate(
    plan: Plan,
    frame_num: int,
    *,
    has_image: bool = False,
    upstream_e0: bool = False,
    decode: bool = True,
    steps: int | None = None,
) -> SimResult:
    """Run ``plan``'s job (``plan.width`` x ``plan.height``, ``frame_num`` frames) on fake CUDA
    and return the device peaks per phase. ``upstream_e0``: the official per-token timestep
    modulation (``WanDiT.per_token_time_mlp``), to check the harness against the official peaks."""
    from PIL import Image

    from .pipelines.job import memory_for
    from .pipelines.pipeline import WanPipeline
    from .solvers import make_solver

    if plan.device != "cuda" or plan.nproc != 1:
        raise ValueError("the harness simulates one CUDA GPU (one rank)")
    started = time.perf_counter()
    spec = get_task(plan.task)
    has_image = has_image or spec.image is ImageUse.REQUIRED
    n, shift = _steps_for(plan.task) if steps is None else (steps, spec.sample_shift)
    memory = memory_for(plan)
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[plan.dtype]
    image = Image.new("RGB", (plan.width, plan.height), (128, 96, 64)) if has_image else None
    solver = make_solver("unipc", n, shift)  # real: its schedule is host data
    transfers = _TransferOrder()
    with _environment(upstream_e0, transfers) as (sim, record):
        pipe = WanPipeline.from_checkpoint(
            "<simulated>", plan.task, device="cuda", dtype=dtype, memory=memory, attention="flash3"
        )
        loaded = sim.current
        sim.reset_peak()
        context, context_null = pipe._encode_text("a cat", "色调艳丽")
        pil = pipe._image_for_task(image)
        latent, cond, _ = pipe._prepare(
            pil, plan.width, plan.height, frame_num, 0, context, context_null
        )
        text_peak = sim.peak
        sim.reset_peak()
        experts: list[str] = []

        placer = pipe.placer

        def activate(name: str) -> nn.Module:
            experts.append(name)
            return placer.activate(name)

        from .attention import use_backend
        from .pipelines.loop import sample

        with torch.no_grad(), pipe._autocast(), use_backend("flash3") as guard:
            assert guard is not None
            guard.checks_left = 0  # its NaN check reads values a fake tensor does not have
            latent = sample(
                latent=latent,
                solver=solver,
                cond=cond,
                activate=activate,
                guidance=spec.guidance,
                boundary=spec.boundary,
                cfg_batch=plan.cfg_batch,
            )
        sampling_peak = sim.peak
        pipe.placer.park_all()
        sim.reset_peak()
        if decode:
            with pipe._vae_on_device():
                video = pipe.vae.decode([latent])[0]
            del video
        decode_peak = sim.peak
    return SimResult(
        task=plan.task,
        width=plan.width,
        height=plan.height,
        frame_num=frame_num,
        has_image=has_image,
        upstream_e0=upstream_e0,
        plan={k: v for k, v in plan.to_dict().items() if k in _PLAN_KEYS},
        loaded_gib=loaded / GIB,
        text_gib=text_peak / GIB,
        sampling_gib=sampling_peak / GIB,
        decode_gib=decode_peak / GIB if decode else 0.0,
        steps=n,
        experts_run=tuple(dict.fromkeys(experts)),
        flash_calls=record.calls,
        flash_errors=tuple(record.errors),
        seconds=time.perf_counter() - started,
        block_copies=transfers.copies_issued,
        blocks_computed=transfers.blocks_computed,
        transfer_errors=tuple(transfers.errors),
    )


_PLAN_KEYS = (*SIMULATED_SWITCHES, "dtype")  # what a simulated peak depends on


def plan_for(task: str, width: int, height: int, **switches: Any) -> Plan:
    """A one-GPU CUDA plan with the given memory switches (for the harness and benchmarks)."""
    base = Plan(
        task=task,
        device="cuda",
        nproc=1,
        ulysses_size=1,
        dit_fsdp=False,
        t5_fsdp=False,
        offload_model=False,
        convert_model_dtype=False,
        t5_cpu=False,
        attention="flash3",
        est_vram_gib=0.0,
        est_ram_gib=0.0,
        width=width,
        height=height,
    )
    return replace(base, **switches)
