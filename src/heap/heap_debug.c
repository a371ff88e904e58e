/*
 * heap_debug.c - see heap_debug.h: the side table of block records, the
 * page heap and the fill patterns.
 *
 * The side table is an open-addressing hash table (linear probing,
 * deleted slots marked) in a region of its own from the vm core, grown by
 * doubling. Keys: an ordinary block's user pointer; a page-heap block's
 * region base (so that a fault anywhere in the region, guard page
 * included, finds the block); a VirtualAlloc region's base. Live keys
 * never collide (they are distinct addresses of live memory); a stale
 * record whose address is reused is replaced on insertion.
 *
 * Invariants: every record with `region` set owns that vm region (usage
 * HEAP, owner = its heap); a freed page-heap block's data pages are
 * decommitted and its key is in the FIFO; the engine (heap_alloc etc.) is
 * never called with table_lock held, and records of ordinary blocks are
 * removed before the engine frees them (so a concurrent allocation that
 * gets the same address cannot lose its record).
 */
#define HEAP_DEBUG_IMPLEMENTATION
#include "heap_internal.h"
#include "heap_debug.h"

#define KEY_EMPTY   ((uintptr_t)0)
#define KEY_DELETED ((uintptr_t)1)
#define TABLE_MIN   4096u
#define KEEP_DEFAULT 1024u
#define KEEP_MAX    65536u

unsigned heap_debug_mode;
static struct heap_debug_callbacks callbacks;

static ms_mutex table_lock = MS_MUTEX_INIT;
static struct heap_debug_record *table;
static size_t table_cap, table_used, table_live;   /* used counts deleted slots too */

/* Keys of freed page-heap blocks, oldest first (ring). */
static uintptr_t *fifo;
static unsigned fifo_cap, fifo_head, fifo_count;

static size_t slot_of(uintptr_t key, size_t cap)
{
    return (size_t)(((uint64_t)key * 0x9E3779B97F4A7C15ull) >> 29) & (cap - 1);
}

static void *vm_memory(size_t bytes)
{
    uintptr_t addr = 0;
    if (vm_allocate_internal(&addr, ms_align_up(bytes, MS_GRANULARITY), MS_GRANULARITY, VM_PAGE_READWRITE,
                             VM_USAGE_HEAP, NULL) != MS_OK)
        return NULL;
    return (void *)addr;
}

static struct heap_debug_record *lookup_locked(uintptr_t key)
{
    if (!table)
        return NULL;
    for (size_t i = slot_of(key, table_cap);; i = (i + 1) & (table_cap - 1)) {
        if (table[i].key == key)
            return &table[i];
        if (table[i].key == KEY_EMPTY)
            return NULL;
    }
}

static void remove_locked(struct heap_debug_record *rec)
{
    rec->key = KEY_DELETED;
    table_live--;
}

/* Rebuild the table with `cap` slots (dropping deleted ones). */
static bool rehash_locked(size_t cap)
{
    struct heap_debug_record *fresh = vm_memory(cap * sizeof *fresh);
    if (!fresh)
        return false;
    for (size_t i = 0; i < table_cap; i++) {
        if (table[i].key <= KEY_DELETED)
            continue;
        size_t j = slot_of(table[i].key, cap);
        while (fresh[j].key != KEY_EMPTY)
            j = (j + 1) & (cap - 1);
        fresh[j] = table[i];
    }
    if (table)
        vm_release_internal((uintptr_t)table);
    table = fresh;
    table_cap = cap;
    table_used = table_live;
    return true;
}

/* Insert or replace the record of rec->key; false if the table is full and
 * cannot grow (the block then goes untracked). */
static bool insert_locked(const struct heap_debug_record *rec)
{
    if (!table || (table_used + 1) * 4 > table_cap * 3) {
        size_t cap = table_cap ? table_cap : TABLE_MIN;
        while ((table_live + 1) * 2 > cap)
            cap *= 2;
        if (!rehash_locked(cap) && (!table || table_used + 1 >= table_cap))
            return false;
    }
    size_t i = slot_of(rec->key, table_cap), reuse = (size_t)-1;
    for (;; i = (i + 1) & (table_cap - 1)) {
        if (table[i].key == rec->key) {
            table[i] = *rec;
            return true;
        }
        if (table[i].key == KEY_DELETED && reuse == (size_t)-1)
            reuse = i;
        if (table[i].key == KEY_EMPTY)
            break;
    }
    if (reuse != (size_t)-1) {
        i = reuse;
    } else {
        table_used++;
    }
    table[i] = *rec;
    table_live++;
    return true;
}

