"""``requeue_after_oom``: the runner's out-of-memory fallback puts its job back at the front with
the safer request, in one transaction, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from wan22_desktop.db import queue as q
from wan22_desktop.db.database import Database
from wan22_desktop.errors import OperationError
from wan22_desktop.request import GenerationRequest

from .conftest import claim, make_request

R = "host:1:runner"
NOTE = "ran out of GPU memory; retried with 20 % of the GPU kept free"


def test_the_job_goes_back_first_with_the_safer_request_and_the_note(db: Database) -> None:
    q.enqueue(db, make_request(), count=3)
    job = claim(db, R)
    assert job is not None
    request = GenerationRequest.from_json(job.request_json)
    safer = replace(request, memory=replace(request.memory, vram_headroom=20))
    with pytest.raises(OperationError):  # only the runner that runs it
        q.requeue_after_oom(db, job.id, "someone:2:else", safer, NOTE, {"device": "cuda"})
    back = q.requeue_after_oom(db, job.id, R, safer, NOTE, {"device": "cuda"})
    assert back.status == "queued" and back.status_reason == NOTE and back.runner_id is None
    assert GenerationRequest.from_json(back.request_json).memory.vram_headroom == 20
    assert json.loads(back.plan_json) == {"device": "cuda", "oom_fallback": NOTE}
    assert q.carried_warnings(back.plan_json) == (NOTE,)
    again = claim(db, R)  # it runs next, ahead of the two that were waiting
    assert again is not None and again.id == job.id and again.attempts == 2
    assert q.carried_warnings(again.plan_json) == (NOTE,)


@pytest.mark.parametrize("plan_json", [None, "", "not json", "[1]", '{"oom_fallback": 3}'])
def test_no_note_from_a_plan_without_one(plan_json: str | None) -> None:
    assert q.carried_warnings(plan_json) == ()
