"""LoRA files for the Wan DiT: which naming a file uses, and which of our parameters each key
changes. Pure (names and shapes only, no torch), so the CLI, the library and the GUI can describe
a LoRA without the engine; the tensor math is ``engine/wan/lora.py``.

Namings, detected from the keys (facts from diffusers' ``lora_conversion_utils`` and ComfyUI):

* **diffusers/PEFT**: ``transformer.blocks.N.attn1.to_q.lora_A.weight`` / ``lora_B.weight``
  (``lora_B.bias``: a bias delta); scale ``lora_alpha / r`` from the safetensors metadata
  ``lora_adapter_metadata`` (diffusers' ``save_lora_weights``), 1 without it.
* **official/ComfyUI**: ``diffusion_model.blocks.N.self_attn.q.lora_A.weight`` (or
  ``lora_down``/``lora_up``) with an optional ``.alpha``: scale ``alpha / rank``, 1 without.
* **Kohya/musubi**: ``lora_unet_blocks_N_self_attn_q.lora_down.weight`` + ``.alpha``.
* **full-weight deltas** (lightx2v, ComfyUI): ``<module>.diff`` (weight) and ``<module>.diff_b``
  (bias), added as they are; found beside A/B pairs in the official naming.

Every delta is finally multiplied by the user's strength (ComfyUI's ``strength_model``).
Keys of the Wan2.1 image cross-attention (``k_img``, ``v_img``, ``img_emb``) are recognised and
skipped, since Wan2.2 has no such layers; any other key is an error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from wan22_desktop.errors import CheckpointError

FORMATS = ("diffusers", "official", "kohya")

# Module names in the official layout and diffusers' (for one block index {i}); ``None`` marks
# modules whose single parameter has no ``.weight`` suffix (modulation tables).
_MODULES: tuple[tuple[str, str], ...] = (
    ("patch_embedding", "patch_embedding"),
    ("text_embedding.0", "condition_embedder.text_embedder.linear_1"),
    ("text_embedding.2", "condition_embedder.text_embedder.linear_2"),
    ("time_embedding.0", "condition_embedder.time_embedder.linear_1"),
    ("time_embedding.2", "condition_embedder.time_embedder.linear_2"),
    ("time_projection.1", "condition_embedder.time_proj"),
    ("head.head", "proj_out"),
    ("head.modulation", "scale_shift_table"),
    ("blocks.{i}.modulation", "blocks.{i}.scale_shift_table"),
    ("blocks.{i}.self_attn.q", "blocks.{i}.attn1.to_q"),
    ("blocks.{i}.self_attn.k", "blocks.{i}.attn1.to_k"),
    ("blocks.{i}.self_attn.v", "blocks.{i}.attn1.to_v"),
    ("blocks.{i}.self_attn.o", "blocks.{i}.attn1.to_out.0"),
    ("blocks.{i}.self_attn.norm_q", "blocks.{i}.attn1.norm_q"),
    ("blocks.{i}.self_attn.norm_k", "blocks.{i}.attn1.norm_k"),
    ("blocks.{i}.cross_attn.q", "blocks.{i}.attn2.to_q"),
    ("blocks.{i}.cross_attn.k", "blocks.{i}.attn2.to_k"),
    ("blocks.{i}.cross_attn.v", "blocks.{i}.attn2.to_v"),
    ("blocks.{i}.cross_attn.o", "blocks.{i}.attn2.to_out.0"),
    ("blocks.{i}.cross_attn.norm_q", "blocks.{i}.attn2.norm_q"),
    ("blocks.{i}.cross_attn.norm_k", "blocks.{i}.attn2.norm_k"),
    ("blocks.{i}.norm3", "blocks.{i}.norm2"),  # the affine LayerNorm before cross-attention
    ("blocks.{i}.ffn.0", "blocks.{i}.ffn.net.0.proj"),
    ("blocks.{i}.ffn.2", "blocks.{i}.ffn.net.2"),
)
# Wan2.1 I2V only (image cross-attention, CLIP projection): recognised, skipped on Wan2.2.
_WAN21_IMAGE: tuple[tuple[str, str], ...] = (
    ("blocks.{i}.cross_attn.k_img", "blocks.{i}.attn2.add_k_proj"),
    ("blocks.{i}.cross_attn.v_img", "blocks.{i}.attn2.add_v_proj"),
    ("blocks.{i}.cross_attn.norm_k_img", "blocks.{i}.attn2.norm_added_k"),
    ("img_emb.proj.0", "condition_embedder.image_embedder.norm1"),
    ("img_emb.proj.1", "condition_embedder.image_embedder.ff.net.0.proj"),
    ("img_emb.proj.3", "condition_embedder.image_embedder.ff.net.2"),
    ("img_emb.proj.4", "condition_embedder.image_embedder.norm2"),
)
_PARAMETER_ONLY = {"head.modulation", "blocks.{i}.modulation"}

# Key suffix -> role. Longest first, so ".diff_b" is not read as ".diff".
_SUFFIXES: tuple[tuple[str, str], ...] = (
    (".lora_A.weight", "down"),
    (".lora_B.weight", "up"),
    (".lora_down.weight", "down"),
    (".lora_up.weight", "up"),
    (".lora_B.bias", "diff_b"),
    (".alpha", "alpha"),
    (".diff_b", "diff_b"),
    (".diff", "diff"),
)
_PREFIXES: dict[str, tuple[str, ...]] = {
    "diffusers": ("transformer.", "base_model.model.", "diffusion_model.", ""),
    "official": ("model.diffusion_model.", "diffusion_model.", ""),
}
KOHYA_PREFIX = "lora_unet_"


def _pattern(template: str, sep: str = ".") -> re.Pattern[str]:
    text = re.escape(template.replace(".", sep)).replace(r"\{i\}", r"(?P<i>\d+)")
    return re.compile(text + r"\Z")


def _table(pairs: Iterable[tuple[str, str]], side: int, sep: str = ".") -> list[Any]:
    return [(_pattern(pair[side], sep), pair[0]) for pair in pairs]


_NAMES = {
    "official": _table(_MODULES, 0),
    "diffusers": _table(_MODULES, 1),
    "kohya": _table(_MODULES, 0, "_"),
}
_SKIPPED = {
    "official": _table(_WAN21_IMAGE, 0),
    "diffusers": _table(_WAN21_IMAGE, 1),
    "kohya": _table(_WAN21_IMAGE, 0, "_"),
}


def _match(table: list[Any], name: str) -> str | None:
    """The official module name of ``name`` in one naming, or None."""
    for pattern, official in table:
        m = pattern.match(name)
        if m:
            return str(official).replace("{i}", m.groupdict().get("i") or "")
    return None


@dataclass
class ModuleKeys:
    """The file's keys for one of our modules (official name ``module``)."""

    module: str
    down: str | None = None
    up: str | None = None
    alpha: str | None = None
    diff: str | None = None
    diff_b: str | None = None

    @property
    def weight(self) -> str:
        """Our parameter a weight delta changes."""
        return self.module if _is_parameter_only(self.module) else f"{self.module}.weight"

    @property
    def bias(self) -> str:
        return f"{self.module}.bias"


