/*
 * diff_virtual.c - a seeded random sequence of virtual-memory calls whose
 * every result is printed in a form that does not depend on where things
 * were placed: addresses relative to the allocation they were asked about,
 * return values, GetLastError, what VirtualQuery and GetWriteWatch say.
 * run-differential runs it under Wine's builtin kernel32 and under memshim
 * and compares the two outputs line by line.
 *
 * Why: a conformance test checks the cases someone thought of; this finds
 * the ones nobody did (on 2026-12-07 it found four faults: the caching
 * modifier kept per page, VirtualFree of an address inside the first page,
 * writes forgotten at a decommit, WriteProcessMemory into read-only pages).
 *
 * By default ("agree" mode) it leaves out what is known to differ because
 * Wine 8.0 differs from Windows there (each pinned by a conformance test):
 * VirtualLock/VirtualUnlock (a stub in Wine), MEM_RESET_UNDO (not in Wine),
 * whole-allocation walks (Wine splits reserved runs by their old
 * protection), writes that fault (Wine's write watch counts them), invalid
 * protections in VirtualProtect (the order of its checks), GetWriteWatch of
 * 0 bytes, a release of the free page just past an allocation (Windows:
 * ERROR_INVALID_ADDRESS, as for any free memory; Wine: 87), and IsBad*Ptr, Read/WriteProcessMemory (Wine 8.0 kills the
 * process on a guard page and copies through no-access pages). With
 * "explore" as the third argument it makes them all.
 *
 * Usage: diff_virtual.exe STEPS SEED [explore]
 */
#include "differential.h"


#define SLOTS 6
static char *base[SLOTS];
static SIZE_T rsize[SLOTS];

static const DWORD protections[] = {
    PAGE_NOACCESS, PAGE_READONLY, PAGE_READWRITE, PAGE_EXECUTE, PAGE_EXECUTE_READ, PAGE_EXECUTE_READWRITE,
    PAGE_WRITECOPY, PAGE_READWRITE | PAGE_GUARD, PAGE_READONLY | PAGE_NOCACHE, PAGE_READWRITE | PAGE_NOCACHE, 0,
    PAGE_EXECUTE_WRITECOPY,
};
#define NPROT (sizeof(protections) / sizeof(protections[0]))

static long rel(int s, const void *p)
{
    return p ? (long)((const char *)p - base[s]) : -1;
}

static void print_query(int s, SIZE_T off)
{
    MEMORY_BASIC_INFORMATION m;
    memset(&m, 0xcc, sizeof(m));
    SetLastError(0xdeadbeef);
    if (!VirtualQuery(base[s] + off, &m, sizeof(m))) {
        printf("  query %#zx: failed, error %lu\n", off, GetLastError());
        return;
    }
    if (m.State == MEM_RESERVE && !explore) {
        /* (Wine splits a reserved run where its old protections differ.) */
        printf("  query %#zx: reserved, allocation %ld %#lx\n", off, rel(s, m.AllocationBase), m.AllocationProtect);
        return;
    }
    printf("  query %#zx: base %ld allocation %ld %#lx size %#zx state %#lx protect %#lx type %#lx\n", off,
           rel(s, m.BaseAddress), rel(s, m.AllocationBase), m.AllocationProtect, (size_t)m.RegionSize, m.State,
           m.Protect, m.Type);
}

static SIZE_T random_offset(int s)
{
    SIZE_T off = rnd() % (rsize[s] + 1);
    return rnd() % 2 ? off & ~(SIZE_T)(PAGE - 1) : off;
}

/* A length that keeps [off, off + len) inside the allocation. */
static SIZE_T random_length(int s, SIZE_T off)
{
    SIZE_T room = rsize[s] - off, pages;
    switch (rnd() % 5) {
    case 0: return 0;
    case 1: return room;
    case 2: return room ? 1 + rnd() % room : 0;
    default:
        if (!room) return 0;
        pages = (1 + rnd() % ((room + PAGE - 1) / PAGE)) * PAGE;
        return pages > room ? room : pages;
    }
}

static int writable_now(const char *p)
{
    MEMORY_BASIC_INFORMATION m;
    return VirtualQuery(p, &m, sizeof(m)) && m.State == MEM_COMMIT && !(m.Protect & PAGE_GUARD) &&
           (m.Protect & (PAGE_READWRITE | PAGE_EXECUTE_READWRITE));
}