static void capture(uintptr_t frames[HEAP_DEBUG_FRAMES])
{
    if (callbacks.capture) {
        callbacks.capture(frames);
    } else {
        for (unsigned i = 0; i < HEAP_DEBUG_FRAMES; i++)
            frames[i] = 0;
    }
}

/* Fill n bytes with a 32-bit pattern as memory shows it to a DWORD read. */
static void fill32(void *p, size_t n, uint32_t pattern)
{
    uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(pattern >> (8 * (i & 3)));
}

ms_status heap_debug_enable(unsigned mode, const struct heap_debug_callbacks *cb, unsigned keep_freed)
{
    if (mode & (HEAP_DEBUG_PAGE | HEAP_DEBUG_FRONT))
        mode |= HEAP_DEBUG_PAGE | HEAP_DEBUG_TRACK;
    if (cb)
        callbacks = *cb;
    if (mode & HEAP_DEBUG_PAGE) {
        fifo_cap = keep_freed ? (keep_freed < KEEP_MAX ? keep_freed : KEEP_MAX) : KEEP_DEFAULT;
        fifo = vm_memory(fifo_cap * sizeof *fifo);
        if (!fifo)
            return MS_ERROR_NOT_ENOUGH_MEMORY;
    }
    __atomic_store_n(&heap_debug_mode, mode, __ATOMIC_RELEASE);
    return MS_OK;
}

/* --- the page heap -------------------------------------------------------- */

/* The committed data pages of a page-heap block's region. */
static uintptr_t data_start(const struct heap_debug_record *rec)
{
    return (heap_debug_mode & HEAP_DEBUG_FRONT) ? rec->region + MS_PAGE_SIZE : rec->region;
}

static size_t data_size(const struct heap_debug_record *rec)
{
    return rec->region_size - MS_PAGE_SIZE;
}

static bool tail_ok(const struct heap_debug_record *rec)
{
    const uint8_t *p = (const uint8_t *)rec->block + rec->size;
    const uint8_t *end = (const uint8_t *)(data_start(rec) + data_size(rec));
    for (; p < end; p++)
        if (*p != HEAP_DEBUG_FILL_TAIL)
            return false;
    return true;
}

/* The committed bytes of each heap's live page-heap blocks, kept apart
 * from the engine's in_use (whole-heap validation checks that against the
 * engine's own blocks): heap_debug_charged() adds them to the statistics,
 * and a fixed-size heap's maximum covers both. Guarded by table_lock; a
 * heap that finds no free slot is not charged (nor limited). */
#define CHARGE_SLOTS 256
static struct {
    struct ms_heap *heap;
    size_t bytes;
} charges[CHARGE_SLOTS];

/* The heap's slot (made if `add`), or CHARGE_SLOTS if it has none. */
static unsigned charge_index_locked(struct ms_heap *heap, bool add)
{
    for (unsigned i = 0; i < CHARGE_SLOTS; i++)
        if (charges[i].heap == heap)
            return i;
    if (add)
        for (unsigned i = 0; i < CHARGE_SLOTS; i++)
            if (!charges[i].heap) {
                charges[i].heap = heap;
                charges[i].bytes = 0;
                return i;
            }
    return CHARGE_SLOTS;
}

static size_t *charge_slot_locked(struct ms_heap *heap, bool add)
{
    unsigned i = charge_index_locked(heap, add);
    return i < CHARGE_SLOTS ? &charges[i].bytes : NULL;
}

/* False if the heap's maximum forbids `bytes` more. */
static bool charge(struct ms_heap *heap, size_t bytes)
{
    ms_mutex_lock(&table_lock);
    size_t *slot = charge_slot_locked(heap, true);
    bool ok = true;
    if (heap->maximum) {
        bool locked = heap_lock(heap, 0);
        ok = heap->in_use + (slot ? *slot : 0) + bytes <= heap->maximum;
        heap_unlock(heap, locked);
    }
    if (ok && slot)
        *slot += bytes;
    ms_mutex_unlock(&table_lock);
    return ok;
}

