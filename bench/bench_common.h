/*
 * bench_common.h - what the Windows and the native benchmark programs share:
 * sampling, the median, a fixed random sequence, and the output format.
 *
 * Every case is a function that runs `n` operations and returns how many it
 * ran. A case is run in samples of n operations; each sample is timed, and
 * the case reports the median ns/op with min and max, as one JSON line:
 *   {"case": "...", "impl": "...", "ns": M, "min": A, "max": B, "samples": S}
 * Cases validate every API result and abort the program with a message on
 * the first failure, so nothing that failed is ever timed.
 * The including file defines bench_now_ns() before including this header.
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t bench_now_ns(void);

struct bench_case {
    const char *name;
    void (*run)(size_t n);      /* n operations; aborts on any failure */
    size_t n_full, n_quick;     /* operations per sample */
};

static int bench_quick;
static const char *bench_impl = "?";

#define BENCH_CHECK(cond, ...)                                                  \
    do {                                                                        \
        if (!(cond)) {                                                          \
            fprintf(stderr, "bench: %s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                       \
            fprintf(stderr, "\n");                                              \
            exit(3);                                                            \
        }                                                                       \
    } while (0)

/* xorshift64*: the same sequence everywhere, for the randomized cases. */
static uint64_t bench_rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t bench_rand(void)
{
    bench_rng_state ^= bench_rng_state >> 12;
    bench_rng_state ^= bench_rng_state << 25;
    bench_rng_state ^= bench_rng_state >> 27;
    return bench_rng_state * 0x2545F4914F6CDD1Dull;
}

static int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void bench_run_case(const struct bench_case *c, const char *only)
{
    enum { MAX_SAMPLES = 31 };
    double ns[MAX_SAMPLES];
    int samples = bench_quick ? 3 : 11;
    size_t n = bench_quick ? c->n_quick : c->n_full;
    if (only && strcmp(only, c->name) != 0)
        return;
    bench_rng_state = 0x9E3779B97F4A7C15ull;
    c->run(n > 4 ? n / 4 : 1);                  /* warm-up */
    for (int s = 0; s < samples; s++) {
        bench_rng_state = 0x9E3779B97F4A7C15ull;
        uint64_t t0 = bench_now_ns();
        c->run(n);
        uint64_t t1 = bench_now_ns();
        ns[s] = (double)(t1 - t0) / (double)n;
    }
    qsort(ns, (size_t)samples, sizeof(ns[0]), bench_cmp_double);
    printf("{\"case\": \"%s\", \"impl\": \"%s\", \"ns\": %.2f, \"min\": %.2f, \"max\": %.2f, \"samples\": %d}\n",
           c->name, bench_impl, ns[samples / 2], ns[0], ns[samples - 1], samples);
    fflush(stdout);
}

/* argv: [--quick] [CASE] */
static void bench_main(const struct bench_case *cases, size_t count, int argc, char **argv)
{
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick"))
            bench_quick = 1;
        else
            only = argv[i];
    }
    for (size_t i = 0; i < count; i++)
        bench_run_case(&cases[i], only);
}

#define BENCH_COUNT(a) (sizeof(a) / sizeof((a)[0]))

#endif
