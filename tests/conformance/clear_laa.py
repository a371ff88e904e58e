#!/usr/bin/env python3
"""Copy a PE image with IMAGE_FILE_LARGE_ADDRESS_AWARE cleared.

Debian 12's binutils (2.40) always sets the flag for 64-bit images and has
no --disable-large-address-aware; the test of non-LAA programs needs one.
Usage: clear_laa.py IN.exe OUT.exe
"""
import struct
import sys

data = bytearray(open(sys.argv[1], "rb").read())
pe = struct.unpack_from("<I", data, 0x3C)[0]
if data[pe:pe + 4] != b"PE\0\0":
    sys.exit("clear_laa: %s is not a PE image" % sys.argv[1])
characteristics = struct.unpack_from("<H", data, pe + 22)[0]
struct.pack_into("<H", data, pe + 22, characteristics & ~0x0020)
open(sys.argv[2], "wb").write(data)