def _is_parameter_only(module: str) -> bool:
    return (
        module == "head.modulation" or re.fullmatch(r"blocks\.\d+\.modulation", module) is not None
    )


@dataclass
class LoraLayout:
    """What a LoRA file changes, by our module names; ``skipped`` keys target layers Wan2.2 does
    not have; ``scale`` is the PEFT ``lora_alpha / r`` of a diffusers file (None: per ``.alpha``
    key, or 1)."""

    format: str
    modules: dict[str, ModuleKeys] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    scale: float | None = None

    @property
    def blocks(self) -> int:
        """How many DiT blocks the file reaches (highest index + 1; 0: none)."""
        found = [int(m.split(".")[1]) for m in self.modules if m.startswith("blocks.")]
        return max(found) + 1 if found else 0


def detect_format(keys: Iterable[str]) -> str:
    """The naming of a LoRA file from its keys (see the module docstring)."""
    keys = list(keys)
    if any(k.startswith(KOHYA_PREFIX) for k in keys):
        return "kohya"
    for key in keys:
        module = _split(key)[0]
        for prefix in _PREFIXES["diffusers"][:3]:
            module = module.removeprefix(prefix)
        if _match(_NAMES["diffusers"], module) and not _match(_NAMES["official"], module):
            return "diffusers"
    return "official"


def _split(key: str) -> tuple[str, str | None]:
    for suffix, role in _SUFFIXES:
        if key.endswith(suffix):
            return key[: -len(suffix)], role
    return key, None


