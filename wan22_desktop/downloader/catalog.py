"""The models the app can download: official Wan2.2 repos and optional Qwen prompt-extension models.

Sizes come from the hub at run time (listing metadata). The figures here are fallbacks shown before
the hub answers (or when it cannot be reached), taken from the reference notes on the official
layouts (docs/wan22-reference.md §2); they are never used to verify a file.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path

from wan22_desktop.errors import UserInputError

SOURCES = ("hf", "modelscope")

# Files that are part of a repo but never needed to run it (demo media, docs, training assets).
_SKIP = (
    "assets/*",
    "examples/*",
    "*.md",
    ".gitattributes",
    "*.png",
    "*.jpg",
    "*.jpeg",
    "*.gif",
    "*.mp4",
    "*.webp",
)

_T5 = "models_t5_umt5-xxl-enc-bf16.pth"
_TOKENIZER = "google/umt5-xxl/*"

GB = 1_000_000_000
LORA_FOLDER = "loras"  # below the models folder (presets.LORA_FOLDER)

# The Lightning (lightx2v) 4-step LoRA pairs as the ComfyUI template uses them: the Comfy-Org
# repack (https://huggingface.co/Comfy-Org/Wan_2.2_ComfyUI_Repackaged, split_files/loras), the same
# id on ModelScope. Rank 64, fp32 deltas: about 1.21 GB each (a third-party download script lists
# 1,209,814,656 bytes for every one). No sha256 is published beside them; the hub's LFS sha256
# (listing metadata) is what each file is verified against while it downloads, as for every model.
_COMFY_REPACK = "Comfy-Org/Wan_2.2_ComfyUI_Repackaged"
_LIGHTNING_FILE = (
    "split_files/loras/wan2.2_{task}_lightx2v_4steps_lora_{version}_{expert}_noise.safetensors"
)
_LORA_SIZE = 1_209_814_656


# The TAEHV tiny decoders for near-true live previews (engine/wan/taehv.py), from the author's
# own repo (https://github.com/madebyollin/taehv, MIT; the same files on Hugging Face as
# madebyollin/taehv): ``taew2_1`` for the Wan2.1 latent of A14B, ``taew2_2`` for the Wan2.2
# latent of TI2V-5B (README "What video models does TAEHV support?"). The safetensors copies are
# taken, not the pickled ``.pth`` files: GitHub keeps them in ``safetensors/``; third-party
# download lists name both that folder and the root on the Hugging Face copy, so both places are
# asked for (whichever exists; ``find_taehv`` looks in both).
# About 22-23 MB each (fp16; a third-party manifest lists 22,709,752 bytes for the sibling
# taeh3.safetensors). No sha256 is published beside them: as for every model, each file is
# verified against the hub's LFS sha256 while it downloads, and loading checks every key.
PREVIEW_FOLDER = "vae_approx"  # below the models folder; ComfyUI's name for the same files
_TAEHV_REPO = "madebyollin/taehv"
_TAEHV_SIZE = 23_000_000


def _taehv(name: str) -> tuple[str, ...]:
    return (f"safetensors/{name}.safetensors", f"{name}.safetensors")


def _lightning(task: str, version: str) -> tuple[str, ...]:
    return tuple(
        _LIGHTNING_FILE.format(task=task, version=version, expert=e) for e in ("high", "low")
    )


@dataclass(frozen=True)
class CatalogModel:
    """One downloadable repo. ``patterns`` select the files a run needs (glob, relative paths)."""

    key: str  # short name users type: "ti2v-5B"
    repo_id: str  # same id on Hugging Face and ModelScope
    title: str
    tasks: tuple[str, ...]
    patterns: tuple[str, ...]
    fallback_size: int  # bytes, approximate; shown before the hub answers
    optional: bool = False
    skip: tuple[str, ...] = field(default=_SKIP)
    # "model": a whole checkpoint folder, known by its repo id. "lora": a few files picked from
    # a repo that holds many (several entries may share one repo), known by its key and
    # downloaded into the LoRA folder (``models/loras/<key>``). "preview": the same kind of
    # pick, a tiny preview decoder, downloaded into ``models/vae_approx/<key>``.
    kind: str = "model"

    @property
    def model_id(self) -> str:
        """What download and installed rows record: the repo id, or the key of a pick."""
        return self.repo_id if self.kind == "model" else self.key

    def default_target(self, models_dir: Path) -> Path:
        if self.kind == "lora":
            return models_dir / LORA_FOLDER / self.key
        if self.kind == "preview":
            return models_dir / PREVIEW_FOLDER / self.key
        return models_dir / self.repo_id.split("/")[-1]

    def wants(self, path: str) -> bool:
        """Whether a remote file belongs to what this model needs."""
        if any(fnmatch.fnmatchcase(path, p) for p in self.skip):
            return False
        return any(fnmatch.fnmatchcase(path, p) for p in self.patterns)


_A14B_PATTERNS = (
    "high_noise_model/*",
    "low_noise_model/*",
    "Wan2.1_VAE.pth",
    _T5,
    _TOKENIZER,
    "configuration.json",
)

MODELS: tuple[CatalogModel, ...] = (
    CatalogModel(
        key="t2v-A14B",
        repo_id="Wan-AI/Wan2.2-T2V-A14B",
        title="Wan2.2 text-to-video, 14B MoE",
        tasks=("t2v-A14B",),
        patterns=_A14B_PATTERNS,
        # 2 experts x ~57.2 GB fp32 shards + T5 11.36 GB + VAE 0.51 GB
        fallback_size=126_200_000_000,
    ),
    CatalogModel(
        key="i2v-A14B",
        repo_id="Wan-AI/Wan2.2-I2V-A14B",
        title="Wan2.2 image-to-video, 14B MoE",
        tasks=("i2v-A14B",),
        patterns=_A14B_PATTERNS,
        fallback_size=126_200_000_000,
    ),
    CatalogModel(
        key="ti2v-5B",
        repo_id="Wan-AI/Wan2.2-TI2V-5B",
        title="Wan2.2 text/image-to-video, 5B",
        tasks=("ti2v-5B",),
        patterns=(
            "config.json",
            "diffusion_pytorch_model*.safetensors",
            "diffusion_pytorch_model.safetensors.index.json",
            "Wan2.2_VAE.pth",
            _T5,
            _TOKENIZER,
            "configuration.json",
        ),
        # 3 shards 20.0 GB + T5 11.36 GB + VAE 2.82 GB
        fallback_size=34_180_000_000,
    ),
    # Local prompt extension (official defaults: Qwen2.5-7B/14B-Instruct, Qwen2.5-VL-3B/7B-Instruct).
    CatalogModel(
        key="qwen-text-small",
        repo_id="Qwen/Qwen2.5-7B-Instruct",
        title="Prompt extension, text (7B)",
        tasks=(),
        patterns=("*",),
        fallback_size=15_230_000_000,
        optional=True,
    ),
    CatalogModel(
        key="qwen-text-large",
        repo_id="Qwen/Qwen2.5-14B-Instruct",
        title="Prompt extension, text (14B)",
        tasks=(),
        patterns=("*",),
        fallback_size=29_540_000_000,
        optional=True,
    ),
    CatalogModel(
        key="qwen-vl-small",
        repo_id="Qwen/Qwen2.5-VL-3B-Instruct",
        title="Prompt extension, image+text (3B)",
        tasks=(),
        patterns=("*",),
        fallback_size=7_510_000_000,
        optional=True,
    ),
    CatalogModel(
        key="qwen-vl-large",
        repo_id="Qwen/Qwen2.5-VL-7B-Instruct",
        title="Prompt extension, image+text (7B)",
        tasks=(),
        patterns=("*",),
        fallback_size=16_580_000_000,
        optional=True,
    ),
    # Step-distilled LoRAs for the Fast presets (resources/presets.json).
    CatalogModel(
        key="lightning-t2v",
        repo_id=_COMFY_REPACK,
        title="Lightning 4-step LoRAs, text to video (lightx2v v1.1, high + low noise)",
        tasks=(),
        patterns=_lightning("t2v", "v1.1"),
        fallback_size=2 * _LORA_SIZE,
        optional=True,
        kind="lora",
    ),
    CatalogModel(
        key="lightning-i2v",
        repo_id=_COMFY_REPACK,
        title="Lightning 4-step LoRAs, image to video (lightx2v v1, high + low noise)",
        tasks=(),
        patterns=_lightning("i2v", "v1"),
        fallback_size=2 * _LORA_SIZE,
        optional=True,
        kind="lora",
    ),
    # Tiny decoders for near-true live previews (Settings: live previews).
    CatalogModel(
        key="taew2_1",
        repo_id=_TAEHV_REPO,
        title="Tiny preview decoder for A14B (TAEHV taew2_1, Wan2.1 latent)",
        tasks=(),
        patterns=_taehv("taew2_1"),
        fallback_size=_TAEHV_SIZE,
        optional=True,
        kind="preview",
    ),
    CatalogModel(
        key="taew2_2",
        repo_id=_TAEHV_REPO,
        title="Tiny preview decoder for TI2V-5B (TAEHV taew2_2, Wan2.2 latent)",
        tasks=(),
        patterns=_taehv("taew2_2"),
        fallback_size=_TAEHV_SIZE,
        optional=True,
        kind="preview",
    ),
)


def taehv_key(task: str) -> str:
    """The TAEHV decoder for a task's latent: ``taew2_2`` for the Wan2.2 VAE (TI2V-5B),
    ``taew2_1`` for the Wan2.1 VAE (the A14B tasks)."""
    from wan22_desktop.tasks import TASKS

    spec = TASKS.get(task)
    return "taew2_2" if spec is not None and spec.vae_file == "Wan2.2_VAE.pth" else "taew2_1"


def comfyui_preview_dirs(comfyui_dir: str) -> tuple[str, ...]:
    """A ComfyUI install's ``models/vae_approx``, where its TAEHV files may already be."""
    return (str(Path(comfyui_dir).expanduser() / "models" / PREVIEW_FOLDER),) if comfyui_dir else ()


