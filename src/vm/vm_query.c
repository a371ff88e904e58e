/*
 * vm_query.c - VirtualQuery and ownership lookups, answered from the map
 * without entering the kernel.
 */
#include "vm_internal.h"

/* Whether addr is in one of the core's arenas, without the lock (the
 * seqlock reader of vm_query, over the arenas' bounds only): 1 yes, 0 no,
 * -1 could not tell (a writer kept the count moving, or TSan). Most calls
 * come from ntdll hooks asking about Wine's own memory, from every thread:
 * they no longer meet on the map's lock. */
__attribute__((no_sanitize_thread)) static int arena_holds_unlocked(uintptr_t addr)
{
    if (!VM_SEQLOCK_READS)
        return -1;
    for (int attempt = 0; attempt < 4; attempt++) {
        uint32_t seq = atomic_load_explicit(&vm.seq, memory_order_acquire);
        if (seq & 1)
            continue;
        size_t lo = 0, hi = vm.narenas;
        if (hi > VM_MAX_ARENAS)
            continue;
        int found = 0;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (addr < atomic_load_explicit(&vm.arena_bases[mid], memory_order_relaxed))
                hi = mid;
            else if (addr >= atomic_load_explicit(&vm.arena_ends[mid], memory_order_relaxed))
                lo = mid + 1;
            else {
                found = 1;
                break;
            }
        }
        vm_seq_fence(memory_order_acquire);
        if (atomic_load_explicit(&vm.seq, memory_order_relaxed) == seq)
            return found;
    }
    return -1;
}

bool vm_owns(uintptr_t addr)
{
    if (!vm.initialised)
        return false;
    int held = arena_holds_unlocked(addr);
    if (held >= 0)
        return held;
    vm_map_lock();
    bool owned = vm_arena_find(addr) != NULL;
    vm_map_unlock();
    return owned;
}

bool vm_lookup(uintptr_t addr, struct vm_allocation_info *info)
{
    if (!vm.initialised || arena_holds_unlocked(addr) == 0)
        return false;
    vm_map_lock();
    struct vm_arena *arena = vm_arena_find(addr);
    struct vm_allocation *alloc = arena ? vm_allocation_at(arena, addr) : NULL;
    if (alloc) {
        info->base = alloc->base;
        info->size = alloc->size;
        info->usage = (enum vm_usage)alloc->usage;
        info->owner = alloc->owner;
    }
    vm_map_unlock();
    return alloc != NULL;
}

/* Copy-on-write pages that were written are private read-write pages on
 * Windows, each run of them its own region; the host knows which were
 * copied. Returns the length of the run from `page` with the same copied
 * state, and turns *protect into the read-write form if they were copied.
 * Only copy-on-write views pay for this (a pagemap read). */
static size_t split_copied(uintptr_t page, size_t run, uint32_t *protect)
{
    uint8_t copied[512];
    int first = -1;
    size_t same = 0;
    while (same < run) {
        size_t n = run - same < sizeof copied ? run - same : sizeof copied;
        if (host_pages_copied(page + (same << MS_PAGE_SHIFT), n, copied) < 0)
            return first < 0 ? run : same;      /* no pagemap: report what is known */
        if (first < 0)
            first = copied[0];
        size_t i = 0;
        while (i < n && copied[i] == first)
            i++;
        same += i;
        if (i < n)
            break;
    }
    if (first == 1)
        *protect = (*protect & ~0xFFu) |
                   ((*protect & 0xFFu) == VM_PAGE_WRITECOPY ? VM_PAGE_READWRITE : VM_PAGE_EXECUTE_READWRITE);
    return same;
}

/* VirtualQuery without the lock: a seqlock's reader over the map (see
 * vm_map_lock). The lock's two atomic operations were ~70% of a query
 * (perf), and programs that scan memory with VirtualQuery (garbage
 * collectors, JITs, sandboxes) call it in loops. Every value read may be
 * stale or half-changed while a lock holder works; the answer counts only
 * if the sequence count was even and the same before and after. So
 * nothing read is trusted for memory safety: only normal arenas are
 * followed (their metadata stays for the life of the process; the arena
 * words say which), every index is bounded by what it indexes, and the
 * run of pages is bounded by the arena. The rare cases (dedicated arenas,
 * copy-on-write views, addresses the core does not own, a writer that
 * keeps the count moving) return false and take the lock.
 * TSan does not see the seqlock's validation, so this reader is not
 * instrumented; it only reads. */
