/*
 * cpu_scaling.c - how much faster two threads can be than one on this
 * machine, measured without any allocator: the ceiling the heap's
 * two-thread scaling target is judged against.
 *
 * Two loops, each run by one thread twice in a row and then by two threads
 * at once (same total work); scaling = serial time / parallel time.
 *  - latency-bound: one chain of dependent integer operations, which
 *    leaves most of a core's execution units idle;
 *  - throughput-bound: six independent chains, which keep them busy, as an
 *    allocator's fast path (loads, stores, branches, arithmetic side by
 *    side) does.
 * On two real cores both reach ~2x. If the two CPUs a virtual machine sees
 * share one physical core (SMT siblings on the host), the first still
 * reaches ~2x and the second stays well below: then no allocator's
 * throughput can scale further than that here.
 *
 * Prints one JSON line per loop, as native_bench does:
 *   {"case": "cpu_scaling_latency", "impl": "machine", "ns": <parallel ns
 *    per iteration>, "scaling": <serial / parallel>}
 * Usage: cpu_scaling [--quick]
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static long iterations = 200000000;
static volatile uint64_t sink;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

#define XORSHIFT(v) ((v) ^= (v) << 13, (v) ^= (v) >> 7, (v) ^= (v) << 17)

static void *latency_loop(void *arg)
{
    uint64_t x = (uintptr_t)arg | 1;
    for (long i = 0; i < iterations; i++)
        XORSHIFT(x);
    sink = x;
    return NULL;
}

static void *throughput_loop(void *arg)
{
    uint64_t a = (uintptr_t)arg | 1, b = a * 3, c = a * 5, d = a * 7, e = a * 9, f = a * 11;
    for (long i = 0; i < iterations / 2; i++) {
        XORSHIFT(a);
        XORSHIFT(b);
        XORSHIFT(c);
        XORSHIFT(d);
        XORSHIFT(e);
        XORSHIFT(f);
    }
    sink = a + b + c + d + e + f;
    return NULL;
}

static void measure(const char *name, void *(*loop)(void *))
{
    double best_serial = 1e30, best_parallel = 1e30;
    for (int round = 0; round < 3; round++) {
        double t0 = now();
        loop((void *)1);
        loop((void *)2);
        double t1 = now();
        pthread_t a, b;
        if (pthread_create(&a, NULL, loop, (void *)1) || pthread_create(&b, NULL, loop, (void *)2)) {
            fprintf(stderr, "cpu_scaling: pthread_create failed\n");
            return;
        }
        pthread_join(a, NULL);
        pthread_join(b, NULL);
        double t2 = now();
        if (t1 - t0 < best_serial)
            best_serial = t1 - t0;
        if (t2 - t1 < best_parallel)
            best_parallel = t2 - t1;
    }
    printf("{\"case\": \"%s\", \"impl\": \"machine\", \"ns\": %.3f, \"scaling\": %.2f}\n", name,
           best_parallel * 1e9 / (double)(2 * iterations), best_serial / best_parallel);
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--quick"))
        iterations /= 10;
    measure("cpu_scaling_latency", latency_loop);
    measure("cpu_scaling_throughput", throughput_loop);
    return 0;
}
