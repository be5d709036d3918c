"""Models users already have, adopted in place: the same random weights written as a
diffusers-format repo are recognised, checked, and make the same video as the official layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

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
    for task in ("ti2v-5B", "t2v-A14B"):
        official = make_tiny_checkpoint(task, root / task / "official")
        out[task] = {
            "official": official,
            "diffusers": write_diffusers_layout(official, root / task / "diffusers", task),
        }
    return out


@pytest.mark.parametrize("task", ["ti2v-5B", "t2v-A14B"])
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
    for kind, folder in layouts[task].items():
        out = tmp_path / f"{kind}.npy"
        run_job(request, plan, folder, out)
        videos[kind] = np.load(out)
    delta = float(np.abs(videos["diffusers"] - videos["official"]).max())
    print(f"{task}: max |diffusers layout - official layout| = {delta}")
    assert np.array_equal(videos["diffusers"], videos["official"])


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
