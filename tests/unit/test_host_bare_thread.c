/*
 * test_host_bare_thread.c - host_spawn_bare_thread (src/host/host_linux.c),
 * natively: a thread made by a raw clone runs fn(arg) on the stack it was
 * given, sees its own Linux thread pointer (host_thread_key: the TLS
 * word's self address) and its own GS base (the stand-in TEB's self word
 * at 0x30, as memshim's code under Wine reads it), has every signal
 * blocked, and exits by itself; the caller's signal mask and thread key
 * are as before. Plain build only: the sanitizers' runtimes cannot run
 * code on a thread they did not see made.
 */
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "../../src/host/host.h"
#include "unit.h"

struct bare_result {
    _Atomic uint32_t done;              /* futex word */
    uintptr_t key;
    uintptr_t gs_self;
    uintptr_t stack_mark;
    uint64_t sigmask;
    unsigned sum;
};

static void bare_body(void *arg)
{
    struct bare_result *r = arg;
    uintptr_t self;
    __asm__("movq %%gs:0x30, %0" : "=r"(self));
    r->gs_self = self;
    r->key = host_thread_key();
    r->stack_mark = (uintptr_t)&self;
    /* The mask from /proc/self/status would need libc; rt_sigprocmask with
     * no new set reads it (raw: no errno, no libc). */
    uint64_t mask = 0;
    int64_t ret = 14;                   /* rt_sigprocmask(SIG_BLOCK, NULL, &mask, 8) */
    register int64_t size __asm__("r10") = 8;
    __asm__ volatile("syscall" : "+a"(ret) : "D"(0L), "S"(0L), "d"(&mask), "r"(size) : "rcx", "r11", "memory");
    r->sigmask = ret == 0 ? mask : 0;
    unsigned sum = 0;
    for (unsigned i = 1; i <= 1000; i++)
        sum += i;
    r->sum = sum;
    atomic_store(&r->done, 1);
    host_futex_wake((volatile uint32_t *)&r->done, 1);
}

static void test_bare_thread(void)
{
    enum { STACK = 64 << 10, TEB = 8 << 10 };
    uint8_t *region = mmap(NULL, STACK + TEB + 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(region != MAP_FAILED, "region");
    if (region == MAP_FAILED)
        return;
    uint8_t *teb = region + STACK, *tls = teb + TEB;
    *(uintptr_t *)(teb + 0x30) = (uintptr_t)teb;
    *(uintptr_t *)tls = (uintptr_t)tls;
    static struct bare_result r;
    uintptr_t my_key = host_thread_key();
    sigset_t before, after;
    sigprocmask(SIG_SETMASK, NULL, &before);
    int st = host_spawn_bare_thread(bare_body, &r, teb, tls, teb);
    sigprocmask(SIG_SETMASK, NULL, &after);
    CHECK_EQ(st, 0);
    for (int i = 0; i < 1000 && !atomic_load(&r.done); i++)
        host_futex_wait_timeout((volatile uint32_t *)&r.done, 0, 10000000u);
    CHECK(atomic_load(&r.done) == 1, "the thread ran");
    CHECK_EQ(r.sum, 500500u);
    CHECK(r.key == (uintptr_t)tls, "its thread key is its TLS word (%#lx, %p)", (unsigned long)r.key, (void *)tls);
    CHECK(r.gs_self == (uintptr_t)teb, "its GS base is its TEB (%#lx, %p)", (unsigned long)r.gs_self, (void *)teb);
    CHECK(r.stack_mark > (uintptr_t)region && r.stack_mark < (uintptr_t)teb, "it ran on the stack it was given");
    /* (The kernel keeps SIGKILL and SIGSTOP out of any mask.) */
    CHECK((r.sigmask | (1ull << 8) | (1ull << 18)) == ~0ull, "every signal blocked on it (mask %#llx)",
          (unsigned long long)r.sigmask);
    CHECK(host_thread_key() == my_key && !memcmp(&before, &after, sizeof before),
          "the caller's thread key and signal mask are as before");
}

int main(void)
{
    test_bare_thread();
    return unit_done();
}
