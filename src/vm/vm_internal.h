/*
 * vm_internal.h - the address-space map shared by the files of src/vm/.
 *
 * Layout of the map:
 *  - arenas: address ranges the core reserved from the host (host_reserve),
 *    kept in an array sorted by base address;
 *  - per arena, one byte per 4 KiB page (state and protection, page_byte
 *    below) and one 32-bit slot per 64 KiB granule naming the allocation that
 *    owns it (0 = none); a dedicated arena (one allocation, sized to it) has
 *    no granule slots, it names its allocation once (only_alloc);
 *  - allocations (what VirtualAlloc returns, MEMORY_BASIC_INFORMATION's
 *    AllocationBase): a table of records with a free list.
 * All of it lives in metadata reservations apart from user memory, so a
 * program that overruns its buffers cannot corrupt the map.
 *
 * Invariants (checked by vm_check_invariants):
 *  - arenas are sorted, disjoint, 64 KiB-aligned;
 *  - an allocation lies in one arena, starts on a granule, and every granule
 *    it touches names it; no other granule does;
 *  - a page byte is 0 (RESERVED) or 1 (STALE: reserved, old contents kept
 *    by the host until it needs the memory) unless its page is committed;
 *    both read as reserved, and free space may hold STALE bytes; whether an
 *    address is free is a question for the granules, not the page bytes, so
 *    fresh (zero) metadata needs no initialising and a reservation touches
 *    no page bytes at all (every first touch of metadata is a page fault,
 *    which costs about 2 us under Wine);
 *  - alloc->committed_pages counts the COMMITTED pages of the allocation;
 *  - a committed page is mapped on the host with page_host_prot(byte);
 *  - vm.committed_pages equals the number of COMMITTED private pages;
 *  - kept ranges (vm_keep.c) lie in free space, their kept pages STALE.
 * Every access to the map holds vm.lock.
 */
#ifndef MS_VM_INTERNAL_H
#define MS_VM_INTERNAL_H

#include "vm.h"
#include "../base/ms_lock.h"
#include "../base/ms_seqlock.h"
#include "../host/host.h"

/* Normal arenas grow geometrically: the first is VM_ARENA_FIRST_SIZE, each
 * new one (per direction) twice the largest before it, up to
 * VM_ARENA_MAX_SIZE. Why not all of the maximum at once: Wine keeps one
 * protection byte per 4 KiB page of every reservation, written when the
 * range is reserved, so a 1 GiB arena costs 256 KiB of resident memory in
 * Wine before anything in it is used; a 64 MiB one costs 16 KiB. Requests
 * above VM_ARENA_MAX_SIZE / 4 (alignment padding included) get a dedicated
 * arena instead. */
#define VM_ARENA_FIRST_SIZE  ((size_t)64 << 20)
#define VM_ARENA_MAX_SIZE    ((size_t)1 << 30)
#define VM_ARENA_LARGE       (VM_ARENA_MAX_SIZE / 4)
#define VM_MAX_ARENAS        4096
#define VM_SPARE_META_MAX    ((size_t)4 << 20)      /* metadata of a dedicated arena up to ~14 GiB */
#define VM_MAX_ALLOCATIONS   ((uint32_t)1 << 20)
#define VM_TABLE_COMMIT_STEP ((size_t)65536)

/* --- page bytes ------------------------------------------------------------
 * bits 0-1: state; bits 2-4: base protection (log2 of the PAGE_* value, 0-7);
 * bit 5: PAGE_GUARD; bit 6: PAGE_NOCACHE; bit 7: PAGE_WRITECOMBINE. */
#define PAGE_STATE_RESERVED  0u
#define PAGE_STATE_STALE     1u     /* reserved, but still holding old contents
                                     * (host_decommit_lazy): zero it on commit */
#define PAGE_STATE_COMMITTED 2u
/* Runs up to this many pages are decommitted lazily (kept for a cheap
 * recommit); larger ones go back to the host at once, so that committing
 * a big range again does not touch every page to zero it. */
#define VM_LAZY_DECOMMIT_PAGES 64
#define PAGE_STATE_MASK      3u

