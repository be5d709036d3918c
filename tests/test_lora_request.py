"""LoRAs in a request: the ``loras`` field (schema 4), ``--lora`` in the one flag parser, auto
pairing of ``*high_noise*``/``*low_noise*`` files, and refusal of changed or missing files."""

from __future__ import annotations

import argparse
import json
import shlex
from pathlib import Path

import pytest

from tests.lora_helpers import lora_tensors, write_lora
from wan22_desktop.cli import build_parser, main
from wan22_desktop.engine.wan.dit_config import tiny_dit_config
from wan22_desktop.errors import UserInputError
from wan22_desktop.lora_library import parse_lora_flag, sha256_file
from wan22_desktop.request import GenerationRequest, LoraRef
from wan22_desktop.request_cli import request_to_cli
from wan22_desktop.request_flags import add_request_flags, request_changes


def _lora(path: Path, seed: int = 0) -> Path:
    return write_lora(path, lora_tensors(tiny_dit_config("t2v-A14B"), seed=seed), "official_ab")


def _flags(*argv: str, task: str = "t2v-A14B") -> list[dict]:
    parser = argparse.ArgumentParser()
    add_request_flags(parser)
    return request_changes(parser.parse_args(["--task", task, *argv]))["loras"]


def test_flag_forms(tmp_path):
    path = _lora(tmp_path / "style.safetensors")
    digest = sha256_file(path)
    assert _flags("--lora", str(path)) == [
        {"path": str(path), "sha256": digest, "strength_high": 1.0, "strength_low": 1.0}
    ]
    assert _flags("--lora", f"{path}:0.5")[0]["strength_low"] == 0.5
    one = _flags("--lora", f"{path}:high=0.7,low=0.2")[0]
    assert (one["strength_high"], one["strength_low"]) == (0.7, 0.2)
    assert _flags("--lora", f"{path}:low=0.3")[0]["strength_high"] == 0.0
    assert parse_lora_flag("C:\\loras\\x.safetensors").path == "C:\\loras\\x.safetensors"
    with pytest.raises(UserInputError, match="unknown key"):
        _flags("--lora", f"{path}:mid=1")


def test_high_noise_file_brings_its_low_noise_partner(tmp_path):
    high = _lora(tmp_path / "lightx2v_4steps_high_noise.safetensors", 1)
    low = _lora(tmp_path / "lightx2v_4steps_low_noise.safetensors", 2)
    for given in (high, low):
        entries = _flags("--lora", f"{given}:0.9")
        assert [(e["path"], e["strength_high"], e["strength_low"]) for e in entries] == [
            (str(high), 0.9, 0.0),
            (str(low), 0.0, 0.9),
        ]
    alone = tmp_path / "solo"
    alone.mkdir()
    only = _lora(alone / "x_high_noise.safetensors")
    assert [(e["strength_high"], e["strength_low"]) for e in _flags("--lora", str(only))] == [
        (1.0, 0.0)
    ]


def test_five_b_takes_one_strength(tmp_path):
    path = _lora(tmp_path / "a_high_noise.safetensors")
    assert _flags("--lora", str(path), task="ti2v-5B")[0]["strength_low"] == 1.0  # no pairing
    req = GenerationRequest.for_task(
        "ti2v-5B", prompt="x", loras=_flags("--lora", f"{path}:high=1,low=0.5", task="ti2v-5B")
    )
    with pytest.raises(UserInputError, match="one strength") as err:
        req.validate()
    assert err.value.field == "loras"


def test_schema_4_round_trip_and_v3_rows(tmp_path):
    path = _lora(tmp_path / "a.safetensors")
    req = GenerationRequest.for_task(
        "t2v-A14B", prompt="x", loras=[LoraRef(str(path), sha256_file(path), 0.5, 1.5)]
    )
    assert req.validate() == []
    back = GenerationRequest.from_json(req.to_json())
    assert back == req and back.loras[0].strength_low == 1.5
    v3 = json.loads(req.to_json())
    v3["schema_version"] = 3
    del v3["loras"]
    assert GenerationRequest.from_dict(v3).loras == ()
    bad = json.loads(req.to_json())
    bad["loras"][0]["weight"] = 1
    with pytest.raises(UserInputError, match="unknown field"):
        GenerationRequest.from_dict(bad)


