/*
 * test_heap_global.c - the engine of GlobalAlloc/LocalAlloc (src/heap/
 * heap_global.c) natively: fixed and moveable memory, the handle layout,
 * lock counts, discarded blocks, GMEM_MODIFY, realloc of locked blocks, the
 * 65536-handle limit, freed and garbage handles, the Global/Local
 * differences, and two threads working on handles at once.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "../../src/heap/heap_global.h"
#include "unit.h"

#define G true
#define L false

static void test_fixed(void)
{
    ms_status err = 0;
    char *p = gmem_alloc(G, 0, 100, &err);
    CHECK(p && ((uintptr_t)p & 15) == 0, "fixed block, 16-byte aligned");
    CHECK_EQ(gmem_classify(p), GMEM_POINTER);
    CHECK_EQ(gmem_size(p, &err), 100);
    CHECK(gmem_lock(p, &err) == p, "GlobalLock of fixed memory is the pointer");
    err = 1234;
    CHECK(gmem_unlock(G, p, &err) && err == GMEM_KEEP_ERROR, "GlobalUnlock(fixed) TRUE, error kept");
    CHECK(!gmem_unlock(L, p, &err) && err == MS_ERROR_NOT_LOCKED, "LocalUnlock(fixed) FALSE, ERROR_NOT_LOCKED");
    CHECK_EQ(gmem_flags(G, p, &err), 0);
    CHECK(gmem_handle(p, &err) == p, "GlobalHandle of fixed memory is itself");
    CHECK(gmem_free(p, &err) == NULL, "GlobalFree fixed");
    err = 0;
    CHECK(gmem_free(p, &err) == p && err == MS_ERROR_INVALID_HANDLE, "double free: the pointer back, invalid handle");

    /* GlobalAlloc makes a 0-byte fixed block 1 byte long; LocalAlloc does not. */
    p = gmem_alloc(G, 0, 0, &err);
    CHECK_EQ(gmem_size(p, &err), 1);
    gmem_free(p, &err);
    p = gmem_alloc(L, 0, 0, &err);
    CHECK(p != NULL, "LocalAlloc(fixed, 0)");
    CHECK_EQ(gmem_size(p, &err), 0);
    gmem_free(p, &err);

    /* GMEM_ZEROINIT */
    unsigned char *z = gmem_alloc(G, MS_GMEM_ZEROINIT, 5000, &err);
    int zero = 1;
    for (size_t i = 0; i < 5000; i++)
        zero &= z[i] == 0;
    CHECK(zero, "GMEM_ZEROINIT zeroes");
    gmem_free(z, &err);
}

