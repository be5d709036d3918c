"""Settings inside every video: what we write (mp4 comment, PNG iTXt, JPEG comment), reading it
back and Wan2GP's and ComfyUI's metadata, and `wan22 queue add --from VIDEO`."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.cli_helpers import register_installed
from wan22_desktop.cli import main
from wan22_desktop.db import queue as q
from wan22_desktop.db.database import open_app_database
from wan22_desktop.engine.video_io import ffmetadata_text, save_thumbnail, save_video
from wan22_desktop.errors import UserInputError
from wan22_desktop.paths import app_paths
from wan22_desktop.request import GenerationRequest, Guidance
from wan22_desktop.video_metadata import (
    NOT_REQUEUED,
    build_payload,
    read_mp4_tags,
    read_settings,
    read_tags,
)

PROMPT = '一只白鹭 = ; # \\ "quoted"\nsecond line'


def _request(**changes: object) -> GenerationRequest:
    values: dict[str, object] = dict(
        prompt=PROMPT, size="128*128", frame_num=5, sample_steps=3, seed=11, negative_prompt="blur"
    )
    values.update(changes)
    return GenerationRequest.for_task("ti2v-5B", **values)


def _video() -> np.ndarray:
    return np.random.default_rng(0).uniform(-1, 1, (3, 5, 32, 32)).astype(np.float32)


def _ffmpeg(out: Path, *meta: str) -> Path:
    import imageio_ffmpeg

    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi"]
    cmd += ["-i", "color=c=red:s=32x32:d=0.2", "-c:v", "libx264", *meta, str(out)]
    subprocess.run(cmd, check=True)
    return out


# ---- ours ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["clip.mp4", "frames", "thumb.jpg"])
def test_what_we_write_reads_back_as_the_same_request(tmp_path: Path, name: str) -> None:
    request = _request()
    payload = build_payload(request, plan={"device": "cpu", "dtype": "fp32"}, checkpoint="/m/tiny")
    if name == "thumb.jpg":
        target = save_thumbnail(_video(), tmp_path / name, metadata=payload)
    else:
        target = save_video(_video(), tmp_path / name, 16, metadata=payload)
    files = sorted(target.iterdir()) if target.is_dir() else [target]
    for f in files:  # every PNG frame carries it
        settings = read_settings(f)
        assert settings.source == "wan22" and settings.unmapped == ()
        assert settings.request() == request
        assert settings.raw["model"] == {"folder": "tiny"}
        assert settings.raw["plan"] == {"device": "cpu", "dtype": "fp32"}
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # no metadata file left behind


def test_the_mp4_comment_is_what_ffmpeg_itself_reads(tmp_path: Path) -> None:
    """The documented field: ffmpeg (and so ffprobe) sees a ``comment`` tag of ``{"wan22": ...}``."""
    import imageio_ffmpeg

    payload = build_payload(_request())
    out = save_video(_video(), tmp_path / "clip.mp4", 16, metadata=payload)
    dumped = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(out), "-f", "ffmetadata", "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert (
        ffmetadata_text(
            {"comment": json.dumps({"wan22": payload}, ensure_ascii=False, sort_keys=True)}
        ).splitlines()[1]
        in dumped.splitlines()
    )
    assert json.loads(read_mp4_tags(out)["comment"]) == {"wan22": payload}


def test_a_newer_or_unreadable_request_field_is_listed_not_fatal(tmp_path: Path) -> None:
    payload = build_payload(_request())
    payload["request"]["loras"] = [{"path": "/l/a.safetensors", "sha256": "ab12", "strength": 1}]
    payload["request"]["motion_bucket"] = 7  # a field of some later version
    out = save_video(_video(), tmp_path / "clip.mp4", 16, metadata=payload)
    settings = read_settings(out)
    assert settings.request() == _request()
    assert sorted(u.split(":")[0] for u in settings.unmapped) == ["loras", "motion_bucket"]


# ---- Wan2GP and ComfyUI ------------------------------------------------------------------------

WAN2GP = {
    "prompt": "a red fox in the snow",
    "negative_prompt": "blurry",
    "resolution": "832x480",
    "video_length": 81,
    "num_inference_steps": 20,
    "guidance_scale": 4.0,
    "guidance2_scale": 3.0,
    "flow_shift": 8,
    "seed": 1234,
    "sample_solver": "unipc",
    "model_type": "t2v_2_2",
    "activated_loras": ["lightx2v.safetensors"],
    "type": "WanGP v9 by DeepBeepMeep - Wan2.2 Text2video 14B",
}

COMFY = {
    "3": {
        "class_type": "KSamplerAdvanced",
        "inputs": {
            "noise_seed": 42,
            "steps": 20,
            "cfg": 3.5,
            "sampler_name": "uni_pc",
            "scheduler": "simple",
            "start_at_step": 0,
            "positive": ["6", 0],
            "negative": ["7", 0],
            "model": ["9", 0],
        },
    },
    "4": {
        "class_type": "KSamplerAdvanced",
        "inputs": {"noise_seed": 0, "steps": 20, "cfg": 3.0, "start_at_step": 10},
    },
    "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a cat surfing", "clip": ["1", 0]}},
    "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "static", "clip": ["1", 0]}},
    "8": {
        "class_type": "EmptyHunyuanLatentVideo",
        "inputs": {"width": 832, "height": 480, "length": 81, "batch_size": 1},
    },
    "9": {"class_type": "ModelSamplingSD3", "inputs": {"shift": 8.0, "model": ["10", 0]}},
    "10": {
        "class_type": "UNETLoader",
        "inputs": {"unet_name": "wan2.2_t2v_high_noise_14B_fp16.safetensors"},
    },
}
COMFY_FIELDS = {
    "task": "t2v-A14B",
    "prompt": "a cat surfing",
    "negative_prompt": "static",
    "seed": 42,
    "sample_steps": 20,
    "guidance": Guidance(3.0, 3.5),
    "solver": "unipc",
    "size": "832*480",
    "frame_num": 81,
    "sample_shift": 8.0,
}


def test_a_wan2gp_video(tmp_path: Path) -> None:
    """Wan2GP: its settings JSON in the mp4 ``©cmt`` tag."""
    out = _ffmpeg(tmp_path / "wan2gp.mp4", "-metadata", "comment=" + json.dumps(WAN2GP))
    settings = read_settings(out)
    assert settings.source == "wan2gp"
    r = settings.request()
    assert (r.task, r.prompt, r.negative_prompt, r.size, r.frame_num) == (
        "t2v-A14B",
        "a red fox in the snow",
        "blurry",
        "832*480",
        81,
    )
    assert (r.sample_steps, r.guidance, r.sample_shift, r.seed, r.solver) == (
        20,
        Guidance(3.0, 4.0),
        8.0,
        1234,
        "unipc",
    )
    assert settings.unmapped == ('activated_loras: ["lightx2v.safetensors"]',)
    r.validate()


@pytest.mark.parametrize("writer", ["SaveVideo", "VideoHelperSuite", "png"])
def test_a_comfyui_video(tmp_path: Path, writer: str) -> None:
    """ComfyUI's SaveVideo: ``prompt``/``workflow`` as QuickTime mdta tags; VHS: both inside the
    ``comment``; its PNGs: ``prompt`` text chunks."""
    if writer == "SaveVideo":
        out = _ffmpeg(
            tmp_path / "c.mp4",
            *("-movflags", "use_metadata_tags", "-metadata", "prompt=" + json.dumps(COMFY)),
            *("-metadata", "workflow={}"),
        )
    elif writer == "VideoHelperSuite":
        comment = json.dumps({"prompt": COMFY, "workflow": {"nodes": []}})
        out = _ffmpeg(tmp_path / "c.mp4", "-metadata", "comment=" + comment)
    else:
        from PIL import Image
        from PIL.PngImagePlugin import PngInfo

        info = PngInfo()
        info.add_text("prompt", json.dumps(COMFY))
        out = tmp_path / "c.png"
        Image.new("RGB", (8, 8)).save(out, pnginfo=info)
    settings = read_settings(out)
    assert settings.source == "comfyui"
    assert settings.fields == COMFY_FIELDS
    assert "scheduler: simple" in settings.unmapped
    assert any(u.startswith("expert switch: at step 10") for u in settings.unmapped)
    settings.request().validate()


def test_files_without_settings_say_so(tmp_path: Path) -> None:
    plain = _ffmpeg(tmp_path / "plain.mp4")
    with pytest.raises(UserInputError) as err:
        read_settings(plain)
    assert "carries no generation settings" in err.value.message and "flags" in err.value.hint
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"\xff" * 40)  # a box that runs off the end
    assert read_tags(junk) == {}
    with pytest.raises(UserInputError, match="file not found"):
        read_settings(tmp_path / "missing.mp4")


# ---- the round trip through the real job path and `wan22 queue add --from` -----------------


@pytest.fixture(scope="module")
def tiny_ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from wan22_desktop.engine.wan.tiny import make_tiny_checkpoint

    return make_tiny_checkpoint("ti2v-5B", tmp_path_factory.mktemp("ckpt") / "tiny-ti2v")


@pytest.mark.usefixtures("one_torch_thread")
def test_a_rendered_video_requeues_as_the_same_request(
    tmp_path: Path, tiny_ckpt: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Write through ``run_job`` (tiny checkpoint, CPU), read back, ``queue add --from``: the
    queued request equals the original but for NOT_REQUEUED (the new job writes its own file)."""
    from tests.runtime.helpers import cpu_plan
    from wan22_desktop.engine.wan.pipelines import run_job
    from wan22_desktop.runtime.planner import Plan

    out = tmp_path / "out" / "clip.mp4"
    original = _request(save_file=str(out), guidance=4.5, sample_shift=3.0, solver="dpm++")
    result = run_job(
        original, Plan.from_dict(cpu_plan()), tiny_ckpt, out, thumbnail=tmp_path / "t.jpg"
    )
    assert result.outputs == [out]
    assert read_settings(out).request(save_file=str(out)) == original
    assert read_settings(tmp_path / "t.jpg").request(save_file=str(out)) == original

    register_installed("ti2v-5B", tiny_ckpt)
    assert main(["queue", "add", "--from", str(out)]) == 0
    assert (
        main(["queue", "add", "--from", str(out), "--base_seed", "99", "--sample_steps", "4"]) == 0
    )
    capsys.readouterr()
    with open_app_database(app_paths()) as db:
        jobs = q.list_jobs(db)
    queued = [GenerationRequest.from_json(j.request_json) for j in jobs]
    assert NOT_REQUEUED == ("save_file",)
    from dataclasses import replace

    assert queued[0] == replace(original, save_file=None)
    assert queued[1] == replace(original, save_file=None, seed=99, sample_steps=4)


