/*
 * diff_sections.c - a seeded random sequence of pagefile-section calls
 * (CreateFileMapping, MapViewOfFile at offsets and sizes, writes through
 * one view read through the others, VirtualProtect, VirtualAlloc commits
 * and VirtualFree on views, FlushViewOfFile, UnmapViewOfFile from inside,
 * CloseHandle) printed relative to each view, for run-differential to
 * compare between Wine's builtin kernel32 and memshim.
 *
 * Agree mode (the default) leaves out what memshim does as Windows does
 * and Wine 8.0 does not (pinned in conformance/mapping.c): copy-on-write
 * views and protections (Wine shares a copy-on-write page's write and
 * keeps it PAGE_WRITECOPY after the write), offsets off the 64 KiB grid
 * (Wine checks the alignment before the handle's rights), and
 * FILE_MAP_READ | FILE_MAP_COPY. "explore" makes them all.
 *
 * Usage: diff_sections.exe STEPS SEED [explore]
 */
#include "differential.h"


#define SECTIONS 3
#define VIEWS 6
static HANDLE section[SECTIONS];
static char *view[VIEWS];
static int view_section[VIEWS];
static SIZE_T view_offset[VIEWS], view_size[VIEWS];

static const DWORD section_protections[] = { PAGE_READWRITE, PAGE_READONLY, PAGE_WRITECOPY, PAGE_EXECUTE_READWRITE,
    PAGE_EXECUTE_READ, PAGE_READWRITE | SEC_RESERVE, PAGE_NOACCESS, PAGE_EXECUTE_WRITECOPY };
static const DWORD accesses[] = { FILE_MAP_READ, FILE_MAP_WRITE, FILE_MAP_ALL_ACCESS, FILE_MAP_READ | FILE_MAP_EXECUTE,
    FILE_MAP_WRITE | FILE_MAP_EXECUTE, 0, FILE_MAP_COPY, FILE_MAP_COPY | FILE_MAP_EXECUTE, FILE_MAP_READ | FILE_MAP_COPY };
static const DWORD protections[] = { PAGE_NOACCESS, PAGE_READONLY, PAGE_READWRITE, PAGE_EXECUTE_READ,
    PAGE_EXECUTE_READWRITE, PAGE_READWRITE | PAGE_GUARD, PAGE_EXECUTE, PAGE_WRITECOPY, PAGE_EXECUTE_WRITECOPY };
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void print_query(int v, SIZE_T off)
{
    MEMORY_BASIC_INFORMATION m;
    SetLastError(0xdeadbeef);
    if (!VirtualQuery(view[v] + off, &m, sizeof(m))) {
        printf("  query: failed, error %lu\n", GetLastError());
        return;
    }
    printf("  query v%d %#zx: base %ld allocation %ld %#lx size %#zx state %#lx protect %#lx type %#lx\n", v, off,
           (long)((char *)m.BaseAddress - view[v]), (long)((char *)m.AllocationBase - view[v]), m.AllocationProtect,
           (size_t)m.RegionSize, m.State, m.Protect, m.Type);
}

static void op_section(int i)
{
    int s = rnd() % SECTIONS;
    DWORD error;
    if (section[s]) {
        if (rnd() % 3) return;
        printf("%d close section %d: %d\n", i, s, CloseHandle(section[s]));
        section[s] = NULL;
        return;
    }
    SIZE_T size = rnd() % 4 ? (1 + rnd() % 8) * (SIZE_T)GRAN : 1 + rnd() % 0x50000;
    DWORD protect = section_protections[rnd() % COUNT(section_protections)];
    SetLastError(0xdeadbeef);
    section[s] = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, protect, 0, (DWORD)size, NULL);
    error = GetLastError();
    printf("%d create section %d %#zx %#lx: %s, error %lu\n", i, s, size, protect, section[s] ? "ok" : "failed",
           section[s] ? 0 : error);
}