static void test_moveable(void)
{
    ms_status err = 0;
    void *h = gmem_alloc(G, MS_GMEM_MOVEABLE, 256, &err);
    CHECK(h && ((uintptr_t)h & 15) == 8, "moveable handle is 8 past a 16-byte boundary");
    CHECK_EQ(gmem_classify(h), GMEM_HANDLE);
    const uintptr_t *entry = (const uintptr_t *)h - 1;
    CHECK_EQ(entry[0], 3);
    char *p = gmem_lock(h, &err);
    CHECK(p && p != (char *)h && ((uintptr_t)p & 15) == 0, "GlobalLock gives the block");
    CHECK(*(void **)h == p, "the handle points at the block's address");
    CHECK_EQ(entry[0], 0x10003);
    CHECK_EQ(gmem_flags(G, h, &err), 1);
    CHECK(gmem_lock(h, &err) == p, "second lock, same block");
    CHECK_EQ(gmem_flags(G, h, &err), 2);
    CHECK(gmem_handle(p, &err) == h, "GlobalHandle(block) is the handle");
    CHECK(gmem_handle(h, &err) == h, "GlobalHandle(handle) is the handle");
    CHECK_EQ(gmem_size(h, &err), 256);
    CHECK(gmem_unlock(G, h, &err) && err == GMEM_KEEP_ERROR, "unlock 2 -> 1: TRUE");
    err = 99;
    CHECK(!gmem_unlock(G, h, &err) && err == MS_OK, "unlock 1 -> 0: FALSE, ERROR_SUCCESS");
    CHECK(!gmem_unlock(G, h, &err) && err == MS_ERROR_NOT_LOCKED, "unlock at 0: ERROR_NOT_LOCKED");
    CHECK_EQ(gmem_flags(G, h, &err), 0);

    /* Lock counts stop at 255. */
    for (int i = 0; i < 300; i++)
        gmem_lock(h, &err);
    CHECK_EQ(gmem_flags(G, h, &err), 0xff);
    int unlocked_true = 0;
    for (int i = 0; i < 254; i++)
        unlocked_true += gmem_unlock(G, h, &err);
    CHECK_EQ(unlocked_true, 254);
    CHECK(!gmem_unlock(G, h, &err) && err == MS_OK, "the 255th unlock reaches 0");

    /* Free, then the handle is caught. */
    CHECK(gmem_free(h, &err) == NULL, "GlobalFree handle");
    CHECK(entry[0] != 0 && (entry[0] & 15) == 0 && entry[1] == 0, "freed entry: link in flags, no block");
    CHECK_EQ(gmem_classify(h), GMEM_STALE_HANDLE);
    err = 0;
    CHECK(gmem_free(h, &err) == h && err == MS_ERROR_INVALID_HANDLE, "double free of a handle");
    CHECK(gmem_flags(G, h, &err) == MS_GMEM_INVALID_HANDLE && err == MS_ERROR_INVALID_HANDLE, "flags of freed");
    err = 0;
    CHECK(gmem_size(h, &err) == 0 && err == MS_ERROR_INVALID_HANDLE, "size of freed");
    err = 0;
    CHECK(gmem_lock(h, &err) == NULL && err == MS_ERROR_INVALID_HANDLE, "lock of freed");
    CHECK(gmem_unlock(G, h, &err) && err == MS_ERROR_INVALID_HANDLE, "GlobalUnlock of freed: TRUE, invalid handle");
    CHECK(!gmem_unlock(L, h, &err) && err == MS_ERROR_INVALID_HANDLE, "LocalUnlock of freed: FALSE");
    err = 0;
    CHECK(gmem_realloc(G, h, 10, MS_GMEM_MOVEABLE, &err) == NULL && err == MS_ERROR_INVALID_HANDLE, "realloc freed");
    CHECK(gmem_handle(h, &err) == NULL && err == MS_ERROR_INVALID_HANDLE, "GlobalHandle of freed");
}

static void test_discard(void)
{
    ms_status err = 0;
    void *h = gmem_alloc(G, MS_GMEM_MOVEABLE | MS_GMEM_DISCARDABLE, 0, &err);
    const uintptr_t *entry = (const uintptr_t *)h - 1;
    CHECK(h && entry[0] == 0xf && entry[1] == 0, "moveable discardable 0 bytes: born discarded");
    CHECK_EQ(gmem_flags(G, h, &err), MS_GMEM_DISCARDED | MS_GMEM_DISCARDABLE);
    CHECK_EQ(gmem_flags(L, h, &err), MS_GMEM_DISCARDED | MS_LMEM_DISCARDABLE);
    err = 0;
    CHECK(gmem_lock(h, &err) == NULL && err == MS_ERROR_DISCARDED, "lock of discarded: ERROR_DISCARDED");
    CHECK_EQ(gmem_size(h, &err), 0);
    CHECK(gmem_realloc(G, h, 10, MS_GMEM_MOVEABLE, &err) == h, "realloc brings it back");
    CHECK_EQ(gmem_size(h, &err), 10);
    CHECK_EQ(gmem_flags(G, h, &err), MS_GMEM_DISCARDABLE);
    gmem_free(h, &err);

    h = gmem_alloc(G, MS_GMEM_MOVEABLE | MS_GMEM_DDESHARE | MS_GMEM_DISCARDABLE, 1, &err);
    CHECK_EQ(((const uintptr_t *)h)[-1], 0x8007);
    CHECK_EQ(gmem_flags(G, h, &err), MS_GMEM_DISCARDABLE | MS_GMEM_DDESHARE);
    CHECK_EQ(gmem_flags(L, h, &err), MS_LMEM_DISCARDABLE);
    gmem_free(h, &err);

    /* GlobalDiscard = GlobalReAlloc(h, 0, GMEM_MOVEABLE): not while locked. */
    h = gmem_alloc(G, MS_GMEM_MOVEABLE, 100, &err);
    gmem_lock(h, &err);
    err = 0;
    CHECK(gmem_realloc(G, h, 0, MS_GMEM_MOVEABLE, &err) == NULL && err == MS_ERROR_INVALID_PARAMETER,
          "no discard while locked");
    gmem_unlock(G, h, &err);
    CHECK(gmem_realloc(G, h, 0, 0, &err) == NULL && err == MS_ERROR_INVALID_PARAMETER,
          "size 0 without GMEM_MOVEABLE");
    CHECK(gmem_realloc(G, h, 0, MS_GMEM_MOVEABLE, &err) == h, "discard");
    CHECK_EQ(gmem_flags(G, h, &err), MS_GMEM_DISCARDED);
    CHECK(*(void **)h == NULL, "discarded: no block");
    gmem_free(h, &err);
}