static void uncharge_locked(struct ms_heap *heap, size_t bytes)
{
    size_t *slot = charge_slot_locked(heap, false);
    if (slot)
        *slot -= bytes;
}

static void uncharge(struct ms_heap *heap, size_t bytes)
{
    ms_mutex_lock(&table_lock);
    uncharge_locked(heap, bytes);
    ms_mutex_unlock(&table_lock);
}

size_t heap_debug_charged(struct ms_heap *heap)
{
    ms_mutex_lock(&table_lock);
    size_t *slot = charge_slot_locked(heap, false);
    size_t bytes = slot ? *slot : 0;
    ms_mutex_unlock(&table_lock);
    return bytes;
}

static void *page_alloc(struct ms_heap *heap, uint32_t flags, size_t size, const uintptr_t *frames, ms_status *err)
{
    size_t span = ms_align_up(size ? size : 1, 16);
    size_t data = ms_align_up(span, MS_PAGE_SIZE);
    struct heap_debug_record rec = { 0 };
    rec.region_size = data + MS_PAGE_SIZE;
    if (!charge(heap, data)) {
        *err = MS_ERROR_NOT_ENOUGH_MEMORY;
        return NULL;
    }
    if (vm_reserve_internal(&rec.region, rec.region_size, 0, MS_GRANULARITY, heap->prot, VM_USAGE_HEAP, heap)) {
        uncharge(heap, data);
        *err = MS_ERROR_NOT_ENOUGH_MEMORY;
        return NULL;
    }
    uintptr_t start = data_start(&rec);
    if (vm_commit_internal(start, data)) {
        vm_release_internal(rec.region);
        uncharge(heap, data);
        *err = MS_ERROR_NOT_ENOUGH_MEMORY;
        return NULL;
    }
    rec.key = rec.region;
    rec.block = (heap_debug_mode & HEAP_DEBUG_FRONT) ? start : start + data - span;
    rec.size = size;
    rec.heap = heap;
    rec.kind = HEAP_DEBUG_BLOCK;
    for (unsigned i = 0; i < HEAP_DEBUG_FRAMES; i++)
        rec.alloc_frames[i] = frames[i];
    /* Fresh pages read as zero: HEAP_ZERO_MEMORY holds without a fill. */
    if ((heap_debug_mode & HEAP_DEBUG_FILL) && !(flags & MS_HEAP_ZERO_MEMORY))
        fill32((void *)rec.block, size, HEAP_DEBUG_FILL_FRESH);
    memset((void *)(rec.block + size), HEAP_DEBUG_FILL_TAIL, start + data - (rec.block + size));
    ms_mutex_lock(&table_lock);
    bool stored = insert_locked(&rec);
    ms_mutex_unlock(&table_lock);
    if (!stored) {
        vm_release_internal(rec.region);
        uncharge(heap, data);
        *err = MS_ERROR_NOT_ENOUGH_MEMORY;
        return NULL;
    }
    return (void *)rec.block;
}

/* Free a live page-heap block: decommit its data, keep the record as freed,
 * and let the oldest freed block go if the FIFO is full. */
static void page_free_locked(struct heap_debug_record *rec, const uintptr_t *frames)
{
    vm_decommit_internal(data_start(rec), data_size(rec), false);
    uncharge_locked(rec->heap, data_size(rec));
    rec->freed = 1;
    for (unsigned i = 0; i < HEAP_DEBUG_FRAMES; i++)
        rec->free_frames[i] = frames[i];
    uintptr_t key = rec->key;
    if (fifo_count == fifo_cap) {
        struct heap_debug_record *old = lookup_locked(fifo[fifo_head]);
        if (old && old->region && old->freed) {
            vm_release_internal(old->region);
            remove_locked(old);
        }
        fifo_head = (fifo_head + 1) % fifo_cap;
        fifo_count--;
    }
    fifo[(fifo_head + fifo_count) % fifo_cap] = key;
    fifo_count++;
}

/* The record of the block at p: a page-heap block (by its region, live or
 * freed, any address inside), else an ordinary tracked block (exact
 * pointer). Called with table_lock held; `region` from region_of(). */
