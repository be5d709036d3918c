"""``wan22 loras``: the app's folder, adopted folders (remembered), detection shown, --json,
file names checked against traversal, adopted files never deleted."""

from __future__ import annotations

import json
from pathlib import Path

from safetensors.torch import save_file

from tests.lora_helpers import write_diff_lora, write_lora
from wan22_desktop.cli import main


def _a14b_like(path: Path, fmt: str = "official_ab") -> Path:
    """A LoRA with real A14B widths in its shapes (rank 1, one block: small on disk)."""
    import torch

    tensors = {
        f"blocks.0.{m}": (torch.zeros(1, 5120), torch.zeros(5120, 1))
        for m in ("self_attn.q", "cross_attn.k")
    }
    return write_lora(path, tensors, fmt)


def _run(home: Path, *args: str, capsys) -> tuple[int, str, str]:
    rc = main(["--home", str(home), "loras", *args])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_import_list_and_rm(tmp_path, capsys):
    home = tmp_path / "home"
    src = _a14b_like(tmp_path / "wan22_style_high_noise.safetensors")
    rc, out, err = _run(home, "import", str(src), capsys=capsys)
    assert rc == 0, err
    assert "A14B" in out and "high-noise" in out
    rc, out, _ = _run(home, "list", "--json", capsys=capsys)
    data = json.loads(out)
    (item,) = data["loras"]
    assert (item["family"], item["expert"], item["format"], item["usable"]) == (
        "A14B",
        "high",
        "official",
        True,
    )
    assert item["path"].startswith(str(home))
    rc, out, err = _run(home, "rm", "../wan22_style_high_noise.safetensors", capsys=capsys)
    assert rc == 2 and "not a plain file name" in err
    rc, out, _ = _run(home, "rm", "wan22_style_high_noise.safetensors", capsys=capsys)
    assert rc == 0 and not Path(item["path"]).exists() and src.exists()


def test_adopt_a_comfyui_folder_in_place(tmp_path, capsys):
    home = tmp_path / "home"
    comfy = tmp_path / "ComfyUI" / "models" / "loras"
    (comfy / "wan").mkdir(parents=True)
    _a14b_like(comfy / "wan" / "lightx2v_high_noise.safetensors", "kohya")
    _a14b_like(comfy / "wan" / "lightx2v_low_noise.safetensors", "diffusers")
    save_file(
        {"lora_te_text_model.x.lora_up.weight": __import__("torch").zeros(2, 2)},
        str(comfy / "sdxl.safetensors"),
    )
    rc, out, _ = _run(home, "scan", str(comfy), capsys=capsys)
    assert rc == 0 and "2 Wan LoRA(s) of 3 file(s), not adopted" in out
    rc, out, _ = _run(home, "import", str(comfy), capsys=capsys)
    assert rc == 0 and "adopted" in out
    rc, out, _ = _run(home, "list", "--json", capsys=capsys)
    data = json.loads(out)
    assert str(comfy) in data["folders"]
    by_name = {i["name"]: i for i in data["loras"]}
    assert by_name["lightx2v_high_noise.safetensors"]["pair"].endswith(
        "lightx2v_low_noise.safetensors"
    )
    assert by_name["lightx2v_low_noise.safetensors"]["expert"] == "low"
    assert not by_name["sdxl.safetensors"]["usable"]
    assert "not Wan DiT LoRA weights" in by_name["sdxl.safetensors"]["reason"]
    rc, out, _ = _run(home, "rm", str(comfy), capsys=capsys)
    assert rc == 0 and "forgot" in out
    assert (comfy / "wan" / "lightx2v_high_noise.safetensors").exists()
    rc, out, _ = _run(home, "list", "--json", capsys=capsys)
    assert json.loads(out)["loras"] == []


def test_import_refuses_what_is_not_a_wan_lora(tmp_path, capsys):
    bad = tmp_path / "other.safetensors"
    save_file({"unet.x.lora_A.weight": __import__("torch").zeros(2, 2)}, str(bad))
    rc, _, err = _run(tmp_path / "home", "import", str(bad), capsys=capsys)
    assert rc == 2 and "not Wan DiT LoRA weights" in err and "hint:" in err


def test_5b_and_diff_files_are_described(tmp_path, capsys):
    import torch

    five = write_lora(
        tmp_path / "five.safetensors",
        {"blocks.0.self_attn.q": (torch.zeros(2, 3072), torch.zeros(3072, 2))},
        "official_downup",
    )
    diff = write_diff_lora(
        tmp_path / "d.safetensors", {"patch_embedding.weight": torch.zeros(5120, 36, 1, 2, 2)}
    )
    home = tmp_path / "home"
    for f in (five, diff):
        assert _run(home, "import", str(f), capsys=capsys)[0] == 0
    rc, out, _ = _run(home, "list", "--json", capsys=capsys)
    by_name = {i["name"]: i for i in json.loads(out)["loras"]}
    assert (by_name["five.safetensors"]["family"], by_name["five.safetensors"]["task"]) == (
        "TI2V-5B",
        "ti2v",
    )
    assert by_name["five.safetensors"]["rank"] == 2
    assert (by_name["d.safetensors"]["task"], by_name["d.safetensors"]["kinds"]) == (
        "i2v",
        ["diff"],
    )
