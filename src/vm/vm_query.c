/*
 * vm_query.c - VirtualQuery and ownership lookups, answered from the map
 * without entering the kernel.
 */
#include "vm_internal.h"

bool vm_owns(uintptr_t addr)
{
    if (!vm.initialised)
        return false;
    ms_mutex_lock(&vm.lock);
    bool owned = vm_arena_find(addr) != NULL;
    ms_mutex_unlock(&vm.lock);
    return owned;
}

bool vm_lookup(uintptr_t addr, struct vm_allocation_info *info)
{
    if (!vm.initialised)
        return false;
    ms_mutex_lock(&vm.lock);
    struct vm_arena *arena = vm_arena_find(addr);
    struct vm_allocation *alloc = arena ? vm_allocation_at(arena, addr) : NULL;
    if (alloc) {
        info->base = alloc->base;
        info->size = alloc->size;
        info->usage = (enum vm_usage)alloc->usage;
        info->owner = alloc->owner;
    }
    ms_mutex_unlock(&vm.lock);
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

ms_status vm_query(uintptr_t addr, struct vm_region_info *info)
{
    if (!vm.initialised)
        return VM_NOT_OWNED;
    uintptr_t page = ms_align_down(addr, MS_PAGE_SIZE);
    ms_mutex_lock(&vm.lock);
    struct vm_arena *arena = vm_arena_find(page);
    if (!arena) {
        ms_mutex_unlock(&vm.lock);
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
    ms_mutex_unlock(&vm.lock);
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
    ms_mutex_lock(&vm.lock);
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
    ms_mutex_unlock(&vm.lock);
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
    ms_mutex_lock(&vm.lock);
    struct vm_arena *arena = vm_arena_find(addr);
    bool owned = arena && addr + size <= arena->end;
    ms_mutex_unlock(&vm.lock);
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
        ms_mutex_lock(&vm.lock);
        /* Checked again: another thread may have released the region. */
        arena = vm_arena_find(at);
        bool readonly;
        if (!arena || !copyable_locked(arena, page, write, &readonly)) {
            ms_mutex_unlock(&vm.lock);
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
                ms_mutex_unlock(&vm.lock);
                st = MS_ERROR_PARTIAL_COPY;
                break;
            }
            memcpy((void *)at, bounce, chunk);
            host_protect_undo(page, MS_PAGE_SIZE, prot);
        }
        ms_mutex_unlock(&vm.lock);
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
