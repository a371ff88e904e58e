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
        info->allocation_base = alloc->base;
        info->allocation_protect = alloc->alloc_protect;
        info->region_size = vm_pages_run(arena->pages, p, limit) << MS_PAGE_SHIFT;
        info->state = page_byte_state(byte) == PAGE_STATE_COMMITTED ? VM_MEM_COMMIT : VM_MEM_RESERVE;
        info->protect = page_byte_protect(byte);
        info->type = alloc->type;
    }
    ms_mutex_unlock(&vm.lock);
    return MS_OK;
}
