/*
 * vm_reset.c - VirtualAlloc's MEM_RESET and MEM_RESET_UNDO.
 *
 * MEM_RESET: the program no longer needs the contents of the range, but will
 * use the memory again. The committed pages are handed to the host with
 * MADV_FREE: it takes them when it needs memory (they then read as zero),
 * until then they keep their contents, and a write keeps them for good.
 * Reserved pages in the range are skipped; the range must lie in one
 * allocation (Windows' rules, from Wine's tests run on Windows).
 *
 * MEM_RESET_UNDO: the program wants the contents after all. Windows
 * succeeds only if all of them are intact. The core remembers, one bit per
 * page (set at MEM_RESET), which pages had contents the host may discard:
 * those with a page frame in memory or swap at the time (a page never
 * touched is zero and stays zero; a swapped-out page loses its swap copy to
 * MADV_FREE at once, and undo then reports it lost). Undo fails if one of
 * those pages has no frame any more; otherwise it writes every such page
 * (an atomic add of zero, which changes nothing but makes the host keep
 * it) and forgets the bits. A page the host takes in the microseconds
 * between the check and the write is lost without notice: the host offers
 * no atomic "keep if still there".
 *
 * Invariant: a reset bit is set only on a committed page; decommitting
 * clears it (vm_reset_bits_clear). alloc->reset_pages counts the bits, so
 * allocations never reset never touch the bitmap.
 *
 * Thread safety: under vm.lock, as all of the map.
 */
#include "vm_internal.h"

#define CHUNK 64    /* pages per pagemap read */

static bool reset_bit(const struct vm_arena *a, size_t p)
{
    return vm_page_bit(a->reset, p);
}

static void set_reset_bit(struct vm_arena *a, struct vm_allocation *alloc, size_t p, bool on)
{
    vm_page_bit_set(a->reset, p, on, &alloc->reset_pages);
}

void vm_reset_bits_clear(struct vm_arena *arena, struct vm_allocation *alloc, size_t p0, size_t p1)
{
    for (size_t p = p0; p < p1 && alloc->reset_pages; p++)
        set_reset_bit(arena, alloc, p, false);
}

/* Remember which committed pages of [p0, p1) hold contents, then let the
 * host have them. */
static ms_status reset(struct vm_arena *arena, struct vm_allocation *alloc, size_t p0, size_t p1)
{
    uint8_t resident[CHUNK];
    for (size_t p = p0; p < p1;) {
        size_t run = vm_pages_run(arena->pages, p, p1);
        if (page_byte_state(arena->pages[p]) == PAGE_STATE_COMMITTED) {
            uintptr_t addr = arena->base + (p << MS_PAGE_SHIFT);
            for (size_t i = 0; i < run; i += CHUNK) {
                size_t n = run - i < CHUNK ? run - i : CHUNK;
                /* Without the pagemap, assume every page has contents: undo
                 * then fails rather than claim lost data intact. */
                if (host_pages_resident(addr + (i << MS_PAGE_SHIFT), n, resident) < 0)
                    memset(resident, 1, n);
                /* A shared view's pages live on in the section: only
                 * private memory can lose its contents. */
                for (size_t j = 0; j < n && alloc->type == VM_MEM_PRIVATE; j++)
                    if (resident[j])
                        set_reset_bit(arena, alloc, p + i + j, true);
            }
            host_discard(addr, run << MS_PAGE_SHIFT);
        }
        p += run;
    }
    return MS_OK;
}

/* Write a page without changing it, so that the host keeps it. */
static int keep_page(uintptr_t page, uint8_t byte)
{
    int prot = page_host_prot(byte);
    bool writable = (prot & HOST_PROT_WRITE) != 0;
    if (!writable && host_protect_undo(page, MS_PAGE_SIZE, HOST_PROT_READ | HOST_PROT_WRITE) < 0)
        return -1;
    __atomic_fetch_add((volatile uint8_t *)page, 0, __ATOMIC_RELAXED);
    if (!writable)
        host_protect_undo(page, MS_PAGE_SIZE, prot);
    return 0;
}

static ms_status undo(struct vm_arena *arena, struct vm_allocation *alloc, size_t p0, size_t p1)
{
    if (!alloc->reset_pages)
        return MS_OK;       /* nothing of it was reset with contents */
    uint8_t resident[CHUNK];
    /* First the verdict, so that a failure changes nothing. */
    for (size_t p = p0; p < p1; p += CHUNK) {
        size_t n = p1 - p < CHUNK ? p1 - p : CHUNK;
        bool any = false;
        for (size_t j = 0; j < n && !any; j++)
            any = reset_bit(arena, p + j);
        if (!any)
            continue;
        if (host_pages_resident(arena->base + (p << MS_PAGE_SHIFT), n, resident) < 0)
            return MS_ERROR_INVALID_ADDRESS;
        for (size_t j = 0; j < n; j++)
            if (reset_bit(arena, p + j) && !resident[j])
                return MS_ERROR_INVALID_ADDRESS;        /* the host took it: its contents are gone */
    }
    for (size_t p = p0; p < p1; p++) {
        if (!reset_bit(arena, p))
            continue;
        if (keep_page(arena->base + (p << MS_PAGE_SHIFT), arena->pages[p]) < 0)
            return MS_ERROR_NOT_ENOUGH_MEMORY;
        set_reset_bit(arena, alloc, p, false);
    }
    return MS_OK;
}

ms_status vm_reset_locked(uintptr_t addr, size_t size, bool is_undo)
{
    uintptr_t start = ms_align_down(addr, MS_PAGE_SIZE), end = ms_align_up(addr + size, MS_PAGE_SIZE);
    struct vm_arena *arena = vm_arena_find(start);
    if (!arena)
        return VM_NOT_OWNED;
    struct vm_allocation *alloc = vm_allocation_at(arena, start);
    if (!alloc || end <= start || end > alloc->base + alloc->size)
        return MS_ERROR_INVALID_ADDRESS;
    size_t p0 = arena_page(arena, start), p1 = arena_page(arena, end);
    return is_undo ? undo(arena, alloc, p0, p1) : reset(arena, alloc, p0, p1);
}
