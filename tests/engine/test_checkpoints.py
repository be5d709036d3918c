"""Whole-folder loading: tiny official-layout checkpoints of every task load and run, and every
broken folder gives a one-line error naming the file, the problem and where to get it."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from wan22_desktop.engine.wan import checkpoints
from wan22_desktop.engine.wan.checkpoints import (
    load_checkpoint,
    load_experts,
    load_text_encoder_for_task,
    load_vae_for_task,
    read_task_dit_config,
)
from wan22_desktop.engine.wan.t5_io import save_t5_encoder, tiny_t5, tiny_tokenizer_vocab
from wan22_desktop.engine.wan.tiny import make_tiny_checkpoint
from wan22_desktop.errors import UserInputError
from wan22_desktop.model_layout import read_safetensors_header
from wan22_desktop.tasks import TASKS


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("tiny")
    return {task: make_tiny_checkpoint(task, base / task, seed=1) for task in TASKS}


def _copy(tiny: dict[str, Path], task: str, tmp_path: Path) -> Path:
    return Path(shutil.copytree(tiny[task], tmp_path / task))


def _file_state(folder: Path) -> dict[str, torch.Tensor]:
    state: dict[str, torch.Tensor] = {}
    for shard in folder.glob("diffusion_pytorch_model-*.safetensors"):
        state.update(load_file(str(shard)))
    return state


@pytest.mark.parametrize("task", list(TASKS))
def test_tiny_checkpoint_loads_and_runs(tiny, task):
    spec = TASKS[task]
    ck = load_checkpoint(tiny[task], task, dtype=torch.float32)
    assert ck.task == task and ck.layout is not None and ck.layout.ok
    assert len(ck.dits) == len(spec.dit_folders) and ck.is_moe == spec.is_moe
    # Every DiT holds exactly the tensors of its own folder, in the stored fp32.
    for folder, dit in zip(spec.dit_folders, ck.dits):
        stored = _file_state(tiny[task] / folder)
        loaded = dit.state_dict()
        assert loaded.keys() == stored.keys()
        assert all(torch.equal(loaded[k], stored[k]) for k in stored)
        assert not dit.training and not any(p.requires_grad for p in dit.parameters())
    if spec.is_moe:
        assert ck.dit_high is ck.dits[0] and ck.dit_low is ck.dits[1]
        assert not torch.equal(ck.dit_high.head.head.weight, ck.dit_low.head.head.weight)
        with pytest.raises(AttributeError):
            ck.dit  # noqa: B018
    else:
        assert ck.dit is ck.dits[0]
        with pytest.raises(AttributeError):
            ck.dit_high  # noqa: B018

    # The whole path runs: prompt -> T5 -> DiT -> VAE decode, with the sizes read from the files.
    cfg = ck.dit_config
    assert ck.vae.z_dim == cfg.out_dim and ck.text_encoder is not None
    assert ck.text_encoder.dtype == torch.float32 and ck.text_encoder.text_len == cfg.text_len
    context = ck.text_encoder.encode(["a cat on the beach"])
    assert context[0].shape[1] == cfg.text_dim
    latent = torch.randn(cfg.out_dim, 2, 4, 4, generator=torch.Generator().manual_seed(0))
    y = [torch.randn(cfg.in_dim - cfg.out_dim, 2, 4, 4)] if cfg.in_dim != cfg.out_dim else None
    out = ck.dits[-1]([latent], torch.tensor([500]), context, seq_len=8, y=y)[0]
    assert out.shape == latent.shape and torch.isfinite(out).all()
    video = ck.vae.decode([out])[0]
    s_t, s_h, s_w = ck.vae.stride
    assert video.shape == (3, 1 + s_t, 4 * s_h, 4 * s_w)
    assert torch.isfinite(video).all()


def test_dtypes_follow_the_official_flags(tiny):
    root = tiny["t2v-A14B"]
    as_shipped = load_checkpoint(root, "t2v-A14B", load_t5=False)
    assert as_shipped.text_encoder is None
    assert {p.dtype for d in as_shipped.dits for p in d.parameters()} == {torch.float32}
    assert as_shipped.vae.dtype == torch.float32

    converted = load_checkpoint(root, "t2v-A14B", convert_model_dtype=True)  # dtype bf16 by default
    assert {p.dtype for d in converted.dits for p in d.parameters()} == {torch.bfloat16}
    assert converted.vae.dtype == torch.float32  # the VAE stays fp32, as upstream
    assert converted.text_encoder is not None and converted.text_encoder.dtype == torch.bfloat16
    for a, b in zip(as_shipped.dits[0].parameters(), converted.dits[0].parameters()):
        assert torch.equal(a.to(torch.bfloat16), b)


def test_components_load_separately(tiny):
    root = tiny["i2v-A14B"]
    cfg = read_task_dit_config(root, "i2v-A14B")
    assert (cfg.model_type, cfg.in_dim, cfg.out_dim) == ("i2v", 36, 16)
    high, low = load_experts(root, "i2v-A14B")
    assert high.config == low.config == cfg
    assert load_vae_for_task(root, "i2v-A14B", dit_config=cfg).z_dim == 16
    enc = load_text_encoder_for_task(root, "i2v-A14B", t5_cpu=True, dtype=torch.float32)
    assert enc.device == torch.device("cpu") and enc.model.config.dim == cfg.text_dim


def test_dit_weights_are_assigned_not_copied(tiny):
    """assign=True from mmapped safetensors: each parameter is a view of its shard's mapping, at
    the offset the header gives (a copy would sit at an unrelated address)."""
    root = tiny["ti2v-5B"]
    dit = load_checkpoint(root, "ti2v-5B", load_t5=False).dit
    index = json.loads((root / "diffusion_pytorch_model.safetensors.index.json").read_text())
    params = dict(dit.named_parameters())
    bases: dict[str, set[int]] = {}
    for shard in set(index["weight_map"].values()):
        header = read_safetensors_header(root / shard)
        bases[shard] = {
            params[k].data_ptr() - header[k]["data_offsets"][0]
            for k in index["weight_map"]
            if index["weight_map"][k] == shard
        }
    assert all(len(b) == 1 for b in bases.values()), bases


def test_layout_is_checked_before_anything_heavy(tiny, tmp_path, monkeypatch):
    root = _copy(tiny, "ti2v-5B", tmp_path)
    (root / "diffusion_pytorch_model-00002-of-00003.safetensors").unlink()

    def heavy(*args, **kwargs):
        raise AssertionError("a network was loaded before the layout check")

    for name in ("load_dit", "load_vae", "read_t5_state_dict", "load_tokenizer"):
        monkeypatch.setattr(checkpoints, name, heavy)
    with pytest.raises(UserInputError, match="00002-of-00003.safetensors: missing"):
        load_checkpoint(root, "ti2v-5B")


def test_cuda_without_a_gpu_is_a_clear_error(tiny, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    for load in (
        lambda: load_checkpoint(tiny["ti2v-5B"], "ti2v-5B", device="cuda"),
        lambda: load_experts(tiny["ti2v-5B"], "ti2v-5B", device="cuda:0"),
        lambda: load_vae_for_task(tiny["ti2v-5B"], "ti2v-5B", device="cuda"),
        lambda: load_text_encoder_for_task(tiny["ti2v-5B"], "ti2v-5B", device="cuda", t5_cpu=True),
    ):
        with pytest.raises(UserInputError, match="no CUDA GPU is available") as info:
            load()
        assert "wan22 doctor" in info.value.hint


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_loads_onto_the_gpu(tiny):
    ck = load_checkpoint(
        tiny["t2v-A14B"], "t2v-A14B", device="cuda", convert_model_dtype=True, t5_cpu=True
    )
    assert {p.device.type for d in ck.dits for p in d.parameters()} == {"cuda"}
    assert {p.dtype for d in ck.dits for p in d.parameters()} == {torch.bfloat16}
    assert ck.vae.device.type == "cuda" and ck.text_encoder is not None
    assert ck.text_encoder.device.type == "cpu"
    assert ck.text_encoder.encode(["a cat"])[0].device.type == "cuda"


def _truncate(path: Path, keep: int) -> None:
    with path.open("r+b") as fh:
        fh.truncate(keep)


def _missing_shard(root: Path) -> None:
    (root / "low_noise_model/diffusion_pytorch_model-00002-of-00003.safetensors").unlink()


def _truncated_shard(root: Path) -> None:
    path = root / "high_noise_model/diffusion_pytorch_model-00001-of-00003.safetensors"
    _truncate(path, path.stat().st_size - 100)


def _truncated_vae(root: Path) -> None:
    _truncate(root / "Wan2.1_VAE.pth", (root / "Wan2.1_VAE.pth").stat().st_size // 2)


def _truncated_t5(root: Path) -> None:
    path = root / "models_t5_umt5-xxl-enc-bf16.pth"
    _truncate(path, path.stat().st_size - 10)


def _t5_in_vae_place(root: Path) -> None:
    shutil.copy(root / "models_t5_umt5-xxl-enc-bf16.pth", root / "Wan2.1_VAE.pth")


def _vae_in_t5_place(root: Path) -> None:
    shutil.copy(root / "Wan2.1_VAE.pth", root / "models_t5_umt5-xxl-enc-bf16.pth")


def _wan22_vae_in_wan21_place(root: Path) -> None:
    shutil.copy(root.parent / "ti2v-src" / "Wan2.2_VAE.pth", root / "Wan2.1_VAE.pth")


def _narrow_t5(root: Path) -> None:
    save_t5_encoder(
        tiny_t5(vocab_size=len(tiny_tokenizer_vocab()), dim=16),
        root / "models_t5_umt5-xxl-enc-bf16.pth",
    )


def _experts_disagree(root: Path) -> None:
    path = root / "low_noise_model/config.json"
    config = json.loads(path.read_text())
    config["num_layers"] = 3
    path.write_text(json.dumps(config))


def _configs_do_not_fit_the_weights(root: Path) -> None:
    for expert in ("high_noise_model", "low_noise_model"):
        path = root / expert / "config.json"
        path.write_text(json.dumps({**json.loads(path.read_text()), "num_layers": 1}))


def _missing_tokenizer(root: Path) -> None:
    os.remove(root / "google/umt5-xxl/tokenizer.json")


BROKEN = [
    # (how to break a t2v-A14B folder, the file named, what is said about it)
    (
        _missing_shard,
        "low_noise_model/diffusion_pytorch_model-00002-of-00003.safetensors",
        "missing",
    ),
    (
        _truncated_shard,
        "high_noise_model/diffusion_pytorch_model-00001-of-00003.safetensors",
        "truncated",
    ),
    (_truncated_vae, "Wan2.1_VAE.pth", "truncated"),
    (_truncated_t5, "models_t5_umt5-xxl-enc-bf16.pth", "truncated"),
    (_missing_tokenizer, "google/umt5-xxl/tokenizer.json", "missing"),
    (_t5_in_vae_place, "Wan2.1_VAE.pth", "is not a Wan2.1 VAE"),
    (_vae_in_t5_place, "models_t5_umt5-xxl-enc-bf16.pth", "not a umT5 encoder"),
    (_wan22_vae_in_wan21_place, "Wan2.1_VAE.pth", "is not a Wan2.1 VAE"),
    (_narrow_t5, "models_t5_umt5-xxl-enc-bf16.pth", "16 wide, the DiT reads 32"),
    (_experts_disagree, "low_noise_model/config.json", "differs from high_noise_model/config.json"),
    (
        _configs_do_not_fit_the_weights,
        "high_noise_model/diffusion_pytorch_model*.safetensors",
        "do not fit its config.json: unexpected",
    ),
]


@pytest.mark.parametrize(
    "breaker,file,problem", BROKEN, ids=[b[0].__name__.strip("_") for b in BROKEN]
)
def test_broken_folder_names_file_problem_and_source(tiny, tmp_path, breaker, file, problem):
    shutil.copytree(tiny["ti2v-5B"], tmp_path / "ti2v-src")
    root = _copy(tiny, "t2v-A14B", tmp_path)
    breaker(root)
    with pytest.raises(UserInputError) as info:
        load_checkpoint(root, "t2v-A14B", dtype=torch.float32)
    err = info.value
    assert file in err.message and problem in err.message, err.message
    assert "\n" not in err.message and "\n" not in err.hint
    assert "wan22 models download t2v-A14B" in err.hint and "Wan-AI/Wan2.2-T2V-A14B" in err.hint
    assert err.exit_code == 2


@pytest.mark.parametrize(
    "folder_task,asked",
    [("t2v-A14B", "i2v-A14B"), ("t2v-A14B", "ti2v-5B"), ("ti2v-5B", "t2v-A14B")],
)
def test_folder_of_another_task_is_refused(tiny, folder_task, asked):
    with pytest.raises(UserInputError) as info:
        load_checkpoint(tiny[folder_task], asked)
    assert f"holds {folder_task}, not {asked}" in info.value.message
    assert f"wan22 models download {asked}" in info.value.hint
