"""Errors that carry a one-line user message and a hint; tracebacks go to the log, not the user.

Callers branch on the type, never on the message text: the GUI marks ``UserInputError.field``,
the runner maps a worker failure's ``kind`` (see ``FAILURE_KINDS``) to these classes and back.
"""

from __future__ import annotations


class Wan22Error(Exception):
    """Base for errors shown to a user: ``message`` is one line, ``hint`` says what to do."""

    exit_code = 1
    kind = "error"  # the stable name of the class in job records and worker events

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UserInputError(Wan22Error):
    """Bad input from the user (flags, request fields, files they named). CLI exit code 2.

    ``field`` names the request field at fault (``"frame_num"``, ``"image"``…) so a form can
    mark it; ``None`` when no single field is to blame.
    """

    exit_code = 2
    kind = "bad_input"

    def __init__(self, message: str, hint: str | None = None, *, field: str | None = None) -> None:
        super().__init__(message, hint)
        self.field = field


class CheckpointError(UserInputError):
    """A model folder is missing, incomplete, damaged or of another task."""

    kind = "checkpoint"


class OperationError(Wan22Error):
    """Something failed while doing what the user asked (I/O, database, network). Exit code 1."""

    exit_code = 1


class OutOfMemory(OperationError):
    """The GPU (or the machine) ran out of memory; the hint names a lighter plan."""

    kind = "out_of_memory"


class DiskFull(OperationError):
    """No room left to write an output or a download; the message names the folder and free space."""

    kind = "disk_full"


class LeaseHeld(OperationError):
    """Another runner holds this data folder's queue."""

    kind = "lease_held"


class Cancelled(Wan22Error):
    """The user cancelled (or paused) the job; not a failure."""

    exit_code = 130
    kind = "cancelled"


FAILURE_KINDS: dict[str, type[Wan22Error]] = {
    cls.kind: cls
    for cls in (
        Wan22Error,
        UserInputError,
        CheckpointError,
        OutOfMemory,
        DiskFull,
        LeaseHeld,
        Cancelled,
    )
}