static void test_realloc(void)
{
    ms_status err = 0;
    /* Moveable: same handle, contents kept, growth zeroed on request. */
    void *h = gmem_alloc(G, MS_GMEM_MOVEABLE, 100, &err);
    unsigned char *p = gmem_lock(h, &err);
    memset(p, 0xAB, 100);
    /* Locked, without GMEM_MOVEABLE: only in place. */
    err = 0;
    CHECK(gmem_realloc(G, h, 100000, 0, &err) == NULL && err == MS_ERROR_NOT_ENOUGH_MEMORY,
          "locked block cannot move without GMEM_MOVEABLE");
    CHECK(gmem_realloc(G, h, 200000, MS_GMEM_MOVEABLE | MS_GMEM_ZEROINIT, &err) == h,
          "locked block moves with GMEM_MOVEABLE");
    unsigned char *q = *(unsigned char **)h;
    int kept = 1, zero = 1;
    for (int i = 0; i < 100; i++)
        kept &= q[i] == 0xAB;
    for (int i = 100; i < 200000; i++)
        zero &= q[i] == 0;
    CHECK(kept && zero, "contents kept, growth zeroed");
    CHECK_EQ(gmem_size(h, &err), 200000);
    CHECK_EQ(gmem_flags(G, h, &err), 1);
    CHECK(gmem_handle(q, &err) == h, "GlobalHandle of the moved block");
    gmem_unlock(G, h, &err);
    CHECK(gmem_realloc(G, h, 50, 0, &err) == h, "unlocked block may move without GMEM_MOVEABLE");
    CHECK_EQ(gmem_size(h, &err), 50);
    CHECK(gmem_realloc(G, h, 10, MS_GMEM_DISCARDABLE, &err) == NULL && err == MS_ERROR_INVALID_PARAMETER,
          "GMEM_DISCARDABLE without GMEM_MODIFY");
    CHECK(gmem_realloc(G, h, 0, MS_GMEM_MODIFY | MS_GMEM_DISCARDABLE, &err) == h, "GMEM_MODIFY: discardable");
    CHECK_EQ(gmem_flags(G, h, &err), MS_GMEM_DISCARDABLE);
    gmem_free(h, &err);

    /* Fixed: GMEM_MODIFY changes nothing; no resize without GMEM_MOVEABLE. */
    void *f = gmem_alloc(G, 0, 10, &err);
    CHECK(gmem_realloc(G, f, 9, MS_GMEM_MODIFY, &err) == f, "fixed + GMEM_MODIFY: same pointer");
    CHECK_EQ(gmem_size(f, &err), 10);
    err = 0;
    CHECK(gmem_realloc(G, f, 10, 0, &err) == NULL && err == MS_ERROR_NOT_ENOUGH_MEMORY,
          "fixed small block without GMEM_MOVEABLE");
    void *f2 = gmem_realloc(G, f, 11, MS_GMEM_MOVEABLE, &err);
    CHECK(f2 && gmem_classify(f2) == GMEM_POINTER && gmem_size(f2, &err) == 11, "fixed + GMEM_MOVEABLE: stays fixed");
    /* GlobalReAlloc(GMEM_MODIFY | GMEM_MOVEABLE) turns fixed into moveable;
     * LocalReAlloc does not. */
    CHECK(gmem_realloc(L, f2, 0, MS_GMEM_MODIFY | MS_GMEM_MOVEABLE, &err) == f2, "Local: stays fixed");
    void *h2 = gmem_realloc(G, f2, 0, MS_GMEM_MODIFY | MS_GMEM_MOVEABLE, &err);
    CHECK(h2 && gmem_classify(h2) == GMEM_HANDLE, "Global: becomes moveable");
    CHECK(gmem_lock(h2, &err) == f2, "same block behind the new handle");
    CHECK_EQ(gmem_size(h2, &err), 11);
    gmem_unlock(G, h2, &err);
    gmem_free(h2, &err);
    CHECK_EQ(gmem_classify(f2), GMEM_POINTER);
    err = 0;
    CHECK(gmem_size(f2, &err) == 0 && err == MS_ERROR_INVALID_HANDLE, "freeing the handle freed the block");

    /* Large fixed blocks resize in place without GMEM_MOVEABLE. */
    f = gmem_alloc(G, 0, 300000, &err);
    CHECK(gmem_realloc(G, f, 200000, 0, &err) == f, "large fixed block shrinks in place");
    gmem_free(f, &err);
}

