"""Generate view, issue 14: the Fast presets beside the quality presets (their rules as tables),
the missing-LoRA message whose Download button runs the catalogue download from the fake hub,
step caching ("Turbo"), and the ETA that follows the steps and guidance."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from tests.gui.conftest import drain, install_model
from tests.lora_helpers import lora_tensors, write_lora
from wan22_desktop.db import queue as q
from wan22_desktop.engine.wan.dit_config import tiny_dit_config
from wan22_desktop.gui import generate_form as gf
from wan22_desktop.gui.views.generate import GenerateView
from wan22_desktop.lora_library import sha256_file
from wan22_desktop.presets import LORA_FOLDER, get_preset
from wan22_desktop.request import GenerationRequest, Guidance
from wan22_desktop.services.render_eta import estimate

LORA_DIR = Path("/nonexistent/models/loras")


@pytest.fixture
def hardware():
    """One 80 GiB GPU and 256 GiB RAM, so an A14B job plans (the default: 24 GiB, 64 GiB)."""
    from tests.gui.conftest import big_gpu

    return big_gpu()


@pytest.fixture
def view(qtbot, ctx):
    install_model(ctx, "t2v-A14B", "/models/t2v")
    install_model(ctx, "i2v-A14B", "/models/i2v")
    install_model(ctx, "ti2v-5B", "/models/ti2v")
    v = GenerateView(ctx)
    qtbot.addWidget(v)
    v.resize(1200, 800)
    v.show()
    drain(qtbot, ctx)
    return v


def choose(combo, data):
    i = combo.findData(data)
    assert i >= 0, data
    combo.setCurrentIndex(i)


def preset_files(lora_dir: Path, name: str) -> list[Path]:
    """Write the preset's LoRA files where ``wan22 models download`` puts them."""
    out = []
    for x in get_preset(name).loras:
        path = x.path(lora_dir)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_lora(path, lora_tensors(tiny_dit_config("t2v-A14B"), blocks=1), "official_ab")
        out.append(path)
    return out


# ---- the rules (pure)


@pytest.mark.parametrize(
    "task, fast",
    [
        ("t2v-A14B", ("lightning-t2v", "lightning-t2v-8step-3phase")),
        ("i2v-A14B", ("lightning-i2v", "lightning-i2v-8step-3phase")),
        ("ti2v-5B", ()),
        (gf.AUTO, ()),
    ],
)
def test_a_fast_preset_is_offered_only_for_its_task(task, fast):
    assert gf.quality_choices(task) == gf.QUALITY_PRESETS + fast


@pytest.mark.parametrize(
    "task, quality, steps",
    [
        ("t2v-A14B", "lightning-t2v", 4),
        ("i2v-A14B", "lightning-i2v", 4),
        ("t2v-A14B", "lightning-i2v", 40),  # another task's preset: not a preset here
        ("t2v-A14B", "draft", 16),
        ("ti2v-5B", "standard", 35),
    ],
)
def test_steps_for_quality(task, quality, steps):
    assert gf.steps_for(task, quality) == steps


def test_choosing_a_fast_preset_fills_the_form_and_leaving_it_restores_the_defaults():
    own = ("/my/style.safetensors", 0.5, 0.5)
    start = gf.FormValues(task="t2v-A14B", quality="standard", step_cache=0.1, loras=(own,))
    fast = gf.choose_quality(start, "t2v-A14B", "lightning-t2v", LORA_DIR)
    high, low = (str(x.path(LORA_DIR)) for x in get_preset("lightning-t2v").loras)
    assert (fast.quality, fast.steps, fast.solver, fast.shift) == (
        "lightning-t2v",
        None,
        "euler",
        5,
    )
    assert (fast.guidance_low, fast.guidance_high, fast.switch_step) == (1.0, 1.0, 2)
    assert fast.step_cache == 0.0  # distilled: step caching off
    assert fast.loras == ((high, 1.0, 0.0), (low, 0.0, 1.0), own)
    back = gf.choose_quality(fast, "t2v-A14B", "draft", LORA_DIR)
    assert (back.quality, back.solver, back.shift, back.switch_step) == ("draft", "unipc", 12, None)
    assert (back.guidance_low, back.guidance_high) == (3.0, 4.0)
    assert back.loras == (own,)  # the preset's rows go, the user's stay
    # Between plain qualities nothing but the quality changes.
    custom = replace(start, shift=7.0, solver="dpm++")
    assert gf.choose_quality(custom, "t2v-A14B", "official", LORA_DIR) == replace(
        custom, quality="official"
    )