static struct heap_debug_record *find_locked(uintptr_t p, uintptr_t region)
{
    if (region) {
        struct heap_debug_record *rec = lookup_locked(region);
        if (rec && rec->region == region)
            return rec;
    }
    struct heap_debug_record *rec = lookup_locked(p);
    return rec && rec->kind == HEAP_DEBUG_BLOCK && !rec->region ? rec : NULL;
}

/* The base of the heap region containing p if it may be a page-heap block
 * (looked up before taking table_lock: the vm lock is not nested in it). */
static uintptr_t region_of(uintptr_t p)
{
    if (!(heap_debug_mode & HEAP_DEBUG_PAGE) || heap_segmap_contains(p & ~(HEAP_SEG_SIZE - 1)))
        return 0;
    struct vm_allocation_info info;
    if (!vm_lookup(p, &info) || info.usage != VM_USAGE_HEAP || !info.owner)
        return 0;
    return info.base;
}

/* --- hooks ------------------------------------------------------------------ */

/* Remember an ordinary block (not a page-heap one) for the leak report. */
static void track_block(struct ms_heap *heap, void *block, size_t size, const uintptr_t *frames)
{
    struct heap_debug_record rec = { 0 };
    rec.key = rec.block = (uintptr_t)block;
    rec.size = size;
    rec.heap = heap;
    rec.kind = HEAP_DEBUG_BLOCK;
    for (unsigned i = 0; i < HEAP_DEBUG_FRAMES; i++)
        rec.alloc_frames[i] = frames[i];
    ms_mutex_lock(&table_lock);
    insert_locked(&rec);
    ms_mutex_unlock(&table_lock);
}

void *heap_debug_alloc(struct ms_heap *heap, uint32_t flags, size_t size, ms_status *err)
{
    ms_status dummy;
    if (!err)
        err = &dummy;
    if (size > HEAP_MAX_REQUEST) {
        *err = MS_ERROR_NOT_ENOUGH_MEMORY;
        return NULL;
    }
    uintptr_t frames[HEAP_DEBUG_FRAMES];
    if (heap_debug_mode & HEAP_DEBUG_TRACK)
        capture(frames);
    if (heap_debug_mode & HEAP_DEBUG_PAGE)
        return page_alloc(heap, flags, size, frames, err);
    void *p = heap_alloc(heap, flags | HEAP_DEBUG_INTERNAL, size, err);
    if (!p)
        return NULL;
    if ((heap_debug_mode & HEAP_DEBUG_FILL) && !(flags & MS_HEAP_ZERO_MEMORY))
        fill32(p, size, HEAP_DEBUG_FILL_FRESH);
    if (heap_debug_mode & HEAP_DEBUG_TRACK)
        track_block(heap, p, size, frames);
    return p;
}

/* HeapFree of an ordinary block with fill patterns: report a damaged tail,
 * then fill what the program may still read. */
static void check_and_fill_freed(struct ms_heap *heap, void *block, const struct heap_debug_record *rec)
{
    size_t size = heap_size(heap, HEAP_DEBUG_INTERNAL, block);
    if (size == (size_t)-1)
        return;                         /* not a live block: the engine refuses it */
    if (!heap_validate(heap, HEAP_DEBUG_INTERNAL, block) && callbacks.problem) {
        struct heap_debug_record copy = { 0 };
        if (rec)
            copy = *rec;
        copy.block = (uintptr_t)block;
        copy.size = size;
        copy.heap = heap;
        callbacks.problem(HEAP_DEBUG_BAD_TAIL, &copy);
    }
    fill32(block, size, HEAP_DEBUG_FILL_FREED);
}

