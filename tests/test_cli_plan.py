"""``wan22 plan``: the plan for a request on a described machine, in text and JSON."""

from __future__ import annotations

import json

import pytest

from wan22_desktop import cli
from wan22_desktop.commands.plan import described_hardware
from wan22_desktop.errors import UserInputError
from wan22_desktop.runtime.planner import CARD_GIB


def run(capsys, tmp_path, *args: str) -> tuple[int, str, str]:
    rc = cli.main(["--home", str(tmp_path), *args])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_24gb_a14b_720p_streams_with_fp8(capsys, tmp_path):
    rc, out, _ = run(
        capsys, tmp_path, "plan", "--task", "t2v-A14B", "--size", "1280*720",
        "--gpus", "1x24", "--ram", "64",
    )  # fmt: skip
    assert rc == 0
    assert "DiT streamed" in out and "FP8" in out
    assert "GiB sampling" in out and "GiB decoding" in out
    assert "stream_blocks:" in out and "fp8: on" in out


def test_json_has_the_fields_the_gui_shows(capsys, tmp_path):
    rc, out, _ = run(
        capsys, tmp_path, "--json", "plan", "--task", "t2v-A14B", "--gpus", "8x80", "--ram", "512"
    )
    assert rc == 0
    d = json.loads(out)
    assert d["gpus"] == 8 and d["dit_fsdp"] is True and d["stream_blocks"] == 0
    for key in ("placement", "vram_sampling_gib", "vram_decode_gib", "ram_gib", "reasons", "fp8"):
        assert key in d
    assert 0 < d["vram_sampling_gib"] <= d["vram_gib"] <= CARD_GIB[80]


def test_80gb_keeps_both_experts_resident(capsys, tmp_path):
    rc, out, _ = run(
        capsys, tmp_path, "--json", "plan", "--task", "t2v-A14B", "--gpus", "1x80", "--ram", "128"
    )
    assert rc == 0
    d = json.loads(out)
    assert (d["offload_model"], d["convert_model_dtype"], d["stream_blocks"]) == (False, True, 0)
    assert "no copy at the expert switch" in d["reasons"]["offload_model"]


def test_a_job_that_fits_nowhere_names_the_smallest_card(capsys, tmp_path):
    rc, _, err = run(
        capsys, tmp_path, "plan", "--task", "t2v-A14B", "--size", "1280*720", "--gpus", "1x12"
    )
    assert rc == 2
    assert err.startswith("error: ") and "GiB per GPU" in err
    assert "hint: the smallest card that fits this job is 24 GB" in err


@pytest.mark.parametrize("bad", ["24", "0x24", "1x", "ax24"])
def test_bad_gpus_description_is_a_user_error(bad):
    with pytest.raises(UserInputError, match="NxGB"):
        described_hardware(bad, 64, None)


def test_described_cards_use_the_real_gib_of_the_class():
    hw = described_hardware("2x24", 64, None)
    assert [g.total_gib for g in hw.gpus] == [CARD_GIB[24]] * 2
    assert hw.ram_total_gib == 64
