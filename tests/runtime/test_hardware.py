"""The hardware probe, in this process and through a subprocess (the path the GUI takes)."""

from wan22_desktop.runtime.hardware import GPU, Hardware, probe_in_subprocess
from wan22_desktop.runtime.hardware_probe import probe


def test_probe_on_cpu_machine(tmp_path):
    hw = probe([tmp_path])
    assert hw.ram_total_gib > 0 and hw.cpu_count >= 1
    assert hw.torch_version is not None
    assert str(tmp_path) in hw.disk_free_gib
    assert all(g.total_gib > 0 for g in hw.gpus)


def test_probe_in_subprocess_matches_in_process(tmp_path):
    sub = probe_in_subprocess([tmp_path / "not-yet-created"])
    assert sub.error is None
    here = probe([tmp_path])
    assert len(sub.gpus) == len(here.gpus)
    assert sub.torch_version == here.torch_version
    assert sub.disk_free_gib[str(tmp_path / "not-yet-created")] > 0


def test_roundtrip_dict():
    hw = Hardware(
        gpus=(GPU(0, "NVIDIA H100", 79.6, 78.0, (9, 0)),),
        ram_total_gib=256,
        ram_available_gib=200,
        flash_attn="fa3",
    )
    assert Hardware.from_dict(hw.to_dict()) == hw
