"""One flag parser for `wan22 generate` and `wan22 queue add`; the installed model is the default
checkpoint of both; global flags work after the sub-command."""

from __future__ import annotations

import argparse
import json
import shlex
from pathlib import Path

import pytest
from PIL import Image

from tests.cli_helpers import make_tiny_checkpoint, register_installed
from wan22_desktop.cli import build_parser, main
from wan22_desktop.db import queue as q
from wan22_desktop.db.database import open_app_database
from wan22_desktop.errors import UserInputError
from wan22_desktop.paths import app_paths
from wan22_desktop.request import GenerationRequest
from wan22_desktop.request_cli import request_to_cli, unexpressed_fields
from wan22_desktop.request_flags import flag_names


def _sub(parser: argparse.ArgumentParser, *path: str) -> argparse.ArgumentParser:
    for name in path:
        action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = action.choices[name]
    return parser


@pytest.fixture(scope="module")
def ckpts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("ckpts")
    return {t: make_tiny_checkpoint(root, t) for t in ("t2v-A14B", "i2v-A14B")}


@pytest.fixture
def image(tmp_path: Path) -> Path:
    path = tmp_path / "start frame.png"
    Image.new("RGB", (64, 48), (10, 200, 30)).save(path)
    return path


def _queued_requests(home: Path | None = None) -> list[GenerationRequest]:
    with open_app_database(app_paths(home)) as db:
        return [GenerationRequest.from_json(j.request_json) for j in q.list_jobs(db)]


# ---- one parser ------------------------------------------------------------------------------


def test_queue_add_and_edit_accept_every_flag_generate_takes() -> None:
    parser = build_parser()
    generate = _sub(parser, "generate")
    official = {
        "--task", "--size", "--frame_num", "--ckpt_dir", "--offload_model", "--ulysses_size",
        "--t5_fsdp", "--t5_cpu", "--dit_fsdp", "--save_file", "--prompt", "--use_prompt_extend",
        "--prompt_extend_method", "--prompt_extend_model", "--prompt_extend_target_lang",
        "--base_seed", "--image", "--sample_solver", "--sample_steps", "--sample_shift",
        "--sample_guide_scale", "--convert_model_dtype",
    }  # fmt: skip
    assert official <= flag_names(generate)
    by_flag = {s: a for a in generate._actions for s in a.option_strings}
    for path in (("queue", "add"), ("queue", "edit")):
        other = _sub(parser, *path)
        missing = flag_names(generate) - flag_names(other)
        assert not missing, f"{' '.join(path)} lacks {sorted(missing)}"
        for flag, action in {s: a for a in other._actions for s in a.option_strings}.items():
            if flag in by_flag and flag not in ("-h", "--help", "--task"):
                mine = by_flag[flag]
                assert (action.type, action.choices, action.nargs, action.const) == (
                    mine.type,
                    mine.choices,
                    mine.nargs,
                    mine.const,
                ), flag


def _every_option(ckpt: Path, image: Path, out: Path, *, t5: str) -> GenerationRequest:
    """A request with every option away from its default; t5_fsdp and t5_cpu exclude each other."""
    return GenerationRequest.for_task(
        "i2v-A14B",
        prompt='the cat turns its head — "hi" $HOME `ls`',
        negative_prompt="blurry, 'low' quality",
        image=str(image),
        size="832*480",
        frame_num=17,
        sample_steps=3,
        sample_shift=7.25,
        guidance=(2.0, 6.5),
        solver="dpm++",
        seed=123456789,
        prompt_extend={
            "enabled": True,
            "method": "dashscope",
            "model": "qwen-plus",
            "target_lang": "en",
            "required": True,
        },
        memory={
            "offload_model": "off",
            "convert_model_dtype": "on",
            "t5_cpu": "on" if t5 == "cpu" else "auto",
        },
        parallel={"ulysses_size": 2, "dit_fsdp": True, "t5_fsdp": t5 == "fsdp"},
        device="cuda:1",
        dtype="fp16",
        attention="sage",
        ckpt_dir=str(ckpt),
        save_file=str(out),
        loras=[_lora_entry(image.parent / "style lora.safetensors", 0.8, 0.25)],
    )


def _lora_entry(path: Path, high: float, low: float) -> dict[str, object]:
    from tests.lora_helpers import lora_tensors, write_lora
    from wan22_desktop.engine.wan.dit_config import tiny_dit_config
    from wan22_desktop.lora_library import sha256_file

    write_lora(path, lora_tensors(tiny_dit_config("i2v-A14B")), "official_ab")
    return {
        "path": str(path),
        "sha256": sha256_file(path),
        "strength_high": high,
        "strength_low": low,
    }


@pytest.mark.parametrize("t5", ["cpu", "fsdp"])
def test_copy_as_command_with_every_option_parses_equal_through_generate_and_queue_add(
    ckpts, image, tmp_path, capsys, t5
) -> None:
    from wan22_desktop.commands.generate import build_request

    req = _every_option(ckpts["i2v-A14B"], image, tmp_path / "out" / "v.mp4", t5=t5)
    assert req.validate() == []
    assert unexpressed_fields(req) == []
    argv = shlex.split(request_to_cli(req))
    assert argv[:2] == ["wan22", "generate"]

    via_generate = build_request(build_parser().parse_args(["generate", *argv[2:]]))
    assert via_generate == req

    home = tmp_path / "home"
    assert main(["--home", str(home), "queue", "add", *argv[2:]]) == 0, capsys.readouterr().err
    assert _queued_requests(home) == [req]


