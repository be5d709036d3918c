#!/usr/bin/env bash
# Build the Linux bundle (ADR 0023): a PyInstaller onedir of the torch-free app into
# dist/wan22-desktop-linux-x86_64/ and dist/wan22-desktop-linux-x86_64.tar.gz.
#
#   bash packaging/linux/build_bundle.sh
#
# PYTHON picks the build interpreter (python3); WHEEL=path reuses an app wheel already built;
# KEEP=1 keeps the build folder. The bundle holds one executable, wan22-desktop, and a symlink
# wan22 to it (the name picks GUI or CLI), the app wheel in wheels/ and constraints.txt for
# `wan22 runtime setup`, which builds the worker's torch venv on the user's machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
PYTHON=${PYTHON:-python3}
NAME=wan22-desktop-linux-x86_64
OUT=$REPO/dist/$NAME
WORK=$(mktemp -d "${TMPDIR:-/tmp}/wan22-bundle.XXXXXX")
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$WORK"' EXIT
START=$SECONDS
step() { echo "build_bundle [$((SECONDS - START))s]: $*"; }
fail() { echo "build_bundle: FAILED: $*" >&2; exit 1; }

step "build environment in $WORK/env"
"$PYTHON" -m venv "$WORK/env"
PY=$WORK/env/bin/python
if [ -z "${WHEEL:-}" ]; then
    step "build the app wheel"
    "$PY" -m pip wheel -q --no-deps -w "$WORK/wheels" "$REPO" >"$WORK/wheel.log" 2>&1 \
        || { tail -30 "$WORK/wheel.log"; fail "pip wheel"; }
    WHEEL=$(ls "$WORK"/wheels/wan22_desktop-*.whl)
fi
step "install $(basename "$WHEEL") without torch, and PyInstaller"
# The bundle is torch-free: install the wheel alone, then its dependencies less torch (and the
# worker-only tokenizer stack) under the project's pins.
"$PY" -m pip install -q --no-deps "$WHEEL" >"$WORK/pip.log" 2>&1 \
    || { tail -30 "$WORK/pip.log"; fail "pip install of the wheel"; }
mapfile -t DEPS < <("$PY" - <<'PY'
import re
from importlib.metadata import requires
skip = {"torch", "transformers", "tokenizers", "sentencepiece"}
for req in requires("wan22_desktop") or []:
    if "extra ==" in req:
        continue
    name = re.split(r"[ ;<>=!~\[]", req, maxsplit=1)[0].lower()
    if name not in skip:
        print(req)
PY
)
"$PY" -m pip install -q -c "$REPO/constraints.txt" "${DEPS[@]}" pyinstaller >>"$WORK/pip.log" 2>&1 \
    || { grep -v "^WARNING: Location" "$WORK/pip.log" | tail -30; fail "pip install of the dependencies"; }
"$PY" -c "import torch" 2>/dev/null && fail "torch got into the build environment"

step "PyInstaller (onedir)"
# Collected by hand: the package data (translations, icons, desktop entry, presets.json), the
# Alembic migrations as .py files (Alembic loads them by path), the command modules (found with
# pkgutil), keyring's backends and its entry points (keyring finds backends through metadata).
# Left out: torch, the engine's torch part (engine.wan) and what only the worker imports; the
# worker runs in its own venv. The engine's torch-free modules (video_io, prompt_extend) stay.
MIGRATIONS=$("$PY" -c "import wan22_desktop.db as d, os; print(os.path.dirname(d.__file__))")/migrations
find "$MIGRATIONS" -name __pycache__ -prune -exec rm -rf {} +
rm -rf "$OUT" "$OUT.tar.gz"
mkdir -p "$(dirname "$OUT")"
(cd "$WORK" && "$PY" -m PyInstaller --noconfirm --clean --onedir --log-level WARN \
    --name wan22-desktop --distpath "$WORK/pyi-dist" --workpath "$WORK/pyi-build" \
    --specpath "$WORK" \
    --collect-data wan22_desktop \
    --add-data "$MIGRATIONS:wan22_desktop/db/migrations" \
    --collect-submodules wan22_desktop.commands \
    --collect-submodules wan22_desktop.gui \
    --copy-metadata wan22_desktop \
    --collect-submodules keyring.backends --copy-metadata keyring \
    --exclude-module torch --exclude-module torchvision --exclude-module triton \
    --exclude-module transformers --exclude-module tokenizers --exclude-module sentencepiece \
    --exclude-module wan22_desktop.engine.wan --exclude-module tkinter \
    "$REPO/packaging/linux/entry.py") >"$WORK/pyinstaller.log" 2>&1 \
    || { tail -40 "$WORK/pyinstaller.log"; fail "PyInstaller"; }
mv "$WORK/pyi-dist/wan22-desktop" "$OUT"
ln -s wan22-desktop "$OUT/wan22"
mkdir -p "$OUT/wheels"
cp "$WHEEL" "$OUT/wheels/"
cp "$REPO/constraints.txt" "$OUT/constraints.txt"
cat >"$OUT/README.txt" <<'TXT'
Wan22 Desktop for Linux (x86_64)

  ./wan22-desktop            the window
  ./wan22 --help             the command line
  ./wan22 runtime setup      once: builds the worker's torch environment (needs python3 with
                             venv from your distribution and a few GB of downloads)
  ./wan22-desktop --install-desktop-entry   adds it to your application menu
TXT

step "the Alembic migrations are files in the bundle"
[ -n "$(find "$OUT" -path '*wan22_desktop/db/migrations/versions/r0001_initial.py')" ] \
    || fail "no migrations in the bundle"
step "tar.gz"
# gzip -1: a third of the time of the default level for a few % more bytes (ffmpeg and Qt
# are compressed already).
tar -C "$(dirname "$OUT")" -cf - "$NAME" | gzip -1 >"$OUT.tar.gz"
step "done in $((SECONDS - START))s: $OUT ($(du -sh "$OUT" | cut -f1)), $OUT.tar.gz ($(du -sh "$OUT.tar.gz" | cut -f1))"