def test_missing_downloads_name_the_catalogue_entry(tmp_path):
    values = gf.choose_quality(
        gf.FormValues(task="i2v-A14B"), "i2v-A14B", "lightning-i2v", tmp_path
    )
    assert gf.missing_downloads(values, "i2v-A14B", tmp_path) == ("lightning-i2v",)
    preset_files(tmp_path, "lightning-i2v")
    assert gf.missing_downloads(values, "i2v-A14B", tmp_path) == ()
    plain = replace(values, quality="official")
    assert gf.missing_downloads(plain, "i2v-A14B", tmp_path / "empty") == ()


@pytest.mark.parametrize(
    "task, quality, steps, refused",
    [
        ("t2v-A14B", "lightning-t2v", None, "step-distilled preset lightning-t2v"),
        ("i2v-A14B", "lightning-i2v", None, "step-distilled preset lightning-i2v"),
        ("t2v-A14B", "official", None, None),
        ("ti2v-5B", "draft", None, None),
        ("t2v-A14B", "official", 6, "6 steps"),
        (gf.AUTO, "official", None, None),
    ],
)
def test_step_caching_refusal_is_the_request_rules_message(task, quality, steps, refused):
    reason = gf.step_cache_refusal(task, quality, steps)
    if refused is None:
        assert reason is None
    else:
        assert reason is not None and refused in reason


@pytest.mark.parametrize(
    "task, guidance, steps, switch, forwards",
    [
        ("t2v-A14B", (3.0, 4.0), 40, None, 2.0),
        ("t2v-A14B", (1.0, 1.0), 4, 2, 1.0),
        ("t2v-A14B", (1.0, 4.0), 4, 1, 1.25),  # 1 step with guidance, 3 without
        ("t2v-A14B", (1.0, 4.0), 40, None, 1.5),  # no switch step: half each
        ("ti2v-5B", (5.0, 5.0), 50, None, 2.0),
        ("ti2v-5B", (1.0, 1.0), 50, None, 1.0),
    ],
)
def test_forwards_per_step(task, guidance, steps, switch, forwards):
    r = GenerationRequest.for_task(
        task, prompt="x", guidance=Guidance(*guidance), sample_steps=steps, switch_step=switch
    )
    assert gf.forwards_per_step(r) == forwards


def test_eta_follows_steps_and_guidance():
    official = estimate("t2v-A14B", 1280, 720, 81, 40, 1, "NVIDIA H100")
    fast = estimate("t2v-A14B", 1280, 720, 81, 4, 1, "NVIDIA H100", forwards_per_step=1.0)
    assert official is not None and fast is not None
    assert fast.low_s / official.low_s == pytest.approx(4 / 40 * 0.5)
    print(f"lightning ETA / official ETA (H100, 720p, 81 frames): {fast.low_s / official.low_s}")


def test_a_request_with_a_preset_round_trips_through_the_form(tmp_path):
    preset_files(tmp_path, "lightning-t2v")
    values = gf.choose_quality(
        gf.FormValues(task="t2v-A14B", prompt="a fox"), "t2v-A14B", "lightning-t2v", tmp_path
    )
    request = gf.build_request(values, "t2v-A14B")
    assert (request.preset, request.sample_steps, request.switch_step) == ("lightning-t2v", 4, 2)
    again = gf.values_from_request(request)
    assert (again.quality, again.steps, again.switch_step) == ("lightning-t2v", None, 2)
    assert again.loras == values.loras
    edited = gf.values_from_request(replace(request, sample_steps=6))
    assert (edited.quality, edited.steps) == ("lightning-t2v", 6)


# ---- the view


def test_quality_lists_the_fast_preset_of_the_task(qtbot, view):
    listed = {t: None for t in ("t2v-A14B", "i2v-A14B", "ti2v-5B")}
    for task in listed:
        choose(view.task, task)
        listed[task] = [view.quality.itemData(i) for i in range(view.quality.count())]
    assert listed["t2v-A14B"][-2:] == ["lightning-t2v", "lightning-t2v-8step-3phase"]
    assert "lightning-i2v" not in listed["t2v-A14B"]
    assert listed["i2v-A14B"][-2:] == ["lightning-i2v", "lightning-i2v-8step-3phase"]
    assert listed["ti2v-5B"] == list(gf.QUALITY_PRESETS)
    choose(view.task, "t2v-A14B")
    tips = [
        view.quality.itemData(view.quality.findData(name), Qt.ItemDataRole.ToolTipRole)
        for name in ("lightning-t2v", "lightning-t2v-8step-3phase")
    ]
    assert tips == [
        "4 steps, guidance 1/1, shift 5.0, solver euler; LoRAs: lightning-t2v",
        "8 steps, guidance 1/1, shift 3.0, solver euler; LoRAs: lightning-t2v"
        "; first 1 step(s): guidance 3.5, no LoRA",
    ]


