"""request_to_cli: the copied command line parses back, through the real CLI parser, to the request."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

import pytest

from wan22_desktop.cli import build_parser
from wan22_desktop.request import GenerationRequest
from wan22_desktop.request_cli import request_to_argv, request_to_cli, unexpressed_fields


def parse_back(line: str) -> GenerationRequest:
    """Parse with the app's own parser: ``wan22 generate`` once it exists, else ``wan22 queue add``
    (the same official flag set)."""
    argv = shlex.split(line)
    assert argv[:2] == ["wan22", "generate"]
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    rest = ["generate", *argv[2:]] if "generate" in sub.choices else ["queue", "add", *argv[2:]]
    args = parser.parse_args(rest)
    from wan22_desktop.commands.queue import request_changes

    changes = request_changes(args)
    if hasattr(args, "use_prompt_extend"):
        from wan22_desktop.commands.prompt import prompt_extend_fields

        changes["prompt_extend"] = prompt_extend_fields(args)
    return GenerationRequest.for_task(args.task, **changes)


def _has_prompt_extend_flags() -> bool:
    return any("--use_prompt_extend" in a.option_strings
               for a in _queue_add_parser()._actions)


def _queue_add_parser() -> argparse.ArgumentParser:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    q = sub.choices["queue"]
    qsub = next(a for a in q._actions if isinstance(a, argparse._SubParsersAction))
    return qsub.choices["add"]


CASES = [
    GenerationRequest.for_task("ti2v-5B", prompt="a red fox runs through snow", seed=42),
    GenerationRequest.for_task("t2v-A14B", prompt="它说：\"你好\" — it's $HOME `ls`; rm -rf /",
                               seed=7, guidance=(3.0, 4.5), sample_shift=8.25, solver="dpm++",
                               negative_prompt="blurry, 'low' quality", size="832*480",
                               frame_num=17, sample_steps=3),
    GenerationRequest.for_task("ti2v-5B", prompt="", seed=0, negative_prompt="",
                               memory={"offload_model": "off", "convert_model_dtype": "on",
                                       "t5_cpu": "on"}),
    GenerationRequest.for_task("t2v-A14B", prompt="multi\nline\tprompt", seed=2**62,
                               memory={"offload_model": "on"}, guidance=0.1),
]


@pytest.mark.parametrize("request_", CASES, ids=lambda r: r.task)
def test_command_line_parses_back_to_the_same_request(request_: GenerationRequest) -> None:
    line = request_to_cli(request_)
    assert "\n" not in line or "'" in line  # newlines only inside quotes
    assert unexpressed_fields(request_) == []
    assert parse_back(line) == request_


def test_image_and_prompt_extension_round_trip(tmp_path: Path) -> None:
    image = tmp_path / "my start frame.png"
    req = GenerationRequest.for_task(
        "i2v-A14B", prompt="the cat turns its head", seed=3, image=str(image),
        prompt_extend={"enabled": True, "method": "dashscope", "target_lang": "en",
                       "model": "qwen-plus"})
    argv = request_to_argv(req)
    assert argv[argv.index("--image") + 1] == str(image)
    assert argv[argv.index("--prompt_extend_method") + 1] == "dashscope"
    if not _has_prompt_extend_flags():
        pytest.skip("the --use_prompt_extend flags are not in this build's CLI yet")
    assert parse_back(request_to_cli(req)) == req


def test_official_flag_names_only() -> None:
    argv = request_to_argv(CASES[1])
    flags = {a for a in argv if a.startswith("--")}
    official = {"--task", "--size", "--frame_num", "--sample_steps", "--sample_shift",
                "--sample_guide_scale", "--sample_solver", "--base_seed", "--prompt",
                "--negative_prompt"}
    assert flags == official
    assert argv[argv.index("--sample_guide_scale") + 1] == "3,4.5"
    assert argv[argv.index("--sample_shift") + 1] == "8.25"


def test_fields_without_a_flag_are_named() -> None:
    req = GenerationRequest.for_task("ti2v-5B", prompt="x", seed=1, gpus=2, fps=30,
                                     output_format="npy", memory={"t5_cpu": "off"})
    assert unexpressed_fields(req) == ["memory.t5_cpu", "gpus", "fps", "output_format"]
    assert "--t5_cpu" not in request_to_argv(req)
