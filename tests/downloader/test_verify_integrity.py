"""``wan22 models verify`` on an imported folder catches bytes changed inside a weight file: a
manifest of sha256s is recorded at import; without one, ``--deep`` reads every tensor."""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path

import numpy as np

from wan22_desktop import cli

SHARD = "diffusion_pytorch_model-00001-of-00002.safetensors"  # as in tests/downloader/conftest.py


def _data_offset(path: Path) -> int:
    """Where the first tensor's bytes start (after the 8-byte length and the JSON header)."""
    with path.open("rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
    return 8 + length


def _patch(path: Path, offset: int, data: bytes) -> None:
    with path.open("r+b") as f:
        f.seek(offset)
        f.write(data)


def _verify(home: Path, folder: Path, capsys, *extra: str) -> tuple[int, dict]:
    capsys.readouterr()
    rc = cli.main(["--home", str(home), "--json", "models", "verify", str(folder), *extra])
    return rc, json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_flipped_bytes_inside_an_imported_shard_fail_verify(tiny_repo, tmp_path, capsys) -> None:
    folder, home = tmp_path / "Wan2.2-TI2V-5B", tmp_path / "home"
    shutil.copytree(tiny_repo, folder)
    assert cli.main(["--home", str(home), "models", "import", str(folder)]) == 0
    rc, report = _verify(home, folder, capsys)
    assert rc == 0 and report["ok"] and report["hashes"] == "import manifest"
    assert report["checked"] == len([p for p in folder.rglob("*") if p.is_file()])

    shard = folder / SHARD
    offset = _data_offset(shard) + 4096  # well inside the data section: the header stays valid
    original = shard.read_bytes()[offset : offset + 4]
    _patch(shard, offset, bytes(b ^ 0x01 for b in original))  # still a finite float
    rc, report = _verify(home, folder, capsys)
    assert rc == 1 and not report["ok"]
    assert any(p.startswith(f"{SHARD}: sha256 changed") for p in report["problems"]), report

    # The plain text output names the file too.
    capsys.readouterr()
    assert cli.main(["--home", str(home), "models", "verify", str(folder)]) == 1
    assert SHARD in capsys.readouterr().out
    assert not list(folder.rglob("*manifest*"))  # nothing written into the user's folder


def test_deep_finds_damaged_weights_where_no_hash_is_known(tiny_repo, tmp_path, capsys) -> None:
    folder, home = tmp_path / "copy", tmp_path / "home"
    shutil.copytree(tiny_repo, folder)  # never imported: no manifest, no hub hashes
    rc, report = _verify(home, folder, capsys, "--deep")
    assert rc == 0 and report["hashes"] is None and report["deep_checked"] == 2, report

    shard = folder / SHARD
    _patch(shard, _data_offset(shard) + 400, np.array([np.nan], dtype=np.float32).tobytes())
    rc, report = _verify(home, folder, capsys)
    assert rc == 0  # headers alone cannot see it...
    rc, report = _verify(home, folder, capsys, "--deep")
    assert rc == 1 and any(SHARD in p and "NaN" in p for p in report["problems"]), report


def test_truncated_shard_fails_the_header_check(tiny_repo, tmp_path, capsys) -> None:
    folder, home = tmp_path / "copy", tmp_path / "home"
    shutil.copytree(tiny_repo, folder)
    second = folder / "diffusion_pytorch_model-00002-of-00002.safetensors"
    second.write_bytes(second.read_bytes()[:-100])
    rc, report = _verify(home, folder, capsys)
    assert rc == 1 and any(p.startswith(second.name) for p in report["problems"]), report
