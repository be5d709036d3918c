"""Messages between the queue runner and the worker process: versioned JSON, one per line.

The runner writes commands to the worker's stdin; the worker writes events to a dedicated pipe
(or stdout). Both sides import this module and nothing else to speak to each other, so a test can
check they agree. No torch here: the runner and the GUI import it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar

from wan22_desktop.errors import FAILURE_KINDS as ERROR_KINDS

PROTOCOL_VERSION = 1

PHASES = ("loading", "prompt_extension", "text_encoding", "sampling", "decoding", "saving")
# A failed job's kind: a typed error's ``kind`` (``errors.FAILURE_KINDS``: out_of_memory,
# checkpoint, bad_input, disk_full, cancelled...), or what only the runner sees or the worker
# cannot name: crashed, hang, internal (an unexpected exception).
RUNNER_FAILURE_KINDS = ("crashed", "hang", "internal")
FAILURE_KINDS = (*ERROR_KINDS, *RUNNER_FAILURE_KINDS)


class ProtocolError(ValueError):
    """A line that is not a message of this protocol version."""


@dataclass(frozen=True)
class Message:
    type: ClassVar[str] = ""

    def to_line(self) -> str:
        body = {"v": PROTOCOL_VERSION, "type": self.type, **asdict(self)}
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")) + "\n"


# --- Commands: runner -> worker ----------------------------------------------------------------
@dataclass(frozen=True)
class RunJob(Message):
    type: ClassVar[str] = "run_job"
    job_id: int
    request: dict[str, Any]  # GenerationRequest.to_dict()
    plan: dict[str, Any]  # Plan.to_dict()
    checkpoint: str
    output_path: str
    thumbnail_path: str | None = None
    preview_dir: str | None = None
    preview_every: int = 5
    preview_taehv: str | None = None  # a TAEHV file: near-true previews; None: fast colours


@dataclass(frozen=True)
class Cancel(Message):
    type: ClassVar[str] = "cancel"
    job_id: int


@dataclass(frozen=True)
class Release(Message):
    """Free the loaded pipeline and GPU memory; the worker stays up."""

    type: ClassVar[str] = "release"


@dataclass(frozen=True)
class Shutdown(Message):
    type: ClassVar[str] = "shutdown"


@dataclass(frozen=True)
class Ping(Message):
    type: ClassVar[str] = "ping"


# --- Events: worker -> runner ------------------------------------------------------------------
@dataclass(frozen=True)
class Ready(Message):
    type: ClassVar[str] = "ready"
    pid: int
    torch_version: str | None = None
    devices: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class JobStarted(Message):
    type: ClassVar[str] = "job_started"
    job_id: int
    warm: bool = False  # the pipeline was already loaded


@dataclass(frozen=True)
class Phase(Message):
    type: ClassVar[str] = "phase"
    job_id: int
    phase: str


@dataclass(frozen=True)
class Step(Message):
    type: ClassVar[str] = "step"
    job_id: int
    step: int  # 1-based
    total: int
    timestep: int
    expert: str | None = None
    it_per_s: float | None = None
    eta_s: float | None = None


@dataclass(frozen=True)
class Preview(Message):
    type: ClassVar[str] = "preview"
    job_id: int
    step: int
    path: str
    animation: str | None = None  # a looping GIF of the clip (TAEHV previews)


@dataclass(frozen=True)
class Log(Message):
    type: ClassVar[str] = "log"
    level: str
    message: str
    job_id: int | None = None


@dataclass(frozen=True)
class Done(Message):
    type: ClassVar[str] = "done"
    job_id: int
    outputs: list[str]
    seed: int
    final_prompt: str
    thumbnail: str | None = None
    prompt_warning: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    peak_gpu_bytes: int | None = None
    peak_cpu_bytes: int | None = None
    frames: int | None = None
    width: int | None = None
    height: int | None = None
    fps: int | None = None
    notes: list[str] = field(default_factory=list)  # run-time fallbacks (attention kernel)
    sampling: dict[str, Any] | None = None  # expert per step and skipped steps (JobResult)


@dataclass(frozen=True)
class Failed(Message):
    type: ClassVar[str] = "failed"
    job_id: int
    kind: str  # one of FAILURE_KINDS: the runner records it as the job's error kind
    message: str
    hint: str | None = None
    phase: str | None = None
    step: int | None = None


@dataclass(frozen=True)
class Pong(Message):
    type: ClassVar[str] = "pong"


COMMANDS = {c.type: c for c in (RunJob, Cancel, Release, Shutdown, Ping)}
EVENTS = {e.type: e for e in (Ready, JobStarted, Phase, Step, Preview, Log, Done, Failed, Pong)}


def decode(line: str, kinds: Mapping[str, type[Message]] | None = None) -> Message:
    """Parse one line into its message; raise ``ProtocolError`` on anything unexpected."""
    try:
        body: Any = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ProtocolError(f"not JSON: {line[:80]!r}") from exc
    if not isinstance(body, dict):
        raise ProtocolError(f"not a message object: {line[:80]!r}")
    if body.get("v") != PROTOCOL_VERSION:
        raise ProtocolError(
            f"protocol version {body.get('v')!r}, expected {PROTOCOL_VERSION}: "
            "the worker and the app come from different versions"
        )
    table = kinds if kinds is not None else {**COMMANDS, **EVENTS}
    cls = table.get(str(body.get("type")))
    if cls is None:
        raise ProtocolError(f"unknown message type {body.get('type')!r}")
    names = {f.name for f in fields(cls)}
    args = {k: v for k, v in body.items() if k in names}
    try:
        msg = cls(**args)
    except TypeError as exc:
        raise ProtocolError(f"bad {cls.type} message: {exc}") from exc
    if isinstance(msg, Phase) and msg.phase not in PHASES:
        raise ProtocolError(f"unknown phase {msg.phase!r}")
    if isinstance(msg, Failed) and msg.kind not in FAILURE_KINDS:
        raise ProtocolError(f"unknown failure kind {msg.kind!r}")
    return msg
