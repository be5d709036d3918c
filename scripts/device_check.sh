#!/usr/bin/env bash
# One GPU check for one H100/H200, under 8 minutes with the installs, from a clean checkout:
#   1. pip install -c constraints.txt -e .  (needs a CUDA build of the pinned torch already)
#   2. the optional attention kernels from wheels, each within a time limit (else: say so)
#   3. benchmarks/device_check.py: attention backends vs SDPA on a real-size block, bench_gpu for
#      TI2V-5B 720p and A14B 720p (resident; streamed if the engine streams blocks), the VRAM
#      harness if present, and one summary table (also written to $OUT/summary.txt).
#
#   bash scripts/device_check.sh [--dry-run] [--no-install] [--out DIR] [--stream N]
#
# --dry-run: no installs, tiny sizes on the CPU through the same code (what CI/tests run).
set -u -o pipefail

cd "$(dirname "$0")/.."
PY="${PYTHON:-python}"
DRY=0
INSTALL=1
OUT="device_check_out"
STREAM=4
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY=1; INSTALL=0 ;;
    --no-install) INSTALL=0 ;;
    --out) OUT="$2"; shift ;;
    --stream) STREAM="$2"; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "error: unknown option $1" >&2; echo "hint: see $0 --help" >&2; exit 2 ;;
  esac
  shift
done
mkdir -p "$OUT"
START=$(date +%s)
note() { echo "[device_check +$(( $(date +%s) - START ))s] $*"; }

if [ "$INSTALL" = 1 ]; then
  PINNED=$(sed -n 's/^torch==//p' constraints.txt)
  HAVE=$("$PY" -c 'import torch; print(torch.__version__.split("+")[0])' 2>/dev/null || echo none)
  CUDA=$("$PY" -c 'import torch; print(torch.cuda.is_available())' 2>/dev/null || echo False)
  note "torch $HAVE (pinned $PINNED), CUDA available: $CUDA"
  if [ "$HAVE" != "$PINNED" ] || [ "$CUDA" != "True" ]; then
    echo "error: needs a CUDA build of torch==$PINNED installed first" >&2
    echo "hint: pip install torch==$PINNED --index-url https://download.pytorch.org/whl/cu128" >&2
    exit 2
  fi
  note "pip install -c constraints.txt -e ."
  if ! timeout 120 "$PY" -m pip install -q -c constraints.txt -e . >"$OUT/pip_project.log" 2>&1; then
    echo "error: the project did not install; see $OUT/pip_project.log" >&2
    exit 1
  fi
  # Kernels: wheels only (a source build takes far longer than this check may), time-limited.
  for pkg in flash-attn sageattention; do
    note "pip install $pkg (wheel only, 75 s limit)"
    if timeout 75 "$PY" -m pip install -q --only-binary=:all: "$pkg" >"$OUT/pip_$pkg.log" 2>&1; then
      note "$pkg: installed"
    else
      note "$pkg: NOT installed (no wheel for this platform or no network; see $OUT/pip_$pkg.log)"
    fi
  done
fi

ARGS=(--out "$OUT" --stream "$STREAM")
[ "$DRY" = 1 ] && ARGS+=(--dry-run)
note "running benchmarks/device_check.py ${ARGS[*]}"
"$PY" benchmarks/device_check.py "${ARGS[@]}"
RC=$?
note "done (exit $RC)"
exit $RC
