"""Presets as data (resources/presets.json), ``--preset``/``--switch_step``/``--turbo`` and the
request fields behind them (switch_step, step_cache, preset)."""

from __future__ import annotations

import json
from dataclasses import fields, replace

import pytest

from wan22_desktop import presets as P
from wan22_desktop.cli import build_parser, main
from wan22_desktop.downloader.catalog import get_model
from wan22_desktop.errors import UserInputError
from wan22_desktop.request import GenerationRequest, Guidance
from wan22_desktop.request_cli import request_to_argv, unexpressed_fields
from wan22_desktop.request_flags import request_changes, request_from_args

LIGHTNING = ("lightning-t2v", "lightning-i2v")


def _args(*argv: str):
    return build_parser().parse_args(["generate", *argv])


def _no_loras(monkeypatch: pytest.MonkeyPatch) -> None:
    """Presets without their LoRAs, for the parts of the flag path that do not load any."""
    real = P.get_preset
    monkeypatch.setattr(P, "get_preset", lambda name: replace(real(name), loras=()))


# ---- the data file ---------------------------------------------------------------------------


def test_presets_file_is_versioned_and_every_field_is_a_request_field() -> None:
    names = {f.name for f in fields(GenerationRequest)}
    presets = P.all_presets()
    assert set(LIGHTNING) <= set(presets)
    for preset in presets.values():
        assert set(preset.fields) <= names, preset.name
        assert preset.sources, f"{preset.name} cites no source"
        req = P.preset_request(preset, strip_loras=True)
        assert req.preset == preset.name and req.task == preset.task
    with pytest.raises(ValueError, match="format"):
        P._parse({"format": 99, "presets": []})


@pytest.mark.parametrize("name", LIGHTNING)
def test_lightning_presets_carry_the_published_settings(name: str) -> None:
    preset = P.get_preset(name)
    req = P.preset_request(name, strip_loras=True, prompt="a cat")
    assert (req.sample_steps, req.sample_shift, req.solver) == (4, 5.0, "euler")
    assert req.guidance == Guidance(1.0, 1.0)
    assert req.switch_step == 2 and preset.distilled
    # One LoRA per expert at strength 1, from a catalogue entry the downloader knows.
    strengths = sorted((x.strength_high, x.strength_low) for x in preset.loras)
    assert strengths == [(0.0, 1.0), (1.0, 0.0)]
    for lora in preset.loras:
        assert get_model(lora.catalog).wants(lora.file)
        assert ("high_noise" in lora.file) == (lora.strength_high == 1.0)


def test_unknown_preset_lists_the_known_ones() -> None:
    with pytest.raises(UserInputError, match="unknown preset") as err:
        P.get_preset("lightning-9000")
    assert "lightning-t2v" in (err.value.hint or "")


def test_preset_loras_need_lora_support_or_the_downloaded_files(tmp_path) -> None:
    if not P.request_supports_loras():
        with pytest.raises(UserInputError, match="cannot load them"):
            P.preset_fields("lightning-t2v", lora_dir=tmp_path)
        return
    with pytest.raises(UserInputError) as err:
        P.preset_fields("lightning-t2v", lora_dir=tmp_path)
    assert "wan22 models download lightning-t2v" in (err.value.hint or "")


def test_preset_loras_join_the_ones_given_and_none_clears_both(tmp_path) -> None:
    """``--preset lightning-t2v --lora style.safetensors``: the Lightning pair stays (with its
    per-expert strengths and hashes) and the style LoRA joins it; ``--lora none`` clears all."""
    from tests.lora_helpers import lora_tensors, write_lora
    from wan22_desktop.engine.wan.dit_config import tiny_dit_config

    cfg = tiny_dit_config("t2v-A14B", dim=32, num_heads=2, ffn_dim=48, text_len=16)
    preset = P.get_preset("lightning-t2v")
    lora_dir = P.default_lora_dir()  # in this test's own app home
    for i, lora in enumerate(preset.loras):
        lora.path(lora_dir).parent.mkdir(parents=True, exist_ok=True)
        write_lora(lora.path(lora_dir), lora_tensors(cfg, seed=i), "kohya")
    style = write_lora(tmp_path / "style.safetensors", lora_tensors(cfg, seed=9), "kohya")

    req = request_from_args(_args("--preset", "lightning-t2v", "--lora", f"{style}:0.5"))
    got = [(x.path, x.strength_high, x.strength_low) for x in req.loras]
    assert got == [
        *[(str(x.path(lora_dir)), x.strength_high, x.strength_low) for x in preset.loras],
        (str(style), 0.5, 0.5),
    ]
    assert all(len(x.sha256) == 64 for x in req.loras)
    req.validate()
    cleared = request_from_args(_args("--preset", "lightning-t2v", "--lora", "none"))
    assert cleared.loras == () and cleared.preset == "lightning-t2v"


