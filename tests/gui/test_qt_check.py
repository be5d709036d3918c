"""The installed PySide6 must be one that does not crash the interpreter (see gui/qt_check.py)."""

import pytest

from wan22_desktop.gui.qt_check import HINT, pyside_problem


def test_installed_pyside_is_usable():
    problem = pyside_problem()
    assert problem is None, f"{problem}; {HINT}"


@pytest.mark.parametrize(
    "pyside, python, broken",
    [
        ("6.12.0", (3, 11), True),
        ("6.12.0", (3, 10), True),
        ("6.12.0", (3, 12), False),
        ("6.11.3", (3, 11), False),
        ("6.12.1", (3, 11), False),
    ],
)
def test_known_broken_builds(pyside, python, broken):
    assert (pyside_problem(pyside, python) is not None) is broken