def test_fast_preset_fills_the_form_and_queues_preset_and_hashed_loras(qtbot, ctx, view):
    high, low = preset_files(ctx.paths.models / LORA_FOLDER, "lightning-t2v")
    choose(view.task, "t2v-A14B")
    view.prompt.setPlainText("a fox in the snow")
    choose(view.quality, "lightning-t2v")
    adv = view.advanced
    assert (adv.steps.value(), adv.solver.currentData(), adv.shift.value()) == (4, "euler", 5.0)
    assert (adv.guidance_high.value(), adv.guidance_low.value(), adv.switch_step.value()) == (
        1.0,
        1.0,
        2,
    )
    assert [r[0] for r in view.loras.rows()] == [str(high), str(low)]
    assert not view.fast_box.isVisible()
    # The user can still edit: a different shift is kept, the preset name stays.
    adv.shift.setValue(6.0)
    view.refresh_preview()
    assert view.message.text() == "" and view.add_to_queue.isEnabled(), view.message.text()
    assert view.last_preview.eta is not None  # one forward a step, 4 steps
    qtbot.mouseClick(view.add_to_queue, Qt.MouseButton.LeftButton)
    drain(qtbot, ctx)
    [job] = q.list_jobs(ctx.db)
    req = GenerationRequest.from_json(job.request_json)
    assert (req.preset, req.sample_steps, req.solver, req.sample_shift) == (
        "lightning-t2v",
        4,
        "euler",
        6.0,
    )
    assert (req.switch_step, req.guidance.low, req.guidance.high) == (2, 1.0, 1.0)
    assert [(x.path, x.sha256, x.strength_high, x.strength_low) for x in req.loras] == [
        (str(high), sha256_file(high), 1.0, 0.0),
        (str(low), sha256_file(low), 0.0, 1.0),
    ]
    # Back to Official: the task's defaults and no preset LoRAs.
    choose(view.quality, "official")
    assert (adv.steps.value(), adv.solver.currentData(), view.loras.rows()) == (40, "unipc", ())
    assert adv.switch_step.value() == -1


def test_changing_task_leaves_the_fast_preset(qtbot, view):
    choose(view.task, "t2v-A14B")
    choose(view.quality, "lightning-t2v")
    choose(view.task, "i2v-A14B")
    assert view.quality.currentData() == "official"
    assert view.loras.rows() == () and view.advanced.solver.currentData() == "unipc"
    assert view.advanced.steps.value() == 40 and view.values().switch_step is None
    choose(view.task, "t2v-A14B")
    choose(view.quality, "lightning-t2v")
    choose(view.task, gf.AUTO)  # Auto plans with the chosen task's defaults, no preset recipe
    assert view.values().switch_step is None and view.values().quality == "official"
    assert view.advanced.solver.currentData() == "unipc"


def test_turbo_is_off_by_default_and_refused_for_a_distilled_preset(qtbot, ctx, view):
    adv = view.advanced
    choose(view.task, "t2v-A14B")
    view.prompt.setPlainText("a fox")
    view.refresh_preview()
    assert not adv.turbo.isChecked() and adv.turbo.isEnabled()
    assert not adv.turbo_threshold.isEnabled()
    adv.turbo.setChecked(True)
    adv.turbo_threshold.setValue(0.1)
    view.refresh_preview()
    assert adv.turbo_threshold.isEnabled() and view.last_preview.request.step_cache == 0.1
    choose(view.quality, "lightning-t2v")  # distilled: Turbo goes off and is refused
    assert not adv.turbo.isChecked() and not adv.turbo.isEnabled()
    assert "step-distilled preset lightning-t2v" in adv.turbo.toolTip()
    choose(view.quality, "standard")
    assert adv.turbo.isEnabled() and "step-distilled" not in adv.turbo.toolTip()


@pytest.fixture
def online(monkeypatch):
    """The suite runs with HF_HUB_OFFLINE=1; this test talks to the local fake hub only."""
    import huggingface_hub.constants as c

    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr(c, "HF_HUB_OFFLINE", False)


def test_missing_loras_block_queueing_until_the_download_button_fetched_them(
    qtbot, ctx, online, tmp_path
):
    from tests.downloader.fake_hub import FakeHub
    from wan22_desktop.downloader.catalog import get_model
    from wan22_desktop.gui.main_window import MainWindow

    repo = tmp_path / "repack"
    preset_files(repo, "lightning-t2v")  # the hub's files: repo/<catalog>/split_files/...
    install_model(ctx, "t2v-A14B", "/models/t2v")
    with FakeHub({get_model("lightning-t2v").repo_id: repo / "lightning-t2v"}) as hub:
        win = MainWindow(ctx)
        qtbot.addWidget(win)
        drain(qtbot, ctx)
        view = win.view("generate")
        win.view("models").endpoint_edit.setText(hub.url)
        choose(view.task, "t2v-A14B")
        view.prompt.setPlainText("a fox")
        choose(view.quality, "lightning-t2v")
        view.refresh_preview()
        assert view.fast_box.isVisibleTo(view) and view.fast_download.isEnabled()
        assert "lightning-t2v" in view.fast_message.text()
        assert not view.add_to_queue.isEnabled() and not view.generate_now.isEnabled()
        assert "not downloaded" in view.message.text()
        qtbot.mouseClick(view.fast_download, Qt.MouseButton.LeftButton)
        assert "Downloading lightning-t2v" in view.fast_message.text()
        qtbot.waitUntil(lambda: view.add_to_queue.isEnabled(), timeout=30000)
        drain(qtbot, ctx)
        assert not view.fast_box.isVisibleTo(view) and view.message.text() == ""
        lora_dir = ctx.paths.models / LORA_FOLDER
        for x in get_preset("lightning-t2v").loras:
            assert x.path(lora_dir).is_file()
        win.view("models").shutdown()