# ---- flags --------------------------------------------------------------------------------


def test_preset_flag_fills_the_fields_and_explicit_flags_win(monkeypatch) -> None:
    _no_loras(monkeypatch)
    req = request_from_args(_args("--preset", "lightning-t2v", "--prompt", "a cat"))
    assert req.task == "t2v-A14B" and req.preset == "lightning-t2v"
    assert (req.sample_steps, req.solver, req.switch_step) == (4, "euler", 2)
    edited = request_from_args(
        _args("--preset", "lightning-t2v", "--sample_steps", "6", "--sample_guide_scale", "1.5")
    )
    assert edited.sample_steps == 6 and edited.guidance == Guidance(1.5, 1.5)
    assert edited.solver == "euler" and edited.preset == "lightning-t2v"
    edited.validate()


def test_preset_for_another_task_is_refused(monkeypatch) -> None:
    _no_loras(monkeypatch)
    with pytest.raises(UserInputError, match="is for i2v-A14B"):
        request_changes(_args("--preset", "lightning-i2v", "--task", "t2v-A14B"))


def test_switch_step_and_turbo_flags_round_trip_through_the_command_line() -> None:
    req = GenerationRequest.for_task(
        "t2v-A14B", prompt="a cat", sample_steps=20, switch_step=7, step_cache=0.05
    )
    argv = request_to_argv(req)
    assert argv[argv.index("--switch_step") + 1] == "7"
    assert argv[argv.index("--turbo") + 1] == "0.05"
    back = request_from_args(build_parser().parse_args(argv[1:]))
    assert back == req
    assert "preset" in unexpressed_fields(replace(req, preset="lightning-t2v"))
    assert GenerationRequest.from_json(req.to_json()) == req


# ---- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "task,overrides,message",
    [
        ("ti2v-5B", dict(switch_step=2), "no expert switch"),
        ("t2v-A14B", dict(sample_steps=4, switch_step=5), "switch step 5 out of range"),
        ("t2v-A14B", dict(step_cache=-0.1), "out of range"),
        ("t2v-A14B", dict(step_cache=float("nan")), "out of range"),
        ("t2v-A14B", dict(step_cache=2.0), "out of range"),
        ("t2v-A14B", dict(sample_steps=4, step_cache=0.05), "cannot be combined"),
        (
            "t2v-A14B",
            dict(sample_steps=40, step_cache=0.05, preset="lightning-t2v"),
            "step-distilled preset lightning-t2v",
        ),
    ],
)
def test_speed_fields_are_checked(task, overrides, message) -> None:
    req = GenerationRequest.for_task(task, prompt="a cat", **overrides)
    with pytest.raises(UserInputError, match=message):
        req.validate()


def test_turbo_with_a_lightning_preset_is_refused_from_the_command_line(monkeypatch) -> None:
    _no_loras(monkeypatch)
    req = request_from_args(_args("--preset", "lightning-t2v", "--turbo", "0.05"))
    with pytest.raises(UserInputError, match="lightning-t2v") as err:
        req.validate()
    assert err.value.field == "step_cache"


def test_valid_speed_fields_pass() -> None:
    GenerationRequest.for_task(
        "t2v-A14B", prompt="a cat", sample_steps=40, switch_step=20, step_cache=0.05
    ).validate()


# ---- wan22 presets list -------------------------------------------------------------------------


def test_presets_list_shows_settings_and_missing_loras(capsys) -> None:
    assert main(["presets", "list"]) == 0
    out = capsys.readouterr().out
    assert "lightning-t2v" in out and "4 steps, euler, shift 5.0" in out
    assert "missing: wan22 models download lightning-t2v" in out
    assert main(["--json", "presets", "list"]) == 0
    data = json.loads(capsys.readouterr().out)
    t2v = next(p for p in data["presets"] if p["name"] == "lightning-t2v")
    assert t2v["fields"]["switch_step"] == 2
    assert [x["downloaded"] for x in t2v["loras"]] == [False, False]
