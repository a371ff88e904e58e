/*
 * diff_heap.c - a seeded random sequence of heap calls on the process heap
 * and a private growable heap: HeapAlloc and HeapReAlloc of sizes across
 * every size class boundary (0 bytes to over 1 MiB, HEAP_ZERO_MEMORY or
 * not), HeapFree, HeapSize, HeapValidate of a block and of the heap. Each
 * block is filled with its own pattern, and every result is printed with
 * what the block holds (kept, zeroed where asked), never an address, for
 * run-differential to compare between Wine's builtin kernel32 and memshim.
 *
 * Agree mode (the default) leaves out what depends on the allocator's
 * layout or where memshim is stricter than Wine on purpose:
 * HEAP_REALLOC_IN_PLACE_ONLY (whether a block can grow where it is),
 * HeapSize and HeapFree through another heap's handle (memshim refuses
 * them), double frees. "explore" makes them all.
 *
 * Usage: diff_heap.exe STEPS SEED [explore]
 */
#include "differential.h"

#define BLOCKS 256
static unsigned char *block[BLOCKS];
static SIZE_T block_size[BLOCKS];
static unsigned char pattern[BLOCKS];
static HANDLE heaps[2];

/* Around the size classes' boundaries, the large-block threshold and 1 MiB;
 * a quarter anywhere below 4 KiB. */
static SIZE_T random_size(void)
{
    static const struct size_band bands[] = { { 0, 17 },          { 1000, 100 },   { 0x3ff0, 32 },
                                              { 0x3fff0, 64 },    { 0x7fff0, 64 }, { 0x100000, 0x10000 },
                                              { 0, 4096 },        { 0, 4096 } };
    return random_size_in(bands, sizeof(bands) / sizeof(bands[0]));
}

static void fill(int b, SIZE_T from)
{
    for (SIZE_T k = from; k < block_size[b]; k++)
        block[b][k] = (unsigned char)(pattern[b] + k);
}

/* Whether the block still holds its pattern (every byte up to 4 KiB, then
 * a sample). */
static int kept(int b, SIZE_T upto)
{
    for (SIZE_T k = 0; k < upto; k += k < 4096 ? 1 : 61)
        if (block[b][k] != (unsigned char)(pattern[b] + k))
            return 0;
    return 1;
}

static int zero_from(const unsigned char *p, SIZE_T from, SIZE_T to)
{
    for (SIZE_T k = from; k < to; k++)
        if (p[k])
            return 0;
    return 1;
}

static void op_allocate(int i, int b, HANDLE heap)
{
    SIZE_T size = random_size();
    DWORD flags = rnd() % 3 == 0 ? HEAP_ZERO_MEMORY : 0, error;
    SetLastError(0xdeadbeef);
    unsigned char *p = HeapAlloc(heap, flags, size);
    error = GetLastError();
    if (!p) {
        printf("%d HeapAlloc b%d %#zx %#lx: failed, error %lu\n", i, b, size, flags, error);
        return;
    }
    printf("%d HeapAlloc b%d %#zx %#lx: ok, aligned %d, HeapSize %#zx, zeroed %d\n", i, b, size, flags,
           !((ULONG_PTR)p & 15), HeapSize(heap, 0, p), flags ? zero_from(p, 0, size) : -1);
    block[b] = p;
    block_size[b] = size;
    pattern[b] = (unsigned char)rnd();
    fill(b, 0);
}

static void op_reallocate(int i, int b, HANDLE heap)
{
    SIZE_T size = rnd() % 2 ? random_size() : block_size[b] + rnd() % 64, old = block_size[b];
    DWORD flags = (rnd() % 2 ? HEAP_ZERO_MEMORY : 0) | (explore && rnd() % 4 == 0 ? HEAP_REALLOC_IN_PLACE_ONLY : 0);
    DWORD error;
    SetLastError(0xdeadbeef);
    unsigned char *p = HeapReAlloc(heap, flags, block[b], size);
    error = GetLastError();
    if (!p) {
        printf("%d HeapReAlloc b%d %#zx -> %#zx %#lx: failed, error %lu, kept %d\n", i, b, old, size, flags, error,
               kept(b, old));
        return;
    }
    block[b] = p;
    SIZE_T keep = size < old ? size : old;
    printf("%d HeapReAlloc b%d %#zx -> %#zx %#lx: ok, HeapSize %#zx, kept %d, growth zeroed %d\n", i, b, old, size,
           flags, HeapSize(heap, 0, p), kept(b, keep),
           (flags & HEAP_ZERO_MEMORY) && size > old ? zero_from(p, old, size) : -1);
    block_size[b] = size;
    fill(b, keep);
}

int main(int argc, char **argv)
{
    int steps = differential_start(argc, argv, 6000);
    heaps[0] = GetProcessHeap();
    heaps[1] = HeapCreate(0, 0, 0);
    for (int i = 0; i < steps; i++) {
        int b = rnd() % BLOCKS;
        HANDLE heap = heaps[b % 2];
        unsigned op = rnd() % 10;
        BOOL ok;
        DWORD error;
        if (!block[b]) {
            op_allocate(i, b, heap);
            continue;
        }
        if (op < 4) {
            int was_kept = kept(b, block_size[b]);
            SetLastError(0xdeadbeef);
            ok = HeapFree(heap, 0, block[b]);
            error = GetLastError();
            printf("%d HeapFree b%d: %d, error %lu, kept until then %d\n", i, b, ok, ok ? 0 : error, was_kept);
            if (explore && rnd() % 8 == 0) {
                SetLastError(0xdeadbeef);
                ok = HeapFree(heap, 0, block[b]);
                error = GetLastError();
                printf("  again: %d, error %lu\n", ok, ok ? 0 : error);
            }
            block[b] = NULL;
        } else if (op < 8) {
            op_reallocate(i, b, heap);
        } else if (op == 8) {
            printf("%d HeapValidate b%d: %d\n", i, b, HeapValidate(heap, 0, block[b]));
        } else if (explore) {
            SetLastError(0xdeadbeef);
            SIZE_T size = HeapSize(heaps[(b + 1) % 2], 0, block[b]);
            error = GetLastError();
            printf("%d HeapSize b%d through the other heap: %#zx, error %lu\n", i, b, size,
                   size == (SIZE_T)-1 ? error : 0);
        } else {
            printf("%d HeapSize b%d: %#zx\n", i, b, HeapSize(heap, 0, block[b]));
        }
    }
    for (int k = 0; k < 2; k++)
        printf("HeapValidate heap %d: %d\n", k, HeapValidate(heaps[k], 0, NULL));
    return 0;
}
