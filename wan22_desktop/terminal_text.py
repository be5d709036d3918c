"""Text from users (prompts, file names, server replies) made safe to print on a terminal or in a log.

A queued prompt may hold ANSI escapes or other control characters; printed raw, they could clear or
recolour the terminal, fake lines in a log, or hide text. Everything non-printable is shown as a
visible escape instead; ordinary text, Chinese included, passes unchanged.
"""

from __future__ import annotations

import unicodedata

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_char(ch: str) -> str:
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _unsafe(ch: str) -> bool:
    # Cc: C0/C1 controls incl. ESC; Cf: format characters (bidi overrides, zero-width joiners are
    # kept out too: they can reorder what a reader sees); Cs: lone surrogates from undecodable argv.
    return unicodedata.category(ch) in ("Cc", "Cf", "Cs") and ch != "\u200d"


def escape_control(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` with every control/format character written as a visible escape (``\\x1b``)."""
    if text.isprintable() and not any(_unsafe(c) for c in text):
        return text
    return "".join(
        ch if (keep_newlines and ch == "\n") or not _unsafe(ch) else _escape_char(ch) for ch in text
    )