# ---- the three-phase Lightning presets (guided warm-up, ADR 0025)

THREE = "lightning-t2v-8step-3phase"


def test_a_three_phase_preset_sets_the_warmup_and_leaving_it_drops_it(tmp_path):
    preset_files(tmp_path, THREE)
    start = gf.FormValues(task="t2v-A14B", prompt="a fox")
    fast = gf.choose_quality(start, "t2v-A14B", THREE, tmp_path)
    assert (fast.warmup_steps, fast.warmup_guidance, fast.switch_step) == (1, 3.5, 4)
    request = gf.build_request(fast, "t2v-A14B")
    assert (request.warmup_steps, request.warmup_guidance, request.preset) == (1, 3.5, THREE)
    request.validate()
    again = gf.values_from_request(request)
    assert (again.quality, again.warmup_steps, again.warmup_guidance) == (THREE, 1, 3.5)
    four = gf.choose_quality(fast, "t2v-A14B", "lightning-t2v", tmp_path)
    assert (four.warmup_steps, four.warmup_guidance) == (0, None)
    back = gf.choose_quality(fast, "t2v-A14B", "official", tmp_path)
    assert (back.warmup_steps, back.warmup_guidance) == (0, None)
    assert gf.build_request(back, "t2v-A14B").warmup_steps == 0
    # a request's own warm-up (from the command line) survives a trip through the form
    own = replace(request, preset=None, warmup_steps=2, warmup_guidance=None)
    assert gf.build_request(gf.values_from_request(own), "t2v-A14B").warmup_steps == 2


def test_three_phase_forwards_count_the_guided_first_phase():
    r = GenerationRequest.for_task(
        "t2v-A14B",
        prompt="x",
        guidance=Guidance(1.0, 1.0),
        sample_steps=8,
        switch_step=4,
        warmup_steps=1,
        warmup_guidance=3.5,
    )
    assert gf.forwards_per_step(r) == 9 / 8  # 2 forwards in phase 1, then 1 a step
    assert gf.forwards_per_step(replace(r, warmup_guidance=None)) == 1.0  # only the LoRAs off
    # A warm-up reaching past the switch counts the low-noise steps at their own guidance.
    mixed = replace(r, guidance=Guidance(4.0, 1.0), switch_step=1, warmup_steps=2)
    assert gf.forwards_per_step(mixed) == (2 + 2 + 6 * 2) / 8
    three = estimate("t2v-A14B", 1280, 720, 81, 8, 1, "NVIDIA H100", forwards_per_step=9 / 8)
    official = estimate("t2v-A14B", 1280, 720, 81, 40, 1, "NVIDIA H100")
    assert three is not None and official is not None
    assert three.low_s / official.low_s == pytest.approx(9 / 80)
    print(f"3-phase ETA / official ETA (H100, 720p, 81 frames): {three.low_s / official.low_s}")


def test_the_three_phase_preset_in_the_view_queues_its_warmup(qtbot, ctx, view):
    preset_files(ctx.paths.models / LORA_FOLDER, THREE)
    choose(view.task, "t2v-A14B")
    view.prompt.setPlainText("a fox in the snow")
    choose(view.quality, THREE)
    adv = view.advanced
    assert (adv.steps.value(), adv.shift.value(), adv.switch_step.value()) == (8, 3.0, 4)
    view.refresh_preview()
    assert view.add_to_queue.isEnabled(), view.message.text()
    qtbot.mouseClick(view.add_to_queue, Qt.MouseButton.LeftButton)
    drain(qtbot, ctx)
    [job] = q.list_jobs(ctx.db)
    req = GenerationRequest.from_json(job.request_json)
    assert (req.preset, req.sample_steps, req.warmup_steps, req.warmup_guidance) == (
        THREE,
        8,
        1,
        3.5,
    )
    assert len(req.loras) == 2
    choose(view.quality, "official")
    assert view.values().warmup_steps == 0
