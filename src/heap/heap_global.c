/*
 * heap_global.c - GlobalAlloc/LocalAlloc memory on the core's process heap.
 *
 * Fixed memory is an ordinary block of the process heap: the pointer is the
 * "handle". Moveable memory is an entry of a table of handles:
 *
 *     struct gmem_entry { uintptr_t flags; void *ptr; }     handle = &entry->ptr
 *
 * the layout Windows has (64-bit): a handle is 8 bytes past a 16-byte
 * boundary, so it is never mistaken for a block (16-byte aligned), and old
 * programs that read the block's address as *(void **)handle keep working.
 * flags: bit 0 used, bit 1 moveable, bit 2 discardable, bit 3 discarded (no
 * block: ptr NULL), bit 15 DDE-shared, bits 16-23 the lock count; the same
 * values Windows keeps there. A freed entry holds in `flags` the address of
 * the next free entry (or the table's end): non-zero and 16-byte aligned,
 * so bit 0 tells live from freed, and a freed handle stays recognisable
 * (ERROR_INVALID_HANDLE) for as long as it is not reused.
 *
 * The table: 65536 entries (as Windows; 1 MiB of address space from the vm
 * core, committed 64 KiB at a time as the high-water mark rises), entries
 * handed out from a free list first, then from the high-water mark.
 *
 * Thread safety: table_lock guards every entry and the free list. It is
 * never held across a call into the heap (a thread holding HeapLock on the
 * process heap may be waiting for it, and would wait forever): an entry
 * whose block is being reallocated or freed is marked BUSY, and other calls
 * on that entry wait for the mark to go (they would have waited for the
 * heap lock on Windows).
 */
#include "heap_internal.h"
#include "heap_global.h"
#include "heap_userlock.h"

#define ENTRY_USED          0x0001u
#define ENTRY_MOVEABLE      0x0002u
#define ENTRY_DISCARDABLE   0x0004u
#define ENTRY_DISCARDED     0x0008u
#define ENTRY_BUSY          0x0010u     /* transient: its block is in the heap's hands */
#define ENTRY_DDESHARE      0x8000u
#define ENTRY_LOCK_SHIFT    16
#define ENTRY_LOCK_MASK     ((uintptr_t)0xFF << ENTRY_LOCK_SHIFT)

/* Fixed blocks up to this size cannot be resized without GMEM_MOVEABLE:
 * Windows serves them from its low-fragmentation heap, which never resizes
 * a block in place (GlobalReAlloc(fixed, same size, 0) fails there). */
#define GMEM_INPLACE_MIN    ((size_t)16384)

#define TABLE_BYTES         ((size_t)GMEM_MAX_HANDLES * sizeof(struct gmem_entry))
#define TABLE_COMMIT_STEP   ((size_t)65536)

struct gmem_entry {
    uintptr_t flags;
    void *ptr;
};

static _Atomic(struct gmem_entry *) table;   /* set once */
static size_t table_used;                    /* high-water mark, entries */
static size_t table_committed;               /* bytes committed from the base */
static struct gmem_entry *free_list;
static size_t live_handles;
static ms_mutex table_lock = MS_MUTEX_INIT;

static inline uintptr_t table_end(struct gmem_entry *t)
{
    return (uintptr_t)(t + GMEM_MAX_HANDLES);
}

static bool table_init_locked(void)
{
    if (atomic_load_explicit(&table, memory_order_relaxed))
        return true;
    uintptr_t base = 0;
    if (vm_reserve_internal(&base, TABLE_BYTES, TABLE_COMMIT_STEP, MS_GRANULARITY, VM_PAGE_READWRITE, VM_USAGE_HEAP,
                            NULL) != MS_OK)
        return false;
    table_committed = TABLE_COMMIT_STEP;
    atomic_store_explicit(&table, (struct gmem_entry *)base, memory_order_release);
    return true;
}

static struct gmem_entry *entry_take_locked(void)
{
    if (!table_init_locked())
        return NULL;
    struct gmem_entry *t = atomic_load_explicit(&table, memory_order_relaxed);
    struct gmem_entry *e = free_list;
    if (e) {
        free_list = e->flags == table_end(t) ? NULL : (struct gmem_entry *)e->flags;
    } else {
        if (table_used == GMEM_MAX_HANDLES)
            return NULL;
        if ((table_used + 1) * sizeof(*e) > table_committed) {
            if (vm_commit_internal((uintptr_t)t + table_committed, TABLE_COMMIT_STEP) != MS_OK)
                return NULL;
            table_committed += TABLE_COMMIT_STEP;
        }
        e = &t[table_used++];
    }
    live_handles++;
    return e;
}

