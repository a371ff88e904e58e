#!/usr/bin/env bash
# Set up everything memshim needs on Debian 12 and build it.
# Installs missing packages (apt-get; via sudo when not root), configures the
# meson cross build in ./build (or $MEMSHIM_BUILD_DIR) and builds it.
# Sourced by run-examples.sh and run-tests.sh; safe to run again.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${MEMSHIM_BUILD_DIR:-$top/build}

# package -> a file it provides (checked instead of asking dpkg per package)
need=()
check() { [ -e "$2" ] || need+=("$1"); }
check wine /usr/bin/wine
check wine64 /usr/lib/wine/wine64
check gcc-mingw-w64-x86-64 /usr/bin/x86_64-w64-mingw32-gcc
check mingw-w64-x86-64-dev /usr/share/mingw-w64/include/windows.h
check meson /usr/bin/meson
check ninja-build /usr/bin/ninja
check gcc /usr/bin/gcc
check python3 /usr/bin/python3
check libmimalloc-dev /usr/include/mimalloc.h
check util-linux /usr/bin/setpriv
if [ ${#need[@]} -gt 0 ]; then
    echo "memshim setup: installing ${need[*]}" >&2
    sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -q >&2
    $sudo apt-get install -y -q --no-install-recommends "${need[@]}" >&2
fi

if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" "$top" --cross-file "$top/cross/x86_64-w64-mingw32.txt" >&2
fi
ninja -C "$build" >&2