def test_queue_add_from_a_file_without_settings(tmp_path: Path, capsys, tiny_ckpt: Path) -> None:
    register_installed("ti2v-5B", tiny_ckpt)
    plain = _ffmpeg(tmp_path / "plain.mp4")
    assert main(["queue", "add", "--from", str(plain)]) == 2
    err = capsys.readouterr().err
    assert "error: plain.mp4 carries no generation settings" in err and "hint:" in err


def test_queue_add_from_wan2gp_prints_what_was_not_taken(
    tmp_path: Path, capsys, tiny_ckpt: Path
) -> None:
    register_installed("ti2v-5B", tiny_ckpt)
    data = {**WAN2GP, "model_type": "ti2v_2_2", "resolution": "1280x704", "video_length": 121}
    out = _ffmpeg(tmp_path / "w.mp4", "-metadata", "comment=" + json.dumps(data))
    assert main(["queue", "add", "--from", str(out)]) == 0
    err = capsys.readouterr().err
    assert "note: not taken from w.mp4 (Wan2GP): activated_loras" in err
    with open_app_database(app_paths()) as db:
        (job,) = q.list_jobs(db)
    r = GenerationRequest.from_json(job.request_json)
    assert (r.task, r.prompt, r.guidance, r.frame_num) == (
        "ti2v-5B",
        "a red fox in the snow",
        Guidance(4.0, 4.0),
        121,
    )


