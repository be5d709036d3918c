"""model_layout: tiny fake official folders (real safetensors and torch.save files), then damage."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.numpy import save_file

from wan22_desktop.errors import UserInputError
from wan22_desktop.model_layout import (
    check_layout,
    detect_task,
    pth_problem,
    require_layout,
    required_files,
    safetensors_problem,
)
from wan22_desktop.tasks import get_task


def _write_dit(folder: Path, model_type: str, shards: int = 2, single: bool = False) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(
        json.dumps({"_class_name": "WanModel", "model_type": model_type, "dim": 8})
    )
    tensors = {f"blocks.{i}.ffn.0.weight": np.full((4, 3), i, dtype=np.float32) for i in range(4)}
    if single:
        save_file(tensors, str(folder / "diffusion_pytorch_model.safetensors"))
        return
    names = sorted(tensors)
    weight_map = {}
    for s in range(shards):
        shard = f"diffusion_pytorch_model-{s + 1:05d}-of-{shards:05d}.safetensors"
        part = {k: tensors[k] for k in names[s::shards]}
        save_file(part, str(folder / shard), metadata={"format": "pt"})
        weight_map.update({k: shard for k in part})
    (folder / "diffusion_pytorch_model.safetensors.index.json").write_text(
        json.dumps({"metadata": {"total_size": 48 * 4}, "weight_map": weight_map})
    )


def make_checkpoint(root: Path, task: str, *, single: bool = False) -> Path:
    spec = get_task(task)
    for folder in spec.dit_folders:
        _write_dit(root / folder, spec.model_type, single=single)
    torch.save({"conv.weight": torch.randn(2, 2)}, root / spec.vae_file)
    torch.save(
        {"token_embedding.weight": torch.randn(5, 2, dtype=torch.bfloat16)}, root / spec.t5_file
    )
    tok = root / spec.tokenizer_dir
    tok.mkdir(parents=True)
    (tok / "tokenizer_config.json").write_text('{"model_max_length": 512}')
    (tok / "tokenizer.json").write_text('{"version": "1.0"}')
    (tok / "spiece.model").write_bytes(b"\x0a\x05fake")
    return root


def _truncate(path: Path, keep: int) -> None:
    with path.open("r+b") as fh:
        fh.truncate(keep)


@pytest.mark.parametrize("task", ["t2v-A14B", "i2v-A14B", "ti2v-5B"])
def test_complete_checkpoint_is_ok(tmp_path, task):
    root = make_checkpoint(tmp_path / task, task)
    assert detect_task(root) == task
    report = check_layout(root)
    assert report.ok, report.problems
    assert report.task == task and report.problems == ()
    assert set(report.files) == set(required_files(task, root))
    assert report.total_bytes > 0 and "complete" in report.summary()
    assert require_layout(root, task).ok


def test_required_files_resolves_shards(tmp_path):
    root = make_checkpoint(tmp_path / "a", "i2v-A14B")
    files = required_files("i2v-A14B", root)
    assert "high_noise_model/diffusion_pytorch_model-00002-of-00002.safetensors" in files
    assert "low_noise_model/diffusion_pytorch_model.safetensors.index.json" in files
    assert {
        "Wan2.1_VAE.pth",
        "models_t5_umt5-xxl-enc-bf16.pth",
        "google/umt5-xxl/tokenizer_config.json",
        "google/umt5-xxl/tokenizer.json",
    } <= set(files)
    # without the folder, the shard names are unknown: the index is what to fetch first
    bare = required_files("ti2v-5B", tmp_path / "nothing")
    assert bare[:2] == ["config.json", "diffusion_pytorch_model.safetensors.index.json"]
    assert "Wan2.2_VAE.pth" in bare


def test_single_unsharded_file_is_accepted(tmp_path):
    root = make_checkpoint(tmp_path / "s", "ti2v-5B", single=True)
    assert check_layout(root, "ti2v-5B").ok
    assert "diffusion_pytorch_model.safetensors" in required_files("ti2v-5B", root)


def _problems(root, task=None):
    return {p.path: p.problem for p in check_layout(root, task).problems}


def test_missing_shard(tmp_path):
    root = make_checkpoint(tmp_path / "m", "t2v-A14B")
    (root / "low_noise_model/diffusion_pytorch_model-00001-of-00002.safetensors").unlink()
    assert _problems(root) == {
        "low_noise_model/diffusion_pytorch_model-00001-of-00002.safetensors": "missing"
    }
    with pytest.raises(UserInputError) as e:
        require_layout(root, "t2v-A14B")
    assert (
        "low_noise_model/diffusion_pytorch_model-00001-of-00002.safetensors: missing"
        in e.value.message
    )
    assert (
        "wan22 models download t2v-A14B" in e.value.hint
        and "Wan-AI/Wan2.2-T2V-A14B" in e.value.hint
    )


def test_truncated_safetensors(tmp_path):
    root = make_checkpoint(tmp_path / "t", "ti2v-5B")
    shard = root / "diffusion_pytorch_model-00002-of-00002.safetensors"
    full = shard.stat().st_size
    _truncate(shard, full - 10)
    assert _problems(root) == {shard.name: f"truncated: {full - 10} of {full} bytes"}
    _truncate(shard, 20)  # inside the header now
    assert _problems(root)[shard.name].startswith("truncated: 20 bytes")
    assert safetensors_problem(shard).startswith("truncated")


def test_overlong_and_garbage_safetensors(tmp_path):
    root = make_checkpoint(tmp_path / "g", "ti2v-5B")
    shard = root / "diffusion_pytorch_model-00001-of-00002.safetensors"
    with shard.open("ab") as fh:
        fh.write(b"\0" * 7)
    assert "7 bytes longer" in _problems(root)[shard.name]
    shard.write_bytes(b"<html>rate limited</html>")
    assert "not a safetensors file" in _problems(root)[shard.name]
    shard.write_bytes(b"abc")
    assert "not a safetensors file" in _problems(root)[shard.name]


def test_shard_without_the_tensors_the_index_names(tmp_path):
    root = make_checkpoint(tmp_path / "w", "ti2v-5B")
    save_file(
        {"other": np.zeros(2, np.float32)},
        str(root / "diffusion_pytorch_model-00001-of-00002.safetensors"),
    )
    assert (
        "lacks 2 tensor(s)" in _problems(root)["diffusion_pytorch_model-00001-of-00002.safetensors"]
    )


def test_bad_index(tmp_path):
    root = make_checkpoint(tmp_path / "i", "ti2v-5B")
    index = root / "diffusion_pytorch_model.safetensors.index.json"
    index.write_text("{ not json")
    assert _problems(root)[index.name].startswith("unreadable index")
    index.write_text(json.dumps({"weight_map": {"a": "../../etc/passwd"}}))
    assert "unsafe file path" in _problems(root)[index.name]
    assert not any(".." in f for f in required_files("ti2v-5B", root))
    index.unlink()
    assert _problems(root) == {index.name: "missing"}


def test_truncated_and_wrong_pth(tmp_path):
    root = make_checkpoint(tmp_path / "p", "ti2v-5B")
    vae = root / "Wan2.2_VAE.pth"
    size = vae.stat().st_size
    _truncate(vae, size - 30)
    assert "truncated" in _problems(root)["Wan2.2_VAE.pth"]
    assert "truncated" in pth_problem(vae)
    (root / "models_t5_umt5-xxl-enc-bf16.pth").write_bytes(b"")
    assert _problems(root)["models_t5_umt5-xxl-enc-bf16.pth"] == "empty"
    import zipfile

    with zipfile.ZipFile(vae, "w") as zf:
        zf.writestr("readme.txt", "hello")
    assert "no data.pkl" in pth_problem(vae)
    vae.unlink()
    assert _problems(root)["Wan2.2_VAE.pth"] == "missing"


def test_tokenizer_problems(tmp_path):
    root = make_checkpoint(tmp_path / "k", "ti2v-5B")
    tok = root / "google/umt5-xxl"
    (tok / "spiece.model").unlink()
    assert check_layout(root).ok  # tokenizer.json is what AutoTokenizer reads
    (tok / "tokenizer.json").unlink()
    (tok / "tokenizer_config.json").write_text("nope")
    problems = _problems(root)
    assert problems["google/umt5-xxl/tokenizer.json"] == "missing"
    assert problems["google/umt5-xxl/tokenizer_config.json"].startswith("invalid JSON")
    (tok / "tokenizer.json").write_bytes(b"")
    assert _problems(root)["google/umt5-xxl/tokenizer.json"] == "empty"


def test_wrong_task_folder_is_refused(tmp_path):
    root = make_checkpoint(tmp_path / "ti2v", "ti2v-5B")
    report = check_layout(root, "t2v-A14B")
    assert not report.ok and report.task == "ti2v-5B"
    assert report.problems[0].problem == "this folder holds ti2v-5B, not t2v-A14B"
    with pytest.raises(UserInputError, match="holds ti2v-5B, not t2v-A14B"):
        require_layout(root, "t2v-A14B")
    i2v = make_checkpoint(tmp_path / "i2v", "i2v-A14B")
    assert "holds i2v-A14B, not t2v-A14B" in check_layout(i2v, "t2v-A14B").problems[0].problem


def test_mismatched_expert_config(tmp_path):
    root = make_checkpoint(tmp_path / "x", "t2v-A14B")
    (root / "low_noise_model/config.json").write_text(json.dumps({"model_type": "i2v"}))
    assert "needs 't2v'" in _problems(root)["low_noise_model/config.json"]


def test_unrecognised_folders(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    report = check_layout(empty)
    assert not report.ok and report.task is None and "no Wan2.2 config.json" in report.summary()
    wan21 = tmp_path / "wan21"
    _write_dit(wan21, "t2v")
    assert detect_task(wan21) is None
    assert "Wan2.1" in check_layout(wan21).problems[0].problem
    assert check_layout(tmp_path / "absent").problems[0].problem == "not a folder"
    # with a task given, an empty folder lists what is missing
    missing = _problems(empty, "ti2v-5B")
    assert missing["config.json"] == "missing" and missing["Wan2.2_VAE.pth"] == "missing"
    with pytest.raises(UserInputError, match="unknown task"):
        check_layout(empty, "wan2.1")


@pytest.mark.skipif(os.name == "nt", reason="permission bits")
def test_unreadable_file_is_reported_not_raised(tmp_path):
    root = make_checkpoint(tmp_path / "r", "ti2v-5B")
    vae = root / "Wan2.2_VAE.pth"
    vae.chmod(0)
    try:
        if os.access(vae, os.R_OK):
            pytest.skip("running as root")
        assert _problems(root)["Wan2.2_VAE.pth"].startswith("unreadable")
    finally:
        vae.chmod(0o644)


def test_wrong_task_hint_names_the_task_the_folder_holds(tmp_path):
    from wan22_desktop.engine.wan.tiny import make_tiny_checkpoint

    root = make_tiny_checkpoint("ti2v-5B", tmp_path / "ti2v")
    with pytest.raises(UserInputError) as err:
        require_layout(root, "t2v-A14B")
    assert "holds ti2v-5B" in err.value.message
    assert err.value.hint.startswith("this folder holds ti2v-5B: choose that task")
