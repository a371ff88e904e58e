#!/usr/bin/env bash
# Set up memshim (packages, build) and run the documentation's example
# programs under Wine against memshim, side by side with Wine's builtin.
set -euo pipefail
top=$(cd "$(dirname "$0")" && pwd)
build=${MEMSHIM_BUILD_DIR:-$top/build}
"$top/tools/setup.sh"
echo "== the docs' examples, builtin kernel32 vs memshim (outputs in $build/examples-run) =="
status=0
"$top/tests/run-examples" "$build" || status=$?
for mode in builtin memshim; do
    echo "-- $mode: alloc_write_free"; grep -v '^# ' "$build/examples-run/$mode.alloc.out"
    echo "-- $mode: shared_memory (+ reader in a second process)"
    grep -hv '^# ' "$build/examples-run/$mode.shared.out" "$build/examples-run/$mode.reader.out"
done
for p in "$build"/wine/*/; do [ -d "$p" ] && WINEPREFIX="$p" wineserver -k 2>/dev/null || true; done
exit $status
