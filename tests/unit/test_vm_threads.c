/*
 * test_vm_threads.c - the vm core under concurrent use: threads reserving,
 * committing, protecting, querying, decommitting and releasing at once,
 * each on its own regions and also querying the others'. Afterwards the
 * map's invariants hold and everything is given back. Run under TSan too.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "../../src/vm/vm.h"
#include "unit.h"

#define THREADS 4
#define ROUNDS 400

static _Atomic int errors;
static uintptr_t shared_regions[THREADS];

static void *worker(void *arg)
{
    unsigned id = (unsigned)(uintptr_t)arg;
    uint64_t x = 0x9E3779B97F4A7C15ull * (id + 1);
    for (int r = 0; r < ROUNDS; r++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        size_t pages = 1 + (size_t)(x % 32);
        uintptr_t a = 0;
        if (vm_allocate(&a, pages * 4096, VM_MEM_RESERVE, VM_PAGE_READWRITE) != MS_OK) {
            errors++;
            continue;
        }
        __atomic_store_n(&shared_regions[id], a, __ATOMIC_RELEASE);
        uintptr_t c = a;
        if (vm_allocate(&c, pages * 4096, VM_MEM_COMMIT, VM_PAGE_READWRITE) != MS_OK)
            errors++;
        memset((void *)a, (int)id, pages * 4096);
        uint32_t old;
        if (vm_protect(a, 4096, VM_PAGE_READONLY, &old) != MS_OK || old != VM_PAGE_READWRITE)
            errors++;
        /* Query someone else's region: any answer is fine, it must not crash
         * or see a torn map (the invariant check below catches those). */
        struct vm_region_info info;
        uintptr_t other = __atomic_load_n(&shared_regions[(id + 1) % THREADS], __ATOMIC_ACQUIRE);
        if (other)
            (void)vm_query(other, &info);
        if (vm_query(a, &info) != MS_OK || info.protect != VM_PAGE_READONLY || info.allocation_base != a)
            errors++;
        if (((volatile char *)a)[pages * 4096 - 1] != (char)id)
            errors++;
        uintptr_t d = a + 4096;
        size_t size = (pages - 1) * 4096;
        if (pages > 1 && vm_free(&d, &size, VM_MEM_DECOMMIT) != MS_OK)
            errors++;
        __atomic_store_n(&shared_regions[id], 0, __ATOMIC_RELEASE);
        size = 0;
        if (vm_free(&a, &size, VM_MEM_RELEASE) != MS_OK)
            errors++;
    }
    return NULL;
}

int main(void)
{
    CHECK_EQ(vm_init(0), MS_OK);
    struct vm_counters before, after;
    vm_get_counters(&before);
    pthread_t t[THREADS];
    for (unsigned i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)i);
    for (unsigned i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    CHECK(errors == 0, "%d operations failed or saw wrong results", (int)errors);
    CHECK(vm_check_invariants() == NULL, "invariants after the storm: %s", vm_check_invariants());
    vm_get_counters(&after);
    CHECK_EQ(after.committed_bytes, before.committed_bytes);
    CHECK_EQ(after.reserved_bytes, before.reserved_bytes);
    return unit_done();
}