static void entry_release_locked(struct gmem_entry *e)
{
    struct gmem_entry *t = atomic_load_explicit(&table, memory_order_relaxed);
    e->ptr = NULL;
    e->flags = free_list ? (uintptr_t)free_list : table_end(t);
    free_list = e;
    live_handles--;
}

static inline void *handle_of(struct gmem_entry *e)
{
    return &e->ptr;
}

/* The entry a handle-shaped value names, or NULL if it is outside the part
 * of the table ever handed out. */
static struct gmem_entry *entry_of(const void *mem)
{
    uintptr_t h = (uintptr_t)mem;
    struct gmem_entry *t = atomic_load_explicit(&table, memory_order_acquire);
    if (!t || (h & 15) != 8 || h < (uintptr_t)t + 8 || h >= table_end(t))
        return NULL;
    return (struct gmem_entry *)(h - 8);
}

static struct ms_heap *process_heap(void)
{
    return heap_process();
}

enum gmem_kind gmem_classify(const void *mem)
{
    uintptr_t p = (uintptr_t)mem;
    if (!p)
        return GMEM_NOT_OURS;
    if ((p & 15) == 8) {
        struct gmem_entry *e = entry_of(mem);
        if (!e)
            return GMEM_NOT_OURS;
        ms_mutex_lock(&table_lock);
        enum gmem_kind kind = e < atomic_load_explicit(&table, memory_order_relaxed) + table_used &&
                                      (e->flags & ENTRY_USED)
                                  ? GMEM_HANDLE
                                  : GMEM_STALE_HANDLE;
        ms_mutex_unlock(&table_lock);
        return kind;
    }
    if (p & 15)
        return GMEM_NOT_OURS;
    struct ms_heap *owner = heap_owner_of(mem);
    return owner && heap_parent(owner) == process_heap() ? GMEM_POINTER : GMEM_NOT_OURS;
}

/* Lock the table and return the live entry of `mem`, waiting while another
 * thread has its block in the heap; NULL (table unlocked) if `mem` is not a
 * live handle. */
static struct gmem_entry *entry_lock(const void *mem)
{
    struct gmem_entry *e = entry_of(mem);
    if (!e)
        return NULL;
    for (;;) {
        ms_mutex_lock(&table_lock);
        if (e >= atomic_load_explicit(&table, memory_order_relaxed) + table_used || !(e->flags & ENTRY_USED)) {
            ms_mutex_unlock(&table_lock);
            return NULL;
        }
        if (!(e->flags & ENTRY_BUSY))
            return e;
        ms_mutex_unlock(&table_lock);
        host_yield();
    }
}

static uint32_t heap_flags_for(uint32_t gflags)
{
    return heap_userlock_flags(process_heap(), (gflags & MS_GMEM_ZEROINIT) ? MS_HEAP_ZERO_MEMORY : 0);
}

void *gmem_alloc(bool global, uint32_t flags, size_t size, ms_status *err)
{
    struct ms_heap *heap = process_heap();
    if (!heap) {
        *err = MS_ERROR_NOT_ENOUGH_MEMORY;
        return NULL;
    }
    if (!(flags & MS_GMEM_MOVEABLE)) {
        if (global && !size)
            size = 1;
        void *p = heap_alloc(heap, heap_flags_for(flags), size, err);
        if (!p)
            *err = MS_ERROR_NOT_ENOUGH_MEMORY;
        return p;
    }
    /* The block first: the table lock is never held across the heap. */
    void *block = NULL;
    if (size) {
        block = heap_alloc(heap, heap_flags_for(flags), size, err);
        if (!block) {
            *err = MS_ERROR_NOT_ENOUGH_MEMORY;
            return NULL;
        }
    }
    ms_mutex_lock(&table_lock);
    struct gmem_entry *e = entry_take_locked();
    if (e) {
        e->flags = ENTRY_USED | ENTRY_MOVEABLE | ((flags & MS_LMEM_DISCARDABLE) ? ENTRY_DISCARDABLE : 0) |
                   (global && (flags & MS_GMEM_DDESHARE) ? ENTRY_DDESHARE : 0) | (block ? 0 : ENTRY_DISCARDED);
        e->ptr = block;
    }
    ms_mutex_unlock(&table_lock);
    if (!e) {
        if (block)
            heap_free(heap, heap_flags_for(0), block);
        *err = MS_ERROR_NOT_ENOUGH_MEMORY;
        return NULL;
    }
    return handle_of(e);
}

void *gmem_free(void *mem, ms_status *err)
{
    struct ms_heap *heap = process_heap();
    if (((uintptr_t)mem & 15) == 0) {
        if (heap && heap_free(heap, heap_flags_for(0), mem) == MS_OK)
            return NULL;
        *err = MS_ERROR_INVALID_HANDLE;
        return mem;
    }
    struct gmem_entry *e = entry_lock(mem);
    if (!e) {
        *err = MS_ERROR_INVALID_HANDLE;
        return mem;
    }
    void *block = e->ptr;
    entry_release_locked(e);
    ms_mutex_unlock(&table_lock);
    if (block)
        heap_free(heap, heap_flags_for(0), block);
    return NULL;
}

