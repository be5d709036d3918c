"""Loading and writing Wan VAE checkpoints in the official .pth format, and the errors users see."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import torch

from wan22_desktop.engine.wan import vae_io
from wan22_desktop.engine.wan.vae_io import load_vae, save_vae, tiny_vae
from wan22_desktop.errors import UserInputError

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module", params=["2.1", "2.2"])
def saved(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    version = request.param
    model = tiny_vae(version, seed=5)
    path = tmp_path_factory.mktemp("vae") / f"Wan{version}_VAE.pth"
    save_vae(model, path)
    return version, model, path


def test_saved_file_is_a_plain_fp32_state_dict(saved) -> None:
    _, model, path = saved
    sd = torch.load(path, map_location="cpu", weights_only=True)
    assert type(sd) is dict
    assert list(sd) == list(model.state_dict())
    assert all(v.dtype == torch.float32 for v in sd.values())
    assert not (path.parent / (path.name + ".part")).exists()


def test_load_round_trip_gives_identical_outputs(saved, monkeypatch: pytest.MonkeyPatch) -> None:
    version, model, path = saved
    calls: list[dict] = []
    real_load = torch.load

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(vae_io.torch, "load", spy)
    vae = load_vae(path, version)
    assert calls == [{"map_location": "cpu", "mmap": True, "weights_only": True}]
    assert vae.config == model.config
    assert not any(p.is_meta for p in vae.model.parameters())
    s = vae.stride[1]
    x = torch.rand(3, 5, s, s, generator=torch.Generator().manual_seed(0)) * 2 - 1
    with torch.no_grad():
        expected = model.encode(x.unsqueeze(0))[0]
    latent = vae.encode([x])[0]
    assert torch.equal(latent, expected)
    with torch.no_grad():
        assert torch.equal(vae.decode([latent])[0], model.decode(latent.unsqueeze(0))[0])


def _mapped_ranges(path: Path) -> list[tuple[int, int]]:
    ranges = []
    for line in Path("/proc/self/maps").read_text().splitlines():
        parts = line.split()
        if len(parts) >= 6 and parts[5] == str(path.resolve()):
            lo, hi = (int(v, 16) for v in parts[0].split("-"))
            ranges.append((lo, hi))
    return ranges


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs Linux /proc")
def test_fp32_load_keeps_weights_in_the_mmapped_file(saved) -> None:
    """No copy in host RAM: every parameter points into the file's memory mapping."""
    version, _, path = saved
    vae = load_vae(path, version)
    ranges = _mapped_ranges(path)
    assert ranges
    assert all(any(lo <= p.data_ptr() < hi for lo, hi in ranges) for p in vae.model.parameters())


def test_load_in_bf16_still_returns_fp32(saved) -> None:
    version, _, path = saved
    vae = load_vae(path, version, dtype=torch.bfloat16)
    assert vae.dtype == torch.bfloat16
    z = torch.randn(vae.z_dim, 1, 1, 1)
    out = vae.decode([z])[0]
    assert out.dtype == torch.float32 and out.shape == (3, 1, vae.stride[1], vae.stride[2])


def test_legacy_non_zip_file_still_loads(saved, tmp_path: Path) -> None:
    version, model, _ = saved
    path = tmp_path / "legacy.pth"
    torch.save(model.state_dict(), path, _use_new_zipfile_serialization=False)
    assert load_vae(path, version).config == model.config


def test_wrong_version_names_the_file(saved) -> None:
    version, _, path = saved
    other = "2.2" if version == "2.1" else "2.1"
    with pytest.raises(UserInputError) as info:
        load_vae(path, other)
    assert path.name in info.value.message and info.value.hint


def _expect_user_error(path: Path, version: str = "2.1") -> UserInputError:
    with pytest.raises(UserInputError) as info:
        load_vae(path, version)
    err = info.value
    assert path.name in err.message and "\n" not in err.message and err.hint
    return err


def test_truncated_file(saved, tmp_path: Path) -> None:
    version, _, path = saved
    bad = tmp_path / "truncated.pth"
    bad.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    _expect_user_error(bad, version)


def test_foreign_files(tmp_path: Path) -> None:
    text = tmp_path / "notes.pth"
    text.write_text("not a checkpoint\n")
    _expect_user_error(text)
    empty = tmp_path / "empty.pth"
    empty.write_bytes(b"")
    _expect_user_error(empty)
    not_tensors = tmp_path / "config.pth"
    torch.save({"dim": 96, "name": "vae"}, not_tensors)
    _expect_user_error(not_tensors)
    a_tensor = tmp_path / "tensor.pth"
    torch.save(torch.zeros(3), a_tensor)
    _expect_user_error(a_tensor)


class _Evil:
    def __reduce__(self):
        return (print, ("pickled code ran",))


def test_pickled_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.pth"
    with path.open("wb") as f:
        pickle.dump({"conv1.weight": _Evil()}, f, protocol=2)
    _expect_user_error(path)


def test_missing_or_extra_tensor(saved, tmp_path: Path) -> None:
    version, model, _ = saved
    sd = model.state_dict()
    missing = dict(sd)
    del missing["decoder.head.0.gamma"]
    torch.save(missing, tmp_path / "missing.pth")
    err = _expect_user_error(tmp_path / "missing.pth", version)
    assert "decoder.head.0.gamma" in err.message
    extra = dict(sd, **{"decoder.extra.weight": torch.zeros(1)})
    torch.save(extra, tmp_path / "extra.pth")
    _expect_user_error(tmp_path / "extra.pth", version)
    wrong = dict(sd)
    wrong["conv2.bias"] = torch.zeros(3)
    torch.save(wrong, tmp_path / "wrong_shape.pth")
    _expect_user_error(tmp_path / "wrong_shape.pth", version)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="not found"):
        load_vae(tmp_path / "Wan2.1_VAE.pth", "2.1")
