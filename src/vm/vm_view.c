/*
 * vm_view.c - views of sections: address space from the map, pages from a
 * host file descriptor (the file, or the anonymous file behind a
 * pagefile-backed section), so that every process mapping the section shares
 * the same pages.
 *
 * Copy-on-write. Windows gives a copy-on-write page of a view a private copy
 * at its first write, after which it reads PAGE_READWRITE. A FILE_MAP_COPY
 * view is a private host mapping, where the host copies by itself. In a
 * shared view a page becomes copy-on-write through VirtualProtect; its host
 * mapping would write through to the section, so it is mapped without
 * write access (vm_host_prot) and the first write faults: the DLL's
 * exception handler calls vm_view_write_fault, which moves a private copy
 * of the page over it. Writes the core makes for the program (IsBadWritePtr
 * probes, WriteProcessMemory on itself) copy the same way first.
 */
#include "vm_internal.h"

ms_status vm_map_view(uintptr_t *addr, size_t size, uint32_t protect, int fd, uint64_t offset, bool shared,
                      bool top_down, void *owner)
{
    if (size == 0 || size > MS_USER_SPACE_LIMIT)
        return MS_ERROR_INVALID_PARAMETER;
    vm_init(0);
    size = ms_align_up(size, MS_PAGE_SIZE);
    uintptr_t want = *addr ? ms_align_down(*addr, MS_GRANULARITY) : 0;
    vm_map_lock();
    struct vm_arena *arena;
    struct vm_allocation *alloc;
    ms_status st = vm_reserve_locked(want, size, MS_GRANULARITY, top_down, protect, VM_MEM_MAPPED, &arena, &alloc);
    if (!st) {
        alloc->usage = VM_USAGE_VIEW;
        alloc->owner = owner;
        alloc->shared_view = shared;
        uint8_t byte = page_byte_make(PAGE_STATE_COMMITTED, protect);
        int r = host_map_file(alloc->base, size, page_host_prot(byte), fd, offset, shared);
        if (r < 0) {
            vm_allocation_destroy(arena, alloc);
            if (arena->dedicated)
                vm_arena_destroy(arena);
            /* EACCES: the descriptor does not allow this access (a read-only file). */
            st = r == -13 ? MS_ERROR_ACCESS_DENIED : MS_ERROR_NOT_ENOUGH_MEMORY;
        } else {
            memset(arena->pages + arena_page(arena, alloc->base), byte, size >> MS_PAGE_SHIFT);
            alloc->committed_pages = size >> MS_PAGE_SHIFT;
            vm_commit_span_add(alloc, alloc->base, alloc->base + size);
            vm.views++;
            vm.view_bytes += size;
            *addr = alloc->base;
        }
    }
    vm_map_unlock();
    return st;
}

/* The view containing addr: its allocation, with vm.lock held. */
static struct vm_allocation *view_at_locked(uintptr_t addr, struct vm_arena **arena_out, ms_status *st)
{
    struct vm_arena *arena = vm_arena_find(addr);
    if (!arena) {
        *st = VM_NOT_OWNED;
        return NULL;
    }
    struct vm_allocation *alloc = vm_allocation_at(arena, addr);
    if (!alloc || alloc->usage != VM_USAGE_VIEW) {
        *st = MS_ERROR_INVALID_ADDRESS;
        return NULL;
    }
    *arena_out = arena;
    *st = MS_OK;
    return alloc;
}

ms_status vm_unmap_view(uintptr_t addr, void **owner)
{
    if (!vm.initialised)
        return VM_NOT_OWNED;
    ms_status st;
    struct vm_arena *arena;
    vm_map_lock();
    struct vm_allocation *alloc = view_at_locked(addr, &arena, &st);
    if (alloc) {
        if (owner)
            *owner = alloc->owner;
        vm.views--;
        vm.view_bytes -= alloc->size;
        vm_release_locked(arena, alloc);
    }
    vm_map_unlock();
    return st;
}

