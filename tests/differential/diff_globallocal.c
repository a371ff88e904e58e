/*
 * diff_globallocal.c - a seeded random sequence of Global* and Local* calls:
 * GlobalAlloc/LocalAlloc of fixed, moveable, zero-initialised and
 * discardable memory of sizes from 0 to past the heap's size classes; Lock
 * and Unlock (lock counts), ReAlloc (growing, shrinking, to 0 = discard,
 * GMEM_MODIFY, of locked blocks), Free (locked or not), Flags, Size and
 * Handle. Each block is filled with its own pattern while locked, and every
 * result is printed with what the block holds, never an address, for
 * run-differential to compare between Wine's builtin kernel32 and memshim.
 *
 * Agree mode (the default) leaves out what memshim does as Windows does
 * and Wine 8.0 does not (README: "Global/Local"): ReAlloc of a fixed block
 * without GMEM_MOVEABLE (Windows fails when the block would move), and
 * ReAlloc to 0 bytes (a discard) of a locked block, which fails on both but
 * sets ERROR_INVALID_PARAMETER only on Windows (Wine's later kernelbase,
 * written against its tests run there, does). Whether a fixed block moved
 * is the allocator's layout, not printed; a moveable block's handle must
 * stay the same, and that is. Calls
 * on freed handles and garbage pointers are the conformance test's
 * (globallocal.c), not this program's: what they touch is gone. "explore"
 * makes the fixed ReAllocs too.
 *
 * Usage: diff_globallocal.exe STEPS SEED [explore]
 */
#include "differential.h"

struct family {
    const char *name;
    HGLOBAL(WINAPI *alloc)(UINT, SIZE_T);
    LPVOID(WINAPI *lock)(HGLOBAL);
    BOOL(WINAPI *unlock)(HGLOBAL);
    HGLOBAL(WINAPI *realloc)(HGLOBAL, SIZE_T, UINT);
    HGLOBAL(WINAPI *free)(HGLOBAL);
    UINT(WINAPI *flags)(HGLOBAL);
    SIZE_T(WINAPI *size)(HGLOBAL);
    HGLOBAL(WINAPI *handle)(LPCVOID);
    UINT discardable;           /* GMEM_DISCARDABLE or LMEM_DISCARDABLE */
};

static const struct family families[2] = {
    { "Global", GlobalAlloc, GlobalLock, GlobalUnlock, GlobalReAlloc, GlobalFree, GlobalFlags, GlobalSize,
      GlobalHandle, GMEM_DISCARDABLE },
    { "Local", LocalAlloc, LocalLock, LocalUnlock, LocalReAlloc, LocalFree, LocalFlags, LocalSize, LocalHandle,
      LMEM_DISCARDABLE },
};

#define SLOTS 64
static struct slot {
    HGLOBAL h;
    const struct family *f;
    BOOL moveable;
    SIZE_T filled;              /* bytes holding the pattern */
    unsigned char pattern;
} slots[SLOTS];

/* Empty and tiny blocks, ~1 KB, past 64 KiB and past the heap's largest
 * class; a third anywhere below 4 KiB. */
static SIZE_T random_size(void)
{
    static const struct size_band bands[] = { { 0, 3 },         { 1000, 100 }, { 0x10000, 0x100 },
                                              { 0x40010, 0x100 }, { 0, 4096 },  { 0, 4096 } };
    return random_size_in(bands, sizeof(bands) / sizeof(bands[0]));
}

static UINT random_alloc_flags(const struct family *f)
{
    switch (rnd() % 6) {
    case 0: return GMEM_FIXED;
    case 1: return GMEM_FIXED | GMEM_ZEROINIT;
    case 2: return GMEM_MOVEABLE;
    case 3: return GMEM_MOVEABLE | GMEM_ZEROINIT;
    case 4: return GMEM_MOVEABLE | f->discardable;
    default: return GMEM_MOVEABLE | f->discardable | GMEM_ZEROINIT;
    }
}

static int zero(const unsigned char *p, SIZE_T from, SIZE_T to)
{
    for (SIZE_T k = from; k < to; k += k < 4096 ? 1 : 61)
        if (p[k])
            return 0;
    return 1;
}

/* Whether p still holds the slot's pattern over its first `upto` bytes. */
static int kept(const struct slot *s, const unsigned char *p, SIZE_T upto)
{
    for (SIZE_T k = 0; k < upto; k += k < 4096 ? 1 : 61)
        if (p[k] != (unsigned char)(s->pattern + k))
            return 0;
    return 1;
}

static void fill(struct slot *s, unsigned char *p, SIZE_T from, SIZE_T to)
{
    for (SIZE_T k = from; k < to; k++)
        p[k] = (unsigned char)(s->pattern + k);
    s->filled = to;
}

static void print_state(const struct slot *s)
{
    printf(" flags %#x size %#zx", s->f->flags(s->h), s->f->size(s->h));
}