ms_status heap_debug_free(struct ms_heap *heap, uint32_t flags, void *block)
{
    if (!block)
        return MS_OK;
    uintptr_t p = (uintptr_t)block, region = region_of(p);
    uintptr_t frames[HEAP_DEBUG_FRAMES];
    if (region)
        capture(frames);
    struct heap_debug_record copy;
    bool had_record = false;
    ms_mutex_lock(&table_lock);
    struct heap_debug_record *rec = find_locked(p, region);
    if (rec && rec->region) {
        if (rec->block != p || rec->freed) {
            copy = *rec;
            ms_mutex_unlock(&table_lock);
            if (copy.freed && copy.block == p && callbacks.problem)
                callbacks.problem(HEAP_DEBUG_DOUBLE_FREE, &copy);
            return MS_ERROR_INVALID_PARAMETER;
        }
        if (!tail_ok(rec) && callbacks.problem) {
            copy = *rec;
            ms_mutex_unlock(&table_lock);
            callbacks.problem(HEAP_DEBUG_BAD_TAIL, &copy);
            ms_mutex_lock(&table_lock);
            rec = find_locked(p, region);
            if (!rec || rec->freed)
                goto done;
        }
        page_free_locked(rec, frames);
    done:
        ms_mutex_unlock(&table_lock);
        return MS_OK;
    }
    if (rec) {
        copy = *rec;
        had_record = true;
        remove_locked(rec);
    }
    ms_mutex_unlock(&table_lock);
    if (heap_debug_mode & HEAP_DEBUG_FILL)
        check_and_fill_freed(heap, block, had_record ? &copy : NULL);
    ms_status st = heap_free(heap, flags | HEAP_DEBUG_INTERNAL, block);
    if (st != MS_OK && had_record) {
        ms_mutex_lock(&table_lock);
        insert_locked(&copy);
        ms_mutex_unlock(&table_lock);
    }
    return st;
}

void *heap_debug_realloc(struct ms_heap *heap, uint32_t flags, void *block, size_t size, ms_status *err)
{
    ms_status dummy;
    if (!err)
        err = &dummy;
    if (!block) {
        *err = MS_ERROR_INVALID_PARAMETER;
        return NULL;
    }
    uintptr_t p = (uintptr_t)block, region = region_of(p);
    uintptr_t frames[HEAP_DEBUG_FRAMES];
    if (heap_debug_mode & HEAP_DEBUG_TRACK)
        capture(frames);
    struct heap_debug_record copy;
    ms_mutex_lock(&table_lock);
    struct heap_debug_record *rec = find_locked(p, region);
    if (rec && rec->region) {
        /* A page-heap block moves on every size change: its end is pinned
         * to its guard page. */
        copy = *rec;
        ms_mutex_unlock(&table_lock);
        if (copy.block != p || copy.freed) {
            *err = MS_ERROR_INVALID_PARAMETER;
            return NULL;
        }
        if (size > HEAP_MAX_REQUEST) {
            *err = MS_ERROR_NOT_ENOUGH_MEMORY;
            return NULL;
        }
        if (flags & MS_HEAP_REALLOC_IN_PLACE_ONLY) {
            /* In place: the block keeps its address; it may shrink (its
             * slack grows, filled and checked like any slack) or grow up
             * to the end of its committed pages. */
            bool fits = false;
            ms_mutex_lock(&table_lock);
            rec = find_locked(p, region);
            if (rec && !rec->freed && rec->block == p) {
                uintptr_t end = data_start(rec) + data_size(rec);
                fits = size <= end - p;
                if (fits) {
                    if ((flags & MS_HEAP_ZERO_MEMORY) && size > rec->size)
                        memset((char *)block + rec->size, 0, size - rec->size);
                    rec->size = size;
                    memset((char *)block + size, HEAP_DEBUG_FILL_TAIL, end - (p + size));
                }
            }
            ms_mutex_unlock(&table_lock);
            if (!fits) {
                *err = MS_ERROR_NOT_ENOUGH_MEMORY;
                return NULL;
            }
            return block;
        }
        void *fresh = page_alloc(heap, flags & ~MS_HEAP_ZERO_MEMORY, size, frames, err);
        if (!fresh)
            return NULL;
        memcpy(fresh, block, copy.size < size ? copy.size : size);
        if ((flags & MS_HEAP_ZERO_MEMORY) && size > copy.size)
            memset((char *)fresh + copy.size, 0, size - copy.size);
        ms_mutex_lock(&table_lock);
        rec = find_locked(p, region);
        if (rec && !rec->freed)
            page_free_locked(rec, frames);
        ms_mutex_unlock(&table_lock);
        return fresh;
    }
    bool had_record = rec != NULL;
    if (rec) {
        copy = *rec;
        remove_locked(rec);
    }
    ms_mutex_unlock(&table_lock);
    size_t old = (heap_debug_mode & HEAP_DEBUG_FILL) ? heap_size(heap, HEAP_DEBUG_INTERNAL, block) : 0;
    void *result = heap_realloc(heap, flags | HEAP_DEBUG_INTERNAL, block, size, err);
    if (result && (heap_debug_mode & HEAP_DEBUG_FILL) && !(flags & MS_HEAP_ZERO_MEMORY) && old != (size_t)-1 &&
        size > old)
        fill32((char *)result + old, size - old, HEAP_DEBUG_FILL_FRESH);
    if (!result) {
        if (had_record) {
            ms_mutex_lock(&table_lock);
            insert_locked(&copy);
            ms_mutex_unlock(&table_lock);
        }
        return NULL;
    }
    if (heap_debug_mode & HEAP_DEBUG_TRACK)
        track_block(heap, result, size, frames);
    return result;
}

