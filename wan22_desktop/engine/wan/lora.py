"""LoRAs merged into the DiT weights: the tensor math behind ``lora_formats``' key mapping.

Merging (W ← W + strength · ΔW) keeps sampling as fast as without a LoRA. A warm worker switches
LoRA sets between jobs without reading the base model again: ``LoraMerge`` keeps a CPU copy of
only the parameters a LoRA changed and puts them back before the next set is merged, so every
job starts from the exact loaded weights (no drift from subtracting in bf16).

ΔW per file entry (``lora_formats`` names the keys):

* A/B pair: ``up @ down · scale``, ``scale = alpha / rank`` (``.alpha`` key), PEFT's
  ``lora_alpha / r`` (diffusers metadata) or 1, computed in fp32 (a conv LoRA is flattened);
* ``.diff``: the weight delta as stored; ``.diff_b``: the bias delta (a diffusers
  ``lora_B.bias`` also gets PEFT's scale, as PEFT's fused bias does).

FP8 and other weight formats: merge first (``merge_into`` on the loaded full-precision weights),
quantise afterwards.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from torch import nn

from wan22_desktop.errors import CheckpointError, UserInputError
from wan22_desktop.lora_formats import LoraLayout, ModuleKeys, check_fits, parse_keys

from .fp8 import FP8Linear, dequantize_weight, quantize_weight
from .fp8_io import fp8_source

log = logging.getLogger(__name__)

HIGH, LOW, SINGLE = "high_noise_model", "low_noise_model", "model"


@dataclass
class LoraFile:
    """One LoRA file read into memory (CPU tensors, as stored)."""

    path: Path
    layout: LoraLayout
    tensors: dict[str, torch.Tensor]

    def shapes(self) -> dict[str, tuple[int, ...]]:
        return {k: tuple(v.shape) for k, v in self.tensors.items()}


def read_lora(path: str | Path) -> LoraFile:
    """Read and map a ``.safetensors`` LoRA (other containers are refused: no pickles)."""
    path = Path(path)
    if path.suffix.lower() != ".safetensors":
        raise UserInputError(
            f"{path.name} is not a .safetensors file", "LoRAs are read from .safetensors only"
        )
    if not path.is_file():
        raise UserInputError(f"LoRA file {path} is missing", "check the path", field="loras")
    try:
        with safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (not a dict)
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(
            f"LoRA file {path.name} cannot be read: {str(exc)[:200]}",
            "the file is damaged or not a safetensors file; download it again",
        ) from exc
    layout = parse_keys(tensors, metadata)
    return LoraFile(path, layout, tensors)


def _scale(lora: LoraFile, entry: ModuleKeys) -> float:
    if lora.layout.scale is not None:
        return lora.layout.scale
    if entry.alpha is not None:
        assert entry.down is not None
        return float(lora.tensors[entry.alpha].float().item()) / lora.tensors[entry.down].shape[0]
    return 1.0


def targets(lora: LoraFile) -> dict[str, list[ModuleKeys]]:
    """Our parameter name -> the file's entries that change it."""
    out: dict[str, list[ModuleKeys]] = {}
    for entry in lora.layout.modules.values():
        if (entry.down is not None and entry.up is not None) or entry.diff is not None:
            out.setdefault(entry.weight, []).append(entry)
        if entry.diff_b is not None:
            out.setdefault(entry.bias, []).append(entry)
    return out


def delta_for(
    lora: LoraFile, entries: Sequence[ModuleKeys], name: str, target: torch.Tensor
) -> torch.Tensor:
    """ΔW of parameter ``name`` (fp32, on ``target``'s device, strength 1): one tensor at a time,
    so merging a LoRA over every Linear of a 14B expert never holds more than one ΔW."""
    device = target.device
    out = torch.zeros(target.shape, dtype=torch.float32, device=device)
    for entry in entries:
        if name == entry.weight:
            if entry.down is not None and entry.up is not None:
                down = lora.tensors[entry.down].to(device, torch.float32).flatten(1)
                up = lora.tensors[entry.up].to(device, torch.float32).flatten(1)
                out += ((up @ down) * _scale(lora, entry)).reshape(target.shape)
            if entry.diff is not None:
                out += lora.tensors[entry.diff].to(device, torch.float32).reshape(target.shape)
        if entry.diff_b is not None and name == entry.bias:
            bias_scale = lora.layout.scale if lora.layout.scale is not None else 1.0
            diff_b = lora.tensors[entry.diff_b].to(device, torch.float32).reshape(target.shape)
            out += diff_b * bias_scale
    return out