def test_a_wanvideowrapper_graph() -> None:
    """kijai's WanVideoWrapper nodes: sampler, text encoder, empty embeds, model loader."""
    from wan22_desktop.video_metadata import settings_from_tags

    graph = {
        "1": {
            "class_type": "WanVideoSampler",
            "inputs": {
                "steps": 30,
                "cfg": 5.0,
                "shift": 5.0,
                "seed": 9,
                "scheduler": "dpm++",
                "text_embeds": ["2", 0],
                "image_embeds": ["3", 0],
                "model": ["4", 0],
            },
        },
        "2": {
            "class_type": "WanVideoTextEncode",
            "inputs": {"positive_prompt": "a lighthouse", "negative_prompt": "fog"},
        },
        "3": {
            "class_type": "WanVideoEmptyEmbeds",
            "inputs": {"width": 1280, "height": 704, "num_frames": 121},
        },
        "4": {
            "class_type": "WanVideoModelLoader",
            "inputs": {"model": "Wan2_2-TI2V-5B_fp16.safetensors"},
        },
        "5": {"class_type": "WanVideoLoraSelect", "inputs": {"lora": "style.safetensors"}},
    }
    settings = settings_from_tags({"prompt": json.dumps(graph)})
    assert settings is not None and settings.source == "comfyui"
    r = settings.request()
    assert (r.task, r.prompt, r.negative_prompt, r.size, r.frame_num) == (
        "ti2v-5B",
        "a lighthouse",
        "fog",
        "1280*704",
        121,
    )
    assert (r.sample_steps, r.guidance, r.sample_shift, r.seed, r.solver) == (
        30,
        Guidance(5.0, 5.0),
        5.0,
        9,
        "dpm++",
    )
    assert any("style.safetensors" in u for u in settings.unmapped)
    r.validate()


