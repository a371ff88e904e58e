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

#include <stdatomic.h>
#include <stdbool.h>
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

/* The body of a spin-wait: tells the core that this is one, so that the
 * sibling thread and the pipeline are not starved by the loop. */
#if defined(__x86_64__) || defined(__i386__)
#define bench_cpu_relax() __builtin_ia32_pause()
#else
#define bench_cpu_relax() atomic_signal_fence(memory_order_seq_cst)
#endif

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

/* Two sides of a measurement sampled in turns (0, 1, 1, 0, ...): on a
 * shared VM whose speed moves by tens of percent from one second or minute
 * to the next, two medians taken apart compare two machines, while each
 * round's ratio compares one. Side k runs case c[k] after select(k) (NULL:
 * nothing to select). Prints each side's row as bench_run_case does
 * (impl[k]), then the ratio's: the median of the rounds' side num / the
 * other side, with their min and max. */
static void bench_run_in_turns(const struct bench_case *const c[2], const char *const impl[2], void (*select)(int k),
                               int num, const char *ratio_case, const char *ratio_impl)
{
    enum { MAX_SAMPLES = 31 };
    double ns[2][MAX_SAMPLES], ratio[MAX_SAMPLES];
    int samples = bench_quick ? 3 : 11;
    for (int k = 0; k < 2; k++) {
        size_t n = bench_quick ? c[k]->n_quick : c[k]->n_full;
        if (select)
            select(k);
        bench_rng_state = 0x9E3779B97F4A7C15ull;
        c[k]->run(n > 4 ? n / 4 : 1);           /* warm-up */
    }
    for (int s = 0; s < samples; s++) {
        for (int turn = 0; turn < 2; turn++) {
            int k = (s & 1) ? 1 - turn : turn;
            size_t n = bench_quick ? c[k]->n_quick : c[k]->n_full;
            if (select)
                select(k);
            bench_rng_state = 0x9E3779B97F4A7C15ull;
            uint64_t t0 = bench_now_ns();
            c[k]->run(n);
            uint64_t t1 = bench_now_ns();
            ns[k][s] = (double)(t1 - t0) / (double)n;
        }
        ratio[s] = ns[num][s] / ns[1 - num][s];
    }
    for (int k = 0; k < 2; k++) {
        qsort(ns[k], (size_t)samples, sizeof(double), bench_cmp_double);
        printf("{\"case\": \"%s\", \"impl\": \"%s\", \"ns\": %.2f, \"min\": %.2f, \"max\": %.2f, \"samples\": %d}\n",
               c[k]->name, impl[k], ns[k][samples / 2], ns[k][0], ns[k][samples - 1], samples);
    }
    qsort(ratio, (size_t)samples, sizeof(double), bench_cmp_double);
    printf("{\"case\": \"%s\", \"impl\": \"%s\", \"ratio\": %.4f, \"min\": %.4f, \"max\": %.4f, \"samples\": %d}\n",
           ratio_case, ratio_impl, ratio[samples / 2], ratio[0], ratio[samples - 1], samples);
    fflush(stdout);
}

/* Two cases whose ratio is a figure of its own, run in turns by
 * bench_main: the heap's two-thread scaling is one thread's time per pair
 * over two threads' (each thread doing half the pairs), and on this VM one
 * thread's small pairs moved between 26 and 36 ns from one sample to the
 * next. Asking for either case, or the ratio by name, runs all three rows. */
static const struct { const char *a, *b, *ratio; } bench_turns[] = {
    { "heap_small_pairs", "heap_two_threads", "heap_scaling" },
};

/* The case of that name in the table, or NULL. */
static const struct bench_case *bench_find(const struct bench_case *cases, size_t count, const char *name)
{
    for (size_t i = 0; i < count; i++)
        if (!strcmp(cases[i].name, name))
            return &cases[i];
    return NULL;
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
    for (size_t i = 0; i < count; i++) {
        bool in_turns = false;
        for (size_t t = 0; t < sizeof(bench_turns) / sizeof(bench_turns[0]); t++) {
            const struct bench_case *a = bench_find(cases, count, bench_turns[t].a);
            const struct bench_case *b = bench_find(cases, count, bench_turns[t].b);
            if (!a || !b || (&cases[i] != a && &cases[i] != b))
                continue;
            in_turns = true;
            if (&cases[i] == a && (!only || !strcmp(only, a->name) || !strcmp(only, b->name) ||
                                   !strcmp(only, bench_turns[t].ratio))) {
                const struct bench_case *const both[2] = { a, b };
                const char *const impl[2] = { bench_impl, bench_impl };
                bench_run_in_turns(both, impl, NULL, 0, bench_turns[t].ratio, bench_impl);
            }
        }
        if (!in_turns)
            bench_run_case(&cases[i], only);
    }
}

#define BENCH_COUNT(a) (sizeof(a) / sizeof((a)[0]))

#endif
