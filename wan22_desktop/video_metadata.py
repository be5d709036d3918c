"""Settings inside a video: what we write into every output, and reading it back from ours and
from videos made by Wan2GP and ComfyUI (drop a video on Generate, ``wan22 queue add --from``).

Pure (no torch, no Qt): the GUI uses the reader. The written field (docs/reference.md, "Settings
inside every video"):

* **mp4**: the container's ``comment`` tag (the ``©cmt`` item of ``moov/udta/meta/ilst``, what
  ``ffprobe`` shows as ``comment``) holds ``{"wan22": PAYLOAD}`` as JSON;
* **PNG frames**: an ``iTXt`` chunk with the keyword ``wan22`` holding ``PAYLOAD``;
* **JPEG thumbnail**: its ``COM`` segment holds ``{"wan22": PAYLOAD}`` when it fits (64 KiB).

``PAYLOAD`` is ``{"format": 1, "app": "wan22-desktop", "app_version", "request": the resolved
request (GenerationRequest.to_dict: concrete seed), "prompt_used" (the extended prompt, when
extension changed it), "plan" (device, dtype, memory switches), "model" ({"folder": name})}``.

What others write, from their sources: Wan2GP puts its settings JSON (``prompt``,
``num_inference_steps``, ``guidance_scale``/``guidance2_scale``, ``flow_shift``, ``resolution``,
``video_length``, ``model_type``...) in the mp4 ``©cmt`` tag (mutagen) and a PNG ``comment`` text;
ComfyUI's native SaveVideo writes the API-format ``prompt`` graph and the ``workflow`` as separate
mp4 tags (``movflags use_metadata_tags``: QuickTime ``mdta`` keys), VideoHelperSuite writes
``{"prompt": ..., "workflow": ...}`` into ``comment``, and both write PNG ``prompt``/``workflow``
texts. The mp4 atoms are read here directly (``read_mp4_tags``) so no ffprobe is needed.
"""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, BinaryIO

from wan22_desktop.errors import UserInputError
from wan22_desktop.request import SCHEMA_VERSION, GenerationRequest, Guidance

FIELD = "wan22"  # the key inside the mp4 comment / JPEG comment, the PNG iTXt keyword
FORMAT = 1
APP = "wan22-desktop"
JPEG_COMMENT_MAX = 65533  # one COM segment
# The plan's decisions worth keeping with a video (how it was made, not how to make it again).
PLAN_KEYS = (
    "device",
    "dtype",
    "nproc",
    "attention",
    "offload_model",
    "t5_cpu",
    "convert_model_dtype",
    "stream_blocks",
    "fp8",
    "vae_dtype",
    "vae_tile",
)
# Request fields a re-queued video must not copy: the new job writes a new file.
NOT_REQUEUED = ("save_file",)
VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
NO_METADATA_HINT = (
    "only videos and images written by Wan22 Desktop, Wan2GP or ComfyUI carry their settings; "
    "give the settings as flags instead (wan22 queue add --help)"
)


# ---------------------------------------------------------------------------- writing