struct vm_allocation {
    uintptr_t base;
    size_t size;                /* bytes, a page multiple */
    uint32_t alloc_protect;
    uint32_t type;              /* VM_MEM_PRIVATE or VM_MEM_MAPPED */
    uint8_t usage;              /* enum vm_usage */
    uint8_t write_watch;
    uint8_t shared_view;        /* a view whose host mapping writes through to the section */
    uint8_t shadowed;           /* its pages' protections are kept in the host's shadow map (vm_shadow.c) */
    uint32_t next_free;         /* free-list link (index+1) while unused */
    size_t committed_pages;
    /* Every committed page lies in [commit_lo, commit_hi) (equal: none):
     * decommit and release scan only that much of the page map, not a
     * terabyte reservation's whole map for the few pages committed in it.
     * Widened by every commit, reset when nothing is committed. */
    uintptr_t commit_lo, commit_hi;
    size_t locked_pages;        /* VirtualLock'ed pages (vm_lock.c) */
    size_t reset_pages;         /* pages with a reset bit (vm_reset.c) */
    size_t kept_written;        /* pages with a kept-write bit (vm_write_watch.c) */
    void *owner;
    /* VirtualProtect of the same run twice in a row makes that run a host
     * mapping of its own (vm_protect.c): the run, and the last protected. */
    uintptr_t isolated, last_protect;
    size_t isolated_pages, last_protect_pages;
};

struct vm_arena {
    uintptr_t base, end;
    size_t npages, ngranules;
    uint8_t *pages;
    uint32_t *granules;         /* allocation index + 1, or 0; NULL if dedicated */
    uint32_t only_alloc;        /* dedicated: its allocation's index + 1 */
    uint8_t *locked;            /* VirtualLock: one bit per page */
    uint8_t *reset;             /* MEM_RESET: one bit per page whose contents the host may discard */
    uint8_t *written;           /* MEM_WRITE_WATCH: one bit per page written before a decommit */
    size_t free_hint;           /* every granule below it is taken */
    bool dedicated;             /* reserved for one allocation; goes with it */
    bool top_down;              /* serves MEM_TOP_DOWN requests (placed high) */
    uintptr_t meta;             /* the metadata reservation holding this struct */
    size_t meta_size;
};

struct vm_state {
    ms_mutex lock;              /* taken through vm_map_lock/vm_map_unlock only */
    /* Sequence count of the map, for VirtualQuery without the lock
     * (vm_query.c): odd while the lock's holder may be changing anything. */
    _Atomic uint32_t seq;
    bool initialised;
    uintptr_t max_address;
    struct vm_arena *arenas[VM_MAX_ARENAS];
    /* The same pointers, bit 0 set for a dedicated arena, as single words: a
     * reader without the lock follows only pointers to normal arenas, which
     * stay for the life of the process (a dedicated one's metadata goes
     * with it). */
    _Atomic uintptr_t arena_words[VM_MAX_ARENAS];
    /* Their bounds, for asking whether an address is the core's at all
     * without the lock (vm_owns, and every ntdll hook that passes Wine's
     * own memory through). */
    _Atomic uintptr_t arena_bases[VM_MAX_ARENAS], arena_ends[VM_MAX_ARENAS];
    size_t narenas;
    struct vm_allocation *allocs;
    uint32_t alloc_high;        /* records ever used */
    size_t alloc_committed;     /* bytes of the table made accessible */
    uint32_t free_head;         /* index+1 of the first free record */
    uint64_t committed_pages;
    uint64_t peak_committed_pages;
    uint64_t reserved_bytes;
    uint64_t arena_bytes;
    uint64_t commit_limit;      /* bytes; 0 = not yet read from the host */
    uint64_t views, view_bytes;
    uintptr_t spare_meta;       /* a released dedicated arena's metadata reservation, decommitted, or 0 */
    size_t spare_meta_size;
    _Atomic bool shared_writecopy;  /* a shared view has had copy-on-write pages (vm_view_copy_for_write) */
    /* host mapping budget (vm_maps.c) */
    long map_max;               /* vm.max_map_count; 0 = not read yet */
    long map_estimate;          /* process mappings: last count + the core's changes since */
    long map_next_count;        /* read the real count when the estimate reaches this */
    uint64_t map_counted_ns;    /* when it was last read; 0 = never */
    /* The slot of the normal arena the last lock-free query was in, tried
     * first by the next (vm_query.c): a hint, checked like everything such
     * a query reads. On a line of its own: queries in other arenas write
     * it, and every query reads the fields above. */
    _Alignas(64) _Atomic uint32_t query_hint;
};

extern struct vm_state vm;

/* The map's lock. Whoever holds it may change anything, so taking it makes
 * the sequence count odd and leaving makes it even again: readers that do
 * not take it (vm_query.c, vm_state.c) read under the count
 * (ms_seqlock.h). */
static inline void vm_map_lock(void)
{
    ms_mutex_lock(&vm.lock);
    ms_seq_write_begin(&vm.seq);
}