def deltas(lora: LoraFile, params: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Our parameter name -> ΔW (fp32, on the parameter's device, strength 1); all at once (tests
    and small models; merging goes one tensor at a time)."""
    return {
        name: delta_for(lora, entries, name, params[name])
        for name, entries in targets(lora).items()
    }


@dataclass(frozen=True)
class ExpertLora:
    """One LoRA file at one strength on one expert (``high_noise_model``, ``low_noise_model`` or
    ``model``)."""

    expert: str
    path: str
    strength: float
    sha256: str = ""  # part of the set's identity: a file replaced under the same name re-merges


def model_shapes(module: nn.Module) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


def merge_into(
    experts: Mapping[str, nn.Module],
    items: Sequence[ExpertLora],
    *,
    files: Mapping[str, LoraFile] | None = None,
    keep: dict[tuple[str, str], torch.Tensor] | None = None,
    label: str = "the model",
) -> None:
    """Merge ``items`` into the experts' weights in place. Every file is read and checked against
    its expert first, so a LoRA for another model is refused before any weight changes.
    ``keep`` receives a CPU copy of each parameter before its first change."""
    files = dict(files or {})
    for item in items:
        if item.path not in files:
            files[item.path] = read_lora(item.path)
        if item.expert not in experts:
            raise UserInputError(f"{label} has no {item.expert} expert", field="loras")
        lora = files[item.path]
        check_fits(
            lora.layout,
            lora.shapes(),
            model_shapes(experts[item.expert]),
            f"{label} ({item.expert})" if item.expert != SINGLE else label,
        )
    for name, module in experts.items():
        mine = [i for i in items if i.expert == name and i.strength != 0.0]
        if not mine:
            continue
        params = dict(module.state_dict(keep_vars=True))
        changes: dict[str, list[tuple[ExpertLora, list[ModuleKeys]]]] = {}
        for item in mine:
            for pname, entries in targets(files[item.path]).items():
                changes.setdefault(pname, []).append((item, entries))

        owners = {pname: _fp8_owner(module, pname) for pname in changes}
        fp8 = {pname: layer for pname, layer in owners.items() if layer is not None}
        with torch.no_grad():
            for pname in changes:
                touched = [pname, f"{pname}_scale"] if pname in fp8 else [pname]
                for t in touched:
                    if keep is not None and (name, t) not in keep:
                        keep[(name, t)] = params[t].detach().to("cpu", copy=True)
                if pname not in fp8:
                    p = params[pname]
                    p.copy_((p.float() + _summed(files, changes[pname], pname, p)).to(p.dtype))
            for pname, base in _fp8_bases(module, fp8):
                layer = fp8[pname]
                merged = base.to(layer.weight.device).float()
                merged += _summed(files, changes[pname], pname, layer.weight)
                q, scale = quantize_weight(merged)
                layer.weight.copy_(q.view(torch.uint8))
                layer.weight_scale.copy_(scale)
        log.info("merged %d LoRA(s) into %s: %d tensors", len(mine), name, len(changes))


def _summed(
    files: Mapping[str, LoraFile],
    parts: Sequence[tuple[ExpertLora, list[ModuleKeys]]],
    pname: str,
    target: torch.Tensor,
) -> torch.Tensor:
    """Σ strength · ΔW of ``pname`` over the LoRAs that change it."""
    out = torch.zeros(target.shape, dtype=torch.float32, device=target.device)
    for item, entries in parts:
        out += item.strength * delta_for(files[item.path], entries, pname, target)
    return out


def _fp8_bases(
    module: nn.Module, layers: Mapping[str, FP8Linear]
) -> Iterator[tuple[str, torch.Tensor]]:
    """The full-precision weight each FP8 layer was quantised from, so the merge quantises
    W + ΔW once (as if merged before quantising): read from the model's files when it knows them,
    else its e4m3 weight dequantised (one more rounding; logged)."""
    if not layers:
        return
    source = fp8_source(module)
    if source is not None:
        yield from source.weights(layers)
        return
    log.warning("FP8 weights without their source files: LoRAs merged into the dequantised weights")
    for pname, layer in layers.items():
        yield pname, dequantize_weight(layer.weight_fp8, layer.weight_scale)


def _fp8_owner(module: nn.Module, pname: str) -> FP8Linear | None:
    """The FP8 layer whose e4m3 ``weight`` ``pname`` is (None: a plain tensor)."""
    owner, _, leaf = pname.rpartition(".")
    if leaf != "weight":
        return None
    layer = module.get_submodule(owner) if owner else module
    return layer if isinstance(layer, FP8Linear) else None


class LoraMerge:
    """The LoRA set merged into one loaded pipeline's experts, switchable between jobs."""

    def __init__(self) -> None:
        self.applied: tuple[ExpertLora, ...] = ()
        self.originals: dict[tuple[str, str], torch.Tensor] = {}

    def apply(
        self, experts: Mapping[str, nn.Module], items: Sequence[ExpertLora], label: str
    ) -> bool:
        """Make ``items`` the merged set (restoring the previous set's tensors first); False
        when it already is. Files are read and checked before anything changes. Only the experts
        whose own items change are touched (a mid-job switch on one expert, ADR 0025, leaves the
        other's merged weights alone)."""
        items = tuple(i for i in items if i.strength != 0.0)
        if items == self.applied:
            return False
        files = {i.path: read_lora(i.path) for i in items}
        for i in items:  # check all before restoring, so a bad set leaves the old one intact
            if i.expert not in experts:
                raise UserInputError(f"{label} has no {i.expert} expert", field="loras")
            lora = files[i.path]
            check_fits(lora.layout, lora.shapes(), model_shapes(experts[i.expert]), label)
        changed = {n for n in experts if _on(items, n) != _on(self.applied, n)}
        self._restore(experts, changed)
        merge_into(
            {n: m for n, m in experts.items() if n in changed},
            [i for i in items if i.expert in changed],
            files=files,
            keep=self.originals,
            label=label,
        )
        self.applied = items
        return True

    def restore(self, experts: Mapping[str, nn.Module]) -> None:
        """Put back the loaded weights of every parameter a LoRA changed."""
        self._restore(experts, set(experts))
        self.applied = ()

    def _restore(self, experts: Mapping[str, nn.Module], names: set[str]) -> None:
        """Put back the loaded weights of the parameters a LoRA changed in the experts ``names``."""
        params = {name: dict(m.state_dict(keep_vars=True)) for name, m in experts.items()}
        with torch.no_grad():
            for name, pname in [k for k in self.originals if k[0] in names]:
                p = params[name][pname]
                p.copy_(self.originals.pop((name, pname)).to(p.device))


def _on(items: Sequence[ExpertLora], expert: str) -> tuple[ExpertLora, ...]:
    return tuple(i for i in items if i.expert == expert)
