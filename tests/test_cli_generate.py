"""``wan22 generate`` end to end on tiny checkpoints written by ``wan22 dev make-tiny-checkpoint``.

Most runs call ``cli.main`` in this process (the CLI code path minus interpreter start-up); one
runs the real ``python -m wan22_desktop.cli`` subprocess. Every bad input must give exit code 2
(input) or 1 (failure), a one-line error with a hint, and no partial output file.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from wan22_desktop import cli
from wan22_desktop.engine import video_io

REPO = Path(__file__).resolve().parents[1]
SMALL = ["--size", "32*32", "--frame_num", "5", "--sample_steps", "2", "--device", "cpu"]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def ckpts(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("ckpts")
    out = {}
    for task in ("t2v-A14B", "i2v-A14B", "ti2v-5B"):
        assert (
            cli.main(["dev", "make-tiny-checkpoint", "--task", task, "--out", str(root / task)])
            == 0
        )
        out[task] = root / task
    return out


@pytest.fixture(scope="module")
def image(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("images") / "start.png"
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (72, 128, 3), dtype=np.uint8)).save(path)  # 16:9
    return path


def _generate(ckpt: Path, *args: str) -> int:
    return cli.main(["generate", "--ckpt_dir", str(ckpt), *SMALL, *args])


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".part" in p.name or p.name.startswith("."))


# ---- every task, both solvers --------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    "task,use_image,solver",
    [
        ("t2v-A14B", False, "unipc"),
        ("t2v-A14B", False, "dpm++"),
        ("i2v-A14B", True, "unipc"),
        ("i2v-A14B", True, "dpm++"),
        ("ti2v-5B", False, "unipc"),
        ("ti2v-5B", False, "dpm++"),
        ("ti2v-5B", True, "unipc"),
        ("ti2v-5B", True, "dpm++"),
    ],
)
def test_generate_every_task_to_mp4(
    ckpts, image, tmp_path, capsys, task, use_image, solver
) -> None:
    out = tmp_path / "video.mp4"
    extra = ["--image", str(image)] if use_image else []
    size = ["--size", "64*64"] if task == "ti2v-5B" and use_image else []
    rc = _generate(
        ckpts[task],
        "--task",
        task,
        "--sample_solver",
        solver,
        "--base_seed",
        "7",
        "--prompt",
        "a cat running",
        "--save_file",
        str(out),
        *extra,
        *size,
    )
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    frames = video_io.read_mp4_frames(out)
    expected_hw = {
        "t2v-A14B": (32, 32),
        "ti2v-5B": (64 if use_image else 32,) * 2,
        "i2v-A14B": (16, 32),
    }[task]  # i2v: a 16:9 image at the 32*32 area
    assert frames.shape == (5, *expected_hw, 3)
    assert f"saved {out}" in captured.out and "seed 7" in captured.out
    assert "sampling 2/2" in captured.err and "it/s" in captured.err and "ETA" in captured.err
    assert _leftovers(tmp_path) == []


def test_raw_npy_is_deterministic_per_seed(ckpts, tmp_path, capsys) -> None:
    paths = [tmp_path / f"{name}.npy" for name in ("a", "b", "c")]
    for path, seed in zip(paths, ("11", "11", "12")):
        assert (
            _generate(
                ckpts["t2v-A14B"],
                "--base_seed",
                seed,
                "--prompt",
                "a dog",
                "--save_file",
                str(path),
            )
            == 0
        )
    a, b, c = (np.load(p) for p in paths)
    assert a.shape == (3, 5, 32, 32) and a.dtype == np.float32
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_png_folder_and_json_summary(ckpts, tmp_path, capsys) -> None:
    out = tmp_path / "frames"
    assert (
        cli.main(
            [
                "--json",
                "generate",
                "--ckpt_dir",
                str(ckpts["ti2v-5B"]),
                "--task",
                "ti2v-5B",
                *SMALL,
                "--base_seed",
                "3",
                "--prompt",
                "a cat",
                "--save_file",
                str(out),
            ]
        )
        == 0
    )
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["seed"] == 3 and summary["outputs"] == [str(out)] and summary["fps"] == 24
    assert {"loading", "text_encoding", "sampling", "decoding", "saving"} <= set(summary["timings"])
    assert sorted(p.name for p in out.iterdir()) == [f"frame_{i:05d}.png" for i in range(5)]


def test_default_output_name_goes_to_the_outputs_folder(ckpts, wan22_home, capsys) -> None:
    assert _generate(ckpts["t2v-A14B"], "--prompt", "a red car / fast", "--base_seed", "1") == 0
    files = list((wan22_home / "outputs").glob("*.mp4")) or list(wan22_home.rglob("*.mp4"))
    assert len(files) == 1
    assert files[0].name.startswith("t2v-A14B_32x32_1_a_red_car___fast_")


def test_prompt_extension_failure_falls_back_with_a_warning(
    ckpts, tmp_path, capsys, monkeypatch
) -> None:
    monkeypatch.delenv("DASH_API_KEY", raising=False)
    monkeypatch.setattr("wan22_desktop.secrets.get_dashscope_key", lambda *a, **k: None)
    out = tmp_path / "v.npy"
    assert (
        cli.main(
            [
                "--json",
                "generate",
                "--ckpt_dir",
                str(ckpts["t2v-A14B"]),
                *SMALL,
                "--prompt",
                "a cat",
                "--use_prompt_extend",
                "--prompt_extend_method",
                "dashscope",
                "--save_file",
                str(out),
            ]
        )
        == 0
    )
    captured = capsys.readouterr()
    summary = json.loads(captured.out.strip().splitlines()[-1])
    assert summary["prompt"] == "a cat" and summary["original_prompt"] == "a cat"
    assert "DashScope" in summary["prompt_extension_warning"]
    assert "prompt extension failed" in captured.err and out.is_file()


@pytest.mark.slow  # a real process: in `make test`, not `make test-fast`
def test_subprocess_run(ckpts, tmp_path) -> None:
    out = tmp_path / "v.npy"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "wan22_desktop.cli",
            "generate",
            "--ckpt_dir",
            str(ckpts["ti2v-5B"]),
            "--task",
            "ti2v-5B",
            *SMALL,
            "--base_seed",
            "5",
            "--prompt",
            "a cat",
            "--save_file",
            str(out),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert np.load(out).shape == (3, 5, 32, 32) and "seed 5" in proc.stdout


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="torchrun process groups: POSIX")
def test_torchrun_two_ranks_with_ulysses_and_fsdp_equal_one_process(
    ckpts, tmp_path, capsys
) -> None:
    """Official multi-GPU flags on CPU/gloo: 2 ranks, sequence split, both experts and T5
    sharded; rank 0 alone saves and prints, and the raw video is the single process's."""
    flags = [
        "--task",
        "t2v-A14B",
        *SMALL,
        "--dtype",
        "fp32",
        "--base_seed",
        "3",
        "--prompt",
        "a cat",
    ]
    single = tmp_path / "single.npy"
    assert _generate(ckpts["t2v-A14B"], *flags, "--save_file", str(single)) == 0
    capsys.readouterr()
    multi = tmp_path / "multi.npy"
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node",
            "2",
            "-m",
            "wan22_desktop.cli",
            "generate",
            "--ckpt_dir",
            str(ckpts["t2v-A14B"]),
            *flags,
            "--ulysses_size",
            "2",
            "--dit_fsdp",
            "--t5_fsdp",
            "--save_file",
            str(multi),
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=120)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # no rank outlives the test
        except ProcessLookupError:
            pass
        proc.wait(10)
    assert proc.returncode == 0, err
    assert out.count("saved ") == 1 and "seed 3" in out, out
    a, b = np.load(single), np.load(multi)
    assert a.shape == b.shape == (3, 5, 32, 32)
    diff = float(np.abs(a - b).max())
    print("max |torchrun 2 ranks - 1 process| =", diff)
    assert diff <= 1e-5