static inline void vm_map_unlock(void)
{
    ms_seq_write_end(&vm.seq);
    ms_mutex_unlock(&vm.lock);
}

static inline void vm_commit_span_add(struct vm_allocation *alloc, uintptr_t start, uintptr_t end)
{
    if (alloc->commit_lo == alloc->commit_hi) {
        alloc->commit_lo = start;
        alloc->commit_hi = end;
        return;
    }
    if (start < alloc->commit_lo)
        alloc->commit_lo = start;
    if (end > alloc->commit_hi)
        alloc->commit_hi = end;
}

/* The arena's bitmaps of one bit per page (VirtualLock, MEM_RESET, kept
 * writes): page p's bit, and setting it while keeping `count`, the
 * allocation's number of set bits, right. */
static inline bool vm_page_bit(const uint8_t *map, size_t p)
{
    return (map[p >> 3] >> (p & 7)) & 1;
}

static inline void vm_page_bit_set(uint8_t *map, size_t p, bool on, size_t *count)
{
    if (vm_page_bit(map, p) == on)
        return;
    if (on) {
        map[p >> 3] |= (uint8_t)(1u << (p & 7));
        (*count)++;
    } else {
        map[p >> 3] &= (uint8_t)~(1u << (p & 7));
        (*count)--;
    }
}

/* vm_pages.c */
#define PAGE_BYTE_GUARD 0x20u
bool vm_protect_is_valid(uint32_t protect, bool allow_writecopy);
/* Control Flow Guard's flag is taken only with an executable protection
 * (false otherwise), and dropped from *protect: the core keeps no CFG
 * bitmap, as Wine enforces no CFG, so no call target is ever refused. */
bool vm_protect_take_cfg(uint32_t *protect);
/* protect with the caching modifier alloc's pages have whatever a commit or
 * VirtualProtect asks: a private allocation's own (PAGE_NOCACHE or
 * PAGE_WRITECOMBINE, as given when it was reserved), a view's section's
 * (SEC_NOCACHE; SEC_WRITECOMBINE shows on no view). */
uint32_t vm_protect_cached_as(const struct vm_allocation *alloc, uint32_t protect);
/* VirtualProtect of [start, end) (page-aligned, inside alloc); vm.lock held. */
ms_status vm_protect_locked(struct vm_arena *arena, struct vm_allocation *alloc, uintptr_t start, uintptr_t end,
                            uint32_t protect, uint32_t *old_protect);
uint8_t page_byte_make(uint32_t state, uint32_t protect);
int page_host_prot(uint8_t byte);
/* page_host_prot for a page of `alloc`: in a shared view a copy-on-write
 * page has no write access on the host (its first write makes the copy,
 * vm_view_write_fault). */
int vm_host_prot(const struct vm_allocation *alloc, uint8_t byte);
/* The byte of a copy-on-write page after its copy: PAGE_(EXECUTE_)READWRITE. */
uint8_t page_byte_copied(uint8_t byte);
static inline uint32_t page_byte_state(uint8_t b) { return b & PAGE_STATE_MASK; }
/* The PAGE_* protection of each page byte (0 for a page not committed),
 * spelled out by PAGE_BYTE_PROTECT (vm_pages.c): a load instead of the
 * decoding's shifts and three tests, a tenth of VirtualQuery's lock-free
 * path (callgrind). The byte's layout: state in bits 0-1, the base
 * protection's bit index in 2-4, PAGE_GUARD 5, PAGE_NOCACHE 6,
 * PAGE_WRITECOMBINE 7. */
#define PAGE_BYTE_PROTECT(b)                                                                              \
    (((b) & PAGE_STATE_MASK) != PAGE_STATE_COMMITTED                                                      \
         ? 0u                                                                                            \
         : (1u << (((b) >> 2) & 7u)) | (((b) & PAGE_BYTE_GUARD) ? VM_PAGE_GUARD : 0u) |                   \
               (((b) & 0x40u) ? VM_PAGE_NOCACHE : 0u) | (((b) & 0x80u) ? VM_PAGE_WRITECOMBINE : 0u))
extern const uint32_t vm_page_byte_protect[256];
static inline uint32_t page_byte_protect(uint8_t byte) { return vm_page_byte_protect[byte]; }
/* The base protection is one bit, so one test covers both copy-on-write
 * protections. */