ms_status vm_sync_view(uintptr_t addr, size_t size)
{
    if (!vm.initialised)
        return VM_NOT_OWNED;
    ms_status st;
    struct vm_arena *arena;
    vm_map_lock();
    struct vm_allocation *alloc = view_at_locked(addr, &arena, &st);
    if (alloc) {
        uintptr_t start = ms_align_down(addr, MS_PAGE_SIZE);
        uintptr_t end = size ? ms_align_up(addr + size, MS_PAGE_SIZE) : alloc->base + alloc->size;
        if (end > alloc->base + alloc->size || end < start)
            st = MS_ERROR_INVALID_PARAMETER;
        else if (host_sync(start, end - start) < 0)
            st = MS_ERROR_NOT_ENOUGH_MEMORY;
    }
    vm_map_unlock();
    return st;
}

bool vm_view_copy_page_locked(struct vm_arena *arena, struct vm_allocation *alloc, uintptr_t page)
{
    uint8_t *byte = &arena->pages[arena_page(arena, page)];
    uint8_t copied = page_byte_copied(*byte);
    /* The private page is a host mapping of its own between two pieces of
     * the view's file mapping. */
    long delta = 2;
    if (!vm_maps_take(delta, VM_MAP_MARGIN_PROTECT))
        return false;
    if (host_copy_to_private(page, MS_PAGE_SIZE, vm_host_prot(alloc, copied)) < 0) {
        vm_maps_note(-delta);
        return false;
    }
    *byte = copied;
    /* A locked page stays locked: the copy is a new page to the host. */
    if (alloc->locked_pages && vm_page_locked(arena, arena_page(arena, page)))
        host_lock_pages(page, MS_PAGE_SIZE);
    return true;
}

bool vm_view_writable_locked(struct vm_arena *arena, struct vm_allocation *alloc, uintptr_t page, uint8_t byte)
{
    if (!(page_host_prot(byte) & HOST_PROT_WRITE) || (vm_host_prot(alloc, byte) & HOST_PROT_WRITE))
        return true;                    /* read-only anyway, or writable on the host already */
    return vm_view_copy_page_locked(arena, alloc, page);
}

bool vm_view_write_fault(uintptr_t addr)
{
    if (!vm.initialised)
        return false;
    uintptr_t page = ms_align_down(addr, MS_PAGE_SIZE);
    bool retry = false;
    vm_map_lock();
    struct vm_arena *arena;
    struct vm_allocation *alloc;
    uint8_t *byte = vm_committed_page_locked(page, &arena, &alloc);
    if (byte && alloc->usage == VM_USAGE_VIEW && alloc->shared_view && !(*byte & PAGE_BYTE_GUARD)) {
        if (page_byte_writecopy(*byte)) {
            retry = vm_view_copy_page_locked(arena, alloc, page);
        } else if (vm_host_prot(alloc, *byte) & HOST_PROT_WRITE) {
            /* Writable now: another thread made the copy between this
             * thread's fault and here. Only a page that really is a
             * private copy counts, so that a fault with another cause on
             * a writable page is never retried forever. */
            uint8_t copied = 0;
            retry = host_pages_copied(page, 1, &copied) == 0 && copied;
        }
    }
    vm_map_unlock();
    return retry;
}

/* vm_each_allocation_locked's visit: the copy-on-write pages of a shared view. */
static void copy_pages_of_view(struct vm_arena *arena, struct vm_allocation *alloc, uintptr_t lo, uintptr_t hi,
                               void *ctx)
{
    MS_UNUSED(ctx);
    if (alloc->usage != VM_USAGE_VIEW || !alloc->shared_view)
        return;
    for (uintptr_t page = lo; page < hi; page += MS_PAGE_SIZE) {
        uint8_t byte = arena->pages[arena_page(arena, page)];
        if (page_byte_state(byte) == PAGE_STATE_COMMITTED && !(byte & PAGE_BYTE_GUARD) && page_byte_writecopy(byte))
            vm_view_copy_page_locked(arena, alloc, page);   /* if it fails, the write fails as before */
    }
}

void vm_view_copy_for_write(uintptr_t addr, size_t size)
{
    if (!atomic_load_explicit(&vm.shared_writecopy, memory_order_relaxed) || !size || addr + size < addr)
        return;
    vm_map_lock();
    vm_each_allocation_locked(addr, ms_align_up(addr + size, MS_PAGE_SIZE), copy_pages_of_view, NULL);
    vm_map_unlock();
}