# ---- bad input -----------------------------------------------------------------------------------


def _partial(ckpts: Path, tmp_path: Path) -> Path:
    import shutil

    copy = tmp_path / "partial"
    shutil.copytree(ckpts, copy)
    next((copy / "low_noise_model").glob("*-00001-of-*.safetensors")).unlink()
    return copy


@pytest.mark.parametrize(
    "case",
    [
        "missing_ckpt",
        "partial_ckpt",
        "other_task",
        "unreadable_image",
        "tiny_image",
        "image_for_t2v",
        "no_image_for_i2v",
        "bad_size",
        "bad_frames",
        "unwritable_output",
        "bad_suffix",
        "multi_gpu",
        "fsdp",
        "s2v",
        "attention_on_cpu",
    ],
)
def test_bad_input_exits_2_with_a_hint(ckpts, image, tmp_path, capsys, case) -> None:
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"\xff\xd8 not really a jpeg")
    tiny = tmp_path / "tiny.png"
    Image.new("RGB", (8, 8)).save(tiny)
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    t2v, i2v = ckpts["t2v-A14B"], ckpts["i2v-A14B"]
    out = tmp_path / "out" / "v.mp4"
    args = {
        "missing_ckpt": (tmp_path / "nope", []),
        "partial_ckpt": (_partial(t2v, tmp_path), []),
        "other_task": (i2v, []),  # an i2v folder for the default t2v task
        "unreadable_image": (i2v, ["--task", "i2v-A14B", "--image", str(junk)]),
        "tiny_image": (i2v, ["--task", "i2v-A14B", "--image", str(tiny)]),
        "image_for_t2v": (t2v, ["--image", str(image)]),
        "no_image_for_i2v": (i2v, ["--task", "i2v-A14B"]),
        "bad_size": (t2v, ["--size", "30*32"]),
        "bad_frames": (t2v, ["--frame_num", "8"]),
        "unwritable_output": (t2v, ["--save_file", str(blocker / "v.mp4")]),
        "bad_suffix": (t2v, ["--save_file", str(tmp_path / "v.gif")]),
        "multi_gpu": (t2v, ["--ulysses_size", "2"]),
        "fsdp": (t2v, ["--dit_fsdp", "--t5_fsdp"]),
        "s2v": (t2v, ["--task", "s2v-14B"]),
        "attention_on_cpu": (t2v, ["--attention", "flash2"]),  # a kernel needs a CUDA GPU
    }[case]
    ckpt, extra = args
    save = [] if any(a == "--save_file" for a in extra) else ["--save_file", str(out)]
    rc = _generate(ckpt, "--prompt", "a cat", *save, *extra)
    err = capsys.readouterr().err
    assert rc == 2, err
    lines = [line for line in err.splitlines() if line.startswith(("error:", "hint:"))]
    assert lines[0].startswith("error: ") and lines[1].startswith("hint: ")
    assert not out.exists() and not (tmp_path / "v.gif").exists()
    if case == "multi_gpu":  # a plain process: the hint names the torchrun line
        assert "torchrun --standalone --nproc_per_node 2 -m wan22_desktop.cli generate" in err
    if case == "fsdp":
        assert "need several processes" in err
    if case == "attention_on_cpu":
        assert "FlashAttention 2 needs a CUDA GPU" in err and "use one of auto, sdpa" in err


