"""Load a whole official Wan2.2 checkpoint folder: layout check first, then each network.

Every dimension comes from the files (DiT from ``config.json``, VAE and T5 from tensor shapes),
so a tiny checkpoint written by ``tiny.make_tiny_checkpoint`` runs through this exact code.
Each network is built on ``meta`` and assigned mmapped tensors (safetensors, or
``torch.load(mmap=True, weights_only=True)``), so host RAM peaks near one copy of the weights.

Pipelines may call the per-component loaders on their own (e.g. to load the T5, encode, free it,
then load the experts); ``load_checkpoint`` is all of them in order.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import torch

from wan22_desktop.errors import UserInputError, Wan22Error
from wan22_desktop.model_layout import LayoutReport, require_layout
from wan22_desktop.tasks import TaskSpec, get_task

from . import foreign_io
from .dit import WanDiT
from .dit_config import DiTConfig
from .dit_io import load_dit, read_dit_config
from .fp8 import quantize_dit
from .fp8_io import load_dit_fp8
from .t5_io import read_t5_state_dict, t5_encoder_from_state_dict
from .text_encoder import T5TextEncoder, load_tokenizer, resolve_t5_device, t5_compute_dtype
from .vae_io import VideoVAE, load_vae

__all__ = [
    "LoadedCheckpoint",
    "load_checkpoint",
    "load_experts",
    "load_text_encoder_for_task",
    "load_vae_for_task",
    "read_task_dit_config",
    "require_device",
]

T = TypeVar("T")


@dataclass
class LoadedCheckpoint:
    """The networks of one task, ready for a pipeline. ``dits`` follow ``spec.dit_folders``:
    (high-noise expert, low-noise expert) for A14B, (the one model,) for TI2V-5B."""

    task: str
    root: Path
    dit_config: DiTConfig
    dits: tuple[WanDiT, ...]
    vae: VideoVAE
    text_encoder: T5TextEncoder | None
    layout: LayoutReport | None = field(default=None, repr=False)

    @property
    def spec(self) -> TaskSpec:
        return get_task(self.task)

    @property
    def is_moe(self) -> bool:
        return len(self.dits) == 2

    @property
    def dit(self) -> WanDiT:
        """The single DiT of TI2V-5B; A14B has two experts (``dit_high`` / ``dit_low``)."""
        if self.is_moe:
            raise AttributeError(f"{self.task} has two experts: use dit_high / dit_low")
        return self.dits[0]

    @property
    def dit_high(self) -> WanDiT:
        """The expert for t >= boundary (``high_noise_model/``)."""
        self._need_moe()
        return self.dits[0]

    @property
    def dit_low(self) -> WanDiT:
        """The expert for t < boundary (``low_noise_model/``)."""
        self._need_moe()
        return self.dits[1]

    def _need_moe(self) -> None:
        if not self.is_moe:
            raise AttributeError(f"{self.task} has one DiT: use dit")


# ---------------------------------------------------------------------------- errors


def _download_hint(spec: TaskSpec) -> str:
    return (
        f"download it again with `wan22 models download {spec.name}` ({spec.repo_id} on "
        "Hugging Face or ModelScope), or point to a complete folder"
    )


def _as_checkpoint_error(spec: TaskSpec, rel: str, load: Callable[[], T]) -> T:
    """Run a component loader; its one-line error is re-issued naming the checkpoint file and the
    task's repo, since the component loaders know nothing of tasks or hubs."""
    try:
        return load()
    except Wan22Error as exc:
        raise UserInputError(
            f"{spec.name} checkpoint file {rel} is not usable: {exc.message}", _download_hint(spec)
        ) from exc


def _mismatch(spec: TaskSpec, rel: str, problem: str) -> UserInputError:
    return UserInputError(
        f"{spec.name} checkpoint file {rel} does not fit the rest of the folder: {problem}",
        _download_hint(spec),
    )