@pytest.mark.parametrize(
    ("change", "message"),
    [("edit", "has changed since the job was made"), ("delete", "is missing")],
)
def test_changed_or_missing_file_is_refused(tmp_path, change, message):
    path = _lora(tmp_path / "a.safetensors")
    req = GenerationRequest.for_task(
        "t2v-A14B", prompt="x", loras=[LoraRef(str(path), sha256_file(path))]
    )
    if change == "edit":
        _lora(path, seed=9)
    else:
        path.unlink()
    with pytest.raises(UserInputError, match=message) as err:
        req.validate()
    assert err.value.field == "loras"


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"path": "rel.safetensors"}, "not absolute"),
        ({"path": "/x/a.pt"}, "not a .safetensors"),
        ({"sha256": "abc"}, "no valid sha256"),
        ({"strength_high": 99.0}, "out of range"),
    ],
)
def test_bad_entries(tmp_path, entry, message):
    path = _lora(tmp_path / "a.safetensors")
    good = {"path": str(path), "sha256": sha256_file(path)}
    req = GenerationRequest.for_task("t2v-A14B", prompt="x", loras=[{**good, **entry}])
    with pytest.raises(UserInputError, match=message):
        req.validate()


def test_queue_add_and_copy_as_command_carry_loras(tmp_path, capsys):
    from tests.cli_helpers import make_tiny_checkpoint
    from wan22_desktop.commands.generate import build_request

    ckpt = make_tiny_checkpoint(tmp_path / "ckpts", "t2v-A14B")
    high = _lora(tmp_path / "m_high_noise.safetensors", 1)
    _lora(tmp_path / "m_low_noise.safetensors", 2)
    style = _lora(tmp_path / "style.safetensors", 3)
    argv = [
        "--task",
        "t2v-A14B",
        "--ckpt_dir",
        str(ckpt),
        "--prompt",
        "p",
        "--lora",
        f"{high}:1",
        "--lora",
        f"{style}:0.5",
    ]
    req = build_request(build_parser().parse_args(["generate", *argv]))
    assert len(req.loras) == 3
    line = shlex.split(request_to_cli(req))
    assert line.count("--lora") == 3
    assert build_request(build_parser().parse_args(["generate", *line[2:]])) == req
    home = tmp_path / "home"
    assert main(["--home", str(home), "queue", "add", *line[2:]]) == 0, capsys.readouterr().err
    from wan22_desktop.db import queue as q
    from wan22_desktop.db.database import open_app_database
    from wan22_desktop.paths import app_paths

    with open_app_database(app_paths(home)) as db:
        stored = GenerationRequest.from_json(q.list_jobs(db)[0].request_json)
        assert stored.loras == req.loras
        _lora(style, seed=4)  # the file changes: the stored job cannot be queued again
        with pytest.raises(UserInputError, match="has changed since the job was made"):
            q.enqueue(db, stored)  # what re-run and retry do


def test_queue_edit_replaces_and_clears_loras(tmp_path, capsys):
    from tests.cli_helpers import make_tiny_checkpoint
    from wan22_desktop.db import queue as q
    from wan22_desktop.db.database import open_app_database
    from wan22_desktop.paths import app_paths

    ckpt = make_tiny_checkpoint(tmp_path / "ckpts", "t2v-A14B")
    a, b = _lora(tmp_path / "a.safetensors", 1), _lora(tmp_path / "b.safetensors", 2)
    home = tmp_path / "home"
    base = ["--home", str(home)]
    add = ["queue", "add", "--task", "t2v-A14B", "--ckpt_dir", str(ckpt), "--lora", str(a)]
    assert main([*base, *add]) == 0, capsys.readouterr().err

    def loras() -> list[tuple[str, float, float]]:
        with open_app_database(app_paths(home)) as db:
            req = GenerationRequest.from_json(q.list_jobs(db)[0].request_json)
        return [(Path(x.path).name, x.strength_high, x.strength_low) for x in req.loras]

    assert loras() == [("a.safetensors", 1.0, 1.0)]
    assert main([*base, "queue", "edit", "1", "--lora", f"{b}:high=0.5,low=0"]) == 0
    assert loras() == [("b.safetensors", 0.5, 0.0)]
    assert main([*base, "queue", "edit", "1", "--prompt", "other"]) == 0  # kept
    assert loras() == [("b.safetensors", 0.5, 0.0)]
    assert main([*base, "queue", "edit", "1", "--lora", "none"]) == 0
    assert loras() == []
