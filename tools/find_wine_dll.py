#!/usr/bin/env python3
"""Print the path of an installed Wine's 64-bit PE builtin DLL (default kernel32.dll).

Looks where Debian, Wine's own packages and source builds put them, and next
to whichever `wine` is first on PATH, so the build follows the Wine the user
actually runs. Exits 1 with a message when no Wine is installed.
"""
import os
import shutil
import sys


def candidates(dll):
    wine = shutil.which("wine") or shutil.which("wine64")
    if wine:
        real = os.path.realpath(wine)
        prefix = os.path.dirname(os.path.dirname(real))
        yield os.path.join(prefix, "lib", "wine", "x86_64-windows", dll)
        yield os.path.join(prefix, "lib64", "wine", "x86_64-windows", dll)
        yield os.path.join(prefix, "lib", "x86_64-linux-gnu", "wine", "x86_64-windows", dll)
    for base in ("/usr/lib/x86_64-linux-gnu/wine", "/usr/lib/wine", "/usr/lib64/wine",
                 "/usr/local/lib/wine", "/opt/wine-stable/lib64/wine", "/opt/wine-stable/lib/wine",
                 "/opt/wine-devel/lib64/wine", "/opt/wine-staging/lib64/wine"):
        yield os.path.join(base, "x86_64-windows", dll)


def main(argv):
    dll = argv[1] if len(argv) > 1 else "kernel32.dll"
    for path in candidates(dll):
        if os.path.isfile(path):
            print(path)
            return 0
    print("find_wine_dll: no 64-bit Wine %s found; install wine64 (apt-get install wine wine64)" % dll,
          file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
