/*
 * vm_arena.c - arenas: the address ranges the core holds, and placement of
 * new allocations inside them.
 *
 * Why arenas: under Wine, memory mapped behind Wine's back is reported free
 * and may be mapped over. Reserving whole arenas through the host (ntdll's
 * NtAllocateVirtualMemory under Wine) keeps Wine out, after which every
 * commit, decommit and protection change inside is a plain syscall, and
 * VirtualQuery is a lookup in this map.
 *
 * Placement follows Windows: the lowest free 64 KiB-aligned range that fits
 * (MEM_TOP_DOWN: the highest), arena by arena; a request that fits nowhere
 * gets a new arena (a dedicated one, sized to it, when it is large).
 *
 * Sizes: normal arenas grow geometrically (vm_internal.h, VM_ARENA_*), so
 * a small process holds little address space, and Wine's per-page table of
 * it stays small; the metadata of an arena is proportional to its size.
 */
#include "vm_internal.h"

static size_t meta_size_for(size_t npages, size_t ngranules, bool dedicated)
{
    size_t bytes = sizeof(struct vm_arena) + npages + 8 + (dedicated ? 0 : ngranules * sizeof(uint32_t)) +
                   3 * (npages / 8 + 8);       /* locked, reset and kept-write bits */
    return ms_align_up(bytes, MS_GRANULARITY);
}

struct vm_arena *vm_arena_find(uintptr_t addr)
{
    size_t lo = 0, hi = vm.narenas;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        struct vm_arena *a = vm.arenas[mid];
        if (addr < a->base)
            hi = mid;
        else if (addr >= a->end)
            lo = mid + 1;
        else
            return a;
    }
    return NULL;
}