static inline bool page_byte_writecopy(uint8_t byte)
{
    return (page_byte_protect(byte) & (VM_PAGE_WRITECOPY | VM_PAGE_EXECUTE_WRITECOPY)) != 0;
}
/* Number of pages from `first` (exclusive bound `limit`) whose byte equals
 * pages[first]. Compares eight pages at a time (unaligned loads; the first
 * differing page is the lowest set byte of the xor, x86 being
 * little-endian), and the last fewer than eight with one more word that
 * ends at `limit` and overlaps pages already known alike: VirtualQuery on
 * a large uniform region is a scan of this array, and on a small one a
 * byte-by-byte lead-in or tail was most of the scan. Reads only below
 * `limit`. vm_pages_word_alike: how many of the eight bytes at `at` equal
 * the pattern's, from the first. */
static inline size_t vm_pages_word_alike(const uint8_t *at, uint64_t pattern)
{
    uint64_t word;
    memcpy(&word, at, 8);
    uint64_t diff = word ^ pattern;
    return diff ? (size_t)__builtin_ctzll(diff) >> 3 : 8;
}
static inline size_t vm_pages_run(const uint8_t *pages, size_t first, size_t limit)
{
    uint8_t b = pages[first];
    size_t i = first + 1, alike;
    if (limit - i < 8) {
        while (i < limit && pages[i] == b)
            i++;
        return i - first;
    }
    uint64_t pattern = 0x0101010101010101ull * b;
    for (; i + 8 <= limit; i += 8)
        if ((alike = vm_pages_word_alike(pages + i, pattern)) < 8)
            return i + alike - first;
    if (i < limit && (alike = vm_pages_word_alike(pages + limit - 8, pattern)) < 8)
        return limit - 8 + alike - first;
    return limit - first;
}

/* vm_alloc.c: each allocation of the core that [start, end) touches
 * (end page-aligned), in address order, once: fn(arena, alloc, lo, hi,
 * ctx) with [lo, hi) the pages of it in the range. Under vm.lock. */
typedef void (*vm_allocation_fn)(struct vm_arena *arena, struct vm_allocation *alloc, uintptr_t lo, uintptr_t hi,
                                 void *ctx);
void vm_each_allocation_locked(uintptr_t start, uintptr_t end, vm_allocation_fn fn, void *ctx);

/* vm_alloc.c: the byte of the committed page at `page` (page-aligned) in
 * an allocation of the core, with its arena and allocation; NULL if there
 * is none. Under vm.lock. */
uint8_t *vm_committed_page_locked(uintptr_t page, struct vm_arena **arena, struct vm_allocation **alloc);

/* vm_view.c: make the private copy of a shared view's copy-on-write page
 * (a write is about to reach it); false if the host could not. */
bool vm_view_copy_page_locked(struct vm_arena *arena, struct vm_allocation *alloc, uintptr_t page);
/* Before the core writes for the program into a committed page its
 * protection lets it write (byte): a shared view's copy-on-write page gets
 * its copy first. False only if that copy could not be made. */
bool vm_view_writable_locked(struct vm_arena *arena, struct vm_allocation *alloc, uintptr_t page, uint8_t byte);

/* vm_arena.c */
struct vm_arena *vm_arena_find(uintptr_t addr);
/* The first arena starting above addr, or NULL. */
struct vm_arena *vm_arena_next(uintptr_t addr);
ms_status vm_arena_create(uintptr_t want, size_t size, bool top_down, bool dedicated, struct vm_arena **out);
/* A new normal arena with room for `need` bytes (<= VM_ARENA_LARGE): the
 * next size of the geometric series, or a smaller one down to `need` when
 * the host has no room for that. */
ms_status vm_arena_create_normal(size_t need, bool top_down, struct vm_arena **out);
/* The size the next normal arena of that direction would get for `need`. */
size_t vm_arena_next_size(size_t need, bool top_down);
void vm_arena_destroy(struct vm_arena *arena);
bool vm_arena_find_free(size_t size, size_t align, bool top_down, struct vm_arena **arena, uintptr_t *addr);
bool vm_arena_range_free(const struct vm_arena *arena, uintptr_t base, size_t size);

/* vm_alloc.c */
struct vm_allocation *vm_allocation_at(const struct vm_arena *arena, uintptr_t addr);
ms_status vm_allocation_create(struct vm_arena *arena, uintptr_t base, size_t size, uint32_t protect,
                               uint32_t type, struct vm_allocation **out);
void vm_allocation_destroy(struct vm_arena *arena, struct vm_allocation *alloc);
ms_status vm_commit_range(struct vm_arena *arena, struct vm_allocation *alloc, uintptr_t start, uintptr_t end,
                          uint32_t protect);
void vm_decommit_range(struct vm_arena *arena, struct vm_allocation *alloc, uintptr_t start, uintptr_t end,
                       bool at_once);
