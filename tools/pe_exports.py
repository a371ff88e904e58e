#!/usr/bin/env python3
"""Read the export table of a PE image (a Wine builtin DLL) without winedump.

Why our own parser: `objdump -p` prints the export index as ordinal-1 and sorted
by name, and winedump lives in a separate Debian package (wine64-tools). The
export directory is simple enough to read directly, and reading it ourselves
keeps the build working on any Wine >= 8 with nothing extra installed.
"""
import struct
import sys


class PEError(Exception):
    pass


def _rva_to_offset(sections, rva):
    for vaddr, vsize, raw_off, raw_size in sections:
        if vaddr <= rva < vaddr + max(vsize, raw_size):
            return raw_off + (rva - vaddr)
    raise PEError("RVA 0x%x is outside every section" % rva)


def _cstring(data, off):
    end = data.index(b"\0", off)
    return data[off:end].decode("ascii")


def read_exports(path):
    """Return (dll_name, [(ordinal, name_or_None, forwarder_or_None)]) sorted by ordinal."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] != b"MZ":
        raise PEError("%s: not an MZ image" % path)
    pe = struct.unpack_from("<I", data, 0x3C)[0]
    if data[pe:pe + 4] != b"PE\0\0":
        raise PEError("%s: no PE signature" % path)
    nsections, = struct.unpack_from("<H", data, pe + 6)
    opt_size, = struct.unpack_from("<H", data, pe + 20)
    opt = pe + 24
    magic, = struct.unpack_from("<H", data, opt)
    if magic == 0x20B:          # PE32+
        dirs = opt + 112
    elif magic == 0x10B:        # PE32
        dirs = opt + 96
    else:
        raise PEError("%s: unknown optional header magic 0x%x" % (path, magic))
    exp_rva, exp_size = struct.unpack_from("<II", data, dirs)
    sections = []
    sec = opt + opt_size
    for i in range(nsections):
        vsize, vaddr, raw_size, raw_off = struct.unpack_from("<IIII", data, sec + 40 * i + 8)
        sections.append((vaddr, vsize, raw_off, raw_size))
    if exp_rva == 0:
        raise PEError("%s: no export directory" % path)
    ed = _rva_to_offset(sections, exp_rva)
    (name_rva, base, nfuncs, nnames, funcs_rva, names_rva,
     ords_rva) = struct.unpack_from("<IIIIIII", data, ed + 12)
    dll_name = _cstring(data, _rva_to_offset(sections, name_rva))
    funcs = struct.unpack_from("<%dI" % nfuncs, data, _rva_to_offset(sections, funcs_rva))
    names = struct.unpack_from("<%dI" % nnames, data, _rva_to_offset(sections, names_rva)) if nnames else ()
    ords = struct.unpack_from("<%dH" % nnames, data, _rva_to_offset(sections, ords_rva)) if nnames else ()
    name_of = {}
    for name_rva_i, idx in zip(names, ords):
        name_of[idx] = _cstring(data, _rva_to_offset(sections, name_rva_i))
    result = []
    for idx, func_rva in enumerate(funcs):
        if func_rva == 0:
            continue            # unused slot in the ordinal range
        forwarder = None
        if exp_rva <= func_rva < exp_rva + exp_size:
            forwarder = _cstring(data, _rva_to_offset(sections, func_rva))
        result.append((base + idx, name_of.get(idx), forwarder))
    return dll_name, result


def main(argv):
    if len(argv) != 2:
        print("usage: pe_exports.py DLL", file=sys.stderr)
        return 2
    dll, exports = read_exports(argv[1])
    print("# %s: %d exports" % (dll, len(exports)))
    for ordinal, name, fwd in exports:
        print("%5d %s%s" % (ordinal, name or "(noname)", " -> " + fwd if fwd else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
