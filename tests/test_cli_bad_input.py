"""Bad input, one table, both commands: every numeric field at 0, negative, NaN, inf and huge;
every file input missing, empty, truncated or of the wrong kind; every folder input a file, below
a file or read-only; text that is not UTF-8. `wan22 generate` and `wan22 queue add` must answer
each with exit 2, exactly one `error:` line naming the problem, a `hint:` line, no traceback,
and leave the queue and the history as they were.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from tests.cli_helpers import make_tiny_checkpoint, register_installed
from wan22_desktop.cli import main
from wan22_desktop.db import queue as q
from wan22_desktop.db.database import open_app_database
from wan22_desktop.db.models import Generation
from wan22_desktop.paths import app_paths

ROOT = Path(__file__).resolve().parents[1]
ROOT_USER = hasattr(os, "geteuid") and os.geteuid() == 0
BAD_UTF8 = "a\udcff\udcfeb"  # what Python makes of the argv bytes 61 ff fe 62

# (flag, values, what the error line must mention)
NUMBERS = [
    ("--frame_num", ["0", "-1", "nan", "inf", "100001", "1" + "0" * 30, "8", "1", "245"], "frame"),
    ("--sample_steps", ["0", "-1", "nan", "inf", "1000000000"], "steps"),
    ("--sample_shift", ["0", "-1", "nan", "inf", "-inf", "1e308"], "shift"),
    ("--sample_guide_scale", ["-1", "nan", "inf", "1e308", "3,nan", "-1,4"], "guid"),
    ("--base_seed", ["-2", "nan", "inf", str(2**63), str(2**64), "-" + str(2**64)], "seed"),
    ("--size", ["0*0", "0*720", "-1*720", "nan", "inf", "99968*99968", "2048*2048"], "size"),
    ("--ulysses_size", ["0", "-1", "nan", "inf", "100000"], "ulysses"),
]
CASES: list[tuple[str, list[str], str]] = [
    (f"{flag}={value}", [f"{flag}={value}"], word)
    for flag, values, word in NUMBERS
    for value in values
]
CASES += [
    (f"image-{kind}", ["--task", "i2v-A14B", "--image", f"@{kind}"], "image")
    for kind in ("missing", "empty", "truncated", "text", "folder")
]
CASES += [
    ("save_file-below-a-file", ["--save_file", "@below_file/v.mp4"], "a file, not a folder"),
    ("save_file-read-only", ["--save_file", "@read_only/v.mp4"], "read-only"),
    ("save_file-a-folder", ["--save_file", "@folder.mp4"], "is a folder"),
    ("save_file-unknown-type", ["--save_file", "@v.gif"], "unknown file type"),
    ("home-a-file", ["--home", "@a_file"], "data folder"),
    ("home-below-a-file", ["--home", "@below_file/home"], "data folder"),
    ("home-read-only", ["--home", "@read_only/home"], "data folder"),
]
CASES += [
    (f"not-utf8{flag}", [*pre, flag, BAD_UTF8 + suffix], "UTF-8")
    for flag, pre, suffix in (
        ("--prompt", [], ""),
        ("--negative_prompt", [], ""),
        ("--image", ["--task", "i2v-A14B"], ".png"),
        ("--save_file", [], ".mp4"),
        ("--ckpt_dir", [], ""),
        ("--size", [], ""),
    )
]


@pytest.fixture(scope="module")
def ckpts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("ckpts")
    return {t: make_tiny_checkpoint(root, t) for t in ("t2v-A14B", "i2v-A14B")}


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """The bad paths, by name (``@name`` in the table)."""
    d = tmp_path / "inputs"
    d.mkdir()
    good = d / "good.png"
    Image.new("RGB", (64, 48), (200, 30, 30)).save(good)
    (d / "empty").write_bytes(b"")
    (d / "truncated").write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    (d / "text").write_text("this is not an image\n")
    (d / "folder").mkdir()
    (d / "folder.mp4").mkdir()
    (d / "a_file").write_text("x")
    (d / "below_file").write_text("x")
    (d / "read_only").mkdir(mode=0o555)
    return {
        "missing": d / "missing.png",
        **{p.name: p for p in d.iterdir()},
        "v.gif": d / "v.gif",
    }


def _resolve(arg: str, files: dict[str, Path]) -> str:
    if not arg.startswith("@"):
        return arg
    name, _, rest = arg[1:].partition("/")
    path = files.get(name, files["a_file"].parent / name)
    return str(path / rest) if rest else str(path)


def _snapshot() -> tuple[list[tuple[int, str, str]], int]:
    with open_app_database(app_paths()) as db:
        jobs = [(j.id, j.status, j.request_json) for j in q.list_jobs(db)]
        gens = db.read(lambda s: s.query(Generation).count())
    return jobs, gens


@pytest.fixture
def home_with_data(ckpts, tmp_path: Path) -> tuple[list[tuple[int, str, str]], int]:
    """Installed tiny models, one queued job and one finished generation."""
    for task, path in ckpts.items():
        register_installed(task, path)
    small = ["--size", "32*32", "--frame_num", "5", "--sample_steps", "2"]
    assert main(["queue", "add", "--prompt", "done before", *small]) == 0
    with open_app_database(app_paths()) as db:
        job = q.claim_next(db, "test")
        q.finish_job(db, job.id, "test", q.GenerationResult(video_path=str(tmp_path / "1.mp4")))
    assert main(["queue", "add", "--prompt", "still queued", *small]) == 0
    return _snapshot()


@pytest.mark.parametrize("command", ["generate", "queue add"])
@pytest.mark.parametrize("case, args, word", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_error_and_a_hint(
    command, case, args, word, files, home_with_data, tmp_path, capsys
) -> None:
    if "read-only" in case and ROOT_USER:
        pytest.skip("root writes into read-only folders; the below-a-file cases cover this")
    capsys.readouterr()
    # Small, CPU-only, into tmp: should a bad value slip through, the run is short and fails.
    base = ["--size", "32*32", "--frame_num", "5", "--sample_steps", "2", "--device", "cpu"]
    base += ["--prompt", "a cat", "--save_file", str(tmp_path / "out" / "v.npy")]
    argv = [*command.split(), *base, *(_resolve(a, files) for a in args)]
    rc = main(argv)
    out, err = capsys.readouterr()
    assert rc == 2, (out, err)
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    hints = [line for line in err.splitlines() if line.startswith("hint:")]
    assert len(errors) == 1 and len(hints) == 1, err
    assert word.lower() in errors[0].lower(), errors[0]
    assert len(hints[0]) > len("hint: ") + 5
    assert "Traceback" not in err + out
    assert _snapshot() == home_with_data
    assert not (tmp_path / "out").exists()
    if case.startswith("home-"):
        assert files["a_file"].read_text() == "x" and files["below_file"].is_file()


def test_undecodable_argv_bytes_in_a_real_process_name_the_flag(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "WAN22_HOME": str(tmp_path / "home")}
    env.pop("PYTHONIOENCODING", None)
    cmd = [sys.executable.encode(), b"-m", b"wan22_desktop.cli", b"queue", b"add"]
    proc = subprocess.run(
        [*cmd, b"--prompt", b"caf\xe9 \xff"], env=env, capture_output=True, timeout=60
    )
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 2, err
    assert err.startswith("error: argument --prompt: ") and "UTF-8" in err and "hint:" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_a_closed_pipe_ends_quietly(monkeypatch, capsys, json_flag) -> None:
    """`wan22 queue list | head -1`: the reader went away; no traceback, SIGPIPE's exit code."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    stream = open(write_end, "w")  # noqa: SIM115 - closed below
    monkeypatch.setattr(sys, "stdout", stream)
    try:
        assert main([*json_flag, "queue", "list", "--all"]) == 141
    finally:
        stream.close()  # its descriptor now points at /dev/null
    assert capsys.readouterr().err == ""


