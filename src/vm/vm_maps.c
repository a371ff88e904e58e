/*
 * vm_maps.c - the host mapping budget.
 *
 * Linux gives a process at most vm.max_map_count mappings (65530 by
 * default). The core manages pages inside big arena mappings, and each
 * change of host protection between two neighbouring pages splits them: a
 * program that gives alternate pages different protections could take every
 * mapping the process has, after which Wine itself can no longer map a
 * thread stack or load a DLL, and the process dies somewhere else. So the
 * core keeps a margin for everybody else: it refuses a protection change
 * that would take the process within VM_MAP_MARGIN_PROTECT mappings of the
 * limit, and a commit within VM_MAP_MARGIN_COMMIT (smaller: a program that
 * split its memory can still allocate), with ERROR_NOT_ENOUGH_MEMORY.
 *
 * How many mappings the process has is an estimate: the count last read
 * from /proc/self/maps plus what the core's own changes since added or
 * removed by its model (vm_maps_delta: a boundary wherever the host
 * protection, or committed versus reserved, differs between neighbouring
 * pages). The model does not see Wine's own mappings, nor every merge the
 * kernel makes, so the count is read again whenever the estimate has gone
 * half the way from the last count to the limit, at least every
 * VM_MAP_MIN_STEP mappings near it, and before a refusal (at most every
 * VM_MAP_RECOUNT_NS, as reading 65,000 lines takes milliseconds). An
 * ordinary program reads the count once.
 *
 * Thread safety: everything here runs under vm.lock.
 */
#include "vm_internal.h"

#define VM_MAP_DEFAULT_MAX   65530              /* Linux's default, if the sysctl cannot be read */
#define VM_MAP_MIN_STEP      64
#define VM_MAP_RECOUNT_NS    (100ull * 1000 * 1000)
/* Pages that are not committed: the arena's reservation (or a decommitted
 * run, mapped the same way). Distinct from every host protection. */
#define KEY_RESERVED         8

/* Copy-on-write pages: read-only on the host in a shared view, read-write
 * in a private one; a key of their own counts a boundary for them in both
 * (one too many in a private view errs on the safe side). */
#define KEY_WRITECOPY        16

/* The host mapping a page of this byte belongs to, as far as the model can
 * tell. Pages decommitted lazily keep their committed mapping, with no
 * access. */
static int byte_key(uint8_t byte)
{
    switch (page_byte_state(byte)) {
    case PAGE_STATE_COMMITTED: return page_host_prot(byte) | (page_byte_writecopy(byte) ? KEY_WRITECOPY : 0);
    case PAGE_STATE_STALE:     return HOST_PROT_NONE;
    default:                   return KEY_RESERVED;
    }
}

static int page_key(const struct vm_arena *arena, size_t page)
{
    /* Outside the arena (page 0 - 1 wraps too): someone else's mapping. */
    return page < arena->npages ? byte_key(arena->pages[page]) : KEY_RESERVED;
}

long vm_maps_delta(const struct vm_arena *arena, size_t p0, size_t p1, uint8_t byte)
{
    int key = byte_key(byte), left = page_key(arena, p0 - 1), right = page_key(arena, p1);
    /* Boundaries now: at p0, between runs inside, at p1. */
    long before = 0;
    int prev = left;
    for (size_t p = p0; p < p1;) {
        int k = page_key(arena, p);
        before += k != prev;
        prev = k;
        p += vm_pages_run(arena->pages, p, p1);
    }
    before += prev != right;
    long after = (left != key) + (key != right);
    return after - before;
}

static long budget_max(void)
{
    if (!vm.map_max) {
        char text[32];
        long max = 0;
        if (host_read_small_file("/proc/sys/vm/max_map_count", text, sizeof text) > 0)
            for (const char *c = text; *c >= '0' && *c <= '9'; c++)
                max = max * 10 + (*c - '0');
        vm.map_max = max > 0 ? max : VM_MAP_DEFAULT_MAX;
    }
    return vm.map_max;
}

/* Read the real count; schedule the next reading half way to the limit. */
static void budget_count(void)
{
    long count = host_count_mappings();
    vm.map_counted_ns = host_clock_ns();
    if (count < 0)
        count = vm.map_estimate;    /* no /proc: keep the model's figure */
    vm.map_estimate = count;
    long room = budget_max() - VM_MAP_MARGIN_PROTECT - count;
    vm.map_next_count = count + (room / 2 > VM_MAP_MIN_STEP ? room / 2 : VM_MAP_MIN_STEP);
}

bool vm_maps_take(long delta, long margin)
{
    if (delta <= 0) {
        vm.map_estimate += delta;
        return true;
    }
    if (!vm.map_counted_ns)
        budget_count();
    long room = budget_max() - margin;
    if (vm.map_estimate + delta >= vm.map_next_count ||
        (vm.map_estimate + delta > room && host_clock_ns() - vm.map_counted_ns >= VM_MAP_RECOUNT_NS))
        budget_count();
    if (vm.map_estimate + delta > room)
        return false;
    vm.map_estimate += delta;
    return true;
}

void vm_maps_note(long delta)
{
    vm.map_estimate += delta;
}

void vm_maps_recount_soon(void)
{
    vm.map_next_count = vm.map_estimate;
}

void vm_set_map_limit(long max_map_count)
{
    vm_map_lock();
    vm.map_max = max_map_count;         /* 0: read the host's again */
    vm.map_counted_ns = 0;
    vm_map_unlock();
}

long vm_map_estimate(void)
{
    vm_map_lock();
    long estimate = vm.map_estimate;
    vm_map_unlock();
    return estimate;
}