def test_a_video_from_another_machine_uses_the_installed_model(
    tmp_path: Path, capsys, tiny_ckpt: Path
) -> None:
    register_installed("ti2v-5B", tiny_ckpt)
    request = _request(ckpt_dir=str(tmp_path / "elsewhere" / "Wan2.2-TI2V-5B"))
    out = save_video(_video(), tmp_path / "clip.mp4", 16, metadata=build_payload(request))
    assert main(["queue", "add", "--from", str(out)]) == 0
    assert "not here: the installed model is used" in capsys.readouterr().err
    with open_app_database(app_paths()) as db:
        (job,) = q.list_jobs(db)
    assert GenerationRequest.from_json(job.request_json).ckpt_dir is None


def _box(kind: bytes, payload: bytes) -> bytes:
    import struct

    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def test_the_atom_reader_skips_cover_art_as_mutagen_lays_it_out(tmp_path: Path) -> None:
    """A file laid out as mutagen writes Wan2GP's: ``©cmt`` text plus a ``covr`` JPEG and a
    freeform item; the moov after the media data (no faststart)."""
    text = _box(b"data", b"\x00\x00\x00\x01" + b"\x00" * 4 + json.dumps(WAN2GP).encode())
    cover = _box(b"data", b"\x00\x00\x00\x0d" + b"\x00" * 4 + b"\xff\xd8\xff" + b"\x00" * 64)
    ilst = _box(b"ilst", _box(b"\xa9cmt", text) + _box(b"covr", cover))
    hdlr = _box(b"hdlr", b"\x00" * 8 + b"mdirappl" + b"\x00" * 9)
    meta = _box(b"meta", b"\x00\x00\x00\x00" + hdlr + ilst)
    data = _box(b"ftyp", b"isom\x00\x00\x02\x00isom") + _box(b"mdat", b"\x00" * 100)
    data += _box(b"moov", _box(b"mvhd", b"\x00" * 100) + _box(b"udta", meta))
    path = tmp_path / "wan2gp.mp4"
    path.write_bytes(data)
    assert read_mp4_tags(path) == {"comment": json.dumps(WAN2GP)}
    assert read_settings(path).source == "wan2gp"
