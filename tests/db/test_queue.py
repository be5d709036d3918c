"""Queue operations: enqueue, order, move, pause, cancel, retry, edit, delete, runner updates."""

from __future__ import annotations

import json
import random

import pytest

from wan22_desktop.db import queue as q
from wan22_desktop.db.database import Database
from wan22_desktop.db.models import Generation, Job
from wan22_desktop.errors import OperationError, UserInputError
from wan22_desktop.request import GenerationRequest

from .conftest import claim, die, make_request

R = "runner-a"


def seeds(jobs: list[Job]) -> list[int]:
    return [GenerationRequest.from_json(j.request_json).seed for j in jobs]


def queued_ids(db: Database) -> list[int]:
    return [j.id for j in q.list_jobs(db, statuses=["queued"])]


def count_jobs(db: Database) -> int:
    return sum(q.counts_by_status(db).values())


# ---- enqueue


def test_batch_with_a_seed_uses_consecutive_seeds(db: Database) -> None:
    jobs = q.enqueue(db, make_request(seed=100), count=3)
    assert seeds(jobs) == [100, 101, 102]
    assert [j.position for j in jobs] == [1, 2, 3]
    assert {j.status for j in jobs} == {"queued"}


def test_random_seeds_are_resolved_and_stored(db: Database) -> None:
    jobs = q.enqueue(db, make_request(seed=-1), count=4, rng=random.Random(1))
    stored = seeds(q.list_jobs(db))
    assert stored == seeds(jobs)
    assert all(s >= 0 for s in stored) and len(set(stored)) == 4
    forced = q.enqueue(db, make_request(seed=5), count=2, random_seeds=True, rng=random.Random(2))
    assert seeds(forced) != [5, 6] and all(s >= 0 for s in seeds(forced))


def test_invalid_request_writes_nothing(db: Database) -> None:
    q.enqueue(db, make_request())
    with pytest.raises(UserInputError, match="frame count"):
        q.enqueue(db, make_request(frame_num=10), count=5)
    with pytest.raises(UserInputError):
        q.enqueue(db, make_request(), count=0)
    with pytest.raises(UserInputError, match="lane"):
        q.enqueue(db, make_request(), lane="sideways")
    assert count_jobs(db) == 1


def test_now_lane_runs_before_normal(db: Database) -> None:
    a, b = q.enqueue(db, make_request(prompt="first normal"), count=2)
    (urgent,) = q.enqueue(db, make_request(prompt="urgent"), lane="now")
    assert queued_ids(db) == [urgent.id, a.id, b.id]
    assert claim(db, R).id == urgent.id


# ---- move


@pytest.mark.parametrize(
    "to, expected",
    [
        ("up", [1, 3, 2, 4]),
        ("down", [1, 2, 4, 3]),
        ("top", [3, 1, 2, 4]),
        ("bottom", [1, 2, 4, 3]),
        (1, [3, 1, 2, 4]),
        (2, [1, 3, 2, 4]),
        (99, [1, 2, 4, 3]),
    ],
)
def test_move_within_the_lane(db: Database, to: q.MoveTo, expected: list[int]) -> None:
    q.enqueue(db, make_request(), count=4)
    q.move_job(db, 3, to)
    assert queued_ids(db) == expected


def test_move_refuses_non_queued_and_missing_jobs(db: Database) -> None:
    q.enqueue(db, make_request(), count=2)
    claim(db, R)
    with pytest.raises(UserInputError, match="only queued"):
        q.move_job(db, 1, "down")
    with pytest.raises(UserInputError, match="no job 9"):
        q.move_job(db, 9, "up")


# ---- pause, cancel, retry, edit, delete


def test_pause_stops_claims_until_resumed(db: Database) -> None:
    q.enqueue(db, make_request())
    q.set_paused(db, True)
    assert q.is_paused(db)
    assert claim(db, R) is None
    q.set_paused(db, False)
    assert claim(db, R) is not None


def test_cancel_queued_is_immediate_running_sets_a_flag(db: Database) -> None:
    q.enqueue(db, make_request(), count=2)
    running = claim(db, R)
    assert q.cancel_job(db, 2).status == "cancelled"
    flagged = q.cancel_job(db, running.id)
    assert (flagged.status, flagged.cancel_requested) == ("running", True)
    assert q.update_progress(db, running.id, R, step=3, total=30, phase="denoise") is True
    assert q.mark_cancelled(db, running.id, R).status == "cancelled"
    with pytest.raises(UserInputError, match="already cancelled"):
        q.cancel_job(db, 2)


def test_retry_requeues_at_the_end_and_clears_the_error(db: Database) -> None:
    q.enqueue(db, make_request(), count=3)
    job = claim(db, R)
    q.fail_job(db, job.id, R, kind="oom", message="out of memory", hint="use offload")
    with pytest.raises(UserInputError, match="only failed"):
        q.retry_job(db, 2)
    again = q.retry_job(db, job.id)
    assert again.status == "queued" and again.error_message is None
    assert queued_ids(db) == [2, 3, job.id]
    assert claim(db, R).id == 2


def test_reroll_stops_the_job_and_queues_it_first_with_a_new_seed(db: Database) -> None:
    q.enqueue(db, make_request(), count=3)  # seeds 42, 43, 44
    running = claim(db, R)
    new = q.reroll_job(db, running.id, rng=random.Random(0))
    old = q.get_job(db, running.id)
    assert (old.status, old.cancel_requested) == ("running", True)  # stops at its next step
    req = GenerationRequest.from_json(new.request_json)
    assert req.seed not in (-1, 42)
    assert req == GenerationRequest.from_json(running.request_json).with_seed(req.seed)
    assert queued_ids(db)[0] == new.id  # runs next, before the other queued jobs
    queued = q.reroll_job(db, 2)  # a queued one is cancelled at once
    assert q.get_job(db, 2).status == "cancelled" and queued_ids(db)[:2] == [new.id, queued.id]
    with pytest.raises(UserInputError, match="only a queued or running job"):
        q.reroll_job(db, 2)