struct vm_arena *vm_arena_next(uintptr_t addr)
{
    size_t lo = 0, hi = vm.narenas;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (vm.arenas[mid]->base <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < vm.narenas ? vm.arenas[lo] : NULL;
}

static uintptr_t arena_word(const struct vm_arena *arena)
{
    return (uintptr_t)arena | (arena->dedicated ? 1u : 0u);
}

static void arena_set(size_t i, struct vm_arena *arena)
{
    vm.arenas[i] = arena;
    atomic_store_explicit(&vm.arena_words[i], arena ? arena_word(arena) : 0, memory_order_relaxed);
    atomic_store_explicit(&vm.arena_bases[i], arena ? arena->base : 0, memory_order_relaxed);
    atomic_store_explicit(&vm.arena_ends[i], arena ? arena->end : 0, memory_order_relaxed);
}

static void arena_insert(struct vm_arena *arena)
{
    size_t i = vm.narenas;
    while (i > 0 && vm.arenas[i - 1]->base > arena->base) {
        arena_set(i, vm.arenas[i - 1]);
        i--;
    }
    arena_set(i, arena);
    vm.narenas++;
    vm.arena_bytes += arena->end - arena->base;
}

ms_status vm_arena_create(uintptr_t want, size_t size, bool top_down, bool dedicated, struct vm_arena **out)
{
    if (vm.narenas >= VM_MAX_ARENAS)
        return MS_ERROR_NOT_ENOUGH_MEMORY;
    size = ms_align_up(size, MS_GRANULARITY);
    size_t npages = size >> MS_PAGE_SHIFT, ngranules = size >> MS_GRANULE_SHIFT;
    size_t meta_size = meta_size_for(npages, ngranules, dedicated);
    uintptr_t meta = 0;
    if (vm.spare_meta && vm.spare_meta_size >= meta_size) {
        /* The metadata reservation of the last dedicated arena released:
         * no reservation of its own (under Wine two ntdll calls). */
        meta = vm.spare_meta;
        meta_size = vm.spare_meta_size;
        vm.spare_meta = 0;
    } else if (host_reserve(&meta, meta_size, MS_GRANULARITY, false, 0) < 0) {
        return MS_ERROR_NOT_ENOUGH_MEMORY;
    }
    if (host_commit(meta, meta_size, HOST_PROT_READ | HOST_PROT_WRITE) < 0) {
        host_unreserve(meta, meta_size);
        return MS_ERROR_NOT_ENOUGH_MEMORY;
    }
    uintptr_t base = want;
    int r = host_reserve(&base, size, MS_GRANULARITY, top_down, vm.max_address);
    if (r < 0) {
        host_unreserve(meta, meta_size);
        /* A fixed address that is taken is the program's error, as on Windows. */
        return want ? MS_ERROR_INVALID_ADDRESS : MS_ERROR_NOT_ENOUGH_MEMORY;
    }
    struct vm_arena *a = (struct vm_arena *)meta;
    a->base = base;
    a->end = base + size;
    a->npages = npages;
    a->ngranules = ngranules;
    a->pages = (uint8_t *)(meta + sizeof(struct vm_arena));
    a->granules = dedicated ? NULL : (uint32_t *)ms_align_up((uintptr_t)(a->pages + npages), 8);
    a->only_alloc = 0;
    uintptr_t after = a->granules ? (uintptr_t)(a->granules + ngranules) : (uintptr_t)(a->pages + npages);
    a->locked = (uint8_t *)ms_align_up(after, 8);
    a->reset = (uint8_t *)ms_align_up((uintptr_t)(a->locked + npages / 8 + 1), 8);
    a->written = (uint8_t *)ms_align_up((uintptr_t)(a->reset + npages / 8 + 1), 8);
    a->free_hint = 0;
    a->dedicated = dedicated;
    a->top_down = top_down;
    a->meta = meta;
    a->meta_size = meta_size;
    arena_insert(a);
    *out = a;
    return MS_OK;
}

void vm_arena_destroy(struct vm_arena *arena)
{
    size_t i = 0;
    while (i < vm.narenas && vm.arenas[i] != arena)
        i++;
    for (; i + 1 < vm.narenas; i++)
        arena_set(i, vm.arenas[i + 1]);
    arena_set(i, NULL);
    vm.narenas--;
    vm.arena_bytes -= arena->end - arena->base;
    host_unreserve(arena->base, arena->end - arena->base);
    /* A program that reserves and releases a large region again and again
     * makes a dedicated arena each time: keep one metadata reservation,
     * its pages given back, for the next one. */
    uintptr_t meta = arena->meta;       /* the arena struct lives there: read it first */
    size_t meta_size = arena->meta_size;
    if (arena->dedicated && !vm.spare_meta && meta_size <= VM_SPARE_META_MAX && host_decommit(meta, meta_size) == 0) {
        vm.spare_meta = meta;
        vm.spare_meta_size = meta_size;
        return;
    }
    host_unreserve(meta, meta_size);
}

bool vm_arena_range_free(const struct vm_arena *arena, uintptr_t base, size_t size)
{
    if (arena->dedicated)
        return !arena->only_alloc;
    size_t g0 = arena_granule(arena, base);
    size_t g1 = arena_granule(arena, base + size - 1);
    for (size_t g = g0; g <= g1; g++)
        if (arena->granules[g])
            return false;
    return true;
}

/* First (or last) run of `count` free granules whose address is aligned. */
static bool arena_search(struct vm_arena *a, size_t count, size_t align, bool top_down, uintptr_t *out)
{
    if (count > a->ngranules)
        return false;
    size_t step = align >> MS_GRANULE_SHIFT;
    if (!top_down) {
        size_t g = a->free_hint;
        while (g + count <= a->ngranules) {
            uintptr_t addr = a->base + (g << MS_GRANULE_SHIFT);
            if (!ms_is_aligned(addr, align)) {
                g = (ms_align_up(addr, align) - a->base) >> MS_GRANULE_SHIFT;
                continue;
            }
            size_t run = 0;
            while (run < count && !a->granules[g + run])
                run++;
            if (run == count) {
                *out = addr;
                return true;
            }
            g += run + 1;
            if (step > 1)
                g = (ms_align_up(a->base + (g << MS_GRANULE_SHIFT), align) - a->base) >> MS_GRANULE_SHIFT;
        }
        return false;
    }
    /* Top-down: highest aligned start whose run fits. */
    uintptr_t last = ms_align_down(a->end - (count << MS_GRANULE_SHIFT), align);
    for (uintptr_t addr = last; addr >= a->base && addr + (count << MS_GRANULE_SHIFT) <= a->end; addr -= align) {
        size_t g = arena_granule(a, addr), run = 0;
        while (run < count && !a->granules[g + run])
            run++;
        if (run == count) {
            *out = addr;
            return true;
        }
        if (addr < a->base + align)
            break;
    }
    return false;
}

bool vm_arena_find_free(size_t size, size_t align, bool top_down, struct vm_arena **arena, uintptr_t *addr)
{
    size_t count = ms_align_up(size, MS_GRANULARITY) >> MS_GRANULE_SHIFT;
    for (size_t k = 0; k < vm.narenas; k++) {
        struct vm_arena *a = vm.arenas[top_down ? vm.narenas - 1 - k : k];
        /* Top-down requests live in arenas placed at the top of the address
         * space, as Windows puts them; bottom-up ones in the low arenas. */
        if (a->dedicated || a->top_down != top_down)
            continue;
        if (arena_search(a, count, align, top_down, addr)) {
            *arena = a;
            return true;
        }
    }
    return false;
}

size_t vm_arena_next_size(size_t need, bool top_down)
{
    size_t size = VM_ARENA_FIRST_SIZE;
    for (size_t i = 0; i < vm.narenas; i++) {
        const struct vm_arena *a = vm.arenas[i];
        size_t twice = (a->end - a->base) * 2;
        if (!a->dedicated && a->top_down == top_down && twice > size)
            size = twice;
    }
    if (size > VM_ARENA_MAX_SIZE)
        size = VM_ARENA_MAX_SIZE;
    while (size < need)
        size *= 2;
    return size;
}

ms_status vm_arena_create_normal(size_t need, bool top_down, struct vm_arena **out)
{
    need = ms_align_up(need, MS_GRANULARITY);
    size_t floor = need > VM_ARENA_FIRST_SIZE ? need : VM_ARENA_FIRST_SIZE;
    /* A 2 GiB limit or a fragmented address space may leave no room for
     * the next size: smaller ones still serve this request. */
    ms_status st = MS_ERROR_NOT_ENOUGH_MEMORY;
    for (size_t size = vm_arena_next_size(need, top_down);; size /= 2) {
        if (size < floor)
            size = floor;
        st = vm_arena_create(0, size, top_down, false, out);
        if (st != MS_ERROR_NOT_ENOUGH_MEMORY || size == floor)
            return st;
    }
}
