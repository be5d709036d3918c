"""The bundle's one executable: ``wan22-desktop`` starts the window, ``wan22`` (a symlink to it)
the command line. PyInstaller freezes this file (ADR 0023); it is not part of the package."""

from __future__ import annotations

import os
import sys


def _home_from_argv(argv: list[str]) -> None:
    """``--home X`` also for the worker-venv lookup, which reads $WAN22_HOME (wan22_desktop.frozen)."""
    for i, a in enumerate(argv):
        if a == "--home" and i + 1 < len(argv):
            os.environ["WAN22_HOME"] = argv[i + 1]
        elif a.startswith("--home="):
            os.environ["WAN22_HOME"] = a.split("=", 1)[1]


def main() -> int:
    name = os.path.basename(sys.argv[0])
    _home_from_argv(sys.argv[1:])
    if name.startswith("wan22-desktop"):
        from wan22_desktop.gui.app import main as gui_main

        return int(gui_main() or 0)
    from wan22_desktop.cli import main as cli_main

    return int(cli_main() or 0)


if __name__ == "__main__":
    sys.exit(main())