def test_edit_changes_a_queued_request_after_validation(db: Database) -> None:
    (job,) = q.enqueue(db, make_request(seed=9))
    edited = q.edit_job(db, job.id, prompt="a blue whale", size="704*1280")
    req = GenerationRequest.from_json(edited.request_json)
    assert (req.prompt, req.size, req.seed, edited.prompt) == (
        "a blue whale",
        "704*1280",
        9,
        "a blue whale",
    )
    before = q.get_job(db, job.id).request_json
    with pytest.raises(UserInputError, match="frame count"):
        q.edit_job(db, job.id, frame_num=8)
    with pytest.raises(UserInputError):
        q.edit_job(db, job.id, no_such_field=1)
    assert q.get_job(db, job.id).request_json == before
    q.edit_job(db, job.id, seed=-1)
    assert GenerationRequest.from_json(q.get_job(db, job.id).request_json).seed >= 0
    claim(db, R)
    with pytest.raises(UserInputError, match="only queued"):
        q.edit_job(db, job.id, prompt="too late")


def test_delete_refuses_a_running_job(db: Database) -> None:
    q.enqueue(db, make_request(), count=2)
    running = claim(db, R)
    with pytest.raises(UserInputError, match="running"):
        q.delete_job(db, running.id)
    q.delete_job(db, 2)
    assert [j.id for j in q.list_jobs(db)] == [running.id]


# ---- runner side


def test_claim_takes_jobs_in_order_and_counts_attempts(db: Database) -> None:
    q.enqueue(db, make_request(), count=2)
    first, second = claim(db, R), claim(db, R)
    assert (first.id, second.id) == (1, 2)
    assert (first.status, first.runner_id, first.attempts) == ("running", R, 1)
    assert first.started_at is not None
    assert claim(db, R) is None


def test_finish_creates_the_generation_in_the_same_step(db: Database) -> None:
    q.enqueue(db, make_request(prompt="a heron", seed=77))
    job = claim(db, R)
    q.set_plan(db, job.id, R, {"offload_model": True, "reason": "24 GB GPU"})
    q.update_progress(db, job.id, R, step=40, total=50, phase="denoise", eta_s=12.5)
    assert q.get_job(db, job.id).progress_eta_s == 12.5
    gen = q.finish_job(
        db,
        job.id,
        R,
        q.GenerationResult(
            video_path="/out/a.mp4",
            thumbnail_path="/out/a.jpg",
            final_prompt="a grey heron fishing",
            frames=121,
            width=1280,
            height=704,
            fps=24,
            duration_s=5.04,
            timings={"load": 3.0, "denoise": 60.0},
            peak_memory_bytes=123,
            model_path="/m/ti2v",
        ),
    )
    done = q.get_job(db, job.id)
    assert (done.status, done.generation_id) == ("done", gen.id)
    with db.session() as s:
        row = s.get(Generation, gen.id)
        assert (row.prompt, row.final_prompt, row.seed, row.model_task) == (
            "a heron",
            "a grey heron fishing",
            77,
            "ti2v-5B",
        )
        assert json.loads(row.plan_json)["offload_model"] is True
        assert row.timings == {"denoise": 60.0, "load": 3.0}


def test_failure_keeps_kind_message_and_hint(db: Database) -> None:
    q.enqueue(db, make_request())
    job = claim(db, R)
    failed = q.fail_job(db, job.id, R, kind="oom", message="CUDA out of memory", hint="offload")
    assert (failed.status, failed.error_kind, failed.error_message, failed.error_hint) == (
        "failed",
        "oom",
        "CUDA out of memory",
        "offload",
    )


def test_a_runner_that_lost_its_job_cannot_write_to_it(db: Database) -> None:
    q.enqueue(db, make_request())
    job = claim(db, "old-runner")
    die(db, "old-runner")
    q.recover_orphans(db, "new-runner")
    with pytest.raises(OperationError, match="no longer run by this runner"):
        q.finish_job(db, job.id, "old-runner", q.GenerationResult(video_path="/x.mp4"))
    with pytest.raises(OperationError):
        q.update_progress(db, job.id, "old-runner", step=1, total=2)
    assert q.get_job(db, job.id).status == "queued"


def test_recovery_requeues_at_the_front_then_interrupts(db: Database) -> None:
    q.enqueue(db, make_request(), count=3)
    for attempt in range(1, 4):
        job = claim(db, f"dead-{attempt}")
        assert job.id == 1
        die(db, f"dead-{attempt}")
        (recovered,) = q.recover_orphans(db, "me", max_interruptions=3)
        assert recovered.interruptions == attempt
        assert f"dead-{attempt}" in recovered.status_reason
        if attempt < 3:
            assert recovered.status == "queued"
            assert queued_ids(db)[0] == 1  # it was next; it stays next
        else:
            assert recovered.status == "interrupted"
            assert recovered.finished_at is not None
    assert queued_ids(db) == [2, 3]
    assert q.retry_job(db, 1).interruptions == 0


def test_recovery_of_a_job_being_cancelled_cancels_it(db: Database) -> None:
    q.enqueue(db, make_request())
    job = claim(db, "dead")
    die(db, "dead")
    q.cancel_job(db, job.id)
    (recovered,) = q.recover_orphans(db, "me")
    assert recovered.status == "cancelled"


def test_recovery_leaves_the_current_runners_jobs_alone(db: Database) -> None:
    q.enqueue(db, make_request())
    claim(db, "me")
    assert q.recover_orphans(db, "me") == []
