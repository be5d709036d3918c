"""After "out of GPU memory": a safer plan that is really safer (planning.safer_retry), and the
runner's one automatic retry with it (runner.QueueRunner._out_of_memory)."""

from __future__ import annotations

import json

import pytest

from tests.runtime.helpers import TASK, make_home
from wan22_desktop.db import history
from wan22_desktop.db import queue as q
from wan22_desktop.errors import UserInputError
from wan22_desktop.request import GenerationRequest, MemoryOptions
from wan22_desktop.runtime.hardware import GPU, Hardware
from wan22_desktop.runtime.planner import JobShape, PlanOverrides, plan
from wan22_desktop.runtime.planning import (
    HEADROOM_CAP,
    NoSaferPlan,
    installed_models,
    overrides_for,
    plan_request,
    safer_request,
    safer_retry,
)
from wan22_desktop.runtime.runner import QueueRunner, RunnerOptions
from wan22_desktop.runtime.vram_table import hardware

CASES = [("t2v-A14B", "1280*720", 24), ("ti2v-5B", "1280*704", 12), ("ti2v-5B", "1280*704", 8)]


# ---- the headroom the planner honours


def test_headroom_plans_for_less_of_the_gpu_and_says_so():
    shape = JobShape("t2v-A14B", 1280, 720, 81)
    full = plan(shape, hardware(24, 1))
    kept = plan(shape, hardware(24, 1), overrides=PlanOverrides(vram_headroom=20))
    assert kept.est_vram_gib < full.est_vram_gib <= 23.6
    assert kept.est_vram_gib <= 23.6 * 0.8
    assert "planned for" not in full.reasons["vram"]
    assert kept.reasons["vram"].endswith("; planned for 19 of 24 GiB: 20 % kept free")


def test_a_refusal_under_headroom_names_the_card_and_the_planned_figure():
    with pytest.raises(UserInputError) as err:
        plan(
            JobShape("t2v-A14B", 1280, 720, 81),
            hardware(24, 1),
            overrides=PlanOverrides(vram_headroom=60),
        )
    assert "the GPU has 24 GiB; planned for 9 of 24 GiB: 60 % kept free" in err.value.message
    assert "smallest card" in err.value.hint


def test_headroom_is_a_validated_request_field_old_rows_load_as_zero():
    old = GenerationRequest.for_task(TASK, prompt="x").to_dict()
    del old["memory"]["vram_headroom"]
    assert GenerationRequest.from_dict(old).memory.vram_headroom == 0
    req = GenerationRequest.for_task(TASK, prompt="x", memory={"vram_headroom": 20})
    assert GenerationRequest.from_json(req.to_json()) == req
    assert overrides_for(req).vram_headroom == 20
    for bad in (-1, 61):
        with pytest.raises(UserInputError) as err:
            GenerationRequest.for_task(TASK, prompt="x", memory={"vram_headroom": bad}).validate()
        assert err.value.field == "memory" and "0..60" in err.value.hint


def test_the_flag_round_trips_through_copy_as_command_and_queue_edit():
    import argparse
    import shlex

    from wan22_desktop.request_cli import request_to_cli
    from wan22_desktop.request_flags import add_request_flags, request_changes, request_from_args

    parser = argparse.ArgumentParser()
    add_request_flags(parser)
    req = GenerationRequest.for_task(
        TASK, prompt="x", seed=3, memory=MemoryOptions(t5_cpu="on", vram_headroom=40)
    )
    argv = shlex.split(request_to_cli(req))[2:]
    assert "--vram_headroom" in argv
    assert request_from_args(parser.parse_args(argv)) == req
    # an edit changes the headroom and keeps the other memory switches
    edit = request_changes(parser.parse_args(["--vram_headroom", "0"]), base=req)
    assert edit["memory"] == MemoryOptions(t5_cpu="on", vram_headroom=0)


# ---- a safer retry that is really safer