size_t heap_debug_size(struct ms_heap *heap, uint32_t flags, const void *block)
{
    uintptr_t p = (uintptr_t)block, region = region_of(p);
    if (region) {
        ms_mutex_lock(&table_lock);
        struct heap_debug_record *rec = find_locked(p, region);
        size_t size = rec && rec->region ? (rec->block == p && !rec->freed ? rec->size : (size_t)-1) : 0;
        bool page_block = rec && rec->region;
        ms_mutex_unlock(&table_lock);
        if (page_block)
            return size;
    }
    return heap_size(heap, flags | HEAP_DEBUG_INTERNAL, block);
}

bool heap_debug_validate(struct ms_heap *heap, uint32_t flags, const void *block)
{
    uintptr_t p = (uintptr_t)block, region = block ? region_of(p) : 0;
    if (region) {
        ms_mutex_lock(&table_lock);
        struct heap_debug_record *rec = find_locked(p, region);
        bool page_block = rec && rec->region;
        bool ok = page_block && rec->block == p && !rec->freed && rec->heap == heap && tail_ok(rec);
        ms_mutex_unlock(&table_lock);
        if (page_block)
            return ok;
    }
    return heap_validate(heap, flags | HEAP_DEBUG_INTERNAL, block);
}

void heap_debug_forget_heap(struct ms_heap *heap)
{
    ms_mutex_lock(&table_lock);
    for (size_t i = 0; i < table_cap; i++) {
        struct heap_debug_record *rec = &table[i];
        if (rec->key <= KEY_DELETED || rec->kind != HEAP_DEBUG_BLOCK || rec->heap != heap)
            continue;
        /* A freed block's key may still sit in the FIFO: eviction skips
         * keys whose record is gone. */
        if (rec->region)
            vm_release_internal(rec->region);
        remove_locked(rec);
    }
    unsigned slot = charge_index_locked(heap, false);
    if (slot < CHARGE_SLOTS)
        charges[slot].heap = NULL;
    ms_mutex_unlock(&table_lock);
}

void heap_debug_note_region(uintptr_t base, size_t size)
{
    if (!(heap_debug_mode & HEAP_DEBUG_TRACK))
        return;
    struct heap_debug_record rec = { 0 };
    capture(rec.alloc_frames);
    rec.key = rec.block = base;
    rec.size = size;
    rec.kind = HEAP_DEBUG_REGION;
    ms_mutex_lock(&table_lock);
    insert_locked(&rec);
    ms_mutex_unlock(&table_lock);
}

void heap_debug_for_each_live(void (*fn)(const struct heap_debug_record *record, void *ctx), void *ctx)
{
    ms_mutex_lock(&table_lock);
    for (size_t i = 0; i < table_cap; i++) {
        const struct heap_debug_record *rec = &table[i];
        if (rec->key <= KEY_DELETED || rec->freed)
            continue;
        if (rec->kind == HEAP_DEBUG_REGION) {
            /* Released regions are not removed when freed: check now. */
            struct vm_allocation_info info;
            if (!vm_lookup(rec->block, &info) || info.base != rec->block || info.usage != VM_USAGE_USER)
                continue;
        }
        fn(rec, ctx);
    }
    ms_mutex_unlock(&table_lock);
}

bool heap_debug_find_fault(uintptr_t addr, struct heap_debug_record *out)
{
    uintptr_t region = region_of(addr);
    if (!region || !ms_mutex_trylock(&table_lock))
        return false;
    struct heap_debug_record *rec = lookup_locked(region);
    bool found = rec && rec->region == region;
    if (found)
        *out = *rec;
    ms_mutex_unlock(&table_lock);
    return found;
}
