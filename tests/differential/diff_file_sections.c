/*
 * diff_file_sections.c - a seeded random sequence on one file and its
 * sections: CreateFileMapping of the file (size 0 = the file's, or larger:
 * the file grows), views at offsets, writes through views, WriteFile and
 * ReadFile through the handle compared with what the views show,
 * SetEndOfFile while views map the file (ERROR_USER_MAPPED_FILE),
 * FlushViewOfFile, UnmapViewOfFile from inside, CloseHandle. Printed
 * relative to each view, for run-differential to compare between Wine's
 * builtin kernel32 and memshim.
 *
 * Agree mode (the default) leaves out copy-on-write views, whose written
 * pages memshim reports as PAGE_READWRITE regions of their own (Windows)
 * and Wine 8.0 as PAGE_WRITECOPY, and flushes that run past a view's end
 * (Wine checks the range from the page, not from the address). "explore"
 * makes them all.
 *
 * Usage: diff_file_sections.exe STEPS SEED [explore]
 */
#include "differential.h"

#define VIEWS 5
static HANDLE file, section;
static char *view[VIEWS];
static SIZE_T view_offset[VIEWS], view_size[VIEWS];
static const DWORD section_protections[] = { PAGE_READWRITE, PAGE_READONLY, PAGE_WRITECOPY, PAGE_EXECUTE_READ,
                                             PAGE_EXECUTE_READWRITE };
static const DWORD accesses[] = { FILE_MAP_READ, FILE_MAP_WRITE, FILE_MAP_COPY, FILE_MAP_ALL_ACCESS };

static DWORD file_size(void)
{
    return GetFileSize(file, NULL);
}

static void op_section(int i)
{
    DWORD error;
    if (section) {
        printf("%d close section: %d\n", i, CloseHandle(section));
        section = NULL;
        return;
    }
    DWORD protect = section_protections[rnd() % 5], size = rnd() % 3 ? 0 : rnd() % 0x50000, before = file_size();
    SetLastError(0xdeadbeef);
    section = CreateFileMappingW(file, NULL, protect, 0, size, NULL);
    error = GetLastError();
    printf("%d create %#lx %#lx (file %#lx): %s, error %lu; file %#lx\n", i, protect, size, before,
           section ? "ok" : "failed", section ? 0 : error, file_size());
}

static void op_view(int i)
{
    int v = rnd() % VIEWS;
    DWORD error;
    if (view[v]) {
        SetLastError(0xdeadbeef);
        BOOL ok = UnmapViewOfFile(view[v] + (rnd() % 2 ? 0 : rnd() % view_size[v]));
        error = GetLastError();
        printf("%d unmap v%d: %d, error %lu\n", i, v, ok, ok ? 0 : error);
        if (ok) view[v] = NULL;
        return;
    }
    if (!section) return;
    DWORD access = accesses[rnd() % 4];
    SIZE_T offset = (rnd() % 4) * (SIZE_T)GRAN, size = rnd() % 2 ? 0 : 1 + rnd() % 0x30000;
    if (access == FILE_MAP_COPY && !explore) return;
    SetLastError(0xdeadbeef);
    char *p = MapViewOfFile(section, access, 0, (DWORD)offset, size);
    error = GetLastError();
    printf("%d map v%d access %#lx offset %#zx size %#zx (file %#lx): %s, error %lu", i, v, access, offset, size,
           file_size(), p ? "ok" : "failed", p ? 0 : error);
    if (p) {
        MEMORY_BASIC_INFORMATION m;
        SIZE_T extent = 0;
        VirtualQuery(p, &m, sizeof(m));
        printf(", protect %#lx first region %#zx", m.AllocationProtect, (size_t)m.RegionSize);
        /* The view's extent: its regions, up to the next allocation. */
        while (VirtualQuery(p + extent, &m, sizeof(m)) && m.AllocationBase == p)
            extent += m.RegionSize;
        printf(", extent %#zx", extent);
        view[v] = p;
        view_offset[v] = offset;
        view_size[v] = extent;
    }
    printf("\n");
}