__attribute__((no_sanitize_thread)) static bool query_unlocked(uintptr_t page, struct vm_region_info *info)
{
    if (!VM_SEQLOCK_READS)
        return false;
    for (int attempt = 0; attempt < 4; attempt++) {
        uint32_t seq = atomic_load_explicit(&vm.seq, memory_order_acquire);
        if (seq & 1)
            continue;
        size_t lo = 0, hi = vm.narenas;
        const struct vm_arena *arena = NULL;
        if (hi > VM_MAX_ARENAS)
            continue;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            uintptr_t word = atomic_load_explicit(&vm.arena_words[mid], memory_order_relaxed);
            if (!word || (word & 1))
                return false;               /* changing, or a dedicated arena */
            const struct vm_arena *a = (const struct vm_arena *)word;
            if (page < a->base)
                hi = mid;
            else if (page >= a->end)
                lo = mid + 1;
            else {
                arena = a;
                break;
            }
        }
        if (!arena)
            return false;
        struct vm_region_info r;
        size_t g = (page - arena->base) >> MS_GRANULE_SHIFT;
        uint32_t slot = g < arena->ngranules ? arena->granules[g] : 0;
        const struct vm_allocation *alloc = NULL;
        uintptr_t base = 0, size = 0;
        if (slot) {
            if (slot > vm.alloc_high)
                continue;
            alloc = &vm.allocs[slot - 1];
            base = alloc->base;
            size = alloc->size;
            if (page >= base + size || page < base)
                alloc = NULL;               /* the tail of its last granule is free */
        }
        r.base = page;
        if (!alloc) {
            uintptr_t end = ms_align_up(page + 1, MS_GRANULARITY);
            while (end < arena->end) {
                size_t ge = (end - arena->base) >> MS_GRANULE_SHIFT;
                if (ge >= arena->ngranules || arena->granules[ge])
                    break;
                end += MS_GRANULARITY;
            }
            r.allocation_base = 0;
            r.allocation_protect = 0;
            r.region_size = end - page;
            r.state = VM_MEM_FREE;
            r.protect = VM_PAGE_NOACCESS;
            r.type = 0;
        } else {
            size_t p = (page - arena->base) >> MS_PAGE_SHIFT;
            size_t limit = (base + size - arena->base) >> MS_PAGE_SHIFT;
            if (limit > arena->npages)
                limit = arena->npages;
            if (p >= limit)
                continue;
            uint8_t byte = arena->pages[p];
            uint32_t type = alloc->type;
            if (type == VM_MEM_MAPPED && !alloc->shared_view && page_byte_writecopy(byte))
                return false;               /* written copy-on-write pages: the host knows */
            size_t i = p + 1;
            if (byte > PAGE_STATE_STALE) {
                uint64_t pattern = 0x0101010101010101ull * byte, word;
                while (i + 8 <= limit) {
                    memcpy(&word, arena->pages + i, 8);
                    if (word != pattern)
                        break;
                    i += 8;
                }
                while (i < limit && arena->pages[i] == byte)
                    i++;
            } else {
                while (i < limit && arena->pages[i] <= PAGE_STATE_STALE)
                    i++;
            }
            r.allocation_base = base;
            r.allocation_protect = alloc->alloc_protect;
            r.state = page_byte_state(byte) == PAGE_STATE_COMMITTED ? VM_MEM_COMMIT : VM_MEM_RESERVE;
            r.protect = page_byte_protect(byte);
            r.type = type;
            r.region_size = (i - p) << MS_PAGE_SHIFT;
        }
        vm_seq_fence(memory_order_acquire);
        if (atomic_load_explicit(&vm.seq, memory_order_relaxed) == seq) {
            *info = r;
            return true;
        }
    }
    return false;
}

