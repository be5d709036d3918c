"""Pure parts: catalogue, remote-name safety, speed/ETA arithmetic."""

from __future__ import annotations

import hashlib

import pytest

from wan22_desktop.downloader.catalog import MODELS, get_model
from wan22_desktop.downloader.progress import RateMeter, eta, human_bytes, human_eta
from wan22_desktop.downloader.remote import git_blob_sha1, safe_relpath, target_path
from wan22_desktop.errors import OperationError, UserInputError
from wan22_desktop.tasks import get_task


def test_catalogue_matches_the_task_catalogue():
    wan = [m for m in MODELS if not m.optional]
    assert sorted(m.repo_id for m in wan) == [
        "Wan-AI/Wan2.2-I2V-A14B",
        "Wan-AI/Wan2.2-T2V-A14B",
        "Wan-AI/Wan2.2-TI2V-5B",
    ]
    for m in wan:
        assert get_task(m.tasks[0]).repo_id == m.repo_id
    assert {m.key for m in MODELS if m.optional} == {
        "qwen-text-small",
        "qwen-text-large",
        "qwen-vl-small",
        "qwen-vl-large",
        "lightning-t2v",  # LoRA picks for the Fast presets (test_lora_catalog.py)
        "lightning-i2v",
        "taew2_1",  # TAEHV preview decoders (test_taehv_catalog.py)
        "taew2_2",
    }


@pytest.mark.parametrize(
    "name,key",
    [
        ("ti2v-5B", "ti2v-5B"),
        ("Wan-AI/Wan2.2-T2V-A14B", "t2v-A14B"),
        ("wan2.2-i2v-a14b", "i2v-A14B"),
    ],
)
def test_get_model(name, key):
    assert get_model(name).key == key


def test_unknown_model_lists_choices():
    with pytest.raises(UserInputError) as exc:
        get_model("wan3")
    assert "ti2v-5B" in exc.value.hint


@pytest.mark.parametrize(
    "path,wanted",
    [
        ("high_noise_model/diffusion_pytorch_model-00001-of-00006.safetensors", True),
        ("low_noise_model/config.json", True),
        ("Wan2.1_VAE.pth", True),
        ("google/umt5-xxl/spiece.model", True),
        ("models_t5_umt5-xxl-enc-bf16.pth", True),
        ("assets/moe_arch.png", False),
        ("README.md", False),
        ("examples/i2v_input.JPG", False),
        ("Wan2.2_VAE.pth", False),
    ],
)
def test_a14b_wants_only_what_it_runs_with(path, wanted):
    assert get_model("t2v-A14B").wants(path) is wanted


@pytest.mark.parametrize(
    "bad", ["../x", "/abs/x", "a/../../x", "C:/win/x", "..\\x", "", "a\x00b", "./"]
)
def test_unsafe_names_are_refused(bad):
    with pytest.raises(OperationError):
        safe_relpath(bad)


def test_safe_names_are_normalised(tmp_path):
    assert safe_relpath("./google//umt5-xxl/tokenizer.json") == "google/umt5-xxl/tokenizer.json"
    assert target_path(tmp_path, "a/b.bin") == (tmp_path / "a" / "b.bin").resolve()


def test_symlink_escape_is_refused(tmp_path):
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "link").symlink_to(tmp_path)
    with pytest.raises(OperationError, match="resolves outside"):
        target_path(tmp_path / "root", "link/evil.bin")


def test_git_blob_id_matches_git():
    h = git_blob_sha1(6)
    h.update(b"hello\n")
    assert (
        h.hexdigest() == "ce013625030ba8dba906f756967f9e9ca394464a"
    )  # `git hash-object` of "hello\n"
    assert hashlib.sha1(b"blob 6\0hello\n").hexdigest() == h.hexdigest()


def test_rate_meter_uses_a_sliding_window():
    now = [0.0]
    m = RateMeter(window=5.0, clock=lambda: now[0])
    for _ in range(10):
        now[0] += 1.0
        m.add(1000)
    assert m.speed() == pytest.approx(1000)
    for _ in range(10):  # stall-free but faster: the old rate leaves the window
        now[0] += 1.0
        m.add(3000)
    assert m.speed() == pytest.approx(3000)
    assert eta(6000, m.speed()) == pytest.approx(2.0) and eta(10, 0.0) is None


def test_human_formats():
    assert human_bytes(999) == "999 B" and human_bytes(34_180_000_000) == "34.2 GB"
    assert human_eta(None) == "--:--" and human_eta(75) == "01:15" and human_eta(3725) == "1:02:05"


def test_hub_clients_stay_torch_free():
    """`import modelscope` pulls in torch; the downloader runs in the GUI process and must not."""
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import sys; from wan22_desktop.downloader import hub_hf, hub_modelscope, manager;"
        "hub_modelscope._api('http://127.0.0.1:9', None); hub_hf._offline();"
        "from huggingface_hub import HfApi, hf_hub_url;"
        "print(sorted(m for m in ('torch', 'PySide6') if m in sys.modules))"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
