/*
 * vm_query.c - VirtualQuery and ownership lookups, answered from the map
 * without entering the kernel.
 */
#include "vm_internal.h"

/* Reading the map without the lock: a seqlock's reader (see vm_map_lock).
 * The lock's two atomic operations were ~70% of a query (perf), and most
 * ownership questions come from ntdll hooks asking about Wine's own
 * memory, from every thread. Every value read may be stale or half-changed
 * while a lock holder works; an answer counts only if the sequence count
 * was even and the same before and after. So nothing read is trusted for
 * memory safety: the arena table is searched in its copies of words
 * (bounds, and the pointer tagged when dedicated), only normal arenas are
 * followed (their metadata stays for the life of the process), and every
 * index is bounded by what it indexes. Under TSan (no fences, no model of
 * the validation) nothing is read this way. */

/* The slot of the arena holding addr in the table's copies, or -1. */
static long arena_slot_unlocked(uintptr_t addr)
{
    size_t lo = 0, hi = vm.narenas;
    if (hi > VM_MAX_ARENAS)
        hi = VM_MAX_ARENAS;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (addr < atomic_load_explicit(&vm.arena_bases[mid], memory_order_relaxed))
            hi = mid;
        else if (addr >= atomic_load_explicit(&vm.arena_ends[mid], memory_order_relaxed))
            lo = mid + 1;
        else
            return (long)mid;
    }
    return -1;
}

/* Whether addr is in one of the core's arenas: 1 yes, 0 no, -1 could not
 * tell (a writer kept the count moving, or TSan). */