/* The core-internal (heap) private allocation holding all of [base, base +
 * size), size > 0, or NULL; *arena_out its arena. Under vm.lock. */
struct vm_allocation *vm_internal_range_locked(uintptr_t base, size_t size, struct vm_arena **arena_out);
/* vm_protect.c: give an isolated run back to normal merging when pages of
 * [start, end) stop being committed. */
void vm_isolation_end(struct vm_allocation *alloc, uintptr_t start, uintptr_t end);
/* Reserve [base, base+size) (base 0: anywhere) as a new allocation. */
ms_status vm_reserve_locked(uintptr_t base, size_t size, size_t align, bool top_down, uint32_t protect,
                           uint32_t type, struct vm_arena **arena_out, struct vm_allocation **alloc_out);
/* vm_lock.c: forget the lock bits of pages being decommitted (the host's
 * lock goes with the pages). */
void vm_lock_bits_clear(struct vm_arena *arena, struct vm_allocation *alloc, size_t p0, size_t p1);
/* Is page p of the arena VirtualLock'ed? (Only meaningful if its allocation has locked_pages.) */
bool vm_page_locked(const struct vm_arena *arena, size_t p);
/* vm_reset.c: forget the reset bits of pages being decommitted. */
void vm_reset_bits_clear(struct vm_arena *arena, struct vm_allocation *alloc, size_t p0, size_t p1);
/* vm_write_watch.c: before pages [p0, p1) of a write-watch allocation are
 * decommitted, keep the host's record of which were written (the host
 * page goes, and its record with it; Windows keeps it until a reset). */
void vm_write_watch_keep(struct vm_arena *arena, struct vm_allocation *alloc, size_t p0, size_t p1);
/* ... and forget the kept record of [p0, p1) (the allocation is released). */
void vm_write_watch_forget(struct vm_arena *arena, struct vm_allocation *alloc, size_t p0, size_t p1);
/* MEM_RESET / MEM_RESET_UNDO of [addr, addr+size), vm.lock held. */
ms_status vm_reset_locked(uintptr_t addr, size_t size, bool undo);
/* Decommit and forget a whole allocation (and its arena, if dedicated). */
void vm_release_locked(struct vm_arena *arena, struct vm_allocation *alloc);

/* vm_maps.c: the host mapping budget. Margins kept free below
 * vm.max_map_count for the rest of the process (Wine's stacks, DLLs). */
#define VM_MAP_MARGIN_PROTECT 1000
#define VM_MAP_MARGIN_COMMIT  500
/* Mappings the change of pages [p0, p1) to `byte` adds (< 0: removes). */
long vm_maps_delta(const struct vm_arena *arena, size_t p0, size_t p1, uint8_t byte);
/* Account a change of `delta` mappings about to be made; false (nothing
 * accounted) if it would leave fewer than `margin` below the limit. */
bool vm_maps_take(long delta, long margin);
/* Account a change made that cannot be refused (decommit, undo). */
void vm_maps_note(long delta);
/* The host refused a change: read the real count before the next one. */
void vm_maps_recount_soon(void);

/* vm_keep.c: kept ranges of released heap segments. An allocation about
 * to take [base, base+size) of the arena drops the kept ranges there. */
void vm_keep_claim_locked(const struct vm_arena *arena, uintptr_t base, size_t size);
/* Placement found [*base, *base+size) in *arena for a new allocation: if
 * that is over a kept range and another place fits, move it there. */
void vm_keep_avoid_locked(size_t size, size_t align, bool top_down, struct vm_arena **arena, uintptr_t *base);
/* vm_alloc.c: the arguments of a reservation for the core's own users
 * (heaps): checked, aligned to pages, the alignment at least 64 KiB. */
ms_status vm_internal_request_check(size_t *reserve, size_t *commit, size_t *align, uint32_t protect);
/* Keep the committed start of a region being released (vm_release_keep);
 * false: nothing kept, nothing changed, the caller releases it as usual. */
bool vm_keep_region_locked(struct vm_arena *arena, struct vm_allocation *alloc);
uint64_t vm_keep_bytes_locked(void);
const char *vm_keep_check_locked(void);

/* vm_commit.c */
bool vm_charge_commit(uint64_t pages);
void vm_uncharge_commit(uint64_t pages);

static inline size_t arena_page(const struct vm_arena *a, uintptr_t addr)
{
    return (addr - a->base) >> MS_PAGE_SHIFT;
}

static inline size_t arena_granule(const struct vm_arena *a, uintptr_t addr)
{
    return (addr - a->base) >> MS_GRANULE_SHIFT;
}

#endif