def build_payload(
    request: GenerationRequest,
    *,
    prompt_used: str | None = None,
    plan: Mapping[str, Any] | None = None,
    checkpoint: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """The JSON we embed for a finished job (``request`` with its seed resolved)."""
    from wan22_desktop import __version__

    payload: dict[str, Any] = {
        "format": FORMAT,
        "app": APP,
        "app_version": __version__,
        "request": request.to_dict(),
    }
    if prompt_used is not None and prompt_used != request.prompt:
        payload["prompt_used"] = prompt_used
    if plan:
        payload["plan"] = {k: plan[k] for k in PLAN_KEYS if k in plan}
    if checkpoint is not None:
        payload["model"] = {"folder": Path(checkpoint).name}
    return payload


def comment_text(payload: Mapping[str, Any]) -> str:
    """The mp4/JPEG ``comment`` value: ``{"wan22": payload}`` (a key of its own, so a reader of
    Wan2GP's JSON comment sees at once that this one is ours)."""
    return json.dumps({FIELD: payload}, ensure_ascii=False, sort_keys=True)


def png_text(payload: Mapping[str, Any]) -> str:
    """The PNG ``iTXt`` ``wan22`` value."""
    return json.dumps(payload, ensure_ascii=False, sort_keys=True)


# ---------------------------------------------------------------------------- reading tags


def read_tags(path: str | os.PathLike[str]) -> dict[str, str]:
    """The text tags of a video or image: mp4/mov container tags (``comment``, ``prompt``,
    ``workflow``...), PNG text chunks, the JPEG comment. Empty when there are none."""
    p = Path(path)
    with open(p, "rb") as f:
        head = f.read(12)
    if head[4:8] == b"ftyp" or p.suffix.lower() in VIDEO_SUFFIXES:
        return read_mp4_tags(p)
    return _image_tags(p)


def _image_tags(path: Path) -> dict[str, str]:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            info = dict(getattr(img, "text", {}) or {})
            for key, value in img.info.items():
                if isinstance(value, (str, bytes)) and key not in info:
                    info[key] = value
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return {}
    out: dict[str, str] = {}
    for key, value in info.items():
        if isinstance(value, bytes):
            if key != "comment":
                continue
            value = value.decode("utf-8", errors="replace")
        if isinstance(value, str):
            out[str(key)] = value
    return out


_MAX_TAG_BYTES = 64 * 1024**2
_ATOM_NAMES = {b"\xa9cmt": "comment", b"desc": "description", b"\xa9nam": "title"}


def read_mp4_tags(path: str | os.PathLike[str]) -> dict[str, str]:
    """The text tags of an ISO-BMFF file (mp4/mov), read from its atoms: ``moov/udta/meta/ilst``
    items (iTunes-style ``©cmt``, or QuickTime ``mdta`` keys as ComfyUI writes) and QuickTime
    ``udta`` text atoms. Damaged or foreign files give what could be read, never an exception."""
    tags: dict[str, str] = {}
    try:
        with open(path, "rb") as f:
            end = os.fstat(f.fileno()).st_size
            for kind, start, stop in _boxes(f, 0, end):
                if kind == b"moov":
                    for k2, s2, e2 in _boxes(f, start, stop):
                        if k2 == b"udta":
                            _udta_tags(f, s2, e2, tags)
    except (OSError, struct.error, ValueError):
        pass
    return tags


def _boxes(f: BinaryIO, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, box end) of each box between ``start`` and ``end``."""
    pos = start
    while pos + 8 <= end:
        f.seek(pos)
        size, kind = struct.unpack(">I4s", f.read(8))
        header = 8
        if size == 1:
            (size,) = struct.unpack(">Q", f.read(8))
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            return
        yield kind, pos + header, pos + size
        pos += size


def _udta_tags(f: BinaryIO, start: int, end: int, tags: dict[str, str]) -> None:
    for kind, s, e in _boxes(f, start, end):
        if kind == b"meta":
            f.seek(s)
            probe = f.read(8)
            if probe[4:8] not in (b"hdlr", b"keys", b"ilst"):
                s += 4  # ISO full box: version and flags first
            _meta_tags(f, s, e, tags)
        elif kind[:1] == b"\xa9" and e - s >= 4 and e - s < _MAX_TAG_BYTES:
            f.seek(s)
            length, _language = struct.unpack(">HH", f.read(4))
            if length <= e - s - 4:
                text = f.read(length).decode("utf-8", errors="replace")
                tags.setdefault(_ATOM_NAMES.get(kind, kind.decode("latin-1")), text)


def _meta_tags(f: BinaryIO, start: int, end: int, tags: dict[str, str]) -> None:
    keys: list[str] = []
    for kind, s, e in _boxes(f, start, end):
        if kind == b"keys":
            f.seek(s + 4)
            (count,) = struct.unpack(">I", f.read(4))
            pos = s + 8
            for _ in range(count):
                if pos + 8 > e:
                    break
                f.seek(pos)
                size, _ns = struct.unpack(">I4s", f.read(8))
                if size < 8:
                    break
                keys.append(f.read(size - 8).decode("utf-8", errors="replace"))
                pos += size
        elif kind == b"ilst":
            for item, s2, e2 in _boxes(f, s, e):
                index = struct.unpack(">I", item)[0]
                if keys and 1 <= index <= len(keys):
                    name = keys[index - 1]
                else:
                    name = _ATOM_NAMES.get(item, item.decode("latin-1"))
                for d, s3, e3 in _boxes(f, s2, e2):
                    if d == b"data" and 8 <= e3 - s3 < _MAX_TAG_BYTES:
                        f.seek(s3)
                        (kind_code,) = struct.unpack(">I", f.read(4))
                        f.read(4)  # locale
                        if kind_code & 0xFFFFFF in (0, 1):  # text (not cover art, numbers)
                            tags[name] = f.read(e3 - s3 - 8).decode("utf-8", errors="replace")
                        break


# ---------------------------------------------------------------------------- mapping


@dataclass(frozen=True)
class VideoSettings:
    """What a file's metadata says about how it was made, as request fields."""

    source: str  # "wan22" | "wan2gp" | "comfyui"
    fields: dict[str, Any]  # GenerationRequest field values (may lack "task")
    unmapped: tuple[str, ...] = ()  # "name: value" of settings we cannot use
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def source_name(self) -> str:
        return {"wan22": "Wan22 Desktop", "wan2gp": "Wan2GP", "comfyui": "ComfyUI"}[self.source]

    def request(self, **overrides: Any) -> GenerationRequest:
        """The request (``overrides`` win: flags given on the command line). Not validated."""
        values = {k: v for k, v in self.fields.items() if k not in NOT_REQUEUED}
        values.update(overrides)
        task = values.pop("task", None)
        if not task:
            raise UserInputError(
                f"the {self.source_name} settings do not say which Wan2.2 model made the video",
                "give the task: --task t2v-A14B, i2v-A14B or ti2v-5B",
                field="task",
            )
        return GenerationRequest.for_task(task, **values)


def read_settings(path: str | os.PathLike[str]) -> VideoSettings:
    """The settings embedded in ``path`` (ours, Wan2GP's or ComfyUI's); UserInputError naming
    the file when it cannot be read or carries none."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise UserInputError(f"file not found: {p}", "check the path", field="from")
    try:
        tags = read_tags(p)
    except OSError as exc:
        raise UserInputError(
            f"cannot read {p.name}: {exc.strerror or exc}", "check the file", field="from"
        ) from None
    found = settings_from_tags(tags)
    if found is None:
        raise UserInputError(
            f"{p.name} carries no generation settings", NO_METADATA_HINT, field="from"
        )
    return found


def settings_from_tags(tags: Mapping[str, str]) -> VideoSettings | None:
    """Recognise the writer from the tags and map its settings; None when nothing is known."""
    if FIELD in tags:  # our PNG iTXt
        payload = _json(tags[FIELD])
        if isinstance(payload, dict):
            return _from_ours(payload)
    for key in ("comment", "description"):
        data = _json(tags.get(key))
        if not isinstance(data, dict):
            continue
        if isinstance(data.get(FIELD), dict):
            return _from_ours(data[FIELD])
        if "prompt" in data and _comfy_graph(data["prompt"]) is not None:
            return _from_comfy(_comfy_graph(data["prompt"]) or {}, data)
        if _looks_like_wan2gp(data):
            return _from_wan2gp(data)
    graph = _comfy_graph(tags.get("prompt"))
    if graph is not None:
        return _from_comfy(graph, {"workflow": _json(tags.get("workflow"))})
    if _json(tags.get("workflow")) is not None:
        return VideoSettings(
            "comfyui", {}, ("workflow: only the editor's graph is stored, not the prompt",)
        )
    return None


def _json(text: Any) -> Any:
    if isinstance(text, (dict, list)):
        return text
    if not isinstance(text, str):
        return None
    try:
        return json.loads(text)
    except (json.JSONDecodeError, ValueError):
        return None


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:79] + "…"


# ---- ours


def _from_ours(payload: Mapping[str, Any]) -> VideoSettings:
    request = payload.get("request")
    if not isinstance(request, Mapping):
        return VideoSettings("wan22", {}, ("request: missing",), dict(payload))
    data = dict(request)
    known = {f.name for f in fields(GenerationRequest)}
    unmapped = [f"{k}: {_shown(v)}" for k, v in data.items() if k not in known | {"schema_version"}]
    data = {k: v for k, v in data.items() if k in known | {"schema_version"}}
    data.setdefault("schema_version", SCHEMA_VERSION)
    if isinstance(data.get("schema_version"), int) and data["schema_version"] > SCHEMA_VERSION:
        data["schema_version"] = SCHEMA_VERSION  # a newer app: keep the fields we know
    try:
        parsed = GenerationRequest.from_dict(data)
    except UserInputError:
        # A field this version reads differently (another app version, a hand edit): listed,
        # not fatal. The task itself must parse, or the error stands.
        bad = [k for k in data if k not in ("schema_version", "task") and not _parses(data, k)]
        unmapped += [f"{k}: {_shown(data[k])}" for k in bad]
        parsed = GenerationRequest.from_dict({k: v for k, v in data.items() if k not in bad})
    values = {f.name: getattr(parsed, f.name) for f in fields(GenerationRequest)}
    return VideoSettings("wan22", values, tuple(unmapped), dict(payload))


def _parses(data: Mapping[str, Any], key: str) -> bool:
    """Whether ``key`` alone (with the schema version and task) reads as a request field."""
    keep = {k: data[k] for k in ("schema_version", "task", key) if k in data}
    try:
        GenerationRequest.from_dict(keep)
    except UserInputError:
        return False
    return True


# ---- Wan2GP

_WAN2GP_KEYS = ("num_inference_steps", "video_length", "flow_shift", "guidance_scale")
_WAN2GP_TASKS = {"t2v_2_2": "t2v-A14B", "i2v_2_2": "i2v-A14B", "ti2v_2_2": "ti2v-5B"}
_WAN2GP_IGNORED = {
    "type",
    "settings_version",
    "creation_date",
    "creation_timestamp",
    "generation_time",
    "base_model_type",
    "model_filename",
    "mode",
}
_SOLVERS = {"unipc": "unipc", "dpm++": "dpm++", "uni_pc": "unipc", "dpmpp_2m": "dpm++"}


def _looks_like_wan2gp(data: Mapping[str, Any]) -> bool:
    return sum(k in data for k in _WAN2GP_KEYS) >= 2


def _from_wan2gp(data: Mapping[str, Any]) -> VideoSettings:
    out: dict[str, Any] = {}
    used: set[str] = set()
    unmapped: list[str] = []

    def take(src: str, dst: str, conv: Any = None) -> None:
        if data.get(src) is None:
            return
        used.add(src)
        try:
            out[dst] = conv(data[src]) if conv else data[src]
        except (TypeError, ValueError):
            unmapped.append(f"{src}: {_shown(data[src])}")

    model = str(data.get("model_type") or "")
    if model in _WAN2GP_TASKS:
        out["task"] = _WAN2GP_TASKS[model]
        used.add("model_type")
    take("prompt", "prompt", str)
    take("negative_prompt", "negative_prompt", str)
    take("resolution", "size", lambda v: str(v).replace("x", "*"))
    take("video_length", "frame_num", int)
    take("num_inference_steps", "sample_steps", int)
    take("flow_shift", "sample_shift", float)
    take("seed", "seed", int)
    if data.get("sample_solver") is not None:
        solver = _SOLVERS.get(str(data["sample_solver"]))
        if solver:
            out["solver"] = solver
            used.add("sample_solver")
    if data.get("guidance_scale") is not None:
        # Wan2GP: guidance_scale is the first (high-noise) phase, guidance2_scale the second.
        high = float(data["guidance_scale"])
        low = float(data.get("guidance2_scale") or high) if out.get("task") != "ti2v-5B" else high
        out["guidance"] = Guidance(low, high)
        used.update({"guidance_scale", "guidance2_scale"})
    if out.get("seed") is not None and out["seed"] < 0:
        out["seed"] = -1
    for key, value in data.items():
        if key in used or key in _WAN2GP_IGNORED or value in (None, "", [], {}):
            continue
        unmapped.append(f"{key}: {_shown(value)}")
    return VideoSettings("wan2gp", out, tuple(unmapped), dict(data))


# ---- ComfyUI


def _comfy_graph(value: Any) -> dict[str, Any] | None:
    graph = _json(value)
    if isinstance(graph, dict) and any(
        isinstance(n, dict) and "class_type" in n for n in graph.values()
    ):
        return graph
    return None


_COMFY_SAMPLERS = ("KSampler", "KSamplerAdvanced", "WanVideoSampler")
_COMFY_LATENTS = {
    "EmptyHunyuanLatentVideo": "length",
    "Wan22ImageToVideoLatent": "length",
    "WanImageToVideo": "length",
    "WanVideoEmptyEmbeds": "num_frames",
    "WanVideoImageToVideoEncode": "num_frames",
}


def _from_comfy(graph: Mapping[str, Any], extra: Mapping[str, Any]) -> VideoSettings:
    out: dict[str, Any] = {}
    unmapped: list[str] = []

    def node(link: Any) -> dict[str, Any] | None:
        if isinstance(link, list) and link and str(link[0]) in graph:
            n = graph[str(link[0])]
            return n if isinstance(n, dict) else None
        return None

    def literal(value: Any) -> Any:
        return None if isinstance(value, list) else value

    samplers = [
        n for n in graph.values() if isinstance(n, dict) and n.get("class_type") in _COMFY_SAMPLERS
    ]
    samplers.sort(key=lambda n: literal(n.get("inputs", {}).get("start_at_step")) or 0)
    if not samplers:
        return VideoSettings("comfyui", {}, ("prompt: no sampler node found",), dict(extra))
    first = samplers[0].get("inputs", {})
    seed = literal(first.get("noise_seed", first.get("seed")))
    if isinstance(seed, int):
        out["seed"] = seed
    steps = literal(first.get("steps"))
    if isinstance(steps, int):
        out["sample_steps"] = steps
    cfgs = [literal(s.get("inputs", {}).get("cfg")) for s in samplers]
    cfgs = [float(c) for c in cfgs if isinstance(c, (int, float))]
    if cfgs:  # two samplers: high-noise expert first (start_at_step 0), then low-noise
        out["guidance"] = Guidance(cfgs[-1], cfgs[0])
    name = literal(first.get("sampler_name", first.get("scheduler")))
    if isinstance(name, str):
        if name in _SOLVERS:
            out["solver"] = _SOLVERS[name]
        else:
            unmapped.append(f"sampler: {name}")
    if len(samplers) > 1:
        switch = literal(samplers[1].get("inputs", {}).get("start_at_step"))
        unmapped.append(f"expert switch: at step {switch} (ours: the model's own boundary)")
    if first.get("scheduler") and "sampler_name" in first:
        unmapped.append(f"scheduler: {_shown(first['scheduler'])}")
    if isinstance(literal(first.get("shift")), (int, float)):
        out["sample_shift"] = float(first["shift"])

    # prompts: KSampler positive/negative -> CLIPTextEncode; WanVideoSampler -> text_embeds
    pos = node(first.get("positive"))
    neg = node(first.get("negative"))
    if pos and isinstance(literal(pos.get("inputs", {}).get("text")), str):
        out["prompt"] = pos["inputs"]["text"]
    if neg and isinstance(literal(neg.get("inputs", {}).get("text")), str):
        out["negative_prompt"] = neg["inputs"]["text"]
    enc = node(first.get("text_embeds"))
    if enc:
        for src, dst in (("positive_prompt", "prompt"), ("negative_prompt", "negative_prompt")):
            if isinstance(literal(enc.get("inputs", {}).get(src)), str):
                out[dst] = enc["inputs"][src]

    for n in graph.values():
        if not isinstance(n, dict):
            continue
        cls, inputs = n.get("class_type"), n.get("inputs", {})
        if cls in _COMFY_LATENTS:
            w, h = literal(inputs.get("width")), literal(inputs.get("height"))
            if isinstance(w, int) and isinstance(h, int):
                out["size"] = f"{w}*{h}"
            frames = literal(inputs.get(_COMFY_LATENTS[cls]))
            if isinstance(frames, int):
                out["frame_num"] = frames
        elif cls == "ModelSamplingSD3" and isinstance(literal(inputs.get("shift")), (int, float)):
            out.setdefault("sample_shift", float(inputs["shift"]))
        elif cls in ("UNETLoader", "WanVideoModelLoader"):
            name = str(literal(inputs.get("unet_name", inputs.get("model"))) or "").lower()
            task = (
                "ti2v-5B"
                if "ti2v" in name
                else "i2v-A14B"
                if "i2v" in name
                else "t2v-A14B"
                if "t2v" in name
                else None
            )
            if task:
                out["task"] = task
        elif cls and "lora" in str(cls).lower():
            lora = literal(inputs.get("lora_name", inputs.get("lora")))
            unmapped.append(f"LoRA: {_shown(lora)} (LoRAs are not re-applied from ComfyUI)")
        elif cls in ("LoadImage",):
            unmapped.append(f"start image: {_shown(literal(inputs.get('image')))}")
    return VideoSettings("comfyui", out, tuple(dict.fromkeys(unmapped)), dict(extra))