void *gmem_lock(void *mem, ms_status *err)
{
    if (((uintptr_t)mem & 15) == 0)
        return mem;
    struct gmem_entry *e = entry_lock(mem);
    if (!e) {
        *err = MS_ERROR_INVALID_HANDLE;
        return NULL;
    }
    void *p = e->ptr;
    if (!p)
        *err = MS_ERROR_DISCARDED;
    else if ((e->flags & ENTRY_LOCK_MASK) != ENTRY_LOCK_MASK)
        e->flags += (uintptr_t)1 << ENTRY_LOCK_SHIFT;
    ms_mutex_unlock(&table_lock);
    return p;
}

bool gmem_unlock(bool global, void *mem, ms_status *err)
{
    if (((uintptr_t)mem & 15) == 0) {
        /* Fixed memory has no lock count. */
        *err = global ? GMEM_KEEP_ERROR : MS_ERROR_NOT_LOCKED;
        return global;
    }
    struct gmem_entry *e = entry_lock(mem);
    if (!e) {
        *err = MS_ERROR_INVALID_HANDLE;
        return global;
    }
    bool still = false;
    if (!(e->flags & ENTRY_LOCK_MASK)) {
        *err = MS_ERROR_NOT_LOCKED;
    } else {
        e->flags -= (uintptr_t)1 << ENTRY_LOCK_SHIFT;
        still = (e->flags & ENTRY_LOCK_MASK) != 0;
        *err = still ? GMEM_KEEP_ERROR : MS_OK;
    }
    ms_mutex_unlock(&table_lock);
    return still;
}

size_t gmem_size(void *mem, ms_status *err)
{
    struct ms_heap *heap = process_heap();
    void *block = mem;
    if (((uintptr_t)mem & 15) != 0) {
        struct gmem_entry *e = entry_lock(mem);
        if (!e) {
            *err = MS_ERROR_INVALID_HANDLE;
            return 0;
        }
        block = e->ptr;
        /* Mark it so the block cannot go while the heap sizes it. */
        if (block)
            e->flags |= ENTRY_BUSY;
        ms_mutex_unlock(&table_lock);
        if (!block)
            return 0;
        size_t size = heap_size(heap, heap_flags_for(0), block);
        ms_mutex_lock(&table_lock);
        e->flags &= ~(uintptr_t)ENTRY_BUSY;
        ms_mutex_unlock(&table_lock);
        return size == (size_t)-1 ? 0 : size;
    }
    size_t size = heap ? heap_size(heap, heap_flags_for(0), block) : (size_t)-1;
    if (size == (size_t)-1) {
        *err = MS_ERROR_INVALID_HANDLE;
        return 0;
    }
    return size;
}

uint32_t gmem_flags(bool global, void *mem, ms_status *err)
{
    if (((uintptr_t)mem & 15) == 0)
        return 0;
    struct gmem_entry *e = entry_lock(mem);
    if (!e) {
        *err = MS_ERROR_INVALID_HANDLE;
        return MS_GMEM_INVALID_HANDLE;
    }
    uintptr_t f = e->flags;
    ms_mutex_unlock(&table_lock);
    uint32_t result = (uint32_t)((f & ENTRY_LOCK_MASK) >> ENTRY_LOCK_SHIFT);
    if (f & ENTRY_DISCARDABLE)
        result |= global ? MS_GMEM_DISCARDABLE : MS_LMEM_DISCARDABLE;
    if (f & ENTRY_DISCARDED)
        result |= MS_GMEM_DISCARDED;
    if (global && (f & ENTRY_DDESHARE))
        result |= MS_GMEM_DDESHARE;
    return result;
}

void *gmem_handle(const void *mem, ms_status *err)
{
    if (((uintptr_t)mem & 15) != 0) {
        struct gmem_entry *e = entry_lock(mem);
        if (!e) {
            *err = MS_ERROR_INVALID_HANDLE;
            return NULL;
        }
        ms_mutex_unlock(&table_lock);
        return (void *)mem;
    }
    /* A block of a moveable entry? GlobalHandle is rare: a scan of the part
     * of the table in use rather than a second index to keep. */
    ms_mutex_lock(&table_lock);
    struct gmem_entry *t = atomic_load_explicit(&table, memory_order_relaxed);
    for (size_t i = 0; t && i < table_used; i++) {
        if ((t[i].flags & ENTRY_USED) && t[i].ptr == mem) {
            ms_mutex_unlock(&table_lock);
            return handle_of(&t[i]);
        }
    }
    ms_mutex_unlock(&table_lock);
    struct ms_heap *heap = process_heap();
    if (!heap || heap_size(heap, heap_flags_for(0), mem) == (size_t)-1) {
        *err = MS_ERROR_INVALID_HANDLE;
        return NULL;
    }
    return (void *)mem;
}

