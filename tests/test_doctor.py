"""`wan22 doctor`: the report, in text and JSON, survives a missing torch and a broken settings file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from test_model_layout import make_checkpoint  # tests/ is on sys.path under pytest's rootdir import

from wan22_desktop.cli import main
from wan22_desktop.paths import app_paths
from wan22_desktop.settings import Settings

REPO = Path(__file__).resolve().parents[1]


def _doctor_json(capsys, *extra: str) -> dict:
    assert main(["--json", *extra, "doctor"]) == 0
    return json.loads(capsys.readouterr().out)


def test_json_report(capsys, wan22_home):
    paths = app_paths()
    make_checkpoint(paths.models / "Wan2.2-TI2V-5B", "ti2v-5B")
    broken = make_checkpoint(paths.models / "Wan-AI" / "Wan2.2-I2V-A14B", "i2v-A14B")
    (broken / "Wan2.1_VAE.pth").unlink()
    (paths.models / "notes").mkdir()  # not a checkpoint: not listed

    r = _doctor_json(capsys)
    assert r["paths"]["models"] == str(paths.models) and r["paths"]["data"].startswith(
        str(wan22_home)
    )
    assert r["python"]["version"].count(".") == 2
    import torch

    assert r["torch"]["installed"] and r["torch"]["version"] == torch.__version__
    assert len(r["gpus"]) == (torch.cuda.device_count() if torch.cuda.is_available() else 0)
    assert r["pyside6"]["importable"]
    for kernel in ("flash_attn", "flash_attn_3", "sageattention"):  # real imports, not find_spec
        assert isinstance(r[kernel]["importable"], bool)
    assert r["keyring_backend"]
    assert r["disk_free_bytes"]["models"] > 0 and r["disk_free_bytes"]["outputs"] > 0
    models = {Path(m["path"]).name: m for m in r["models"]}
    assert set(models) == {"Wan2.2-TI2V-5B", "Wan2.2-I2V-A14B"}
    assert models["Wan2.2-TI2V-5B"]["ok"] and models["Wan2.2-TI2V-5B"]["task"] == "ti2v-5B"
    assert not models["Wan2.2-I2V-A14B"]["ok"]
    assert models["Wan2.2-I2V-A14B"]["problems"] == ["Wan2.1_VAE.pth: missing"]


def test_text_report(capsys):
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    for heading in ("Paths:", "Software:", "GPUs:", "Free disk:", "Models:"):
        assert heading in out
    import torch

    if not torch.cuda.is_available():
        assert "none - CPU only" in out
    else:
        assert torch.cuda.get_device_name(0) in out
    assert "none found in" in out


def test_settings_models_dir_and_corrupt_settings(capsys, tmp_path):
    paths = app_paths()
    custom = tmp_path / "big-disk"
    make_checkpoint(custom / "Wan2.2-TI2V-5B", "ti2v-5B")
    s = Settings.load(paths)
    s.set("models_dir", str(custom))
    s.save()
    r = _doctor_json(capsys)
    assert r["paths"]["models"] == str(custom.resolve()) and r["models"][0]["ok"]

    paths.settings_file.write_text("{broken")
    r = _doctor_json(capsys)
    assert "corrupt" in r["settings_error"] and r["paths"]["models"] == str(paths.models)


def test_doctor_without_torch(tmp_path):
    code = (
        "import sys; sys.modules['torch'] = None\n"  # makes `import torch` raise ImportError
        "from wan22_desktop.cli import main\n"
        "sys.exit(main(['--json', 'doctor']))\n"
    )
    env = {**os.environ, "WAN22_HOME": str(tmp_path), "PYTHONPATH": str(REPO)}
    p = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO, timeout=120
    )
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout)
    assert r["torch"]["installed"] is False and "torch" in r["torch"]["error"]
    assert r["gpus"] == []
    p = subprocess.run(
        [sys.executable, "-c", code.replace("'--json', ", "")],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
    )
    assert (
        p.returncode == 0
        and "torch         not usable" in p.stdout
        and "none - CPU only" in p.stdout
    )


def test_text_format_of_gpus_and_cuda_build(capsys):
    """The GPU lines, from a real report with a GPU entry added (no GPU on CI)."""
    from wan22_desktop.commands.doctor import format_report, gather

    r = gather(app_paths())
    r["torch"] = {**r["torch"], "installed": True, "cuda_build": "12.8", "hip_build": None}
    r["gpus"] = [
        {
            "index": 0,
            "name": "NVIDIA H100 80GB HBM3",
            "vram_bytes": 85_520_809_984,
            "compute_capability": "9.0",
        }
    ]
    text = format_report(r)
    assert "(CUDA 12.8)" in text
    assert "[0] NVIDIA H100 80GB HBM3, 79.6 GiB, compute 9.0" in text
    assert "none - CPU only" not in text


def test_cpu_torch_with_an_nvidia_driver_prints_the_cuda_wheel_command(capsys, monkeypatch):
    from wan22_desktop.commands import doctor

    cpu_torch = {"installed": True, "version": "2.7.1+cpu", "cuda_build": None, "hip_build": None}
    monkeypatch.setattr(doctor, "probe_torch", lambda: (dict(cpu_torch), []))
    monkeypatch.setattr(doctor, "query_nvidia_smi", lambda: "NVIDIA GeForce RTX 4090, 570.133.07\n")
    want = "-m pip install torch==2.7.1+cu128 --index-url https://download.pytorch.org/whl/cu128"
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "NVIDIA driver sees: NVIDIA GeForce RTX 4090, but torch cannot use it" in out
    assert f"{sys.executable} {want}" in out or want in out
    report = _doctor_json(capsys)
    assert report["cuda_wheel_hint"].endswith(want)
    assert report["nvidia_driver"]["gpus"] == ["NVIDIA GeForce RTX 4090"]


def test_no_hint_without_nvidia_smi(capsys, monkeypatch):
    from wan22_desktop.commands import doctor

    cpu_torch = {"installed": True, "version": "2.7.1+cpu", "cuda_build": None, "hip_build": None}
    monkeypatch.setattr(doctor, "probe_torch", lambda: (dict(cpu_torch), []))
    monkeypatch.setattr(doctor, "query_nvidia_smi", lambda: None)
    report = _doctor_json(capsys)
    assert report["cuda_wheel_hint"] is None
    assert main(["doctor"]) == 0
    assert "pip install" not in capsys.readouterr().out