def find_taehv(key: str, *folders: Path) -> Path | None:
    """The installed file of a TAEHV decoder: ``<folder>/<key>/...`` as the downloader puts it,
    or ``<folder>/<key>.safetensors|.pth`` as ComfyUI keeps it (``models/vae_approx``);
    safetensors first."""
    for folder in folders:
        for suffix in (".safetensors", ".pth"):
            name = key + suffix
            for path in (folder / name, folder / key / name, folder / key / "safetensors" / name):
                if path.is_file():
                    return path
    return None


def get_model(name: str) -> CatalogModel:
    """Resolve a catalogue key (``ti2v-5B``) or repo id (``Wan-AI/Wan2.2-TI2V-5B``), case-insensitive."""
    wanted = name.strip().lower()
    for m in MODELS:  # keys first: several LoRA picks share one repo
        if wanted == m.key.lower():
            return m
    for m in MODELS:
        if m.kind == "model" and wanted in (m.repo_id.lower(), m.repo_id.split("/")[-1].lower()):
            return m
    raise UserInputError(
        f"unknown model {name!r}",
        hint="choose one of: " + ", ".join(m.key for m in MODELS),
    )


def model_for_repo(repo_id: str) -> CatalogModel | None:
    for m in MODELS:
        if m.kind == "model" and m.repo_id.lower() == repo_id.lower():
            return m
    return None


def check_source(source: str) -> str:
    if source not in SOURCES:
        raise UserInputError(f"unknown source {source!r}", hint="use hf or modelscope")
    return source