static void op_file(int i)
{
    DWORD done = 0;
    BOOL ok;
    if (rnd() % 2) {
        DWORD to = rnd() % 0x50000, error;
        SetFilePointer(file, (LONG)to, NULL, FILE_BEGIN);
        SetLastError(0xdeadbeef);
        ok = SetEndOfFile(file);
        error = GetLastError();
        printf("%d SetEndOfFile %#lx: %d, error %lu; file %#lx\n", i, to, ok, ok ? 0 : error, file_size());
        return;
    }
    DWORD at = rnd() % 0x40000, n = 1 + rnd() % 64;
    char buf[64];
    for (DWORD k = 0; k < n; k++) buf[k] = (char)(i + k);
    SetFilePointer(file, (LONG)at, NULL, FILE_BEGIN);
    ok = WriteFile(file, buf, n, &done, NULL);
    printf("%d WriteFile %#lx %lu: %d, %lu bytes; file %#lx\n", i, at, n, ok, done, file_size());
}

static void op_on_view(int i, unsigned op, int v)
{
    SIZE_T off = rnd() % view_size[v];
    DWORD error, done = 0;
    BOOL ok;
    switch (op) {
    case 0: case 1:
        printf("%d touch v%d %#zx: write %s\n", i, v, off,
               probe_write(view[v] + off, (unsigned char)(i | 1)) ? "faults" : "ok");
        break;
    case 2: case 3: {
        /* What the file says at that offset, and what the view shows. */
        unsigned char in_file = 0;
        SetFilePointer(file, (LONG)(view_offset[v] + off), NULL, FILE_BEGIN);
        ok = ReadFile(file, &in_file, 1, &done, NULL);
        int fault = probe_read(view[v] + off);
        printf("%d compare v%d %#zx: file %d, %lu bytes, %u; view %s %u\n", i, v, off, ok, done, done ? in_file : 0,
               fault ? "faults" : "ok", fault ? 0 : (unsigned char)view[v][off]);
        break;
    }
    case 4: {
        SIZE_T n = rnd() % 2 ? 0 : 1 + rnd() % 0x2000;
        if (!explore && n > view_size[v] - off) n = view_size[v] - off;
        SetLastError(0xdeadbeef);
        ok = FlushViewOfFile(view[v] + off, n);
        error = GetLastError();
        printf("%d flush v%d %#zx %#zx: %d, error %lu\n", i, v, off, n, ok, ok ? 0 : error);
        break;
    }
    default: {
        MEMORY_BASIC_INFORMATION m;
        VirtualQuery(view[v] + off, &m, sizeof(m));
        printf("%d query v%d %#zx: base %ld protect %#lx size %#zx state %#lx protect %#lx type %#lx\n", i, v, off,
               (long)((char *)m.BaseAddress - view[v]), m.AllocationProtect, (size_t)m.RegionSize, m.State, m.Protect,
               m.Type);
    }
    }
}

int main(int argc, char **argv)
{
    int steps = differential_start(argc, argv, 1500);
    char path[MAX_PATH], dir[MAX_PATH];
    GetTempPathA(MAX_PATH, dir);
    GetTempFileNameA(dir, "dif", 0, path);
    file = CreateFileA(path, GENERIC_READ | GENERIC_WRITE | GENERIC_EXECUTE, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
                       CREATE_ALWAYS, FILE_FLAG_DELETE_ON_CLOSE, NULL);
    if (file == INVALID_HANDLE_VALUE) {
        printf("cannot create %s: error %lu\n", path, GetLastError());
        return 1;
    }
    for (int i = 0; i < steps; i++) {
        unsigned op = rnd() % 12;
        if (op == 0)
            op_section(i);
        else if (op <= 2)
            op_view(i);
        else if (op <= 4)
            op_file(i);
        else {
            int v = rnd() % VIEWS;
            if (view[v])
                op_on_view(i, op - 5, v);
        }
    }
    return 0;
}
