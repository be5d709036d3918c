"""The hardware probe, in this process and through a subprocess (the path the GUI takes)."""

import json

from tests.engine import attention_stubs
from tests.engine.attention_stubs import (
    BROKEN_IMPORT,
    FLASH_OK,
    RAISES_AT_CALL,
)
from wan22_desktop.runtime.hardware import GPU, Hardware, kernel_unsupported, probe_in_subprocess
from wan22_desktop.runtime.hardware_probe import (
    attention_kernels,
    check_kernel,
    flash_attn_version,
    probe,
)

kernel_stubs = attention_stubs.kernel_stubs  # the fixture: stub kernels on sys.path


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


def test_roundtrip_with_kernels_and_errors():
    hw = Hardware(
        gpus=(GPU(0, "NVIDIA H100", 79.6, 78.0, (9, 0)),),
        flash_attn="fa2",
        attention_kernels={"flash2": "2.8.3", "sage": "2.2.0"},
        attention_errors={"flash3": "ImportError: undefined symbol: _ZN3c10"},
    )
    assert Hardware.from_dict(json.loads(json.dumps(hw.to_dict()))) == hw


def test_a_record_from_before_the_kernel_probe_still_reads():
    old = {"gpus": [], "ram_total_gib": 64.0, "flash_attn": "fa3", "a_field_from_later": 1}
    hw = Hardware.from_dict(old)
    assert hw.attention_kernels == {"flash3": "", "flash2": ""} and hw.attention_errors == {}
    assert Hardware.from_dict({"flash_attn": "fa2"}).attention_kernels == {"flash2": ""}
    assert Hardware.from_dict({"flash_attn": None}).attention_kernels == {}


def test_probe_imports_each_kernel_and_keeps_the_error(kernel_stubs):
    kernel_stubs({"flash3": BROKEN_IMPORT, "flash2": FLASH_OK, "sage": RAISES_AT_CALL})
    usable, errors = attention_kernels()
    assert usable == {"flash2": "0.0-stub", "sage": ""}  # a module without a version: ""
    assert set(errors) == {"flash3"}
    assert errors["flash3"].startswith("ImportError: libcudart.so.12: cannot open")
    assert flash_attn_version(usable) == "fa2"


def test_a_module_without_the_kernel_function_is_not_usable(kernel_stubs):
    kernel_stubs({"sage": "VERSION = 1\n"})
    version, error = check_kernel("sage")
    assert version is None and "sageattn" in error


def test_kernel_capability_rules():
    assert kernel_unsupported("flash3", (9, 0)) is None
    assert "Hopper (sm90) only" in kernel_unsupported("flash3", (10, 0))
    assert "Hopper (sm90) only; this GPU is sm80" in kernel_unsupported("flash3", (8, 0))
    assert kernel_unsupported("flash2", (8, 0)) is None
    assert "sm80 or newer; this GPU is sm75" in kernel_unsupported("flash2", (7, 5))
    assert kernel_unsupported("sage", (8, 9)) is None
    assert kernel_unsupported("sdpa", (6, 1)) is None