def test_generate_flags_in_a_plain_process_still_name_torchrun(ckpts, capsys) -> None:
    rc = main(["generate", "--ckpt_dir", str(ckpts["t2v-A14B"]), "--ulysses_size", "2"])
    err = capsys.readouterr().err
    assert rc == 2 and "torchrun --standalone --nproc_per_node 2" in err


def test_queue_edit_merges_grouped_flags(ckpts, capsys) -> None:
    register_installed("t2v-A14B", ckpts["t2v-A14B"])
    assert (
        main(["queue", "add", "--prompt", "x", "--t5_cpu", "--prompt_extend_target_lang", "en"])
        == 0
    )
    with open_app_database(app_paths()) as db:
        job_id = q.list_jobs(db)[0].id
    rc = main(["queue", "edit", str(job_id), "--offload_model", "false", "--dtype", "bf16"])
    assert rc == 0, capsys.readouterr().err
    (req,) = _queued_requests()
    assert (req.memory.t5_cpu, req.memory.offload_model, req.dtype) == ("on", "off", "bf16")
    assert req.prompt_extend.target_lang == "en"


# ---- the installed model is the default checkpoint --------------------------------------------


@pytest.mark.usefixtures("one_torch_thread")
def test_generate_without_ckpt_dir_uses_the_installed_model(ckpts, tmp_path, capsys) -> None:
    register_installed("t2v-A14B", ckpts["t2v-A14B"])
    out = tmp_path / "v.npy"
    small = ["--size", "32*32", "--frame_num", "5", "--sample_steps", "2", "--device", "cpu"]
    rc = main(["generate", *small, "--prompt", "a cat", "--save_file", str(out)])
    stdout, err = capsys.readouterr()
    assert rc == 0, err
    assert f"saved {out}" in stdout and out.is_file()


@pytest.mark.parametrize("command", [["generate"], ["queue", "add"]])
def test_a_model_that_is_not_installed_is_refused_with_how_to_get_it(command, capsys) -> None:
    rc = main([*command, "--prompt", "a cat"])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.splitlines()[0] == "error: the t2v-A14B model is not installed"
    assert err.splitlines()[1].startswith("hint: ") and "wan22 models download t2v-A14B" in err
    assert "wan22 models import" in err
    assert _queued_requests() == []


@pytest.mark.parametrize("command", [["generate"], ["queue", "add"]])
def test_a_ckpt_dir_of_another_task_is_refused(command, ckpts, capsys) -> None:
    rc = main([*command, "--prompt", "a cat", "--ckpt_dir", str(ckpts["i2v-A14B"])])
    err = capsys.readouterr().err
    assert rc == 2 and "t2v-A14B checkpoint in" in err and "holds i2v-A14B" in err
    assert _queued_requests() == []


def test_queue_add_with_ckpt_dir_needs_no_installed_model(ckpts, capsys) -> None:
    rc = main(["queue", "add", "--prompt", "a cat", "--ckpt_dir", str(ckpts["t2v-A14B"])])
    assert rc == 0, capsys.readouterr().err
    assert _queued_requests()[0].ckpt_dir == str(ckpts["t2v-A14B"])


# ---- global flags after the sub-command --------------------------------------------------------


def test_json_and_home_after_the_subcommand(ckpts, tmp_path, capsys) -> None:
    home = tmp_path / "other home"
    register_installed("t2v-A14B", ckpts["t2v-A14B"], home=home)
    assert main(["queue", "add", "--prompt", "a cat", "--home", str(home)]) == 0
    capsys.readouterr()
    assert main(["queue", "list", "--json", "--home", str(home)]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [j["prompt"] for j in listed["jobs"]] == ["a cat"]
    assert _queued_requests() == []  # the default home was not touched
    # before the sub-command still works, and a later one wins over nothing
    assert main(["--json", "--home", str(home), "queue", "list"]) == 0
    assert json.loads(capsys.readouterr().out)["jobs"][0]["prompt"] == "a cat"


def test_doctor_json_after_the_subcommand(capsys) -> None:
    assert main(["doctor", "--json"]) == 0
    assert "paths" in json.loads(capsys.readouterr().out)


def test_debug_after_the_subcommand_shows_the_exception(capsys) -> None:
    assert main(["queue", "show", "999"]) == 2  # without --debug: one line
    assert capsys.readouterr().err.startswith("error: ")
    with pytest.raises(UserInputError):
        main(["queue", "show", "999", "--debug"])


# ---- help text -------------------------------------------------------------------------------


def _all_parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    out = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                out += _all_parsers(child)
    return out


def test_help_has_no_rst_markup() -> None:
    parsers = _all_parsers(build_parser())
    assert len(parsers) > 30
    for p in parsers:
        text = p.format_help()
        for markup in ("``", ":class:`", ":func:`", ":meth:`", "**"):
            assert markup not in text, f"{p.prog}: {markup}"