ms_status vm_query(uintptr_t addr, struct vm_region_info *info)
{
    if (!vm.initialised)
        return VM_NOT_OWNED;
    uintptr_t page = ms_align_down(addr, MS_PAGE_SIZE);
    if (query_unlocked(page, info))
        return MS_OK;
    if (arena_holds_unlocked(page) == 0)
        return VM_NOT_OWNED;
    vm_map_lock();
    struct vm_arena *arena = vm_arena_find(page);
    if (!arena) {
        vm_map_unlock();
        return VM_NOT_OWNED;
    }
    struct vm_allocation *alloc = vm_allocation_at(arena, page);
    info->base = page;
    if (!alloc) {
        /* Free space runs to the next allocation or the end of the arena. */
        uintptr_t end = ms_align_up(page + 1, MS_GRANULARITY);
        if (arena->dedicated)
            end = arena->end;
        else
            while (end < arena->end && !arena->granules[arena_granule(arena, end)])
                end += MS_GRANULARITY;
        info->allocation_base = 0;
        info->allocation_protect = 0;
        info->region_size = end - page;
        info->state = VM_MEM_FREE;
        info->protect = VM_PAGE_NOACCESS;
        info->type = 0;
    } else {
        size_t p = arena_page(arena, page);
        size_t limit = arena_page(arena, alloc->base + alloc->size);
        uint8_t byte = arena->pages[p];
        size_t run = vm_pages_region(arena->pages, p, limit);
        info->allocation_base = alloc->base;
        info->allocation_protect = alloc->alloc_protect;
        info->state = page_byte_state(byte) == PAGE_STATE_COMMITTED ? VM_MEM_COMMIT : VM_MEM_RESERVE;
        info->protect = page_byte_protect(byte);
        info->type = alloc->type;
        /* (A shared view's copied pages are read-write in the map already.) */
        if (alloc->type == VM_MEM_MAPPED && !alloc->shared_view && page_byte_writecopy(byte))
            run = split_copied(page, run, &info->protect);
        info->region_size = run << MS_PAGE_SHIFT;
    }
    vm_map_unlock();
    return MS_OK;
}

ms_status vm_check_access(uintptr_t addr, size_t size, bool write)
{
    if (!vm.initialised)
        return VM_NOT_OWNED;
    uintptr_t start = ms_align_down(addr, MS_PAGE_SIZE);
    uintptr_t end = ms_align_up(addr + size, MS_PAGE_SIZE);
    if (size == 0 || end <= start)
        return size ? MS_ERROR_NOACCESS : MS_OK;
    uintptr_t guard = 0;
    ms_status st = MS_OK;
    vm_map_lock();
    struct vm_arena *arena = vm_arena_find(start);
    if (!arena || end > arena->end) {
        st = VM_NOT_OWNED;
    } else {
        for (uintptr_t page = start; page < end && st == MS_OK; page += MS_PAGE_SIZE) {
            struct vm_allocation *alloc = vm_allocation_at(arena, page);
            uint8_t byte = alloc ? arena->pages[arena_page(arena, page)] : 0;
            uint32_t protect = page_byte_protect(byte);
            if (page_byte_state(byte) != PAGE_STATE_COMMITTED)
                st = MS_ERROR_NOACCESS;
            else if (protect & VM_PAGE_GUARD) {
                guard = page;
                st = MS_ERROR_NOACCESS;
            } else if (page_host_prot(byte) == HOST_PROT_NONE ||
                       (write && !(page_host_prot(byte) & HOST_PROT_WRITE))) {
                st = MS_ERROR_NOACCESS;
            } else if (write && !vm_view_writable_locked(arena, alloc, page, byte)) {
                st = MS_ERROR_NOACCESS;     /* the copy-on-write copy could not be made */
            }
        }
    }
    vm_map_unlock();
    if (guard)
        vm_guard_page_hit(guard);
    return st;
}

/* Can the page at addr be copied from (write: to)? Guard pages stop a copy
 * without being tripped; read-only pages can be written by the debugger
 * APIs. With vm.lock held. */
static bool copyable_locked(struct vm_arena *arena, uintptr_t page, bool write, bool *readonly)
{
    struct vm_allocation *alloc = vm_allocation_at(arena, page);
    uint8_t byte = alloc ? arena->pages[arena_page(arena, page)] : 0;
    int prot = page_host_prot(byte);
    if (page_byte_state(byte) != PAGE_STATE_COMMITTED || prot == HOST_PROT_NONE)
        return false;
    /* A write into a shared view's copy-on-write page goes to its copy. */
    if (write && !vm_view_writable_locked(arena, alloc, page, byte))
        return false;
    *readonly = write && !(prot & HOST_PROT_WRITE);
    return true;
}