static void op_alloc(int i, int n, struct slot *s)
{
    const struct family *f = &families[rnd() % 2];
    UINT flags = random_alloc_flags(f);
    SIZE_T size = random_size();
    SetLastError(0xdeadbeef);
    HGLOBAL h = f->alloc(flags, size);
    DWORD error = GetLastError();
    printf("%d %sAlloc s%d %#x %#zx:", i, f->name, n, flags, size);
    if (!h) {
        printf(" failed, error %lu\n", error);
        return;
    }
    *s = (struct slot){ h, f, (flags & GMEM_MOVEABLE) != 0, 0, (unsigned char)rnd() };
    unsigned char *p = f->lock(h);
    /* (A moveable block of 0 bytes is allocated discarded: no pointer.) */
    printf(" ok, handle is the pointer %d, pointer %d, aligned %d", p == (void *)h, p != NULL,
           p ? !((ULONG_PTR)p & 15) : -1);
    print_state(s);
    if (p) {
        SIZE_T have = f->size(h);
        printf(", zeroed %d, Handle of it %d", (flags & GMEM_ZEROINIT) ? zero(p, 0, have) : -1, f->handle(p) == h);
        fill(s, p, 0, have);
        SetLastError(0xdeadbeef);
        BOOL still = f->unlock(h);
        printf(", unlock %d error %lu", still, still ? 0 : GetLastError());
    }
    printf("\n");
}

static void op_lock(int i, int n, struct slot *s)
{
    SetLastError(0xdeadbeef);
    unsigned char *p = s->f->lock(s->h);
    DWORD error = GetLastError();
    printf("%d %sLock s%d:", i, s->f->name, n);
    if (!p)
        printf(" NULL, error %lu", error);
    else
        printf(" ok, kept %d, Handle of it %d", kept(s, p, s->filled), s->f->handle(p) == s->h);
    print_state(s);
    printf("\n");
}

static void op_unlock(int i, int n, struct slot *s)
{
    SetLastError(0xdeadbeef);
    BOOL still = s->f->unlock(s->h);
    DWORD error = GetLastError();
    printf("%d %sUnlock s%d: %d, error %lu", i, s->f->name, n, still, still ? 0 : error);
    print_state(s);
    printf("\n");
}

static void op_realloc(int i, int n, struct slot *s)
{
    static const UINT choices[] = { 0, GMEM_MOVEABLE, GMEM_ZEROINIT, GMEM_MOVEABLE | GMEM_ZEROINIT,
                                    GMEM_MODIFY | GMEM_MOVEABLE, GMEM_MODIFY };
    UINT flags = choices[rnd() % 6];
    if (flags == GMEM_MODIFY)
        flags |= s->f->discardable;
    SIZE_T size = rnd() % 5 == 0 ? 0 : random_size();
    if (!s->moveable && !(flags & GMEM_MOVEABLE) && !(flags & GMEM_MODIFY) && !explore)
        return;                 /* a fixed block that may move: Windows refuses, Wine 8.0 moves it */
    UINT locks = s->f->flags(s->h) & GMEM_LOCKCOUNT;
    if (!size && !(flags & GMEM_MODIFY) && locks && !explore)
        return;                 /* a locked block discarded: the error differs (above) */
    /* A locked block grown without GMEM_MOVEABLE must stay where it is:
     * whether there is room after it is the allocator's layout. */
    if (locks && !(flags & (GMEM_MOVEABLE | GMEM_MODIFY)) && size > s->f->size(s->h) && !explore)
        return;
    unsigned char *was = locks ? s->f->lock(s->h) : NULL;
    if (was)
        s->f->unlock(s->h);
    SetLastError(0xdeadbeef);
    HGLOBAL h = s->f->realloc(s->h, size, flags);
    DWORD error = GetLastError();
    printf("%d %sReAlloc s%d %#zx %#x:", i, s->f->name, n, size, flags);
    if (!h) {
        printf(" NULL, error %lu", error);
        print_state(s);
        printf("\n");
        return;
    }
    printf(" ok, same handle %d, error %lu", s->moveable ? h == s->h : -1, error);
    s->h = h;
    if (flags & GMEM_MODIFY) {
        /* (GlobalReAlloc makes fixed memory moveable so; LocalReAlloc
         * does not.) */
        if ((flags & GMEM_MOVEABLE) && s->f == &families[0])
            s->moveable = TRUE;
        print_state(s);
        printf("\n");
        return;
    }
    print_state(s);
    unsigned char *p = s->f->lock(h);
    if (p) {
        SIZE_T have = s->f->size(h), keep = s->filled < have ? s->filled : have;
        if (was && !(flags & GMEM_MOVEABLE))
            printf(", a locked block moved %d", p != was);
        printf(", kept %d, growth zeroed %d", kept(s, p, keep),
               (flags & GMEM_ZEROINIT) && have > s->filled ? zero(p, s->filled, have) : -1);
        fill(s, p, keep, have);
        s->f->unlock(h);
    } else {
        printf(", no pointer (discarded)");
        s->filled = 0;
    }
    printf("\n");
}

static void op_free(int i, int n, struct slot *s)
{
    SetLastError(0xdeadbeef);
    HGLOBAL left = s->f->free(s->h);
    DWORD error = GetLastError();
    printf("%d %sFree s%d: %s, error %lu\n", i, s->f->name, n, left ? "handle back" : "NULL", left ? error : 0);
    if (!left)
        s->h = NULL;
}

int main(int argc, char **argv)
{
    int steps = differential_start(argc, argv, 4000);
    for (int i = 0; i < steps; i++) {
        int n = rnd() % SLOTS;
        struct slot *s = &slots[n];
        if (!s->h) {
            op_alloc(i, n, s);
            continue;
        }
        switch (rnd() % 10) {
        case 0:
        case 1: op_free(i, n, s); break;
        case 2:
        case 3: op_lock(i, n, s); break;
        case 4:
        case 5: op_unlock(i, n, s); break;
        default: op_realloc(i, n, s); break;
        }
    }
    for (int n = 0; n < SLOTS; n++)
        if (slots[n].h)
            op_free(steps, n, &slots[n]);
    printf("HeapValidate process heap: %d\n", HeapValidate(GetProcessHeap(), 0, NULL));
    return 0;
}
