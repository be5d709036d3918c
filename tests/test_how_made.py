""" "How it was made": the formatter over stored generations (MoE switch, warm-up phases, Turbo
skips, old rows, malformed JSON) and ``wan22 history show`` in plain English and as JSON."""

from __future__ import annotations

import json
from typing import Any

import pytest

from wan22_desktop.cli import main
from wan22_desktop.db import queue as q
from wan22_desktop.db.database import open_app_database
from wan22_desktop.paths import app_paths
from wan22_desktop.request import GenerationRequest, LoraRef
from wan22_desktop.services.how_made import (
    TEMPLATES,
    compact_ranges,
    english_lines,
    how_made,
)

HIGH, LOW = "high_noise_model", "low_noise_model"
FALLBACK = "attention: sage gave NaN in block 3; this job ran on PyTorch SDPA from then on"


def a14b(**kw: Any) -> dict[str, Any]:
    return GenerationRequest.for_task("t2v-A14B", prompt="a boat", seed=7, **kw).to_dict()


def generation(request: Any, plan: Any = None, **extra: Any) -> dict[str, Any]:
    return {"id": 1, "task": "t2v-A14B", "seed": 7, "request": request, "plan": plan, **extra}


def by_label(gen: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in english_lines(gen):
        label, _, text = line.partition(": ")
        out[label] = text
    return out


@pytest.mark.parametrize(
    ("steps", "text"),
    [
        ([], ""),
        ([0], "1"),
        ([0, 1, 2, 3], "1–4"),
        ([5, 2, 3, 9, 8], "3–4, 6, 9–10"),
        ([1, 1, 2], "2–3"),
    ],
)
def test_compact_ranges_are_one_based_runs(steps: list[int], text: str) -> None:
    assert compact_ranges(steps) == text


def test_moe_switch_turbo_skips_loras_attention_fallback_times_and_memory() -> None:
    lora = LoraRef(path="/loras/motion.safetensors", sha256="ab" * 32, strength_low=0.5)
    request = a14b(sample_steps=8, step_cache=0.1, loras=(lora,))
    plan = {
        "task": "t2v-A14B",
        "device": "cuda",
        "attention": "sage",
        "reasons": {"task": "t2v-A14B as requested", "gpus": "1 GPU", "attention": "fastest"},
        "warnings": ["something else", FALLBACK],
        "est_vram_gib": 21.04,
        "est_ram_gib": 40.0,
        "sampling": {"experts": [HIGH] * 3 + [LOW] * 5, "skipped_steps": [4, 6, 7]},
    }
    timings = {"loading": 10.0, "sampling": 40.0, "decoding": 5.25, "total": 60.0}
    lines = by_label(generation(request, plan, timings=timings, peak_memory_bytes=20 << 30))
    assert lines["Model"] == "t2v-A14B"  # "as requested" says nothing more
    assert lines["Placement"] == "1 GPU"
    assert lines["Steps"] == "8 steps, solver unipc, shift 12"
    assert lines["Steps by expert"] == "high-noise 1–3, low-noise 4–8"
    assert lines["Turbo (step caching)"] == "skipped 3 of 8 steps: 5, 7–8"
    assert lines["Guidance"] == "high-noise 4, low-noise 3"
    assert lines["LoRA"] == "motion.safetensors, high-noise 1, low-noise 0.5"
    assert lines["Attention"] == "fastest, fell back to PyTorch SDPA: sage gave NaN in block 3"
    assert lines["Seed"] == "7"
    assert lines["Time"] == (
        "loading 10.0 s, sampling 40.0 s, decoding 5.2 s, 5.00 s per step, total 60.0 s"
    )
    assert lines["Peak memory"] == "20.0 GiB"
    assert lines["Planned memory"] == "about 21.0 GiB VRAM per GPU, 40.0 GiB RAM"
    assert "Phase 1" not in lines  # no warm-up


def test_guided_warmup_phases_show_guidance_and_loras_off_then_on() -> None:
    request = a14b(sample_steps=6, warmup_steps=2, warmup_guidance=1.0)
    phases = [
        {"steps": [0, 2], "expert": HIGH, "guidance": 1.0, "loras": False},
        {"steps": [2, 3], "expert": HIGH, "guidance": 4.0, "loras": True},
        {"steps": [3, 6], "expert": LOW, "guidance": 3.0, "loras": True},
    ]
    sampling = {"experts": [HIGH] * 3 + [LOW] * 3, "skipped_steps": [], "phases": phases}
    lines = by_label(generation(request, {"task": "t2v-A14B", "sampling": sampling}))
    assert lines["Phase 1"] == "steps 1–2, high-noise, guidance 1, LoRAs off"
    assert lines["Phase 2"] == "steps 3, high-noise, guidance 4, LoRAs on"
    assert lines["Phase 3"] == "steps 4–6, low-noise, guidance 3, LoRAs on"
    assert lines["Guidance"] == "high-noise 4, low-noise 3, warm-up: 2 steps at 1"
    assert "Turbo (step caching)" not in lines  # off, nothing skipped


def test_turbo_on_without_skips_and_a_single_model_with_one_lora_strength() -> None:
    lora = LoraRef(
        path="/l/style.safetensors", sha256="cd" * 32, strength_high=0.8, strength_low=0.8
    )
    request = GenerationRequest.for_task(
        "ti2v-5B", prompt="x", step_cache=0.05, loras=(lora,)
    ).to_dict()
    sampling = {"experts": ["model"] * 4, "skipped_steps": []}
    lines = by_label(generation(request, {"task": "ti2v-5B", "sampling": sampling}))
    assert lines["Steps by expert"] == "one model 1–4"
    assert lines["Turbo (step caching)"] == "on (threshold 0.05), no step skipped"
    assert lines["Guidance"] == "5"
    assert lines["LoRA"] == "style.safetensors, strength 0.8"


def test_an_old_row_without_sampling_record_says_not_recorded() -> None:
    request = a14b(step_cache=0.1)
    lines = by_label(generation(request, {"task": "t2v-A14B"}))
    assert lines["Steps by expert"] == "not recorded"
    assert lines["Turbo (step caching)"] == "not recorded"
    assert lines["Time"] == "not recorded"
    assert lines["Peak memory"] == "not recorded"
    assert lines["Steps"].startswith("40 steps")  # from the request


@pytest.mark.parametrize(
    "gen",
    [
        None,
        {},
        {"request": "{not json", "plan": "[1"},
        {"request": [], "plan": {"sampling": "junk", "reasons": [1], "warnings": "x"}},
        {"plan": {"sampling": {"experts": 3, "skipped_steps": "a", "phases": [{"steps": 5}]}}},
        {"plan": {"sampling": {"phases": [None, {"steps": ["a", "b"]}]}}, "timings": [1]},
        {"request": {"loras": [None, {"strength_high": "x"}], "guidance": {"low": None}}},
        {"seed": "7", "peak_memory_bytes": "big", "timings": {"sampling": "slow"}},
    ],
)
def test_malformed_records_never_raise(gen: Any) -> None:
    lines = how_made(gen)
    assert all(isinstance(line.english(), str) for line in lines)


def test_every_emitted_template_is_in_the_catalogue() -> None:
    request = a14b(sample_steps=4, warmup_steps=1, step_cache=0.1)
    sampling = {
        "experts": [HIGH, HIGH, LOW, "other"],
        "skipped_steps": [1],
        "phases": [{"steps": [0, 1], "expert": HIGH, "guidance": 1.0, "loras": False}],
    }
    plan = {"task": "t2v-A14B", "attention": "sdpa", "warnings": [FALLBACK], "sampling": sampling}
    gen = generation(request, plan, timings={"sampling": 1.0, "lora_merge": 2.0})
    for line in how_made(gen):
        for phrase in (line.label, *line.phrases):
            if phrase.kind == "template":
                assert phrase.text in TEMPLATES, phrase.text


def test_history_show_prints_how_it_was_made_and_json_keeps_the_raw_record(
    capsys: pytest.CaptureFixture[str],
) -> None:
    sampling = {"experts": [HIGH] * 2 + [LOW] * 2, "skipped_steps": [3]}
    request = GenerationRequest.for_task("t2v-A14B", prompt="a boat", seed=9, sample_steps=4)
    with open_app_database(app_paths()) as db:
        q.enqueue(db, request)
        job = q.claim_next(db, "test")
        q.set_plan(db, job.id, "test", {"task": "t2v-A14B", "attention": "sdpa"})
        gen = q.finish_job(
            db,
            job.id,
            "test",
            q.GenerationResult(
                video_path="/v.mp4",
                timings={"sampling": 8.0, "total": 10.0},
                warnings=(FALLBACK,),
                sampling=sampling,
            ),
        )
    capsys.readouterr()
    assert main(["history", "show", str(gen.id)]) == 0
    out = capsys.readouterr().out
    assert "How it was made" in out
    assert "  Steps by expert: high-noise 1–2, low-noise 3–4" in out
    assert "  Turbo (step caching): skipped 1 of 4 steps: 4" in out
    assert "fell back to PyTorch SDPA: sage gave NaN in block 3" in out
    assert "  Seed: 9" in out and "prompt: a boat" in out
    assert main(["--json", "history", "show", str(gen.id)]) == 0
    raw = json.loads(capsys.readouterr().out)
    assert raw["plan"]["sampling"] == sampling and raw["seed"] == 9


def test_an_unfinished_job_shows_only_what_was_asked_and_planned() -> None:
    request = a14b(sample_steps=8, step_cache=0.1)
    plan = {"task": "t2v-A14B", "attention": "sdpa", "est_vram_gib": 20.0, "est_ram_gib": 30.0}
    job = {"id": 4, "task": "t2v-A14B", "seed": -1, "request": request, "plan": plan}
    lines: dict[str, str] = {}
    for line in how_made(job, finished=False):
        label, _, text = line.english().partition(": ")
        lines[label] = text
    assert lines["Steps"].startswith("8 steps")
    assert lines["Planned memory"] == "about 20.0 GiB VRAM per GPU, 30.0 GiB RAM"
    assert set(lines).isdisjoint(
        {"Steps by expert", "Turbo (step caching)", "Time", "Peak memory", "Seed"}
    )