static bool copy_plain(void *dst, const void *src, size_t n)
{
    memcpy(dst, src, n);
    return true;
}

/* Set once before any thread copies (the DLL's attach); read plainly after. */
static vm_user_copy_fn user_copy = copy_plain;

void vm_set_user_copy(vm_user_copy_fn fn)
{
    user_copy = fn ? fn : copy_plain;
}

ms_status vm_copy_memory(uintptr_t addr, void *buffer, size_t size, bool write, size_t *done)
{
    *done = 0;
    if (!vm.initialised)
        return VM_NOT_OWNED;
    if (size == 0)
        return MS_OK;
    if (addr + size < addr)
        return MS_ERROR_PARTIAL_COPY;
    vm_map_lock();
    struct vm_arena *arena = vm_arena_find(addr);
    bool owned = arena && addr + size <= arena->end;
    vm_map_unlock();
    if (!owned)
        return VM_NOT_OWNED;
    /* The caller's buffer is touched only outside vm.lock, through a bounce
     * buffer: a fault on it (a guard page, a copy-on-write page of a shared
     * view) goes to the exception handler, which takes vm.lock itself. */
    unsigned char bounce[2048];
    char *buf = buffer;
    ms_status st = MS_OK;
    while (*done < size) {
        uintptr_t at = addr + *done, page = ms_align_down(at, MS_PAGE_SIZE);
        size_t chunk = page + MS_PAGE_SIZE - at;
        if (chunk > size - *done)
            chunk = size - *done;
        if (chunk > sizeof bounce)
            chunk = sizeof bounce;
        /* The caller's side may be any address at all: through user_copy,
         * a bad one ends the copy instead of faulting. */
        if (write && !user_copy(bounce, buf + *done, chunk)) {
            st = MS_ERROR_PARTIAL_COPY;
            break;
        }
        vm_map_lock();
        /* Checked again: another thread may have released the region. */
        arena = vm_arena_find(at);
        bool readonly;
        if (!arena || !copyable_locked(arena, page, write, &readonly)) {
            vm_map_unlock();
            st = MS_ERROR_PARTIAL_COPY;
            break;
        }
        if (!write) {
            memcpy(bounce, (const void *)at, chunk);
        } else if (!readonly) {
            memcpy((void *)at, bounce, chunk);
        } else {
            /* Lift the page's protection for the copy only. */
            int prot = page_host_prot(arena->pages[arena_page(arena, page)]);
            if (host_protect(page, MS_PAGE_SIZE, prot | HOST_PROT_WRITE) < 0) {
                vm_map_unlock();
                st = MS_ERROR_PARTIAL_COPY;
                break;
            }
            memcpy((void *)at, bounce, chunk);
            host_protect_undo(page, MS_PAGE_SIZE, prot);
        }
        vm_map_unlock();
        if (!write && !user_copy(buf + *done, bounce, chunk)) {
            st = MS_ERROR_NOACCESS;
            break;
        }
        *done += chunk;
    }
    return st;
}

uintptr_t vm_max_address(void)
{
    return vm.initialised ? vm.max_address : MS_USER_SPACE_LIMIT + 1;
}

size_t vm_large_page_minimum(void)
{
    /* What 64-bit Windows reports on x86-64 (the processor's large page,
     * whether or not the caller could get any), and what Wine returns. */
    return (size_t)2 << 20;
}

ms_status vm_prefetch(uintptr_t addr, size_t size)
{
    if (!vm_owns(addr))
        return VM_NOT_OWNED;
    uintptr_t start = ms_align_down(addr, MS_PAGE_SIZE), end = ms_align_up(addr + size, MS_PAGE_SIZE);
    if (end <= start)
        return MS_ERROR_INVALID_PARAMETER;
    /* Only a hint: reserved pages in the range are simply not read in. */
    host_prefetch(start, end - start);
    return MS_OK;
}