@pytest.mark.parametrize("task,size,gb", CASES)
def test_each_safer_retry_lowers_the_peak_until_the_tightest_plan(task, size, gb):
    request = GenerationRequest.for_task(task, prompt="x", size=size)
    hw, steps = hardware(gb, 1), []
    while True:
        failed = plan_request(request, hw, {})
        try:
            request, safer = safer_retry(request, hw, {}, failed=failed)
        except NoSaferPlan as exc:
            # The same plan is not retried: the user is told why and what would help.
            assert "no safer plan" in exc.message and "smaller size" in exc.hint
            break
        assert safer.est_vram_gib < failed.est_vram_gib, (task, gb, request.memory)
        steps.append(request.memory.vram_headroom)
        print(task, gb, f"{failed.est_vram_gib} -> {safer.est_vram_gib} GiB", request.memory)
    assert steps and steps == sorted(set(steps)) and steps[-1] <= HEADROOM_CAP


def test_the_old_all_savers_retry_was_the_same_plan_on_24_gb():
    """Why the retry raises the headroom: pinning the savers on gives A14B on 24 GB the plan
    that ran out of memory again."""
    request = GenerationRequest.for_task("t2v-A14B", prompt="x")
    pinned = GenerationRequest.for_task(
        "t2v-A14B", prompt="x", memory=MemoryOptions("on", "on", "on")
    )
    hw = hardware(24, 1)
    assert plan_request(pinned, hw, {}).est_vram_gib == plan_request(request, hw, {}).est_vram_gib
    _, safer = safer_retry(request, hw, {})
    assert safer.est_vram_gib < plan_request(request, hw, {}).est_vram_gib


def test_safer_request_raises_the_headroom_and_frees_pins_that_keep_plans_big():
    req = GenerationRequest.for_task(
        TASK, prompt="x", memory=MemoryOptions(offload_model="off", t5_cpu="on")
    )
    safer = safer_request(req)
    assert safer.memory == MemoryOptions("auto", "auto", "on", vram_headroom=20)
    top = safer_request(safer_request(safer_request(safer)))
    assert top.memory.vram_headroom == HEADROOM_CAP
    # offload pinned off rules out block streaming: there is no plan for 5B on 8 GB with it
    hw = hardware(8, 1)
    with pytest.raises(UserInputError):
        plan_request(req, hw, {})
    assert plan_request(safer, hw, {}).stream_blocks > 0


def test_no_gpu_no_retry():
    request = GenerationRequest.for_task(TASK, prompt="x", size="128*128", frame_num=5)
    cpu = Hardware(ram_total_gib=64.0, ram_available_gib=32.0, cpu_count=2)
    from wan22_desktop.runtime.planner import InstalledModel

    tiny = {TASK: InstalledModel(TASK, "/m", 1000)}
    with pytest.raises(NoSaferPlan, match="does not run on a GPU"):
        safer_retry(request, cpu, tiny)


# ---- the runner retries once by itself

SMALL_GPU = Hardware(
    gpus=(GPU(0, "RTX 4060 8GB", 7.8, 7.5, (8, 9)),), ram_total_gib=64.0, ram_available_gib=32.0
)


@pytest.fixture
def home(tmp_path, worker_env):
    h = make_home(tmp_path / "home")
    yield h
    h.db.close()


def _runner(home, events, **env) -> QueueRunner:
    options = RunnerOptions(keep_awake=False, poll_s=0.05, worker_env=env)
    return QueueRunner(home.db, home.paths, options, hardware=SMALL_GPU, on_event=events.append)


def _enqueue(home, headroom: int = 0) -> int:
    req = GenerationRequest.for_task(
        TASK,
        prompt="oom here",
        size="128*128",
        frame_num=5,
        sample_steps=3,
        seed=5,
        memory={"vram_headroom": headroom},
    )
    return q.enqueue(home.db, req)[0].id