def _module_of(fmt: str, name: str) -> tuple[str | None, bool]:
    """(official module, skipped) for a key's module part in ``fmt``."""
    candidates = [name[len(KOHYA_PREFIX) :]] if fmt == "kohya" else []
    if fmt != "kohya":
        candidates = [name[len(p) :] for p in _PREFIXES[fmt] if name.startswith(p)]
    for cand in candidates:
        found = _match(_NAMES[fmt], cand)
        if found:
            return found, False
        if _match(_SKIPPED[fmt], cand):
            return None, True
    return None, False


def parse_keys(keys: Iterable[str], metadata: Mapping[str, str] | None = None) -> LoraLayout:
    """Map every key of a LoRA file to our modules; unknown keys are a ``CheckpointError``
    naming a few of them (nothing is guessed)."""
    keys = sorted(keys)
    if not keys:
        raise CheckpointError("the LoRA file holds no tensors", "choose another file")
    fmt = detect_format(keys)
    layout = LoraLayout(fmt, scale=_peft_scale(metadata) if fmt == "diffusers" else None)
    unknown: list[str] = []
    for key in keys:
        name, role = _split(key)
        module, skipped = _module_of(fmt, name) if role else (None, False)
        if skipped:
            layout.skipped.append(key)
            continue
        if module is None or role is None:
            unknown.append(key)
            continue
        entry = layout.modules.setdefault(module, ModuleKeys(module))
        setattr(entry, role, key)
    if unknown:
        shown = ", ".join(unknown[:4]) + (
            f" (+{len(unknown) - 4} more)" if len(unknown) > 4 else ""
        )
        raise CheckpointError(
            f"the LoRA file has {len(unknown)} key(s) that are not Wan DiT LoRA weights: {shown}",
            "use a Wan2.1/2.2 LoRA in the diffusers, ComfyUI/official, Kohya or lightx2v naming",
        )
    for entry in layout.modules.values():
        if (entry.down is None) != (entry.up is None):
            raise CheckpointError(
                f"the LoRA file has only one half of the pair for {entry.module}",
                "the file is incomplete or damaged; download it again",
            )
        if entry.alpha is not None and entry.down is None:
            raise CheckpointError(
                f"the LoRA file has an alpha but no weights for {entry.module}",
                "the file is incomplete or damaged; download it again",
            )
    if not layout.modules:
        raise CheckpointError(
            "the LoRA file changes no layer of the Wan2.2 DiT (only Wan2.1 image layers)",
            "use a LoRA made for Wan2.2 or a Wan2.1 T2V LoRA",
        )
    return layout


def _peft_scale(metadata: Mapping[str, str] | None) -> float | None:
    """PEFT's ``lora_alpha / r`` from diffusers' ``lora_adapter_metadata`` (None: absent)."""
    raw = (metadata or {}).get("lora_adapter_metadata")
    if not raw:
        return None
    try:
        data = json.loads(raw)
        conf = {k.removeprefix("transformer."): v for k, v in data.items()}
        if conf.get("alpha_pattern") or conf.get("rank_pattern"):
            raise CheckpointError(
                "the LoRA uses per-layer ranks or alphas (PEFT alpha_pattern/rank_pattern)",
                "convert it to one rank and alpha, or to the ComfyUI naming with .alpha keys",
            )
        r, alpha = float(conf["r"]), float(conf.get("lora_alpha", conf["r"]))
        return alpha / (r**0.5 if conf.get("use_rslora") else r)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CheckpointError(
            f"the LoRA's adapter metadata cannot be read: {exc}", "the file may be damaged"
        ) from None


# ---------------------------------------------------------------------------- shapes


Shape = tuple[int, ...]


def expected_shapes(layout: LoraLayout, shapes: Mapping[str, Shape]) -> dict[str, Shape]:
    """Our parameter -> the shape the file's delta for it has (from the LoRA's own tensors)."""
    out: dict[str, Shape] = {}
    for entry in layout.modules.values():
        if entry.down is not None and entry.up is not None:
            down, up = shapes[entry.down], shapes[entry.up]
            if len(down) < 2 or len(up) < 2 or down[0] != up[1]:
                raise CheckpointError(
                    f"the LoRA's down/up shapes for {entry.module} do not pair: {down} and {up}",
                    "the file is damaged",
                )
            out[entry.weight] = (up[0], *down[1:])
        if entry.diff is not None:
            out[entry.weight] = tuple(shapes[entry.diff])
        if entry.diff_b is not None:
            out[entry.bias] = tuple(shapes[entry.diff_b])
    return out


