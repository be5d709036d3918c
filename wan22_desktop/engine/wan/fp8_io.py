"""Loading a DiT with FP8 weights, through a verified on-disk cache of the quantised weights.

The first FP8 load reads the official fp32/bf16 folder (mmapped), quantises the blocks' Linears
(``fp8.quantize_dit``, after ``prepare``: the hook for weight changes such as LoRA merging) and
writes the whole quantised state dict to one safetensors file: next to the model
(``<dit folder>/.wan22-fp8.safetensors``) or, when that folder is read-only, under the app's cache
folder. Its metadata records our format version, the dtype of the unquantised tensors, the
caller's ``extra_key`` (e.g. the merged LoRAs) and each source file's name, size and mtime. The
next load checks all of that and every tensor's name, shape and dtype before assigning the
mmapped tensors; anything that does not match is rebuilt, never trusted.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch import nn

from .dit import WanDiT
from .dit_io import CONFIG_NAME, load_dit, read_dit_config, weight_files
from .fp8 import FP8Linear, quantize_dit

log = logging.getLogger(__name__)

# Hidden next to the model: the downloader's manifests and verification skip dot-files.
CACHE_NAME = ".wan22-fp8.safetensors"
FORMAT = "wan22-dit-fp8-e4m3-per-channel"
FORMAT_VERSION = "1"
_SOURCE_ATTR = "fp8_source"


def source_fingerprint(folder: Path) -> list[dict[str, object]]:
    """Name, size and mtime (ns) of config.json and every weight file: what the cache was made of."""
    folder = Path(folder)
    paths = sorted({folder / CONFIG_NAME, *weight_files(folder).values()})
    index = folder / "diffusion_pytorch_model.safetensors.index.json"
    if index.is_file():
        paths.append(index)
    out: list[dict[str, object]] = []
    for p in paths:
        st = p.stat()
        out.append({"name": p.name, "size": st.st_size, "mtime_ns": st.st_mtime_ns})
    return out


def cache_metadata(folder: Path, dtype: torch.dtype | None, extra_key: str) -> dict[str, str]:
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "dtype": "stored" if dtype is None else str(dtype).removeprefix("torch."),
        "extra_key": extra_key,
        "sources": json.dumps(source_fingerprint(folder), sort_keys=True),
    }


def cache_candidates(folder: Path, fallback_dir: Path | None) -> list[Path]:
    """Where a cache may be: next to the model first, then the fallback (app cache) folder."""
    folder = Path(folder).resolve()
    out = [folder / CACHE_NAME]
    if fallback_dir is not None:
        digest = hashlib.sha256(str(folder).encode()).hexdigest()[:16]
        out.append(Path(fallback_dir) / f"{folder.name}-{digest}{CACHE_NAME.replace('.', '-', 1)}")
    return out


def load_dit_fp8(
    folder: Path,
    *,
    device: torch.device | str = "cpu",
    dtype: torch.dtype | None = None,
    fallback_dir: Path | None = None,
    extra_key: str = "",
    prepare: Callable[[WanDiT], None] | None = None,
    use_cache: bool = True,
) -> WanDiT:
    """The DiT of ``folder`` with FP8 block Linears, on ``device``.

    ``dtype``: the unquantised tensors' dtype (None: as stored), as ``load_dit``. ``prepare``
    runs on the full-precision model before quantising (LoRA merging); whatever it changes must
    be named in ``extra_key``, which is part of the cache's identity. Quantising happens on the
    CPU from the mmapped file, so a GPU never holds the full-precision expert."""
    folder = Path(folder)
    dev = torch.device(device)
    if use_cache:
        want = cache_metadata(folder, dtype, extra_key)
        for path in cache_candidates(folder, fallback_dir):
            model = _load_cache(path, folder, want, dev, dtype)
            if model is not None:
                log.info("FP8 DiT from the cache %s", path)
                return _with_source(model, folder, dtype)
    model = load_dit(folder, device="cpu", dtype=dtype)
    if prepare is not None:
        prepare(model)
    quantize_dit(model)
    if use_cache:
        _write_cache(model, folder, cache_metadata(folder, dtype, extra_key), fallback_dir)
    return _with_source(model.to(dev), folder, dtype)


@dataclass(frozen=True)
class FP8Source:
    """Where an FP8 DiT's full-precision weights are: a later weight change (a LoRA) is merged
    into them and quantised again, as if merged before the first quantisation."""

    folder: Path
    dtype: torch.dtype | None  # what the load converted them to before quantising

    def weights(self, names: Iterable[str]) -> Iterator[tuple[str, torch.Tensor]]:
        """(name, the weight as the load quantised it), read one at a time from the mmapped
        files, so a LoRA over every Linear never holds more than one full-precision weight."""
        files = weight_files(self.folder)
        by_file: dict[Path, list[str]] = {}
        for name in names:
            by_file.setdefault(files[name], []).append(name)
        for path, keys in by_file.items():
            with safe_open(str(path), framework="pt") as f:
                for key in keys:
                    t = f.get_tensor(key)
                    yield key, t if self.dtype is None else t.to(self.dtype)


def fp8_source(model: nn.Module) -> FP8Source | None:
    return getattr(model, _SOURCE_ATTR, None)


def _with_source(model: WanDiT, folder: Path, dtype: torch.dtype | None) -> WanDiT:
    setattr(model, _SOURCE_ATTR, FP8Source(folder, dtype))
    return model


def _load_cache(
    path: Path, folder: Path, want: dict[str, str], device: torch.device, dtype: torch.dtype | None
) -> WanDiT | None:
    """The cached model if ``path`` exists and matches ``want`` in every respect, else None."""
    if not path.is_file():
        return None
    try:
        open_device = str(device) if device.type in ("cpu", "cuda") else "cpu"
        with safe_open(str(path), framework="pt", device=open_device) as f:
            meta = f.metadata() or {}
            stale = [k for k, v in want.items() if meta.get(k) != v]
            if stale:
                log.info("FP8 cache %s is stale (%s); rebuilding", path, ", ".join(stale))
                return None
            with torch.device("meta"):
                model = WanDiT(read_dit_config(folder))
            quantize_dit(model)
            expected = model.state_dict()
            fixed = {
                f"{name}.{leaf}"
                for name, m in model.named_modules()
                if isinstance(m, FP8Linear)
                for leaf in ("weight", "weight_scale")
            }
            if set(f.keys()) != set(expected):
                log.warning("FP8 cache %s does not hold this model's tensors; rebuilding", path)
                return None
            state = {}
            for key, ref in expected.items():
                t = f.get_tensor(key)
                # e4m3 bits and fp32 scales as built; the rest in the dtype asked (if any)
                want_dtype = ref.dtype if key in fixed else dtype
                if t.shape != ref.shape or (want_dtype is not None and t.dtype != want_dtype):
                    log.warning("FP8 cache %s: %s does not match; rebuilding", path, key)
                    return None
                state[key] = t.to(device)
    except Exception as exc:  # noqa: BLE001 - a damaged cache is rebuilt, whatever the failure
        log.warning("FP8 cache %s is unreadable (%s); rebuilding", path, exc)
        return None
    model.load_state_dict(state, strict=True, assign=True)
    return model.eval().requires_grad_(False)


def _write_cache(
    model: WanDiT, folder: Path, meta: dict[str, str], fallback_dir: Path | None
) -> Path | None:
    """Write the quantised state dict atomically to the first writable candidate; None if none."""
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    for path in cache_candidates(folder, fallback_dir):
        tmp = path.with_name(path.name + ".tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            save_file(state, str(tmp), metadata=meta)
            os.replace(tmp, path)
        except OSError as exc:
            log.info("cannot write the FP8 cache to %s (%s)", path, exc)
            tmp.unlink(missing_ok=True)
            continue
        log.info("FP8 cache written to %s", path)
        return path
    log.warning("no writable place for the FP8 cache; the next load quantises again")
    return None