def test_a_job_that_runs_out_of_memory_is_retried_once_with_headroom(home):
    job_id = _enqueue(home)
    events: list = []
    first = plan_request(
        GenerationRequest.from_json(home.job(job_id).request_json),
        SMALL_GPU,
        installed_models(home.db),
    )
    summary = _runner(home, events, LOOP_OOM_AT="1", LOOP_OOM_BELOW_HEADROOM="20").run()
    job = home.job(job_id)
    assert summary.done == [job_id] and summary.failed == [] and job.status == "done"
    assert GenerationRequest.from_json(job.request_json).memory.vram_headroom == 20
    note = "ran out of GPU memory; retried with 20 % of the GPU kept free"
    requeued = [e for e in events if e.kind == "requeued"]
    assert len(requeued) == 1 and requeued[0].message.startswith(note)
    assert requeued[0].data == {"kind": "out_of_memory", "vram_headroom": 20}
    ran = json.loads(job.plan_json)
    assert note in ran["warnings"] and "oom_fallback" not in ran
    assert ran["est_vram_gib"] < first.est_vram_gib
    assert "20 % kept free" in ran["reasons"]["vram"]
    gen = history.get_generation(home.db, job.generation_id)
    assert note in json.loads(gen.plan_json)["warnings"]


def test_a_second_out_of_memory_fails_and_says_how_to_go_on(home):
    job_id = _enqueue(home)
    events: list = []
    summary = _runner(home, events, LOOP_OOM_AT="1").run()  # runs out on every attempt
    job = home.job(job_id)
    assert summary.failed == [job_id] and job.status == "failed"
    assert job.error_kind == "out_of_memory" and job.attempts == 2  # one retry, no loop
    assert "not retried by itself: it already kept 20 % of the GPU free" in job.error_message
    assert f"retry-safer {job_id}" in job.error_hint


def test_out_of_memory_at_the_cap_fails_with_the_reason(home):
    job_id = _enqueue(home, headroom=HEADROOM_CAP)
    events: list = []
    summary = _runner(home, events, LOOP_OOM_AT="1").run()
    job = home.job(job_id)
    assert summary.failed == [job_id] and job.attempts == 1
    assert job.error_kind == "out_of_memory"
    assert "it already keeps 60 % of the GPU free, the most the planner keeps" in (
        job.error_message
    )
    assert "smaller size" in job.error_hint
    assert not [e for e in events if e.kind == "requeued"]


def test_a_video_made_with_headroom_queues_again_with_it():
    """``queue add --from VIDEO`` reads the request embedded in the file."""
    from wan22_desktop.video_metadata import build_payload, comment_text, settings_from_tags

    req = GenerationRequest.for_task(TASK, prompt="x", seed=3, memory={"vram_headroom": 20})
    settings = settings_from_tags({"comment": comment_text(build_payload(req))})
    assert settings is not None
    fields = {k: v for k, v in settings.fields.items() if k != "task"}
    assert GenerationRequest.for_task(TASK, **fields).memory.vram_headroom == 20


def test_the_cli_says_queued_again_for_the_fallback(capsys):
    from wan22_desktop.commands.queue_run import _Display
    from wan22_desktop.runtime.runner import RunnerEvent

    display = _Display(json_lines=False)
    data = {"kind": "out_of_memory", "vram_headroom": 20}
    display(RunnerEvent("requeued", 7, "ran out of GPU memory; retried with 20 %", data))
    assert (
        capsys.readouterr().out == "job 7: queued again: ran out of GPU memory; retried with 20 %\n"
    )


def test_a_throughput_group_words_the_fallback_as_one_runner_does():
    """``queue run --gpu-mode throughput`` prints its children's JSON events with the same words
    (``runner_group.event_word``): the fallback is "queued again", a stop "left queued"."""
    from wan22_desktop.runtime.runner_group import _event_text

    note = "ran out of GPU memory; retried with 20 %"
    data = {"kind": "out_of_memory", "vram_headroom": 20}
    event = {"event": "requeued", "job_id": 7, "message": note, "data": data}
    assert _event_text(event) == f"job 7: queued again: {note}"
    stop = {"event": "requeued", "job_id": 8, "message": "stopped by the user", "data": None}
    assert _event_text(stop) == "job 8: left queued: stopped by the user"