static void op_view(int i)
{
    int v = rnd() % VIEWS, s = rnd() % SECTIONS;
    DWORD error;
    if (view[v]) {
        SIZE_T inside = rnd() % 2 ? 0 : rnd() % view_size[v];
        SetLastError(0xdeadbeef);
        BOOL ok = UnmapViewOfFile(view[v] + inside);
        error = GetLastError();
        printf("%d unmap v%d +%#zx: %d, error %lu\n", i, v, inside, ok, ok ? 0 : error);
        if (ok) view[v] = NULL;
        return;
    }
    if (!section[s]) return;
    DWORD access = accesses[rnd() % COUNT(accesses)];
    SIZE_T offset = rnd() % 4 ? (rnd() % 4) * (SIZE_T)GRAN : rnd() % 0x40000;
    SIZE_T size = rnd() % 3 ? 0 : rnd() % 0x50000;
    if (!explore && ((access & FILE_MAP_COPY) && !(access & FILE_MAP_WRITE)))
        return;
    if (!explore)
        offset &= ~(SIZE_T)(GRAN - 1);
    SetLastError(0xdeadbeef);
    char *p = MapViewOfFile(section[s], access, 0, (DWORD)offset, size);
    error = GetLastError();
    printf("%d map v%d section %d access %#lx offset %#zx size %#zx: %s, error %lu\n", i, v, s, access, offset, size,
           p ? "ok" : "failed", p ? 0 : error);
    if (!p) return;
    MEMORY_BASIC_INFORMATION m;
    VirtualQuery(p, &m, sizeof(m));
    view[v] = p;
    view_section[v] = s;
    view_offset[v] = offset;
    view_size[v] = size ? (size + PAGE - 1) & ~(SIZE_T)(PAGE - 1) : m.RegionSize;
    print_query(v, 0);
}

int main(int argc, char **argv)
{
    int steps = differential_start(argc, argv, 2000);
    for (int i = 0; i < steps; i++) {
        unsigned op = rnd() % 12;
        if (op == 0) {
            op_section(i);
            continue;
        }
        if (op <= 2) {
            op_view(i);
            continue;
        }
        int v = rnd() % VIEWS;
        if (!view[v]) continue;
        SIZE_T off = rnd() % view_size[v], len = rnd() % 2 ? PAGE : 1 + rnd() % (view_size[v] - off);
        if (off + len > view_size[v]) len = view_size[v] - off;
        DWORD protect = protections[rnd() % COUNT(protections)], error, old = 0xdeadbeef;
        BOOL ok;
        void *r;
        if (!explore && ((protect & 0xff) == PAGE_WRITECOPY || (protect & 0xff) == PAGE_EXECUTE_WRITECOPY))
            protect = PAGE_READONLY;
        switch (op) {
        case 3: case 4: {
            int read_fault = probe_read(view[v] + off);
            int write_fault = probe_write(view[v] + off, (unsigned char)(i | 1));
            printf("%d touch v%d %#zx: read %s, write %s\n", i, v, off, read_fault ? "faults" : "ok",
                   write_fault ? "faults" : "ok");
            /* What every other view of the section reads at that offset. */
            for (int w = 0; w < VIEWS; w++) {
                SIZE_T at = view_offset[v] + off;
                if (w == v || !view[w] || view_section[w] != view_section[v] || at < view_offset[w] ||
                    at >= view_offset[w] + view_size[w])
                    continue;
                unsigned char *p = (unsigned char *)view[w] + (at - view_offset[w]);
                if (probe_read(p)) printf("  v%d: faults\n", w);
                else printf("  v%d: %u\n", w, *p);
            }
            break;
        }
        case 5: case 6:
            SetLastError(0xdeadbeef);
            ok = VirtualProtect(view[v] + off, len, protect, &old);
            error = GetLastError();
            printf("%d protect v%d %#zx %#zx %#lx: %d, error %lu, old %#lx\n", i, v, off, len, protect, ok,
                   ok ? 0 : error, old);
            break;
        case 7:
            SetLastError(0xdeadbeef);
            r = VirtualAlloc(view[v] + off, len, MEM_COMMIT, protect);
            error = GetLastError();
            printf("%d commit v%d %#zx %#zx %#lx: %ld, error %lu\n", i, v, off, len, protect,
                   r ? (long)((char *)r - view[v]) : -1L, r ? 0 : error);
            break;
        case 8:
            SetLastError(0xdeadbeef);
            ok = FlushViewOfFile(view[v] + off, rnd() % 2 ? 0 : len);
            error = GetLastError();
            printf("%d flush v%d %#zx: %d, error %lu\n", i, v, off, ok, ok ? 0 : error);
            break;
        case 9:
            SetLastError(0xdeadbeef);
            ok = VirtualFree(view[v] + off, rnd() % 2 ? 0 : len, rnd() % 2 ? MEM_RELEASE : MEM_DECOMMIT);
            error = GetLastError();
            printf("%d VirtualFree v%d %#zx: %d, error %lu\n", i, v, off, ok, ok ? 0 : error);
            break;
        default:
            printf("%d query\n", i);
            print_query(v, off);
        }
    }
    return 0;
}
