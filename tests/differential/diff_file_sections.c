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
#include "harness.h"
static unsigned long long rng;
static unsigned rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)rng;
}
static int explore;
#define NV 5
static HANDLE file, sec;
static DWORD sprot;
static char *vb[NV]; static SIZE_T voff[NV], vsz[NV]; static int vcopy[NV];
static const DWORD sprots[] = { PAGE_READWRITE, PAGE_READONLY, PAGE_WRITECOPY, PAGE_EXECUTE_READ, PAGE_EXECUTE_READWRITE };
static const DWORD accs[] = { FILE_MAP_READ, FILE_MAP_WRITE, FILE_MAP_COPY, FILE_MAP_ALL_ACCESS };
static DWORD fsize(void) { return GetFileSize(file, NULL); }
int main(int argc, char **argv)
{
    int steps = argc > 1 ? atoi(argv[1]) : 1500;
    rng = argc > 2 ? strtoull(argv[2], NULL, 0) * 0x9E3779B97F4A7C15ull + 1 : 88172645463325252ull;
    explore = argc > 3 && !strcmp(argv[3], "explore");
    char path[MAX_PATH], dir[MAX_PATH];
    GetTempPathA(MAX_PATH, dir);
    GetTempFileNameA(dir, "frn", 0, path);
    file = CreateFileA(path, GENERIC_READ | GENERIC_WRITE | GENERIC_EXECUTE, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
                       CREATE_ALWAYS, FILE_FLAG_DELETE_ON_CLOSE, NULL);
    if (file == INVALID_HANDLE_VALUE) { printf("no file\n"); return 1; }
    for (int i = 0; i < steps; i++) {
        DWORD e; BOOL ok;
        unsigned op = rnd() % 12;
        if (op == 0) {
            if (sec) {
                ok = CloseHandle(sec); sec = NULL;
                printf("%d close sec: %d\n", i, ok);
                continue;
            }
            sprot = sprots[rnd() % 5];
            DWORD size = rnd() % 3 ? 0 : rnd() % 0x50000;
            SetLastError(0xdeadbeef);
            sec = CreateFileMappingW(file, NULL, sprot, 0, size, NULL); e = GetLastError();
            printf("%d create %#lx %#lx (file %#lx): %d err=%lu -> file %#lx\n", i, sprot, size, fsize(), sec != NULL,
                   sec ? 0 : e, fsize());
            continue;
        }
        if (op <= 2) {
            int v = rnd() % NV;
            if (vb[v]) {
                SetLastError(0xdeadbeef);
                ok = UnmapViewOfFile(vb[v] + (rnd() % 2 ? 0 : rnd() % vsz[v])); e = GetLastError();
                printf("%d unmap v%d: %d err=%lu\n", i, v, ok, ok ? 0 : e);
                if (ok) vb[v] = NULL;
                continue;
            }
            if (!sec) continue;
            DWORD acc = accs[rnd() % 4];
            if (acc == FILE_MAP_COPY && !explore) continue;
            SIZE_T off = (rnd() % 4) * 0x10000, size = rnd() % 2 ? 0 : 1 + rnd() % 0x30000;
            SetLastError(0xdeadbeef);
            char *p = MapViewOfFile(sec, acc, 0, (DWORD)off, size); e = GetLastError();
            printf("%d map v%d acc=%#lx off=%#zx size=%#zx (file %#lx): %d err=%lu", i, v, acc, off, size, fsize(),
                   p != NULL, p ? 0 : e);
            if (p) {
                MEMORY_BASIC_INFORMATION m; VirtualQuery(p, &m, sizeof(m));
                printf(" ap=%#lx size=%#zx", m.AllocationProtect, (size_t)m.RegionSize);
                vb[v] = p; voff[v] = off; vcopy[v] = acc == FILE_MAP_COPY;
                /* the view's extent: walk the allocation */
                SIZE_T total = 0; char *q = p;
                while (VirtualQuery(q, &m, sizeof(m)) && m.AllocationBase == p) { total += m.RegionSize; q += m.RegionSize; }
                vsz[v] = total;
                printf(" extent=%#zx", total);
            }
            printf("\n");
            continue;
        }
        if (op == 3) {
            DWORD to = rnd() % 0x50000;
            SetFilePointer(file, to, NULL, FILE_BEGIN);
            SetLastError(0xdeadbeef);
            ok = SetEndOfFile(file); e = GetLastError();
            printf("%d seteof %#lx: %d err=%lu -> file %#lx\n", i, to, ok, ok ? 0 : e, fsize());
            continue;
        }
        if (op == 4) {
            DWORD at = rnd() % 0x40000, n = 1 + rnd() % 64, done = 0;
            char buf[64]; for (DWORD k = 0; k < n; k++) buf[k] = (char)(i + k);
            SetFilePointer(file, at, NULL, FILE_BEGIN);
            ok = WriteFile(file, buf, n, &done, NULL);
            printf("%d writefile %#lx %lu: %d done=%lu -> file %#lx\n", i, at, n, ok, done, fsize());
            continue;
        }
        int v = rnd() % NV;
        if (!vb[v]) continue;
        SIZE_T off = rnd() % vsz[v];
        switch (op) {
        case 5: case 6: {
            int wf = probe_write(vb[v] + off, (unsigned char)(i | 1));
            printf("%d touch v%d %#zx: write %d\n", i, v, off, wf);
            break;
        }
        case 7: case 8: {
            /* what the file says at that offset, and the view */
            unsigned char fb = 0, vbyte = 0; DWORD done = 0;
            SetFilePointer(file, (LONG)(voff[v] + off), NULL, FILE_BEGIN);
            ok = ReadFile(file, &fb, 1, &done, NULL);
            int rf = probe_read(vb[v] + off);
            if (!rf) vbyte = (unsigned char)vb[v][off];
            printf("%d compare v%d %#zx: file %d/%lu=%u view fault=%d %u\n", i, v, off, ok, done, done ? fb : 0, rf, rf ? 0 : vbyte);
            break;
        }
        case 9: {
            SetLastError(0xdeadbeef);
            SIZE_T n = rnd() % 2 ? 0 : 1 + rnd() % 0x2000;
            if (!explore && n > vsz[v] - off) n = vsz[v] - off;
            ok = FlushViewOfFile(vb[v] + off, n); e = GetLastError();
            printf("%d flush v%d: %d err=%lu\n", i, v, ok, ok ? 0 : e);
            break;
        }
        default: {
            MEMORY_BASIC_INFORMATION m;
            VirtualQuery(vb[v] + off, &m, sizeof(m));
            printf("%d query v%d %#zx: b=%ld ap=%#lx size=%#zx st=%#lx pr=%#lx ty=%#lx\n", i, v, off,
                   (long)((char *)m.BaseAddress - vb[v]), m.AllocationProtect, (size_t)m.RegionSize, m.State, m.Protect, m.Type);
        }
        }
    }
    return 0;
}
