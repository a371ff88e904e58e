# common.sh - shared by the launcher tests in tests/programs (sourced).
#
# The tests get from meson (env): WINEPREFIX (their private prefix, under the
# build dir), MEMSHIM (tools/memshim), MEMSHIM_DLL_DIR (build/dlls/kernel32).
# They print TAP. Wine is never piped: its first process starts services that
# inherit stdout/stderr, so every wine output goes to a file.
set -uo pipefail

: "${WINEPREFIX:?WINEPREFIX must be set (a private prefix under the build dir)}"
: "${MEMSHIM:?MEMSHIM must point to tools/memshim}"
: "${MEMSHIM_DLL_DIR:?MEMSHIM_DLL_DIR must point to build/dlls/kernel32}"
export WINEPREFIX MEMSHIM_DLL_DIR
unset WINEDLLOVERRIDES DISPLAY WAYLAND_DISPLAY
export WINEDEBUG=-all

tap_n=0 tap_failed=0
ok() {      # ok STATUS DESCRIPTION  (STATUS 0 = pass)
    tap_n=$((tap_n + 1))
    if [ "$1" = 0 ]; then echo "ok $tap_n - $2"
    else echo "not ok $tap_n - $2"; tap_failed=$((tap_failed + 1)); return 1; fi
}
diag() { sed 's/^/# /' "$@"; }
bail() { echo "Bail out! $*"; exit 1; }
tap_end() { echo "1..$tap_n"; [ "$tap_failed" = 0 ]; exit $?; }

sys32=$WINEPREFIX/drive_c/windows/system32

# sha256 of every file under system32, one "hash  ./path" line each, sorted.
snapshot_system32() {   # snapshot_system32 OUTFILE
    (cd "$sys32" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) >"$1"
}

# The prefix's HKCU\Software\Wine\DllOverrides kernel32 value, as reg.exe
# prints it ("    kernel32    REG_SZ    native,builtin"), or "(absent)".
# reg.exe runs on Wine's builtin kernel32.
override_value() {      # override_value WORKDIR -> stdout
    # An absent value makes reg.exe fail with a message; a failure without
    # any output is Wine's process start failing (seen once in a CI run, as
    # an "(absent)" right after install): asked again, up to three times.
    local try
    for try in 1 2 3; do
        WINEDLLOVERRIDES=kernel32=b WINEDEBUG=-all wine reg.exe query 'HKCU\Software\Wine\DllOverrides' /v kernel32 \
            </dev/null >"$1/reg-query.out" 2>"$1/reg-query.err" && break
        [ -s "$1/reg-query.out" ] || [ -s "$1/reg-query.err" ] && break
        sleep 1
    done
    if grep -qi '^ *kernel32 ' "$1/reg-query.out"; then
        grep -i '^ *kernel32 ' "$1/reg-query.out" | tr -d '\r'
    else
        echo "(absent)"
    fi
}

# Start the prefix's wineserver session with output to a log file, so that
# the services it starts hold on to no test output file.
start_session() {       # start_session LOGFILE
    wine cmd.exe /c exit 0 </dev/null >>"$1" 2>&1 || true
}

# Check a +loaddll trace: at least one kernel32.dll load, and every one
# native at a base other than Wine's builtin 0x7B600000 (DESIGN.md: +loaddll
# may label the builtin with our path; trust ": native" and the base).
# Prints the offending lines on failure.
kernel32_is_memshim() {  # kernel32_is_memshim STDERRFILE
    local lines
    lines=$(grep -a -E '[\\]kernel32\.dll" at [0-9A-Fa-f]+: ' "$1" || true)
    [ -n "$lines" ] || { echo "# no kernel32.dll load in $1"; return 1; }
    if printf '%s\n' "$lines" | grep -v -E ': native$' | grep -q . ||
       printf '%s\n' "$lines" | grep -q -i -E ' at 0*7B600000: '; then
        printf '%s\n' "$lines" | sed 's/^/# /'
        return 1
    fi
    return 0
}
