"""The request's own pins (device, precision, parallel layout, checkpoint) reach the plan."""

from __future__ import annotations

import pytest

from wan22_desktop.errors import UserInputError
from wan22_desktop.request import GenerationRequest, ParallelOptions
from wan22_desktop.runtime.hardware import GPU, Hardware
from wan22_desktop.runtime.planner import InstalledModel, PlanError, PlanOverrides
from wan22_desktop.runtime.planning import overrides_for, plan_request

EIGHT_H100 = Hardware(
    gpus=tuple(GPU(i, "NVIDIA H100 80GB HBM3", 80.0, 79.0, (9, 0)) for i in range(8)),
    ram_total_gib=1024.0,
    ram_available_gib=900.0,
    cpu_count=64,
)


def test_a_request_left_on_auto_pins_nothing() -> None:
    assert overrides_for(GenerationRequest.for_task("t2v-A14B")) == PlanOverrides()


def test_device_dtype_and_parallel_flags_become_overrides() -> None:
    request = GenerationRequest.for_task(
        "t2v-A14B",
        device="cuda:1",
        dtype="fp16",
        parallel=ParallelOptions(ulysses_size=4, dit_fsdp=True, t5_fsdp=True),
    )
    assert overrides_for(request) == PlanOverrides(
        gpus=4, ulysses_size=4, dit_fsdp=True, t5_fsdp=True, device="cuda", dtype="fp16"
    )


def test_a_pinned_attention_backend_is_an_override_checked_by_the_planner() -> None:
    from wan22_desktop.request import ATTENTION
    from wan22_desktop.runtime.hardware import ATTENTION_BACKENDS

    assert ATTENTION == ("auto", *ATTENTION_BACKENDS)  # the request's choices are the planner's
    request = GenerationRequest.for_task("t2v-A14B", attention="flash2")
    assert overrides_for(request) == PlanOverrides(attention="flash2")
    installed = {"t2v-A14B": InstalledModel("t2v-A14B", "/models/t2v", 60 * 1024**3)}
    with pytest.raises(PlanError, match="FlashAttention 2 is not installed"):
        plan_request(request, EIGHT_H100, installed)
    with pytest.raises(UserInputError, match="unknown attention backend"):
        GenerationRequest.for_task("t2v-A14B", attention="xformers").validate()


def test_the_plan_follows_the_queued_parallel_layout_and_precision() -> None:
    installed = {"t2v-A14B": InstalledModel("t2v-A14B", "/models/t2v", 60 * 1024**3)}
    request = GenerationRequest.for_task(
        "t2v-A14B", dtype="fp16", parallel=ParallelOptions(ulysses_size=4, dit_fsdp=True)
    )
    p = plan_request(request, EIGHT_H100, installed)
    assert (p.nproc, p.ulysses_size, p.dit_fsdp, p.dtype) == (4, 4, True, "fp16")


def test_the_requests_own_checkpoint_folder_is_the_plans(tmp_path) -> None:
    own = tmp_path / "my-t2v"
    own.mkdir()
    (own / "model.safetensors").write_bytes(b"\0" * 1024)
    installed = {"t2v-A14B": InstalledModel("t2v-A14B", "/models/t2v", 60 * 1024**3)}
    request = GenerationRequest.for_task("t2v-A14B", ckpt_dir=str(own))
    assert plan_request(request, EIGHT_H100, installed).checkpoint == str(own)
    assert plan_request(request, EIGHT_H100, {}).checkpoint == str(own)  # not installed at all