def _same(a: Shape, b: Shape) -> bool:
    """A LoRA's delta fits a weight when the elements line up (a conv LoRA is [out, in·k])."""
    if a == b:
        return True
    from math import prod

    return len(a) >= 2 and len(b) >= 2 and a[0] == b[0] and prod(a[1:]) == prod(b[1:])


def check_fits(
    layout: LoraLayout, shapes: Mapping[str, Shape], model: Mapping[str, Shape], model_label: str
) -> None:
    """Refuse a LoRA for another model before anything is merged: blocks the model lacks, or a
    shape that differs (A14B vs 5B width, T2V vs I2V input channels), with the reason."""
    want = expected_shapes(layout, shapes)
    about = describe(layout, shapes)
    made_for = f"it looks made for {about['family']}" if about["family"] != "unknown" else ""
    layers = sum(1 for k in model if k.endswith(".self_attn.q.weight"))
    if layout.blocks > layers:
        raise CheckpointError(
            f"the LoRA reaches {layout.blocks} DiT blocks; {model_label} has {layers}"
            + (f" ({made_for})" if made_for else ""),
            "choose a LoRA made for this model",
        )
    for name, shape in want.items():
        if name not in model:
            raise CheckpointError(
                f"the LoRA changes {name}, which {model_label} does not have",
                "choose a LoRA made for this model",
            )
        if not _same(shape, tuple(model[name])):
            raise CheckpointError(
                f"the LoRA does not fit {model_label}: {name} is {tuple(model[name])}, the LoRA's "
                f"is {shape}" + (f"; {made_for}" if made_for else ""),
                "choose a LoRA made for this model (A14B and TI2V-5B LoRAs differ, and so do "
                "T2V and I2V ones where they change the input layer)",
            )


# Width of the DiT -> family (Wan2.1 14B shares the A14B width; 1.3B shares nothing).
_FAMILY_BY_DIM = {5120: "A14B", 3072: "TI2V-5B", 1536: "Wan2.1-1.3B"}
_TASK_BY_IN_DIM = {16: "t2v", 36: "i2v", 48: "ti2v"}


def describe(layout: LoraLayout, shapes: Mapping[str, Shape], filename: str = "") -> dict[str, Any]:
    """What a LoRA is for, from its keys, shapes and file name: family (A14B / TI2V-5B /
    unknown), task where the input layer says it (t2v / i2v / ti2v, else from the name),
    expert (high / low / both, from the name), rank, blocks, format."""
    want = expected_shapes(layout, shapes)
    dim = next(
        (s[0] for k, s in want.items() if re.search(r"\.(self|cross)_attn\.[qkvo]\.weight$", k)),
        None,
    )
    family = _FAMILY_BY_DIM.get(dim or 0, "unknown") if dim else "unknown"
    patch = want.get("patch_embedding.weight")
    task = _TASK_BY_IN_DIM.get(patch[1], "unknown") if patch and len(patch) >= 2 else "unknown"
    lower = filename.lower()
    if task == "unknown" and family == "TI2V-5B":
        task = "ti2v"
    elif task == "unknown":
        task = next((t for t in ("i2v", "t2v", "ti2v") if t in lower), "unknown")
    ranks = sorted({shapes[e.down][0] for e in layout.modules.values() if e.down})
    kinds = []
    if any(e.down for e in layout.modules.values()):
        kinds.append("lora")
    if any(e.diff or e.diff_b for e in layout.modules.values()):
        kinds.append("diff")
    return {
        "format": layout.format,
        "family": family,
        "task": task,
        "expert": expert_from_name(filename),
        "rank": ranks[-1] if ranks else None,
        "blocks": layout.blocks,
        "kinds": kinds,
        "skipped": len(layout.skipped),
    }


def expert_from_name(filename: str) -> str:
    """``high`` / ``low`` for the lightx2v-style ``*high_noise*`` / ``*low_noise*`` names, else
    ``both``."""
    lower = filename.lower().replace("-", "_")
    if "high_noise" in lower or re.search(r"(^|_)high(_|\.|$)", lower):
        return "high"
    if "low_noise" in lower or re.search(r"(^|_)low(_|\.|$)", lower):
        return "low"
    return "both"


def partner_name(filename: str) -> str | None:
    """The other file of a ``*high_noise*`` / ``*low_noise*`` pair (None: not such a name)."""
    for a, b in (("high_noise", "low_noise"), ("HIGH_NOISE", "LOW_NOISE"), ("HIGH", "LOW")):
        if a in filename:
            return filename.replace(a, b)
        if b in filename:
            return filename.replace(b, a)
    return None