def require_device(device: torch.device | str) -> torch.device:
    """The device, or a clear error when it is a GPU this machine does not have (rather than a
    torch error minutes into loading). The planner picks the CPU when there is no GPU."""
    dev = torch.device(device)
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise UserInputError(
                "CUDA was asked for but no CUDA GPU is available",
                "check the GPU and its driver with `wan22 doctor`, or run on the CPU",
            )
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise UserInputError(
                f"GPU {dev.index} does not exist ({torch.cuda.device_count()} found)",
                "choose another GPU index",
            )
    return dev


def _rel(folder: str, name: str) -> str:
    return f"{folder}/{name}" if folder else name


# ---------------------------------------------------------------------------- components


def read_task_dit_config(root: Path, task: str) -> DiTConfig:
    """The DiT config of a task's folder; both A14B experts must agree (upstream ships them
    byte-identical, and the pipeline swaps one for the other on the same latents)."""
    spec = get_task(task)
    root = Path(root)
    adopted = foreign_io.model_set_for(root, spec.name)
    if adopted is not None:  # a diffusers-format folder: its transformer config(s)
        configs = _as_checkpoint_error(
            spec, "transformer/config.json", lambda: foreign_io.dit_configs(adopted)
        )
        if any(c != configs[0] for c in configs[1:]):
            raise _mismatch(spec, "transformer_2/config.json", "its DiT differs from transformer/")
        return configs[0]
    configs = [
        _as_checkpoint_error(
            spec, _rel(f, "config.json"), functools.partial(read_dit_config, root / f)
        )
        for f in spec.dit_folders
    ]
    for folder, cfg in zip(spec.dit_folders[1:], configs[1:]):
        if cfg != configs[0]:
            raise _mismatch(
                spec,
                _rel(folder, "config.json"),
                f"its DiT differs from {_rel(spec.dit_folders[0], 'config.json')}",
            )
    if configs[0].model_type != spec.model_type:
        raise _mismatch(
            spec,
            _rel(spec.dit_folders[0], "config.json"),
            f"model_type is {configs[0].model_type!r}, {spec.name} needs {spec.model_type!r}",
        )
    return configs[0]


def load_experts(
    root: Path,
    task: str,
    *,
    device: torch.device | str = "cpu",
    dtype: torch.dtype | None = None,
    fp8: bool = False,
    fp8_cache_dir: Path | None = None,
) -> tuple[WanDiT, ...]:
    """The task's DiT(s) in ``spec.dit_folders`` order; dtype None keeps the stored fp32.

    ``fp8``: block Linears stored in e4m3 (``fp8_io.load_dit_fp8``: quantised once, then read
    from a verified cache next to the model or, if that folder is read-only, in
    ``fp8_cache_dir``)."""
    spec = get_task(task)
    root = Path(root)
    device = require_device(device)
    cfg = read_task_dit_config(root, task)
    adopted = foreign_io.model_set_for(root, spec.name)
    if adopted is not None:
        if not fp8:
            return tuple(
                foreign_io.load_dit(adopted, k, cfg, device=device, dtype=dtype)
                for k in range(len(spec.dit_folders))
            )
        # Another tool's files: quantised in memory on the host, no cache written beside them.
        return tuple(
            _quantized(foreign_io.load_dit(adopted, k, cfg, device="cpu", dtype=dtype), device)
            for k in range(len(spec.dit_folders))
        )
    load: Callable[..., WanDiT] = load_dit
    if fp8:
        load = functools.partial(load_dit_fp8, fallback_dir=fp8_cache_dir)
    return tuple(
        _as_checkpoint_error(
            spec,
            _rel(folder, "diffusion_pytorch_model*.safetensors"),
            functools.partial(load, root / folder, device=device, dtype=dtype),
        )
        for folder in spec.dit_folders
    )


def _quantized(dit: WanDiT, device: torch.device) -> WanDiT:
    quantize_dit(dit)
    return dit.to(device)