def test_disk_full_while_writing_exits_1_and_leaves_nothing(
    ckpts, tmp_path, capsys, monkeypatch
) -> None:
    def full_disk(path, frames, fps, metadata=None):
        Path(path).write_bytes(b"\x00" * 100)  # a partial file, then the disk is full
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(video_io, "_write_mp4", full_disk)
    out = tmp_path / "v.mp4"
    rc = _generate(ckpts["t2v-A14B"], "--prompt", "a cat", "--save_file", str(out))
    err = capsys.readouterr().err
    assert rc == 1 and "No space left" in err and "hint:" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "flags, world, message",
    [
        (["--ulysses_size", "4"], "2", "must equal the number of processes"),
        (["--dit_fsdp"], "1", "need several processes"),
        (["--t5_fsdp", "--t5_cpu"], "2", "cannot be used together"),
        (["--ulysses_size", "0"], "1", "must be at least 1"),
    ],
)
def test_multi_process_flags_are_checked_as_upstream(flags, world, message) -> None:
    from wan22_desktop.commands.generate import check_multi_process
    from wan22_desktop.errors import UserInputError

    args = cli.build_parser().parse_args(["generate", *flags])
    with pytest.raises(UserInputError, match=message):
        check_multi_process(args, env={"WORLD_SIZE": world})


def test_multi_process_flags_under_torchrun_pass() -> None:
    from wan22_desktop.commands.generate import check_multi_process

    args = cli.build_parser().parse_args(
        ["generate", "--ulysses_size", "2", "--dit_fsdp", "--t5_fsdp"]
    )
    assert check_multi_process(args, env={"WORLD_SIZE": "2"}) == 2
