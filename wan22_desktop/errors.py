"""Errors that carry a one-line user message and a hint; tracebacks go to the log, not the user."""

from __future__ import annotations


class Wan22Error(Exception):
    """Base for errors shown to a user: ``message`` is one line, ``hint`` says what to do."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UserInputError(Wan22Error):
    """Bad input from the user (flags, request fields, files they named). CLI exit code 2."""

    exit_code = 2


class OperationError(Wan22Error):
    """Something failed while doing what the user asked (I/O, database, network). Exit code 1."""

    exit_code = 1
