"""request_to_cli: the copied command line parses back, through the app's real CLI parsers
(``wan22 generate`` and ``wan22 queue add``, which share the official flag names), to the request."""

from __future__ import annotations

import argparse
import shlex
from dataclasses import replace
from pathlib import Path

import pytest

from wan22_desktop.cli import build_parser
from wan22_desktop.request import GenerationRequest, MemoryOptions
from wan22_desktop.request_cli import request_to_argv, request_to_cli, unexpressed_fields


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices


def _split(line: str) -> list[str]:
    argv = shlex.split(line)
    assert argv[:2] == ["wan22", "generate"]
    return argv[2:]


def parse_back(line: str) -> GenerationRequest:
    """Through ``wan22 queue add``'s parser and builder (shared with ``generate``)."""
    from wan22_desktop.request_flags import request_from_args

    return request_from_args(build_parser().parse_args(["queue", "add", *_split(line)]))


def parse_generate(line: str) -> tuple[GenerationRequest, argparse.Namespace]:
    """Through ``wan22 generate``'s parser and request builder."""
    from wan22_desktop.commands.generate import build_request

    args = build_parser().parse_args(["generate", *_split(line)])
    return build_request(args), args


def _has_generate() -> bool:
    return "generate" in _subparsers(build_parser())


CASES = [
    GenerationRequest.for_task("ti2v-5B", prompt="a red fox runs through snow", seed=42),
    GenerationRequest.for_task(
        "t2v-A14B",
        prompt='它说："你好" — it\'s $HOME `ls`; rm -rf /',
        seed=7,
        guidance=2.5,
        sample_shift=8.25,
        solver="dpm++",
        negative_prompt="blurry, 'low' quality",
        size="832*480",
        frame_num=17,
        sample_steps=3,
    ),
    GenerationRequest.for_task(
        "ti2v-5B",
        prompt="x",
        seed=0,
        memory={"offload_model": "off", "convert_model_dtype": "on", "t5_cpu": "on"},
    ),
    GenerationRequest.for_task(
        "t2v-A14B", prompt="multi\nline\tprompt", seed=2**62, memory={"offload_model": "on"}
    ),  # default guidance pair
    GenerationRequest.for_task(
        "i2v-A14B", prompt="x", seed=3, image="/tmp/start.png", guidance=(2.0, 6.5)
    ),  # a per-expert pair: low,high
]


@pytest.mark.parametrize("request_", CASES, ids=lambda r: r.task)
def test_parses_back_through_queue_add(request_: GenerationRequest) -> None:
    line = request_to_cli(request_)
    assert unexpressed_fields(request_) == []
    assert parse_back(line) == request_


@pytest.mark.parametrize("request_", CASES, ids=lambda r: r.task)
def test_parses_back_through_generate(request_: GenerationRequest) -> None:
    if not _has_generate():
        pytest.skip("this build has no `wan22 generate` yet")
    parsed, _args = parse_generate(request_to_cli(request_))
    assert parsed == request_  # memory switches included: generate builds the same request


def test_image_and_prompt_extension_round_trip(tmp_path: Path) -> None:
    image = tmp_path / "my start frame.png"
    req = GenerationRequest.for_task(
        "i2v-A14B",
        prompt="the cat turns its head",
        seed=3,
        image=str(image),
        prompt_extend={
            "enabled": True,
            "method": "dashscope",
            "target_lang": "en",
            "model": "qwen-plus",
            "required": True,
        },
    )
    argv = request_to_argv(req)
    assert argv[argv.index("--image") + 1] == str(image)
    assert argv[argv.index("--prompt_extend_method") + 1] == "dashscope"
    if not _has_generate():
        pytest.skip("this build has no `wan22 generate` yet")
    parsed, _args = parse_generate(request_to_cli(req))
    assert parsed == req


def test_official_flag_names_only() -> None:
    argv = request_to_argv(CASES[1])
    flags = {a for a in argv if a.startswith("--")}
    assert flags == {
        "--task",
        "--size",
        "--frame_num",
        "--sample_steps",
        "--sample_shift",
        "--sample_guide_scale",
        "--sample_solver",
        "--base_seed",
        "--prompt",
        "--negative_prompt",
    }
    assert argv[argv.index("--sample_guide_scale") + 1] == "2.5"
    assert argv[argv.index("--sample_shift") + 1] == "8.25"
    assert "--sample_guide_scale" not in request_to_argv(CASES[3])  # the default pair


def test_fields_without_a_flag_are_named() -> None:
    req = GenerationRequest.for_task(
        "t2v-A14B",
        prompt="x",
        seed=1,
        gpus=2,
        fps=30,
        output_format="npy",
        memory={"t5_cpu": "off"},
        guidance=(2.0, 6.0),
    )
    assert unexpressed_fields(req) == ["memory.t5_cpu", "gpus", "fps", "output_format"]
    argv = request_to_argv(req)
    assert "--t5_cpu" not in argv and argv[argv.index("--sample_guide_scale") + 1] == "2,6"
    assert replace(parse_back(request_to_cli(req)), memory=MemoryOptions()) != req  # honestly lossy
