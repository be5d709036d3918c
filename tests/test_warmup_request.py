"""The guided warm-up request fields (``warmup_steps``, ``warmup_guidance``; ADR 0025), their flags,
their round trips (JSON, copy-as-command, ``queue edit``) and the three-phase Lightning presets
that set them."""

from __future__ import annotations

from dataclasses import replace

import pytest

from wan22_desktop import presets as P
from wan22_desktop.cli import build_parser, main
from wan22_desktop.errors import UserInputError
from wan22_desktop.request import GenerationRequest, Guidance
from wan22_desktop.request_cli import request_to_argv, unexpressed_fields
from wan22_desktop.request_flags import request_changes, request_from_args

THREE_PHASE = ("lightning-t2v-8step-3phase", "lightning-i2v-8step-3phase")


def _req(task: str = "t2v-A14B", **changes) -> GenerationRequest:
    return GenerationRequest.for_task(task, prompt="a cat", **changes)


@pytest.mark.parametrize(
    "task, changes, message, field",
    [
        ("ti2v-5B", dict(warmup_steps=1), "ti2v-5B has one model", "warmup_steps"),
        (
            "t2v-A14B",
            dict(sample_steps=8, warmup_steps=8),
            "out of range: use 1..7",
            "warmup_steps",
        ),
        ("t2v-A14B", dict(warmup_steps=-1), "out of range", "warmup_steps"),
        ("t2v-A14B", dict(sample_steps=1, warmup_steps=1), "at least 2 steps", "warmup_steps"),
        ("t2v-A14B", dict(warmup_guidance=3.5), "without warm-up steps", "warmup_steps"),
        ("t2v-A14B", dict(warmup_steps=1, warmup_guidance=-1.0), "out of range", "warmup_guidance"),
        (
            "t2v-A14B",
            dict(warmup_steps=1, warmup_guidance=float("nan")),
            "out of range",
            "warmup_guidance",
        ),
    ],
)
def test_warmup_fields_are_checked(task, changes, message, field) -> None:
    with pytest.raises(UserInputError, match=message) as err:
        _req(task, **changes).validate()
    assert err.value.field == field and err.value.hint


def test_valid_warmups_pass() -> None:
    _req(warmup_steps=1, warmup_guidance=3.5, switch_step=4, sample_steps=8).validate()
    _req(warmup_steps=3).validate()  # the experts' own guidance: only the LoRAs are off


def test_wrong_types_are_one_line_errors() -> None:
    with pytest.raises(UserInputError, match="warmup_steps must be a whole number"):
        GenerationRequest.from_dict({**_req().to_dict(), "warmup_steps": "1"})
    with pytest.raises(UserInputError, match="warmup_guidance must be a number"):
        GenerationRequest.from_dict({**_req().to_dict(), "warmup_guidance": "3.5"})


def test_warmup_round_trips_through_json_and_the_command_line() -> None:
    req = _req(sample_steps=8, switch_step=4, warmup_steps=1, warmup_guidance=3.5)
    assert GenerationRequest.from_json(req.to_json()) == req
    argv = request_to_argv(req)
    assert argv[argv.index("--warmup_steps") + 1] == "1"
    assert argv[argv.index("--warmup_guidance") + 1] == "3.5"
    assert request_from_args(build_parser().parse_args(argv[1:])) == req
    assert unexpressed_fields(req) == []
    plain = _req()
    assert "--warmup_steps" not in request_to_argv(plain)
    assert GenerationRequest.from_json(plain.to_json()) == plain


def test_a_v4_row_without_the_fields_loads_without_a_warmup() -> None:
    d = _req().to_dict()
    del d["warmup_steps"], d["warmup_guidance"]
    old = GenerationRequest.from_dict(d)
    assert (old.warmup_steps, old.warmup_guidance) == (0, None)


def test_queue_edit_turning_the_warmup_off_drops_its_guidance() -> None:
    base = _req(sample_steps=8, warmup_steps=1, warmup_guidance=3.5)
    edit = build_parser().parse_args(["queue", "edit", "1", "--warmup_steps", "0"])
    changes = request_changes(edit, base)
    assert changes == {"warmup_steps": 0, "warmup_guidance": None}
    replace(base, **changes).validate()
    edit = build_parser().parse_args(["queue", "edit", "1", "--warmup_guidance", "2"])
    assert request_changes(edit, base) == {"warmup_guidance": 2.0}


def test_generate_refuses_a_warmup_on_one_model_with_error_and_hint(capsys) -> None:
    rc = main(["generate", "--task", "ti2v-5B", "--prompt", "a cat", "--warmup_steps", "2"])
    err = capsys.readouterr().err
    assert rc == 2
    assert "error: ti2v-5B has one model; the guided warm-up is for the A14B experts" in err
    assert "hint:" in err and "Traceback" not in err


# ---- the presets ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", THREE_PHASE)
def test_three_phase_presets_carry_wan2gps_schedule(name: str, tmp_path) -> None:
    from PIL import Image

    preset = P.get_preset(name)
    four = P.get_preset(name.replace("-8step-3phase", ""))
    req = P.preset_request(name, strip_loras=True, prompt="a cat")
    if req.spec.image.name == "REQUIRED":
        Image.new("RGB", (320, 320)).save(tmp_path / "start.png")
        req = replace(req, image=str(tmp_path / "start.png"))
    req.validate()
    assert (req.sample_steps, req.sample_shift, req.solver) == (8, 3.0, "euler")
    assert (req.guidance, req.switch_step) == (Guidance(1.0, 1.0), 4)
    assert (req.warmup_steps, req.warmup_guidance) == (1, 3.5)
    assert req.preset == name and preset.distilled
    assert preset.loras == four.loras  # the catalogue's Lightning pair, as the 4-step preset
    assert any("Wan2GP" in s and "3%20Phases" in s for s in preset.sources)
    assert "Wan2GP" in preset.description and "v1" in preset.description
    with pytest.raises(UserInputError, match="step-distilled preset"):
        replace(req, step_cache=0.05).validate()


def test_preset_flag_fills_the_warmup_and_flags_given_win(monkeypatch) -> None:
    real = P.get_preset
    monkeypatch.setattr(P, "get_preset", lambda name: replace(real(name), loras=()))
    args = ["generate", "--preset", THREE_PHASE[0], "--warmup_guidance", "5"]
    req = request_from_args(build_parser().parse_args(args))
    assert (req.warmup_steps, req.warmup_guidance, req.preset) == (1, 5.0, THREE_PHASE[0])
    req.validate()


def test_presets_list_shows_the_warmup(capsys) -> None:
    assert main(["presets", "list"]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if "8 steps, euler, shift 3.0" in x)
    assert "high-noise expert for 4 steps; first 1 step(s) at guidance 3.5 without LoRAs" in line
