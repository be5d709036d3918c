"""Models users already have in other layouts, adopted in place: the diffusers-format repos
(``Wan-AI/Wan2.2-*-Diffusers``). File checks only, no torch: what ``model_layout`` does for the
official folders, for these.

A diffusers repo is recognised by its ``model_index.json`` and ``transformer/config.json``
(``WanTransformer3DModel``). The task follows from the transformer's ``in_channels`` (16: T2V,
36: I2V, 48: TI2V) and a second expert (``transformer_2/``: low-noise; ``transformer/`` is the
high-noise one, as diffusers' ``WanPipeline`` switches at ``boundary_ratio``). The weights keep
their diffusers names on disk; the engine renames them while loading (``engine/wan/foreign_io``
with the key maps of ``convert_diffusers*.py`` and ``convert_hf_t5.py``).

``model_set`` describes where each network's files are, for the loader: the one interface
between this check and the engine.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from wan22_desktop.tasks import get_task

DIFFUSERS_INDEX = "model_index.json"
DIFFUSERS_DIT_CLASS = "WanTransformer3DModel"
DIFFUSERS_EXPERTS = ("transformer", "transformer_2")  # high-noise, low-noise (A14B)
DIFFUSERS_VAE = "vae"
DIFFUSERS_T5 = "text_encoder"
DIFFUSERS_TOKENIZER = "tokenizer"
_TASK_BY_IN_CHANNELS = {16: "t2v-A14B", 36: "i2v-A14B", 48: "ti2v-5B"}
# A few keys every diffusers Wan transformer has: a folder of another model fails here, by name.
_DIT_ANCHORS = ("patch_embedding.weight", "proj_out.weight", "scale_shift_table")
_VAE_ANCHORS = ("quant_conv.weight", "post_quant_conv.weight")
_T5_ANCHORS = ("encoder.final_layer_norm.weight",)


@dataclass(frozen=True)
class ModelSet:
    """Where a task's networks are, in a layout other than the official one.

    ``dits`` follow ``spec.dit_folders`` (high-noise expert first for A14B). ``*_keys`` name the
    key convention of the files: "diffusers" (DiT, VAE) / "hf" (umT5), or "official"."""

    kind: str  # "diffusers"
    task: str
    root: Path
    dits: tuple[tuple[Path, ...], ...]
    dit_config: Path | None
    vae: tuple[Path, ...]
    t5: tuple[Path, ...]
    tokenizer: Path
    dit_keys: str = "diffusers"
    vae_keys: str = "diffusers"
    t5_keys: str = "hf"


def is_diffusers_folder(root: Path) -> bool:
    return (Path(root) / DIFFUSERS_INDEX).is_file() and (
        Path(root) / DIFFUSERS_EXPERTS[0] / "config.json"
    ).is_file()


def diffusers_task(root: Path) -> str | None:
    """The task of a diffusers-format folder, from its transformer config; None when it is not
    a Wan2.2 one (a Wan2.1 diffusers repo has no ``transformer_2`` but 16/36 channels)."""
    root = Path(root)
    cfg = _json(root / DIFFUSERS_EXPERTS[0] / "config.json")
    if not isinstance(cfg, dict) or cfg.get("_class_name") != DIFFUSERS_DIT_CLASS:
        return None
    task = _TASK_BY_IN_CHANNELS.get(cfg.get("in_channels"))  # type: ignore[arg-type]
    if task is None:
        return None
    if get_task(task).is_moe and not (root / DIFFUSERS_EXPERTS[1]).is_dir():
        return None  # Wan2.1 (one model for all steps): not a Wan2.2 task
    return task


def diffusers_model_set(root: Path, task: str) -> ModelSet:
    """The files of a diffusers folder for ``task`` (whether they are all there is ``check``'s)."""
    root = Path(root)
    spec = get_task(task)
    experts = DIFFUSERS_EXPERTS[: len(spec.dit_folders)]
    return ModelSet(
        kind="diffusers",
        task=spec.name,
        root=root,
        dits=tuple(_weights(root / e, "diffusion_pytorch_model") for e in experts),
        dit_config=root / experts[0] / "config.json",
        vae=_weights(root / DIFFUSERS_VAE, "diffusion_pytorch_model"),
        t5=_weights(root / DIFFUSERS_T5, "model"),
        tokenizer=root / DIFFUSERS_TOKENIZER,
    )


def _weights(folder: Path, stem: str) -> tuple[Path, ...]:
    """The safetensors files of a diffusers/transformers component: the shards its index names,
    or the single file (paths that need not exist yet)."""
    index = folder / f"{stem}.safetensors.index.json"
    data = _json(index)
    if isinstance(data, dict) and isinstance(data.get("weight_map"), dict):
        names = sorted({str(v) for v in data["weight_map"].values()})
        return tuple(folder / n for n in names if _plain(n))
    return (folder / f"{stem}.safetensors",)


def check_model_set(ms: ModelSet) -> list[tuple[str, str]]:
    """(relative path, problem) for every file that is missing, truncated or not what it
    should be; empty when the set is complete."""
    from wan22_desktop.model_layout import read_safetensors_header, safetensors_problem

    problems: list[tuple[str, str]] = []

    def rel(p: Path) -> str:
        try:
            return p.relative_to(ms.root).as_posix()
        except ValueError:
            return str(p)

    def check(files: tuple[Path, ...], anchors: tuple[str, ...], what: str) -> None:
        keys: set[str] = set()
        for f in files:
            problem = safetensors_problem(f)
            if problem:
                problems.append((rel(f), problem))
                continue
            keys |= set(read_safetensors_header(f)) - {"__header_len__"}
        if keys and not all(a in keys for a in anchors):
            missing = next(a for a in anchors if a not in keys)
            problems.append((rel(files[0].parent), f"not a {what} (no {missing})"))

    if ms.dit_config is not None and ms.kind == "diffusers":
        cfg = _json(ms.dit_config)
        if not isinstance(cfg, dict) or cfg.get("_class_name") != DIFFUSERS_DIT_CLASS:
            problems.append((rel(ms.dit_config), f"not a {DIFFUSERS_DIT_CLASS} config"))
    dit_anchors = _DIT_ANCHORS if ms.dit_keys == "diffusers" else ()
    for files in ms.dits:
        check(files, dit_anchors, "Wan transformer")
    check(ms.vae, _VAE_ANCHORS if ms.vae_keys == "diffusers" else (), "Wan VAE")
    check(ms.t5, _T5_ANCHORS if ms.t5_keys == "hf" else (), "umT5 encoder")
    for name in ("tokenizer_config.json", "tokenizer.json"):
        if not (ms.tokenizer / name).is_file():
            problems.append((rel(ms.tokenizer / name), "missing"))
    return problems


def _json(path: Path) -> object:
    try:
        if path.stat().st_size > 64 * 1024**2:
            return None
        return json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None


def _plain(name: str) -> bool:
    return bool(name) and name not in (".", "..") and "/" not in name and "\\" not in name