static void test_garbage(void)
{
    ms_status err = 0;
    static char local_buffer[64] __attribute__((aligned(16)));
    CHECK_EQ(gmem_classify(NULL), GMEM_NOT_OURS);
    CHECK_EQ(gmem_classify((void *)(uintptr_t)0xdeadbee8), GMEM_NOT_OURS);
    CHECK_EQ(gmem_classify((void *)(uintptr_t)0xdeadbee0), GMEM_NOT_OURS);
    CHECK_EQ(gmem_classify(local_buffer), GMEM_NOT_OURS);
    CHECK_EQ(gmem_classify(local_buffer + 3), GMEM_NOT_OURS);
    /* A handle past the part of the table in use is refused, not read. */
    void *h = gmem_alloc(G, MS_GMEM_MOVEABLE, 1, &err);
    void *beyond = (char *)h + 16 * 1000;
    CHECK_EQ(gmem_classify(beyond), GMEM_STALE_HANDLE);
    err = 0;
    CHECK(gmem_lock(beyond, &err) == NULL && err == MS_ERROR_INVALID_HANDLE, "lock beyond the table in use");
    gmem_free(h, &err);
}

static void test_limit(void)
{
    ms_status err = 0;
    static void *handles[GMEM_MAX_HANDLES];
    size_t before = gmem_handles_in_use(), n = 0;
    while (n < GMEM_MAX_HANDLES && (handles[n] = gmem_alloc(L, MS_GMEM_MOVEABLE | MS_GMEM_DISCARDABLE, 0, &err)))
        n++;
    CHECK_EQ(n + before, GMEM_MAX_HANDLES);
    err = 0;
    CHECK(gmem_alloc(G, MS_GMEM_MOVEABLE, 0, &err) == NULL && err == MS_ERROR_NOT_ENOUGH_MEMORY,
          "65537th handle: ERROR_NOT_ENOUGH_MEMORY");
    void *f = gmem_alloc(G, MS_LMEM_DISCARDABLE, 0, &err);
    CHECK(f != NULL, "fixed memory still works");
    gmem_free(f, &err);
    int freed = 1;
    for (size_t i = 0; i < n; i++)
        freed &= gmem_free(handles[i], &err) == NULL;
    CHECK(freed, "all freed");
    CHECK_EQ(gmem_handles_in_use(), before);
}

static void *thread_main(void *arg)
{
    uintptr_t bad = 0;
    ms_status err;
    for (int i = 0; i < 20000; i++) {
        void *h = gmem_alloc(G, MS_GMEM_MOVEABLE, (size_t)(i % 200) + 1, &err);
        unsigned char *p = gmem_lock(h, &err);
        memset(p, (int)(uintptr_t)arg, (size_t)(i % 200) + 1);
        gmem_unlock(G, h, &err);
        h = gmem_realloc(G, h, (size_t)(i % 300) + 300, MS_GMEM_MOVEABLE, &err);
        p = gmem_lock(h, &err);
        for (int k = 0; k < (i % 200) + 1; k++)
            bad += p[k] != (unsigned char)(uintptr_t)arg;
        gmem_unlock(G, h, &err);
        bad += gmem_free(h, &err) != NULL;
    }
    return (void *)bad;
}

static void test_threads(void)
{
    pthread_t t[2];
    void *bad[2];
    for (uintptr_t i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, thread_main, (void *)(i + 0x31));
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], &bad[i]);
    CHECK(bad[0] == NULL && bad[1] == NULL, "two threads on handles: contents kept, every free succeeded");
    CHECK(heap_validate(heap_process(), 0, NULL), "process heap valid afterwards");
}

int main(void)
{
    test_fixed();
    test_moveable();
    test_discard();
    test_realloc();
    test_garbage();
    test_limit();
    test_threads();
    return unit_done();
}
