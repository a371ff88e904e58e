/*
 * vm_free.c - VirtualFree: decommit ranges and release whole allocations.
 */
#include "vm_internal.h"

ms_status vm_free(uintptr_t *addr_inout, size_t *size_inout, uint32_t type)
{
    uintptr_t addr = *addr_inout;
    size_t size = *size_inout;
    if (type != VM_MEM_DECOMMIT && type != VM_MEM_RELEASE)
        return MS_ERROR_INVALID_PARAMETER;
    if (!vm_owns(addr))
        return VM_NOT_OWNED;
    vm_map_lock();
    ms_status st = MS_OK;
    struct vm_arena *arena = vm_arena_find(addr);
    struct vm_allocation *alloc = arena ? vm_allocation_at(arena, addr) : NULL;
    if (!arena) {
        st = VM_NOT_OWNED;                 /* released by another thread meanwhile */
        goto out;
    }
    if (!alloc || alloc->usage != VM_USAGE_USER) {
        /* Free space of an arena, or memory the core uses for a heap or a
         * view: not something VirtualFree may take apart. */
        st = alloc && alloc->usage == VM_USAGE_VIEW ? MS_ERROR_INVALID_PARAMETER : MS_ERROR_INVALID_ADDRESS;
        goto out;
    }
    /* "The base address" of a whole release or decommit is its page: Windows
     * compares page numbers (an address inside the first page will do),
     * as does Wine's builtin. */
    bool at_base = ms_align_down(addr, MS_PAGE_SIZE) == alloc->base;
    if (type == VM_MEM_RELEASE) {
        if (size != 0) {
            st = MS_ERROR_INVALID_PARAMETER;
            goto out;
        }
        if (!at_base) {
            st = MS_ERROR_INVALID_ADDRESS;
            goto out;
        }
        *addr_inout = alloc->base;
        *size_inout = alloc->size;
        vm_release_locked(arena, alloc);
        goto out;
    }
    /* MEM_DECOMMIT: size 0 means the whole allocation, from its base only. */
    uintptr_t start, end;
    if (size == 0) {
        if (!at_base) {
            st = MS_ERROR_INVALID_ADDRESS;
            goto out;
        }
        start = alloc->base;
        end = alloc->base + alloc->size;
    } else {
        start = ms_align_down(addr, MS_PAGE_SIZE);
        end = ms_align_up(addr + size, MS_PAGE_SIZE);
        /* A range running past its allocation is a bad size, not a bad address. */
        if (end < start || end > alloc->base + alloc->size) {
            st = MS_ERROR_INVALID_PARAMETER;
            goto out;
        }
    }
    vm_decommit_range(arena, alloc, start, end, false);
    *addr_inout = start;
    *size_inout = end - start;
out:
    vm_map_unlock();
    return st;
}

/* The core's own users (heaps) release their regions here: vm_free refuses
 * them on purpose, so a program's VirtualFree cannot pull a heap apart. */
static ms_status release_internal(uintptr_t base, bool keep)
{
    if (!vm_owns(base))
        return VM_NOT_OWNED;
    vm_map_lock();
    ms_status st = MS_ERROR_INVALID_ADDRESS;
    struct vm_arena *arena = vm_arena_find(base);
    struct vm_allocation *alloc = arena ? vm_allocation_at(arena, base) : NULL;
    if (alloc && alloc->base == base && alloc->usage != VM_USAGE_USER && alloc->type == VM_MEM_PRIVATE) {
        if (!keep || !vm_keep_region_locked(arena, alloc))
            vm_release_locked(arena, alloc);
        st = MS_OK;
    }
    vm_map_unlock();
    return st;
}

ms_status vm_release_internal(uintptr_t base)
{
    return release_internal(base, false);
}

/* The same, keeping the committed start's pages for the next reservation
 * of this shape when vm_keep.c takes them (kept ranges). */
ms_status vm_release_keep(uintptr_t base)
{
    return release_internal(base, true);
}

ms_status vm_decommit_internal(uintptr_t base, size_t size, bool at_once)
{
    if (!vm_owns(base))
        return VM_NOT_OWNED;
    if (!ms_is_aligned(base, MS_PAGE_SIZE) || !ms_is_aligned(size, MS_PAGE_SIZE) || size == 0)
        return MS_ERROR_INVALID_PARAMETER;
    vm_map_lock();
    ms_status st = MS_ERROR_INVALID_ADDRESS;
    struct vm_arena *arena;
    struct vm_allocation *alloc = vm_internal_range_locked(base, size, &arena);
    if (alloc) {
        vm_decommit_range(arena, alloc, base, base + size, at_once);
        st = MS_OK;
    }
    vm_map_unlock();
    return st;
}
