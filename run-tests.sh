#!/usr/bin/env bash
# Set up memshim (packages, build) and run the whole test suite: native unit
# tests (plain, ASan+UBSan, TSan), the PE conformance tests against Wine's
# builtin kernel32 and against memshim, the docs' examples, the launcher and
# Wine-program tests, the benchmark smoke run. Ends with "N passed, N failed".
set -euo pipefail
top=$(cd "$(dirname "$0")" && pwd)
build=${MEMSHIM_BUILD_DIR:-$top/build}
"$top/tools/setup.sh"
status=0
meson test -C "$build" --print-errorlogs --num-processes 2 "$@" || status=$?
# Stop only the wineservers of this build's private prefixes.
for p in "$build"/wine/*/ "$build"/tests/*/prefix*/; do
    [ -d "$p" ] && WINEPREFIX="$p" wineserver -k 2>/dev/null || true
done
python3 "$top/tools/test_summary.py" "$build/meson-logs/testlog.json"
exit $status