def load_vae_for_task(
    root: Path,
    task: str,
    *,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
    dit_config: DiTConfig | None = None,
) -> VideoVAE:
    """The task's VAE (fp32 like upstream). With ``dit_config``, its latent width must be the DiT's."""
    spec = get_task(task)
    device = require_device(device)
    version = "2.2" if spec.vae_file.startswith("Wan2.2") else "2.1"
    adopted = foreign_io.model_set_for(Path(root), spec.name)
    if adopted is not None:
        vae = foreign_io.load_vae(adopted, version, device=device, dtype=dtype)
    else:
        vae = _as_checkpoint_error(
            spec,
            spec.vae_file,
            lambda: load_vae(Path(root) / spec.vae_file, version, device=device, dtype=dtype),
        )
    if dit_config is not None and vae.z_dim != dit_config.out_dim:
        raise _mismatch(
            spec,
            spec.vae_file,
            f"its latents have {vae.z_dim} channels, the DiT writes {dit_config.out_dim}",
        )
    return vae


def load_text_encoder_for_task(
    root: Path,
    task: str,
    *,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.bfloat16,
    t5_cpu: bool = False,
    dit_config: DiTConfig | None = None,
) -> T5TextEncoder:
    """umT5 + tokenizer of the folder. The encoder's width must be the DiT's ``text_dim`` (4096
    for the real files); that is checked on the mmapped CPU tensors, before any copy to a GPU."""
    spec = get_task(task)
    root = Path(root)
    device = require_device(device)
    cfg = dit_config or read_task_dit_config(root, task)
    adopted = foreign_io.model_set_for(root, spec.name)
    if adopted is not None:
        model = foreign_io.t5_encoder(adopted)
    else:
        model = _as_checkpoint_error(
            spec,
            spec.t5_file,
            lambda: t5_encoder_from_state_dict(
                read_t5_state_dict(root / spec.t5_file), source="the file"
            ),
        )
    if model.config.dim != cfg.text_dim:
        raise _mismatch(
            spec,
            spec.t5_file,
            f"the text encoder is {model.config.dim} wide, the DiT reads {cfg.text_dim}",
        )
    tokenizer_dir = root / spec.tokenizer_dir if adopted is None else adopted.tokenizer
    tokenizer = _as_checkpoint_error(
        spec, spec.tokenizer_dir, lambda: load_tokenizer(tokenizer_dir)
    )
    if len(tokenizer) > model.config.vocab_size:
        raise _mismatch(
            spec,
            spec.tokenizer_dir,
            f"the tokenizer has {len(tokenizer)} tokens, the text encoder "
            f"{model.config.vocab_size} embeddings",
        )
    cuda = torch.cuda.is_available()
    run_on = resolve_t5_device(device, t5_cpu, cuda)
    if any(p.dtype != dtype for p in model.parameters()):
        model = model.to(dtype)  # the one deliberate cast (the official file is bf16 already)
    model = model.to(run_on)
    return T5TextEncoder(
        model,
        tokenizer,
        text_len=cfg.text_len,
        output_device=resolve_t5_device(device, False, cuda),
        compute_dtype=t5_compute_dtype(run_on, dtype),
    )


# ---------------------------------------------------------------------------- whole folder


def load_checkpoint(
    root: Path,
    task: str,
    *,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.bfloat16,
    convert_model_dtype: bool = False,
    t5_cpu: bool = False,
    load_t5: bool = True,
    vae_dtype: torch.dtype = torch.float32,
) -> LoadedCheckpoint:
    """Check the folder's layout (nothing heavy is read before), then load every network.

    ``dtype`` is the official ``param_dtype``: the T5 runs in it, and with ``convert_model_dtype``
    (the official ``--convert_model_dtype``) the DiT weights are cast to it while they are read;
    otherwise the DiT keeps the stored fp32 and runs under autocast. The VAE stays fp32.
    """
    spec = get_task(task)
    root = Path(root)
    device = require_device(device)
    layout = require_layout(root, task)
    cfg = read_task_dit_config(root, task)
    text_encoder = (
        load_text_encoder_for_task(
            root, task, device=device, dtype=dtype, t5_cpu=t5_cpu, dit_config=cfg
        )
        if load_t5
        else None
    )
    vae = load_vae_for_task(root, task, device=device, dtype=vae_dtype, dit_config=cfg)
    dits = load_experts(root, task, device=device, dtype=dtype if convert_model_dtype else None)
    return LoadedCheckpoint(
        task=spec.name,
        root=root,
        dit_config=cfg,
        dits=dits,
        vae=vae,
        text_encoder=text_encoder,
        layout=layout,
    )
