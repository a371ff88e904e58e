/*
 * test_vm_write_watch.c - write watch from the kernel (userfaultfd WP_ASYNC
 * + PAGEMAP_SCAN): exact pages, kernel writes included, resets, recommits.
 * Also run as user nobody (unprivileged userfaultfd needs
 * UFFD_USER_MODE_ONLY). Skipped where the kernel lacks the features.
 */
#include <stdio.h>
#include <unistd.h>

#include "../../src/vm/vm.h"
#include "unit.h"

#define PAGE 4096

int main(void)
{
    CHECK_EQ(vm_init(0), MS_OK);
    if (!vm_write_watch_supported()) {
        uintptr_t a = 0;
        CHECK_EQ(vm_allocate(&a, PAGE, VM_MEM_RESERVE | VM_MEM_COMMIT | VM_MEM_WRITE_WATCH, VM_PAGE_READWRITE),
                 MS_ERROR_NOT_SUPPORTED);
        printf("# this kernel cannot track writes (userfaultfd WP_ASYNC + PAGEMAP_SCAN): only the refusal is tested\n");
        return unit_done();
    }
    uintptr_t a = 0;
    CHECK_EQ(vm_allocate(&a, 16 * PAGE, VM_MEM_RESERVE | VM_MEM_COMMIT | VM_MEM_WRITE_WATCH, VM_PAGE_READWRITE), MS_OK);
    uintptr_t pages[16];
    size_t n = 16;
    CHECK_EQ(vm_get_write_watch(a, 16 * PAGE, false, pages, &n), MS_OK);
    CHECK_EQ(n, 0);
    ((char *)a)[2 * PAGE] = 1;
    ((char *)a)[11 * PAGE + 5] = 1;
    /* A write by the kernel: read() from a pipe into page 7. */
    int fds[2];
    CHECK(pipe(fds) == 0 && write(fds[1], "abc", 3) == 3, "pipe");
    CHECK(read(fds[0], (char *)a + 7 * PAGE, 3) == 3, "read() into the region");
    close(fds[0]);
    close(fds[1]);
    n = 16;
    CHECK_EQ(vm_get_write_watch(a, 16 * PAGE, false, pages, &n), MS_OK);
    CHECK(n == 3 && pages[0] == a + 2 * PAGE && pages[1] == a + 7 * PAGE && pages[2] == a + 11 * PAGE,
          "pages 2, 7 (kernel write), 11: got %zu", n);
    n = 1;
    CHECK_EQ(vm_get_write_watch(a, 16 * PAGE, true, pages, &n), MS_OK);
    CHECK(n == 1 && pages[0] == a + 2 * PAGE, "one slot, reset");
    n = 16;
    CHECK_EQ(vm_get_write_watch(a, 16 * PAGE, false, pages, &n), MS_OK);
    CHECK_EQ(n, 2);
    CHECK_EQ(vm_reset_write_watch(a, 16 * PAGE), MS_OK);
    n = 16;
    CHECK_EQ(vm_get_write_watch(a, 16 * PAGE, false, pages, &n), MS_OK);
    CHECK_EQ(n, 0);
    /* Protection changes keep tracking. A write outlives its page's
     * decommit until a reset, as on Windows (Wine's tests run there), while
     * the page is reserved and after it is committed again. */
    uint32_t old;
    CHECK_EQ(vm_protect(a, 16 * PAGE, VM_PAGE_READWRITE, &old), MS_OK);
    ((char *)a)[4 * PAGE] = 1;
    uintptr_t d = a + 4 * PAGE;
    size_t size = PAGE;
    CHECK_EQ(vm_free(&d, &size, VM_MEM_DECOMMIT), MS_OK);
    n = 16;
    CHECK_EQ(vm_get_write_watch(a, 16 * PAGE, false, pages, &n), MS_OK);
    CHECK(n == 1 && pages[0] == a + 4 * PAGE, "a decommitted page keeps its write: got %zu", n);
    d = a + 4 * PAGE;
    CHECK_EQ(vm_allocate(&d, PAGE, VM_MEM_COMMIT, VM_PAGE_READWRITE), MS_OK);
    ((char *)a)[3 * PAGE] = 1;
    n = 16;
    CHECK_EQ(vm_get_write_watch(a, 16 * PAGE, false, pages, &n), MS_OK);
    CHECK(n == 2 && pages[0] == a + 3 * PAGE && pages[1] == a + 4 * PAGE,
          "recommitted: page 3 (the host's) and page 4 (kept), in order: got %zu", n);
    CHECK(vm_check_invariants() == NULL, "invariants with a kept write: %s", vm_check_invariants());
    /* A reset with room for one takes page 3 only; page 4's turn is next. */
    n = 1;
    CHECK_EQ(vm_get_write_watch(a, 16 * PAGE, true, pages, &n), MS_OK);
    CHECK(n == 1 && pages[0] == a + 3 * PAGE, "one slot, reset: page 3");
    n = 1;
    CHECK_EQ(vm_get_write_watch(a, 16 * PAGE, true, pages, &n), MS_OK);
    CHECK(n == 1 && pages[0] == a + 4 * PAGE, "one slot, reset: then page 4");
    n = 16;
    CHECK_EQ(vm_get_write_watch(a, 16 * PAGE, false, pages, &n), MS_OK);
    CHECK_EQ(n, 0);
    ((char *)a)[4 * PAGE] = 2;
    n = 16;
    CHECK_EQ(vm_get_write_watch(a, 16 * PAGE, false, pages, &n), MS_OK);
    CHECK(n == 1 && pages[0] == a + 4 * PAGE, "recommitted page tracked again");
    /* ResetWriteWatch forgets a kept write too. */
    d = a + 4 * PAGE;
    size = PAGE;
    CHECK_EQ(vm_free(&d, &size, VM_MEM_DECOMMIT), MS_OK);
    CHECK_EQ(vm_reset_write_watch(a, 16 * PAGE), MS_OK);
    n = 16;
    CHECK_EQ(vm_get_write_watch(a, 16 * PAGE, false, pages, &n), MS_OK);
    CHECK_EQ(n, 0);
    /* A kept write goes with its allocation: a new one at the same place
     * starts clean. */
    uintptr_t k = 0;
    CHECK_EQ(vm_allocate(&k, 4 * PAGE, VM_MEM_RESERVE | VM_MEM_COMMIT | VM_MEM_WRITE_WATCH, VM_PAGE_READWRITE), MS_OK);
    ((char *)k)[PAGE] = 1;
    d = k;
    size = 4 * PAGE;
    CHECK_EQ(vm_free(&d, &size, VM_MEM_DECOMMIT), MS_OK);
    uintptr_t kbase = k;
    size = 0;
    CHECK_EQ(vm_free(&k, &size, VM_MEM_RELEASE), MS_OK);
    k = kbase;
    CHECK_EQ(vm_allocate(&k, 4 * PAGE, VM_MEM_RESERVE | VM_MEM_COMMIT | VM_MEM_WRITE_WATCH, VM_PAGE_READWRITE), MS_OK);
    n = 16;
    CHECK(k == kbase && vm_get_write_watch(k, 4 * PAGE, false, pages, &n) == MS_OK && n == 0,
          "the same place, a new allocation: no write (%zu)", n);
    CHECK(vm_check_invariants() == NULL, "invariants: %s", vm_check_invariants());
    size = 0;
    CHECK_EQ(vm_free(&k, &size, VM_MEM_RELEASE), MS_OK);
    /* Not a write-watch allocation, or past its end: refused. */
    uintptr_t plain = 0;
    CHECK_EQ(vm_allocate(&plain, PAGE, VM_MEM_RESERVE | VM_MEM_COMMIT, VM_PAGE_READWRITE), MS_OK);
    n = 16;
    CHECK_EQ(vm_get_write_watch(plain, PAGE, false, pages, &n), MS_ERROR_INVALID_PARAMETER);
    CHECK_EQ(vm_get_write_watch(a, 17 * PAGE, false, pages, &n), MS_ERROR_INVALID_PARAMETER);
    CHECK_EQ(vm_reset_write_watch(plain, PAGE), MS_ERROR_INVALID_PARAMETER);
    size = 0;
    CHECK_EQ(vm_free(&plain, &size, VM_MEM_RELEASE), MS_OK);
    size = 0;
    CHECK_EQ(vm_free(&a, &size, VM_MEM_RELEASE), MS_OK);
    CHECK(vm_check_invariants() == NULL, "invariants");
    return unit_done();
}
