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

from wan22_desktop.errors import UserInputError
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


# ---------------------------------------------------------------------------- ComfyUI single files
# ComfyUI keeps one file per network (Comfy-Org's repackaged Wan2.2 files): the DiT in
# ``models/diffusion_models`` (official key names, sometimes behind ``model.diffusion_model.``),
# the VAE in ``models/vae`` (official names), umT5 in ``models/text_encoders`` (transformers names,
# plus the sentencepiece model as a ``spiece_model`` byte tensor). Roles and sizes are read from the
# safetensors headers (keys and shapes); only the two A14B experts need the file name ("high_noise"
# / "low_noise"), as ComfyUI's own workflows do. An adopted set is a folder holding just
# ``MODEL_SET_FILE`` (the absolute paths): nothing is copied.

MODEL_SET_FILE = "wan22-model-set.json"
COMFY_FOLDERS = {"dit": "diffusion_models", "vae": "vae", "t5": "text_encoders"}
COMFY_DIT_PREFIX = "model.diffusion_model."
WAN_HEAD_DIM = 128  # every released Wan2.x DiT (1.3B, 5B, 14B)
_DIT_TASK_BY_IN_DIM = {16: "t2v-A14B", 36: "i2v-A14B", 48: "ti2v-5B"}
_UNSUPPORTED_QUANT = ("comfy_quant", "weight_scale", "input_scale")
FP8_SKIPPED = ("scaled_fp8",)  # a marker tensor, no weight
FP8_SCALE = ".scale_weight"  # float8 ``X.weight`` times ``X.scale_weight`` is the weight
FP8_IGNORED = (".scale_input",)  # activation scales for fp8 matmuls: not needed to dequantise


@dataclass(frozen=True)
class ComfyFile:
    """One recognised ComfyUI weights file."""

    path: Path
    role: str  # "dit" | "vae" | "t5"
    task: str | None = None  # dit: from in_dim
    expert: str | None = None  # dit of A14B: "high" | "low" (from the file name)
    version: str | None = None  # vae: "2.1" | "2.2"
    dim: int = 0  # dit: text_dim it reads; t5: its width
    problem: str | None = None  # why it cannot be used (truncated, unsupported quantisation)


def classify_comfy_file(path: Path) -> ComfyFile | None:
    """What a safetensors file is, from its header; None when it is no Wan2.2 network."""
    from wan22_desktop.model_layout import read_safetensors_header, safetensors_problem

    try:
        header = read_safetensors_header(path)
    except (OSError, ValueError):
        return None
    header.pop("__header_len__", None)
    shapes = {k: v.get("shape", []) for k, v in header.items() if isinstance(v, dict)}
    # fp8 ("scaled_fp8": float8 weights times their ``.scale_weight``) is read, dequantised;
    # the newer per-layer "comfy_quant" formats are not.
    unsupported = any(k.endswith(_UNSUPPORTED_QUANT) for k in shapes)
    problem = safetensors_problem(path) or (
        "this quantisation (comfy_quant) is not supported: use the bf16/fp16 or fp8_scaled file"
        if unsupported
        else None
    )
    keys = {
        k[len(COMFY_DIT_PREFIX) :] if k.startswith(COMFY_DIT_PREFIX) else k: s
        for k, s in shapes.items()
    }
    if "patch_embedding.weight" in keys and "head.modulation" in keys:
        task = _DIT_TASK_BY_IN_DIM.get(int(keys["patch_embedding.weight"][1]))
        if task is None:
            return None
        name = path.name.lower()
        expert = "high" if "high_noise" in name else "low" if "low_noise" in name else None
        text_dim = int(keys["text_embedding.0.weight"][1])
        return ComfyFile(path, "dit", task=task, expert=expert, dim=text_dim, problem=problem)
    if "decoder.middle.0.residual.0.gamma" in keys and "conv1.weight" in keys:
        z = int(keys["conv1.weight"][0]) // 2
        version = {16: "2.1", 48: "2.2"}.get(z)
        return None if version is None else ComfyFile(path, "vae", version=version, problem=problem)
    for emb in ("shared.weight", "encoder.embed_tokens.weight"):
        if emb in keys and "encoder.final_layer_norm.weight" in keys:
            return ComfyFile(path, "t5", dim=int(keys[emb][1]), problem=problem)
    return None


