"""History: paging, filters, prompt search (Chinese included), marks, deletion, re-run."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from wan22_desktop.db import history as h
from wan22_desktop.db import queue as q
from wan22_desktop.db.database import Database
from wan22_desktop.errors import UserInputError
from wan22_desktop.request import GenerationRequest

from .conftest import add_generation, claim

T0 = datetime(2026, 3, 1, 12, 0, 0)


def ids(page: h.Page) -> list[int]:
    return [g.id for g in page.items]


def test_pages_are_newest_first(db: Database) -> None:
    for i in range(7):
        add_generation(db, prompt=f"clip {i}", created_at=T0 + timedelta(minutes=i))
    first = h.list_generations(db, page=0, page_size=3)
    assert (ids(first), first.total, first.pages) == ([7, 6, 5], 7, 3)
    assert ids(h.list_generations(db, page=2, page_size=3)) == [1]
    assert ids(h.list_generations(db, page=3, page_size=3)) == []
    with pytest.raises(UserInputError):
        h.list_generations(db, page_size=0)


def test_filters_by_task_favourite_tag_and_date(db: Database) -> None:
    a = add_generation(db, task="ti2v-5B", created_at=T0)
    b = add_generation(db, task="t2v-A14B", created_at=T0 + timedelta(days=1))
    c = add_generation(db, task="t2v-A14B", created_at=T0 + timedelta(days=2))
    h.set_favourite(db, b.id)
    h.add_tags(db, c.id, ["night", "city"])
    assert ids(h.list_generations(db, h.HistoryFilter(task="t2v-A14B"))) == [c.id, b.id]
    assert ids(h.list_generations(db, h.HistoryFilter(favourite=True))) == [b.id]
    assert ids(h.list_generations(db, h.HistoryFilter(favourite=False))) == [c.id, a.id]
    assert ids(h.list_generations(db, h.HistoryFilter(tag="night"))) == [c.id]
    assert ids(h.list_generations(db, h.HistoryFilter(tag="nigh"))) == []
    assert ids(h.list_generations(db, h.HistoryFilter(tag="n_ght"))) == []  # no LIKE wildcards
    window = h.HistoryFilter(since=T0 + timedelta(hours=1), until=T0 + timedelta(days=2))
    assert ids(h.list_generations(db, window)) == [b.id]


def test_search_matches_substrings_of_prompts_and_extended_prompts(db: Database) -> None:
    fox = add_generation(db, prompt="A red fox jumps over the fence", created_at=T0)
    cn = add_generation(
        db,
        prompt="一只小猫在阳光下的草地上玩耍",
        created_at=T0 + timedelta(1),
        final_prompt="A kitten plays on a sunny lawn, close-up, soft light",
    )
    mix = add_generation(
        db, prompt="赛博朋克城市 cyberpunk city at night", created_at=T0 + timedelta(2)
    )
    assert ids(h.search(db, "fox")) == [fox.id]
    assert ids(h.search(db, "FOX JUMPS")) == [fox.id]  # case-insensitive
    assert ids(h.search(db, "小猫在阳光")) == [cn.id]
    assert ids(h.search(db, "kitten")) == [cn.id]  # found through the extended prompt
    assert ids(h.search(db, "城市")) == [mix.id]  # 2 characters: substring fallback
    assert ids(h.search(db, "猫")) == [cn.id]
    assert ids(h.search(db, "cyberpunk city")) == [mix.id]
    assert ids(h.search(db, "a")) == [mix.id, cn.id, fox.id]
    assert ids(h.search(db, "elephant")) == []
    for odd in ('"quoted', "fox*", "NOT fox", "50%_", "(x) OR y"):
        h.search(db, odd)  # user text is taken literally, never as query syntax


def test_search_index_follows_edits_and_deletes(db: Database) -> None:
    gen = add_generation(db, prompt="a lighthouse in a storm")
    with db.session(write=True) as s:
        from wan22_desktop.db.models import Generation

        s.get(Generation, gen.id).final_prompt = "waves crash against the lighthouse"
    assert ids(h.search(db, "waves crash")) == [gen.id]
    h.delete_generation(db, gen.id)
    assert ids(h.search(db, "lighthouse")) == []


def test_search_combines_with_filters(db: Database) -> None:
    add_generation(db, prompt="mountain sunrise", task="ti2v-5B")
    b = add_generation(db, prompt="mountain sunset", task="t2v-A14B")
    flt = h.HistoryFilter(search="mountain", task="t2v-A14B")
    assert ids(h.list_generations(db, flt)) == [b.id]


def test_favourite_tags_and_note(db: Database) -> None:
    gen = add_generation(db)
    assert h.set_favourite(db, gen.id).favourite is True
    assert h.set_favourite(db, gen.id, False).favourite is False
    assert h.add_tags(db, gen.id, ["b", "a", " a "]).tags == ["a", "b"]
    assert h.set_tags(db, gen.id, ["z"]).tags == ["z"]
    with pytest.raises(UserInputError):
        h.set_tags(db, gen.id, ["a,b"])
    assert h.set_note(db, gen.id, "keep this one").note == "keep this one"
    assert h.set_note(db, gen.id, "").note is None
    with pytest.raises(UserInputError, match="no generation 99"):
        h.set_favourite(db, 99)


def test_delete_removes_only_files_inside_the_outputs_folder(db: Database, tmp_path: Path) -> None:
    outputs = tmp_path / "outputs"
    outputs.mkdir()
    video, thumb = outputs / "v.mp4", outputs / "v.jpg"
    outside = tmp_path / "mine.mp4"
    for f in (video, thumb, outside):
        f.write_bytes(b"x")
    inside = add_generation(db, video_path=str(video), thumbnail_path=str(thumb))
    escaping = add_generation(db, video_path=str(outputs / ".." / "mine.mp4"))
    row_only = add_generation(db, video_path=str(video))

    assert h.delete_generation(db, row_only.id).removed_files == []
    assert video.exists()
    res = h.delete_generation(db, escaping.id, delete_files=True, outputs_dir=outputs)
    assert res.removed_files == [] and outside.exists()
    res = h.delete_generation(db, inside.id, delete_files=True, outputs_dir=outputs)
    assert sorted(res.removed_files) == sorted([str(video), str(thumb)])
    assert not video.exists() and not thumb.exists()
    assert h.list_generations(db).total == 0


def test_deleting_a_generation_keeps_its_job(db: Database) -> None:
    q.enqueue(db, GenerationRequest.for_task("ti2v-5B", prompt="x", seed=1))
    job = claim(db, "r")
    gen = q.finish_job(db, job.id, "r", q.GenerationResult(video_path="/v.mp4"))
    h.delete_generation(db, gen.id)
    assert q.get_job(db, job.id).generation_id is None  # ON DELETE SET NULL


def test_rerun_with_the_same_or_a_new_seed(db: Database) -> None:
    gen = add_generation(db, prompt="a koi pond", seed=1234)
    same = h.rerun(db, gen.id)
    fresh = h.rerun(db, gen.id, new_seed=True, lane="now")
    same_req = GenerationRequest.from_json(same.request_json)
    fresh_req = GenerationRequest.from_json(fresh.request_json)
    assert (same_req.seed, same_req.prompt, same.status) == (1234, "a koi pond", "queued")
    assert fresh_req.seed >= 0 and fresh_req.seed != 1234 and fresh.lane == "now"
    assert same_req.with_seed(0) == fresh_req.with_seed(0)