static void *realloc_fixed(bool global, void *mem, size_t size, uint32_t flags, ms_status *err)
{
    struct ms_heap *heap = process_heap();
    size_t old = heap ? heap_size(heap, heap_flags_for(0), mem) : (size_t)-1;
    if (old == (size_t)-1) {
        *err = MS_ERROR_INVALID_HANDLE;
        return NULL;
    }
    if (flags & MS_GMEM_MODIFY) {
        if (!global || !(flags & MS_GMEM_MOVEABLE))
            return mem;
        /* GlobalReAlloc(GMEM_MODIFY | GMEM_MOVEABLE): the block stays where
         * it is and gets a handle. */
        ms_mutex_lock(&table_lock);
        struct gmem_entry *e = entry_take_locked();
        if (e) {
            e->flags = ENTRY_USED | ENTRY_MOVEABLE | ((flags & MS_LMEM_DISCARDABLE) ? ENTRY_DISCARDABLE : 0);
            e->ptr = mem;
        }
        ms_mutex_unlock(&table_lock);
        if (!e) {
            *err = MS_ERROR_NOT_ENOUGH_MEMORY;
            return NULL;
        }
        return handle_of(e);
    }
    if (flags & MS_LMEM_DISCARDABLE) {
        *err = MS_ERROR_INVALID_PARAMETER;
        return NULL;
    }
    uint32_t hflags = heap_flags_for(flags);
    if (!(flags & MS_GMEM_MOVEABLE)) {
        if (old <= GMEM_INPLACE_MIN) {
            *err = MS_ERROR_NOT_ENOUGH_MEMORY;
            return NULL;
        }
        hflags |= MS_HEAP_REALLOC_IN_PLACE_ONLY;
    }
    void *p = heap_realloc(heap, hflags, mem, size, err);
    if (!p)
        *err = MS_ERROR_NOT_ENOUGH_MEMORY;
    return p;
}

void *gmem_realloc(bool global, void *mem, size_t size, uint32_t flags, ms_status *err)
{
    if (((uintptr_t)mem & 15) == 0)
        return realloc_fixed(global, mem, size, flags, err);
    struct ms_heap *heap = process_heap();
    struct gmem_entry *e = entry_lock(mem);
    if (!e) {
        *err = MS_ERROR_INVALID_HANDLE;
        return NULL;
    }
    if (flags & MS_GMEM_MODIFY) {
        if (flags & MS_LMEM_DISCARDABLE)
            e->flags |= ENTRY_DISCARDABLE;
        ms_mutex_unlock(&table_lock);
        return mem;
    }
    if (flags & MS_LMEM_DISCARDABLE) {
        ms_mutex_unlock(&table_lock);
        *err = MS_ERROR_INVALID_PARAMETER;
        return NULL;
    }
    bool locked = (e->flags & ENTRY_LOCK_MASK) != 0;
    void *old = e->ptr;
    if (!size) {
        /* Discard: only an unlocked block, and only when asked to move. */
        if (!(flags & MS_GMEM_MOVEABLE) || locked) {
            ms_mutex_unlock(&table_lock);
            *err = MS_ERROR_INVALID_PARAMETER;
            return NULL;
        }
        e->ptr = NULL;
        e->flags |= ENTRY_DISCARDED;
        ms_mutex_unlock(&table_lock);
        if (old)
            heap_free(heap, heap_flags_for(0), old);
        return mem;
    }
    e->flags |= ENTRY_BUSY;
    ms_mutex_unlock(&table_lock);
    uint32_t hflags = heap_flags_for(flags);
    /* A locked block stays where the program was told it is, unless the
     * program allows it to move. */
    if (locked && !(flags & MS_GMEM_MOVEABLE))
        hflags |= MS_HEAP_REALLOC_IN_PLACE_ONLY;
    void *p = old ? heap_realloc(heap, hflags, old, size, err) : heap_alloc(heap, hflags, size, err);
    ms_mutex_lock(&table_lock);
    e->flags &= ~(uintptr_t)ENTRY_BUSY;
    if (p) {
        e->ptr = p;
        e->flags &= ~(uintptr_t)ENTRY_DISCARDED;
    }
    ms_mutex_unlock(&table_lock);
    if (!p) {
        *err = MS_ERROR_NOT_ENOUGH_MEMORY;
        return NULL;
    }
    return mem;
}

size_t gmem_handles_in_use(void)
{
    ms_mutex_lock(&table_lock);
    size_t n = live_handles;
    ms_mutex_unlock(&table_lock);
    return n;
}