def dit_shape_config(path: Path) -> dict[str, object]:
    """DiTConfig fields of a single-file DiT, from its tensor shapes (heads: 128 wide, as every
    released Wan2.x model)."""
    from wan22_desktop.model_layout import read_safetensors_header

    header = read_safetensors_header(path)
    shapes = {
        (k[len(COMFY_DIT_PREFIX) :] if k.startswith(COMFY_DIT_PREFIX) else k): v["shape"]
        for k, v in header.items()
        if isinstance(v, dict) and "shape" in v
    }
    dim, in_dim, *patch = shapes["patch_embedding.weight"]
    layers = 1 + max(int(k.split(".")[1]) for k in shapes if k.startswith("blocks."))
    volume = patch[0] * patch[1] * patch[2]
    return {
        "patch_size": tuple(patch),
        "in_dim": in_dim,
        "dim": dim,
        "ffn_dim": shapes["blocks.0.ffn.0.weight"][0],
        "freq_dim": shapes["time_embedding.0.weight"][1],
        "text_dim": shapes["text_embedding.0.weight"][1],
        "out_dim": shapes["head.head.weight"][0] // volume,
        "num_heads": max(1, dim // WAN_HEAD_DIM),
        "num_layers": layers,
        "qk_norm": "blocks.0.self_attn.norm_q.weight" in shapes,
        "cross_attn_norm": "blocks.0.norm3.weight" in shapes,
    }


def comfy_files(folder: Path) -> list[ComfyFile]:
    """Every Wan2.2 network in a ComfyUI install (``models/...`` below it), its ``models``
    folder, or a plain folder of files."""
    folder = Path(folder)
    roots = [folder / "models", folder] if (folder / "models").is_dir() else [folder]
    seen: set[Path] = set()
    out: list[ComfyFile] = []
    for root in roots:
        places = [root / sub for sub in COMFY_FOLDERS.values() if (root / sub).is_dir()] or [root]
        for place in places:
            for path in sorted(place.rglob("*.safetensors")):
                real = path.resolve()
                if real in seen:
                    continue
                seen.add(real)
                found = classify_comfy_file(path)
                if found is not None:
                    out.append(found)
        if out:
            break
    return out


def comfy_model_sets(
    files: list[ComfyFile], tokenizer: Path | None
) -> tuple[list[ModelSet], list[str]]:
    """Complete model sets that ``files`` make (one per task, the first usable file of each
    role), and a line for each task that lacks something."""
    sets: list[ModelSet] = []
    notes: list[str] = []
    usable = [f for f in files if f.problem is None]
    for f in files:
        if f.problem is not None:
            notes.append(f"{f.path.name}: {f.problem}")
    for task in ("t2v-A14B", "i2v-A14B", "ti2v-5B"):
        spec = get_task(task)
        dits = [f for f in usable if f.role == "dit" and f.task == task]
        if not dits:
            continue
        if spec.is_moe:
            high = next((f for f in dits if f.expert == "high"), None)
            low = next((f for f in dits if f.expert == "low"), None)
            if high is None or low is None:
                notes.append(f"{task}: needs a high_noise and a low_noise diffusion model file")
                continue
            experts = [high, low]
        else:
            experts = [dits[0]]
        version = "2.2" if spec.vae_file.startswith("Wan2.2") else "2.1"
        vae = next((f for f in usable if f.role == "vae" and f.version == version), None)
        t5 = next((f for f in usable if f.role == "t5" and f.dim == experts[0].dim), None)
        missing = [
            n for n, f in (("a Wan" + version + " VAE", vae), ("a umT5 encoder", t5)) if f is None
        ]
        if tokenizer is None:
            missing.append("the umT5 tokenizer (tokenizer.json)")
        if missing or vae is None or t5 is None or tokenizer is None:
            notes.append(f"{task}: missing {', '.join(missing)}")
            continue
        sets.append(
            ModelSet(
                kind="comfyui",
                task=task,
                root=experts[0].path.parent,
                dits=tuple((f.path,) for f in experts),
                dit_config=None,
                vae=(vae.path,),
                t5=(t5.path,),
                tokenizer=tokenizer,
                dit_keys="official",
                vae_keys="official",
                t5_keys="hf",
            )
        )
    return sets, notes


def write_model_set(ms: ModelSet, folder: Path) -> Path:
    """The folder that stands for an adopted set (``MODEL_SET_FILE`` only: the paths)."""
    folder.mkdir(parents=True, exist_ok=True)
    data = {
        "format": 1,
        "kind": ms.kind,
        "task": ms.task,
        "dits": [[str(p) for p in files] for files in ms.dits],
        "vae": [str(p) for p in ms.vae],
        "t5": [str(p) for p in ms.t5],
        "tokenizer": str(ms.tokenizer),
        "keys": {"dit": ms.dit_keys, "vae": ms.vae_keys, "t5": ms.t5_keys},
    }
    (folder / MODEL_SET_FILE).write_text(json.dumps(data, indent=1), encoding="utf-8")
    return folder


def is_model_set_folder(root: Path) -> bool:
    return (Path(root) / MODEL_SET_FILE).is_file()


def read_model_set(root: Path) -> ModelSet | None:
    """The set a ``MODEL_SET_FILE`` folder stands for; None when the file is unusable."""
    data = _json(Path(root) / MODEL_SET_FILE)
    try:
        assert isinstance(data, dict)
        keys = data.get("keys", {})
        return ModelSet(
            kind=str(data["kind"]),
            task=get_task(str(data["task"])).name,
            root=Path(root),
            dits=tuple(tuple(Path(p) for p in files) for files in data["dits"]),
            dit_config=None,
            vae=tuple(Path(p) for p in data["vae"]),
            t5=tuple(Path(p) for p in data["t5"]),
            tokenizer=Path(data["tokenizer"]),
            dit_keys=str(keys.get("dit", "official")),
            vae_keys=str(keys.get("vae", "official")),
            t5_keys=str(keys.get("t5", "hf")),
        )
    except (AssertionError, KeyError, TypeError, ValueError, UserInputError):
        return None