def test_a_closed_pipe_in_a_real_pipeline(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "WAN22_HOME": str(home)}
    ckpt = make_tiny_checkpoint(tmp_path, "ti2v-5B")
    register_installed("ti2v-5B", ckpt, home=home)
    assert main(["--home", str(home), "queue", "add", "--task", "ti2v-5B", "--count", "400"]) == 0
    script = (
        f"{sys.executable} -m wan22_desktop.cli --json queue list 2>{tmp_path / 'err'} | head -1"
    )
    proc = subprocess.run(
        ["bash", "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0 and proc.stdout == "{\n"
    assert (tmp_path / "err").read_text() == ""


@pytest.mark.parametrize(
    "argv",
    [
        ["queue", "show", str(2**70)],
        ["queue", "rm", "0"],
        ["queue", "cancel", "-1"],
        ["queue", "retry-safer", str(2**64)],
        ["queue", "list", "--limit", "-1"],
        ["queue", "add", "--count", "0"],
        ["queue", "add", "--count", "1001"],
        ["history", "show", str(2**70)],
        ["history", "fav", str(2**63)],
        ["history", "list", "--page", str(2**70)],
        ["history", "list", "--page_size", "0"],
    ],
    ids=" ".join,
)
def test_ids_counts_and_pages_out_of_range_are_bad_input(argv, capsys) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: argument ") and "\nhint: " in err and "Traceback" not in err


def test_queue_add_refuses_an_outputs_folder_it_cannot_write(ckpts, capsys) -> None:
    register_installed("t2v-A14B", ckpts["t2v-A14B"])
    app_paths().outputs.parent.mkdir(parents=True, exist_ok=True)
    app_paths().outputs.write_text("a file where the outputs folder should be")
    assert main(["queue", "add", "--prompt", "a cat"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot save videos: ") and "\nhint: " in err
    assert _snapshot() == ([], 0)