static void op_allocate(int i, int s)
{
    static const DWORD types[] = { MEM_RESERVE, MEM_RESERVE | MEM_COMMIT, MEM_COMMIT, MEM_RESERVE | MEM_WRITE_WATCH,
                                   MEM_RESERVE | MEM_COMMIT | MEM_WRITE_WATCH, MEM_RESERVE | MEM_TOP_DOWN };
    DWORD type = types[rnd() % 6], protect = protections[rnd() % NPROT], error;
    rsize[s] = rnd() % 3 == 0 ? 1 + rnd() % 0x40000 : (1 + rnd() % 16) * (SIZE_T)GRAN;
    SetLastError(0xdeadbeef);
    base[s] = VirtualAlloc(NULL, rsize[s], type, protect);
    error = GetLastError();
    printf("%d allocate s%d %#zx type %#lx protect %#lx: %s, error %lu\n", i, s, rsize[s], type, protect,
           base[s] ? "ok" : "failed", base[s] ? 0 : error);
    if (base[s])
        rsize[s] = (rsize[s] + PAGE - 1) & ~(SIZE_T)(PAGE - 1);
}

int main(int argc, char **argv)
{
    int steps = differential_start(argc, argv, 3000);
    harness_probe_install();
    for (int i = 0; i < steps; i++) {
        int s = rnd() % SLOTS;
        DWORD error, old;
        BOOL ok;
        void *r;
        if (!base[s]) {
            op_allocate(i, s);
            continue;
        }
        SIZE_T off = random_offset(s), len = random_length(s, off);
        DWORD protect = protections[rnd() % NPROT];
        switch (rnd() % 12) {
        case 0: case 1:
            SetLastError(0xdeadbeef);
            r = VirtualAlloc(base[s] + off, len, MEM_COMMIT, protect);
            error = GetLastError();
            printf("%d commit s%d %#zx %#zx %#lx: %ld, error %lu\n", i, s, off, len, protect, rel(s, r), r ? 0 : error);
            break;
        case 2:
            SetLastError(0xdeadbeef);
            ok = VirtualFree(base[s] + off, len, MEM_DECOMMIT);
            error = GetLastError();
            printf("%d decommit s%d %#zx %#zx: %d, error %lu\n", i, s, off, len, ok, ok ? 0 : error);
            break;
        case 3:
            if (rnd() % 3) {
                off = rnd() % 2 ? 0 : off;
                len = rnd() % 4 ? 0 : len;
            }
            if (off >= rsize[s] && !explore)
                break;                      /* free memory past the allocation */
            SetLastError(0xdeadbeef);
            ok = VirtualFree(base[s] + off, len, MEM_RELEASE);
            error = GetLastError();
            printf("%d release s%d %#zx %#zx: %d, error %lu\n", i, s, off, len, ok, ok ? 0 : error);
            if (ok) base[s] = NULL;
            break;
        case 4: case 5:
            if (!explore && (!len || !protect || (protect & 0xff) == PAGE_WRITECOPY ||
                             (protect & 0xff) == PAGE_EXECUTE_WRITECOPY))
                break;
            old = 0xdeadbeef;
            SetLastError(0xdeadbeef);
            ok = VirtualProtect(base[s] + off, len, protect, &old);
            error = GetLastError();
            printf("%d protect s%d %#zx %#zx %#lx: %d, error %lu, old %#lx\n", i, s, off, len, protect, ok,
                   ok ? 0 : error, old);
            break;
        case 6: {
            if (off >= rsize[s]) off = rsize[s] - 1;
            int read_fault = probe_read(base[s] + off);
            int write_fault = explore || writable_now(base[s] + off) ? probe_write(base[s] + off, (unsigned char)i) : -1;
            printf("%d touch s%d %#zx: read %s, write %s\n", i, s, off, read_fault ? "faults" : "ok",
                   write_fault < 0 ? "skipped" : write_fault ? "faults" : "ok");
            break;
        }
        case 7:
            if (!explore) break;
            SetLastError(0xdeadbeef);
            ok = rnd() % 2 ? VirtualLock(base[s] + off, len) : VirtualUnlock(base[s] + off, len);
            error = GetLastError();
            printf("%d lock s%d %#zx %#zx: %d, error %lu\n", i, s, off, len, ok, ok ? 0 : error);
            break;
        case 8: {
            DWORD type = rnd() % 2 || !explore ? MEM_RESET : MEM_RESET_UNDO;
            SetLastError(0xdeadbeef);
            r = VirtualAlloc(base[s] + off, len, type, PAGE_NOACCESS);
            error = GetLastError();
            printf("%d %s s%d %#zx %#zx: %ld, error %lu\n", i, type == MEM_RESET ? "reset" : "reset-undo", s, off, len,
                   rel(s, r), r ? 0 : error);
            break;
        }
        case 9: {
            if (rnd() % 2) {
                /* A reservation over another slot's memory is refused. */
                int t = rnd() % SLOTS;
                if (!base[t] || t == s) break;
                SetLastError(0xdeadbeef);
                r = VirtualAlloc(base[t] + off % rsize[t], len ? len : 1, rnd() % 2 ? MEM_RESERVE : MEM_RESERVE | MEM_COMMIT,
                                 PAGE_READWRITE);
                error = GetLastError();
                printf("%d reserve-over s%d: %s, error %lu\n", i, t, r ? "ok" : "failed", r ? 0 : error);
                if (r) VirtualFree(r, 0, MEM_RELEASE);
                break;
            }
            if (!len && !explore) break;
            void *pages[8];
            ULONG_PTR count = 8;
            ULONG granularity = 0;
            DWORD flags = rnd() % 2 ? WRITE_WATCH_FLAG_RESET : 0;
            SetLastError(0xdeadbeef);
            UINT ret = GetWriteWatch(flags, base[s] + off, len, pages, &count, &granularity);
            error = GetLastError();
            printf("%d write-watch s%d %#zx %#zx flags %lu: %u, error %lu", i, s, off, len, flags, ret, ret ? error : 0);
            if (!ret) {
                printf(", %lu pages (granularity %lu):", (unsigned long)count, granularity);
                for (ULONG_PTR k = 0; k < count && k < 8; k++) printf(" %ld", rel(s, pages[k]));
            }
            printf("\n");
            break;
        }
        case 10: {
            if (!explore) break;
            static char buf[0x3000];
            SIZE_T n = len > sizeof buf ? sizeof buf : len, done = 12345;
            switch (rnd() % 5) {
            case 0: printf("%d IsBadReadPtr s%d %#zx %#zx: %d\n", i, s, off, len, IsBadReadPtr(base[s] + off, len)); break;
            case 1: printf("%d IsBadWritePtr s%d %#zx %#zx: %d\n", i, s, off, len, IsBadWritePtr(base[s] + off, len)); break;
            case 2: printf("%d IsBadCodePtr s%d %#zx: %d\n", i, s, off, IsBadCodePtr((FARPROC)(void *)(base[s] + off))); break;
            case 3:
                SetLastError(0xdeadbeef);
                ok = ReadProcessMemory(GetCurrentProcess(), base[s] + off, buf, n, &done);
                error = GetLastError();
                printf("%d ReadProcessMemory s%d %#zx %#zx: %d, error %lu, %zu bytes\n", i, s, off, n, ok, ok ? 0 : error, done);
                break;
            default:
                for (SIZE_T k = 0; k < n; k++) buf[k] = (char)(i + k);
                SetLastError(0xdeadbeef);
                ok = WriteProcessMemory(GetCurrentProcess(), base[s] + off, buf, n, &done);
                error = GetLastError();
                printf("%d WriteProcessMemory s%d %#zx %#zx: %d, error %lu, %zu bytes\n", i, s, off, n, ok, ok ? 0 : error, done);
            }
            break;
        }
        default:
            if (off >= rsize[s]) off = rsize[s] - 1;
            printf("%d query s%d\n", i, s);
            print_query(s, off);
            if (explore && rnd() % 4 == 0)
                for (SIZE_T at = 0; at < rsize[s];) {
                    MEMORY_BASIC_INFORMATION m;
                    if (!VirtualQuery(base[s] + at, &m, sizeof(m)) || m.State == MEM_FREE) break;
                    printf("  walk %ld+%#zx state %#lx protect %#lx\n", rel(s, m.BaseAddress), (size_t)m.RegionSize,
                           m.State, m.Protect);
                    at = (SIZE_T)((char *)m.BaseAddress + m.RegionSize - base[s]);
                }
        }
    }
    return 0;
}
