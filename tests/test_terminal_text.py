import pytest

from wan22_desktop.terminal_text import escape_control


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("a cat 在草地上", "a cat 在草地上"),
        ("\x1b[2J\x1b[31mred", "\\x1b[2J\\x1b[31mred"),
        ("bell\x07", "bell\\x07"),
        ("csi\x9b", "csi\\x9b"),
        ("line\nfake log line", "line\\nfake log line"),
        ("tab\there", "tab\\there"),
        ("rtl\u202eevil", "rtl\\u202eevil"),
        ("bad utf-8 \udcff", "bad utf-8 \\udcff"),
    ],
)
def test_escape_control_shows_what_would_act_on_the_terminal(raw: str, shown: str) -> None:
    assert escape_control(raw) == shown


def test_newlines_can_be_kept_for_multi_line_output() -> None:
    assert escape_control("a\n\x1bb", keep_newlines=True) == "a\n\\x1bb"
