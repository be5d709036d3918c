"""Models users already have, adopted in place: the same random weights written as a
diffusers-format repo are recognised, checked, and make the same video as the official layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from tests.engine.foreign_layouts import write_diffusers_layout
from tests.runtime.helpers import cpu_plan
from wan22_desktop.engine.wan.tiny import make_tiny_checkpoint
from wan22_desktop.model_layout import check_layout, detect_task, require_layout
from wan22_desktop.request import GenerationRequest
from wan22_desktop.runtime.planner import Plan

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def layouts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Path]]:
    root = tmp_path_factory.mktemp("layouts")
    out: dict[str, dict[str, Path]] = {}
    for task in ("ti2v-5B", "t2v-A14B", "i2v-A14B"):
        official = make_tiny_checkpoint(task, root / task / "official")
        out[task] = {
            "official": official,
            "diffusers": write_diffusers_layout(official, root / task / "diffusers", task),
        }
    return out


@pytest.mark.parametrize("task", ["ti2v-5B", "t2v-A14B", "i2v-A14B"])
def test_a_diffusers_folder_is_recognised_and_checked(layouts, task: str, tmp_path: Path) -> None:
    folder = layouts[task]["diffusers"]
    assert detect_task(folder) == task
    report = require_layout(folder, task)
    assert report.ok and report.kind == "diffusers" and report.total_bytes > 0
    assert "model_index.json" not in report.files and "transformer/config.json" in report.files
    other = "t2v-A14B" if task == "ti2v-5B" else "ti2v-5B"
    assert "holds " + task in str(check_layout(folder, other).problems[0])


def test_a_broken_diffusers_folder_names_the_file(layouts, tmp_path: Path) -> None:
    import shutil

    folder = tmp_path / "broken"
    shutil.copytree(layouts["t2v-A14B"]["diffusers"], folder)
    shard = next((folder / "transformer_2").glob("*-00002-of-00002.safetensors"))
    shard.write_bytes(shard.read_bytes()[:-10])
    (folder / "tokenizer" / "tokenizer.json").unlink()
    report = check_layout(folder)
    assert not report.ok and report.task == "t2v-A14B"
    problems = [str(p) for p in report.problems]
    assert any(p.startswith(f"transformer_2/{shard.name}: truncated") for p in problems)
    assert "tokenizer/tokenizer.json: missing" in problems
    shutil.rmtree(folder / "transformer_2")  # one transformer, 16 channels: Wan2.1, not 2.2
    assert detect_task(folder) is None


@pytest.mark.parametrize("task", ["ti2v-5B", "t2v-A14B"])
def test_the_diffusers_layout_makes_the_same_video(layouts, task: str, tmp_path: Path) -> None:
    from wan22_desktop.engine.wan.pipelines import run_job

    request = GenerationRequest.for_task(
        task, prompt="a tiny boat", size="64*64", frame_num=5, sample_steps=3, seed=3
    )
    plan = Plan.from_dict(cpu_plan(task))
    videos = {}
    for kind, folder in layouts[task].items():  # official, diffusers
        out = tmp_path / f"{kind}.npy"
        run_job(request, plan, folder, out)
        videos[kind] = np.load(out)
    delta = float(np.abs(videos["diffusers"] - videos["official"]).max())
    print(f"{task}: max |diffusers layout - official layout| = {delta}")
    assert np.array_equal(videos["diffusers"], videos["official"])


def test_an_fp8_plan_quantises_an_adopted_folder_in_memory(layouts) -> None:
    """FP8 on another tool's files: the same e4m3 weights as the official folder's FP8 load,
    and no cache file written beside the adopted files."""
    from wan22_desktop.engine.wan.checkpoints import load_experts

    task = "ti2v-5B"
    folder = layouts[task]["diffusers"]
    before = {p for p in folder.rglob("*")}
    [adopted] = load_experts(folder, task, fp8=True)
    [official] = load_experts(layouts[task]["official"], task, fp8=True)
    want = official.state_dict()
    assert any(v.dtype == torch.uint8 for v in want.values())
    assert all(torch.equal(v, want[k]) for k, v in adopted.state_dict().items())
    assert {p for p in folder.rglob("*")} == before


def test_models_import_adopts_a_diffusers_folder_in_place(layouts, capsys) -> None:
    from wan22_desktop.cli import main
    from wan22_desktop.db.database import open_app_database
    from wan22_desktop.db.installed import installed_checkpoints
    from wan22_desktop.paths import app_paths
    from wan22_desktop.services.models import installed_copies

    folder = layouts["ti2v-5B"]["diffusers"]
    files_before = sorted(p for p in folder.rglob("*"))
    assert main(["models", "import", str(folder)]) == 0
    assert "(ti2v-5B) in place" in capsys.readouterr().out
    with open_app_database(app_paths()) as db:
        assert installed_checkpoints(db)["ti2v-5B"].path == str(folder.resolve())
        (copy,) = installed_copies(db)
    assert copy.origin == "diffusers" and copy.path == str(folder.resolve())
    assert sorted(p for p in folder.rglob("*")) == files_before  # nothing copied or written


# ---- ComfyUI single files ----------------------------------------------------------------------

WIDE_HEADS = {"dim": 256, "num_heads": 2}  # 128-wide heads, as every released Wan2.x DiT


@pytest.fixture(scope="module")
def comfy(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from tests.engine.foreign_layouts import write_comfyui_layout

    root = tmp_path_factory.mktemp("comfy")
    official = {
        task: make_tiny_checkpoint(task, root / "official" / task, **WIDE_HEADS)
        for task in ("ti2v-5B", "t2v-A14B")
    }
    install = root / "ComfyUI"
    for task, folder in official.items():
        write_comfyui_layout(folder, install, task)
    return {"install": install, **official}


def test_comfyui_files_are_recognised_from_keys_and_shapes(comfy) -> None:
    from wan22_desktop.foreign_layout import comfy_files, comfy_model_sets

    files = {f.path.name: f for f in comfy_files(comfy["install"])}
    high = files["wan2.2_t2v_high_noise_14B_fp16.safetensors"]
    assert (high.role, high.task, high.expert, high.dim) == ("dit", "t2v-A14B", "high", 32)
    assert files["wan2.2_ti2v_5B_fp16.safetensors"].task == "ti2v-5B"
    assert files["wan_2.1_vae.safetensors"].version == "2.1"
    assert files["wan2.2_vae.safetensors"].version == "2.2"
    assert files["umt5_xxl_fp16.safetensors"].role == "t5"
    sets, notes = comfy_model_sets(list(files.values()), comfy["ti2v-5B"] / "google/umt5-xxl")
    assert sorted(s.task for s in sets) == ["t2v-A14B", "ti2v-5B"] and notes == []
    none, why = comfy_model_sets(list(files.values()), None)
    assert none == [] and any("tokenizer" in n for n in why)


def test_newer_quantisations_are_named_not_used(tmp_path: Path) -> None:
    import torch
    from safetensors.torch import save_file

    from wan22_desktop.foreign_layout import classify_comfy_file

    sd = {
        "patch_embedding.weight": torch.zeros(256, 48, 1, 2, 2),
        "head.modulation": torch.zeros(1, 2, 256),
        "text_embedding.0.weight": torch.zeros(256, 32),
        "scaled_fp8": torch.zeros(0, dtype=torch.float8_e4m3fn),
    }
    save_file(sd, str(tmp_path / "scaled.safetensors"))
    found = classify_comfy_file(tmp_path / "scaled.safetensors")
    assert found is not None and found.role == "dit" and found.problem is None  # read, dequantised
    sd["blocks.0.self_attn.q.comfy_quant"] = torch.zeros(4, dtype=torch.uint8)
    save_file(sd, str(tmp_path / "quant.safetensors"))
    found = classify_comfy_file(tmp_path / "quant.safetensors")
    assert found is not None and "comfy_quant" in (found.problem or "")


@pytest.mark.parametrize("task", ["ti2v-5B", "t2v-A14B"])
def test_comfyui_files_make_the_same_video(comfy, task: str, tmp_path: Path, capsys) -> None:
    """``wan22 models import --comfyui`` pairs the files in place; a job on the adopted set gives
    the video of the official layout (same weights)."""
    import json

    from wan22_desktop.cli import main
    from wan22_desktop.db.database import open_app_database
    from wan22_desktop.db.installed import installed_checkpoints
    from wan22_desktop.engine.wan.pipelines import run_job
    from wan22_desktop.paths import app_paths
    from wan22_desktop.settings import Settings

    tokenizer = comfy[task] / "google/umt5-xxl"
    argv = ["--json", "models", "import", "--comfyui", str(comfy["install"])]
    assert main([*argv, "--tokenizer", str(tokenizer)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert sorted(r["task"] for r in out["registered"]) == ["t2v-A14B", "ti2v-5B"]
    assert Settings.load(app_paths()).get("comfyui_dir") == str(comfy["install"].resolve())
    with open_app_database(app_paths()) as db:
        adopted = Path(installed_checkpoints(db)[task].path)
    assert [p.name for p in adopted.iterdir()] == ["wan22-model-set.json"]  # nothing copied
    assert check_layout(adopted, task).kind == "comfyui"

    request = GenerationRequest.for_task(
        task, prompt="a tiny boat", size="64*64", frame_num=5, sample_steps=3, seed=3
    )
    plan = Plan.from_dict(cpu_plan(task))
    videos = {}
    for kind, folder in (("official", comfy[task]), ("comfyui", adopted)):
        run_job(request, plan, folder, tmp_path / f"{kind}.npy")
        videos[kind] = np.load(tmp_path / f"{kind}.npy")
    delta = float(np.abs(videos["comfyui"] - videos["official"]).max())
    print(f"{task}: max |ComfyUI files - official layout| = {delta}")
    assert np.array_equal(videos["comfyui"], videos["official"])

    weights = sorted(p.name for p in (comfy["install"] / "models").rglob("*.safetensors"))
    assert main(["models", "rm", task]) == 0
    assert not adopted.exists()  # our list of the files is gone, ComfyUI's files are not
    assert sorted(p.name for p in (comfy["install"] / "models").rglob("*.safetensors")) == weights


def test_models_scan_pairs_the_remembered_comfyui_folder_again(comfy, capsys) -> None:
    import json

    from wan22_desktop.cli import main
    from wan22_desktop.paths import app_paths
    from wan22_desktop.settings import Settings

    settings = Settings.load(app_paths())
    settings.set("comfyui_dir", str(comfy["install"]))
    settings.save()
    assert main(["--json", "models", "scan", "--register"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["found"]  # no tokenizer yet: said why
    assert row["origin"] == "comfyui" and "tokenizer" in row["problem"] and not row["registered"]
    assert (
        main(["models", "import", str(comfy["ti2v-5B"])]) == 0
    )  # an official model: its tokenizer
    capsys.readouterr()
    assert main(["--json", "models", "scan", "--register"]) == 0
    rows = json.loads(capsys.readouterr().out)["found"]
    assert sorted(r["model"] for r in rows if r["origin"] == "comfyui") == ["t2v-A14B", "ti2v-5B"]


def test_fp8_scaled_comfyui_files_are_dequantised_while_read(comfy, tmp_path: Path) -> None:
    """An fp8_scaled DiT gives the video of its dequantised weights (bit-identical), and close
    to the original's."""
    import shutil

    from safetensors.torch import save_file

    from tests.engine.foreign_layouts import fp8_scaled, official_dit
    from wan22_desktop.engine.wan.pipelines import run_job
    from wan22_desktop.foreign_layout import comfy_files, comfy_model_sets, write_model_set

    task, official = "ti2v-5B", comfy["ti2v-5B"]
    fp8, plain = fp8_scaled(official_dit(official))
    dequantised = tmp_path / "dequantised"  # the official layout with the dequantised weights
    shutil.copytree(official, dequantised)
    for f in dequantised.glob("diffusion_pytorch_model*"):
        f.unlink()
    save_file(plain, str(dequantised / "diffusion_pytorch_model.safetensors"))
    install = tmp_path / "ComfyUI" / "models"
    shutil.copytree(comfy["install"] / "models", install)
    dit = install / "diffusion_models" / "wan2.2_ti2v_5B_fp16.safetensors"
    dit.unlink()
    save_file(fp8, str(install / "diffusion_models" / "wan2.2_ti2v_5B_fp8_scaled.safetensors"))
    files = comfy_files(install.parent)
    (ms,) = [m for m in comfy_model_sets(files, official / "google/umt5-xxl")[0] if m.task == task]
    adopted = write_model_set(ms, tmp_path / "set")

    request = GenerationRequest.for_task(
        task, prompt="a tiny boat", size="64*64", frame_num=5, sample_steps=3, seed=3
    )
    plan = Plan.from_dict(cpu_plan(task))
    videos = {}
    for kind, folder in (("fp8", adopted), ("dequantised", dequantised), ("original", official)):
        run_job(request, plan, folder, tmp_path / f"{kind}.npy")
        videos[kind] = np.load(tmp_path / f"{kind}.npy")
    assert np.array_equal(videos["fp8"], videos["dequantised"])
    drift = float(np.abs(videos["fp8"] - videos["original"]).max())
    print(f"fp8_scaled vs original weights: max |d| = {drift:.4f} (video in [-1, 1])")
    assert drift < 0.5