static int arena_holds_unlocked(uintptr_t addr)
{
    for (int attempt = 0; attempt < 4; attempt++) {
        uint32_t seq;
        if (!ms_seq_read_begin(&vm.seq, &seq))
            continue;
        long slot = arena_slot_unlocked(addr);
        if (ms_seq_read_valid(&vm.seq, seq))
            return slot >= 0;
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

/* What VirtualQuery says of free space at page: it runs to the next
 * allocation or the end of the arena. */
static void describe_free(const struct vm_arena *arena, uintptr_t page, struct vm_region_info *info)
{
    uintptr_t end = ms_align_up(page + 1, MS_GRANULARITY);
    if (arena->dedicated)
        end = arena->end;
    else
        while (end < arena->end && !arena->granules[arena_granule(arena, end)])
            end += MS_GRANULARITY;
    info->base = page;
    info->allocation_base = 0;
    info->allocation_protect = 0;
    info->region_size = end - page;
    info->state = VM_MEM_FREE;
    info->protect = VM_PAGE_NOACCESS;
    info->type = 0;
}

/* ... and of page, the first of `run` pages of an allocation alike. */
static void describe_pages(uintptr_t page, size_t run, uint8_t byte, uintptr_t alloc_base, uint32_t alloc_protect,
                           uint32_t type, struct vm_region_info *info)
{
    info->base = page;
    info->allocation_base = alloc_base;
    info->allocation_protect = alloc_protect;
    info->state = page_byte_state(byte) == PAGE_STATE_COMMITTED ? VM_MEM_COMMIT : VM_MEM_RESERVE;
    info->protect = page_byte_protect(byte);
    info->type = type;
    info->region_size = run << MS_PAGE_SHIFT;
}

/* The page index of addr in the arena, within [p, limit] (addresses
 * before page p give p): a bound for a scan from p. */
static size_t page_bound(const struct vm_arena *arena, uintptr_t addr, size_t p, size_t limit)
{
    if (addr <= arena->base + (p << MS_PAGE_SHIFT))
        return p;
    size_t index = arena_page(arena, addr);
    return index < limit ? index : limit;
}

/* The pages alike from p (up to limit, the allocation's end) as VirtualQuery
 * groups them. Reserved pages are counted without reading the page map
 * outside the allocation's commit span, where every page is reserved (or
 * stale, which reads the same): querying a terabyte reservation read a
 * byte per page of it, 256 MiB for 1 TiB. Every index is bounded, as the
 * lock-free reader needs. */
static inline size_t region_pages(const struct vm_arena *arena, const struct vm_allocation *alloc, size_t p,
                                  size_t limit)
{
    if (arena->pages[p] > PAGE_STATE_STALE)
        return vm_pages_run(arena->pages, p, limit);
    size_t lo = page_bound(arena, alloc->commit_lo, p, limit), hi = page_bound(arena, alloc->commit_hi, p, limit);
    size_t i = p > lo ? p : lo;
    while (i < hi && arena->pages[i] <= PAGE_STATE_STALE)
        i++;
    if (i >= hi)
        i = limit;
    return i - p;
}

/* vm_query without the lock: 1 answered, 0 not the core's, -1 ask under
 * the lock (a dedicated arena, a copy-on-write view, a busy writer). */
static int query_unlocked(uintptr_t page, struct vm_region_info *info)
{
    for (int attempt = 0; attempt < 4; attempt++) {
        uint32_t seq;
        if (!ms_seq_read_begin(&vm.seq, &seq))
            continue;
        /* The search follows the tagged pointers themselves (one load
         * fewer on the way than the bounds' copies). A dedicated arena's
         * metadata goes when it is released, so it is never followed: its
         * bounds come from the copies, and only an address inside it
         * takes the lock. (Stopping at any dedicated arena on the way sent
         * every query whose search passed one, a 1 GiB reservation say,
         * to the lock: 27 instead of 19 ns under Wine.) */
        const struct vm_arena *arena = NULL;
        size_t lo = 0, hi = vm.narenas;
        if (hi > VM_MAX_ARENAS)
            hi = VM_MAX_ARENAS;
        /* Queries come in runs on one region (a walk, a loop over a
         * buffer, the same view again): the last one's arena first. With
         * the handful of arenas a Wine process has, the search took a
         * quarter of a query (callgrind: 149 instructions with one arena,
         * 195 with five). */
        uint32_t hint = atomic_load_explicit(&vm.query_hint, memory_order_relaxed);
        if (hint < hi) {
            uintptr_t word = atomic_load_explicit(&vm.arena_words[hint], memory_order_relaxed);
            if (word && !(word & 1) && page >= ((const struct vm_arena *)word)->base &&
                page < ((const struct vm_arena *)word)->end) {
                arena = (const struct vm_arena *)word;
                lo = hi;                    /* found: no search */
            }
        }
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            uintptr_t word = atomic_load_explicit(&vm.arena_words[mid], memory_order_relaxed);
            uintptr_t base, end;
            if (!word)
                return -1;                  /* changing */
            if (word & 1) {
                base = atomic_load_explicit(&vm.arena_bases[mid], memory_order_relaxed);
                end = atomic_load_explicit(&vm.arena_ends[mid], memory_order_relaxed);
            } else {
                base = ((const struct vm_arena *)word)->base;
                end = ((const struct vm_arena *)word)->end;
            }
            if (page < base)
                hi = mid;
            else if (page >= end)
                lo = mid + 1;
            else if (word & 1)
                return -1;                  /* inside a dedicated arena */
            else {
                arena = (const struct vm_arena *)word;
                if (mid != hint)
                    atomic_store_explicit(&vm.query_hint, (uint32_t)mid, memory_order_relaxed);
                break;
            }
        }
        if (!arena) {
            if (ms_seq_read_valid(&vm.seq, seq))
                return 0;
            continue;
        }
        /* Written straight into *info (a copy of a freshly built one stalls
         * on store forwarding): a try that does not count is overwritten
         * by the next, or by the locked path. */
        uint32_t index = arena->granules[arena_granule(arena, page)];
        const struct vm_allocation *alloc = index && index <= vm.alloc_high ? &vm.allocs[index - 1] : NULL;
        uintptr_t base = alloc ? alloc->base : 0, size = alloc ? alloc->size : 0;
        if (!alloc || page < base || page >= base + size) {
            describe_free(arena, page, info);   /* (the tail of an allocation's last granule is free) */
        } else {
            size_t p = arena_page(arena, page), limit = arena_page(arena, base + size);
            if (limit > arena->npages)
                limit = arena->npages;
            uint8_t byte = arena->pages[p];
            uint32_t type = alloc->type;
            if (type == VM_MEM_MAPPED && !alloc->shared_view && page_byte_writecopy(byte))
                return -1;                  /* written copy-on-write pages: the host knows */
            describe_pages(page, region_pages(arena, alloc, p, limit), byte, base, alloc->alloc_protect, type, info);
        }
        if (ms_seq_read_valid(&vm.seq, seq))
            return 1;
    }
    return -1;
}

ms_status vm_query(uintptr_t addr, struct vm_region_info *info)
{
    if (!vm.initialised)
        return VM_NOT_OWNED;
    uintptr_t page = ms_align_down(addr, MS_PAGE_SIZE);
    int known = query_unlocked(page, info);
    if (known >= 0)
        return known ? MS_OK : VM_NOT_OWNED;
    if (arena_holds_unlocked(page) == 0)
        return VM_NOT_OWNED;            /* (the search above met a dedicated arena) */
    vm_map_lock();
    struct vm_arena *arena = vm_arena_find(page);
    if (!arena) {
        vm_map_unlock();
        return VM_NOT_OWNED;
    }
    struct vm_allocation *alloc = vm_allocation_at(arena, page);
    if (!alloc) {
        describe_free(arena, page, info);
    } else {
        size_t p = arena_page(arena, page);
        uint8_t byte = arena->pages[p];
        size_t run = region_pages(arena, alloc, p, arena_page(arena, alloc->base + alloc->size));
        describe_pages(page, run, byte, alloc->base, alloc->alloc_protect, alloc->type, info);
        /* (A shared view's copied pages are read-write in the map already.) */
        if (alloc->type == VM_MEM_MAPPED && !alloc->shared_view && page_byte_writecopy(byte))
            info->region_size = split_copied(page, run, &info->protect) << MS_PAGE_SHIFT;
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
 * without being tripped; *readonly says a write must lift the page's
 * protection (vm_copy_memory decides whether it may). With vm.lock held. */
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

/* WriteProcessMemory goes by the first page, as Windows' kernelbase does
 * (and Wine's now): a writable one is written as it is; code (PAGE_EXECUTE,
 * PAGE_EXECUTE_READ) is made writable for the copy as far as the run of
 * pages like it goes (*lift_end, else 0); anything else (read-only, no
 * access, reserved) fails with MS_ERROR_NOACCESS and nothing is written.
 * Past the first run, each page must be writable itself. vm.lock held. */
static ms_status write_start_locked(struct vm_arena *arena, uintptr_t addr, uintptr_t *lift_end)
{
    uintptr_t first = ms_align_down(addr, MS_PAGE_SIZE);
    struct vm_allocation *alloc = vm_allocation_at(arena, first);
    uint8_t byte = alloc ? arena->pages[arena_page(arena, first)] : 0;
    uint32_t base = page_byte_protect(byte) & 0xFFu;
    *lift_end = 0;
    if (page_byte_state(byte) != PAGE_STATE_COMMITTED || base == VM_PAGE_NOACCESS || base == VM_PAGE_READONLY)
        return MS_ERROR_NOACCESS;
    if (base == VM_PAGE_EXECUTE || base == VM_PAGE_EXECUTE_READ) {
        size_t p = arena_page(arena, first), limit = arena_page(arena, alloc->base + alloc->size);
        *lift_end = first + (vm_pages_run(arena->pages, p, limit) << MS_PAGE_SHIFT);
    }
    return MS_OK;
}

ms_status vm_copy_memory(uintptr_t addr, void *buffer, size_t size, bool write, size_t *done)
{
    *done = 0;
    if (!vm.initialised)
        return VM_NOT_OWNED;
    if (size == 0 && !write)
        return MS_OK;
    if (addr + size < addr)
        return MS_ERROR_PARTIAL_COPY;
    uintptr_t lift_end = 0;
    vm_map_lock();
    struct vm_arena *arena = vm_arena_find(addr);
    bool owned = arena && addr + size <= arena->end;
    ms_status st = owned && write ? write_start_locked(arena, addr, &lift_end) : MS_OK;
    vm_map_unlock();
    if (!owned)
        return VM_NOT_OWNED;
    if (st != MS_OK || size == 0)
        return st;
    /* The caller's buffer is touched only outside vm.lock, through a bounce
     * buffer: a fault on it (a guard page, a copy-on-write page of a shared
     * view) goes to the exception handler, which takes vm.lock itself. */
    unsigned char bounce[2048];
    char *buf = buffer;
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
        if (!arena || !copyable_locked(arena, page, write, &readonly) || (readonly && page >= lift_end)) {
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
