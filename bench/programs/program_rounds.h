/*
 * program_rounds.h - the timing loop the bench's real programs share: run
 * a round ROUNDS times (argv[1], default 15), check that every round gives
 * the first one's checksum, print the median round as one JSON line like
 * the other cases. Only the C runtime and QueryPerformanceCounter.
 */
#ifndef PROGRAM_ROUNDS_H
#define PROGRAM_ROUNDS_H

#include <windows.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "../../include/memshim.h"

/* One round from the same start each time; returns its checksum and what
 * it made (*size, for the closing line). */
typedef uint64_t (*program_round_fn)(size_t *size);

static double program_now_ns(void)
{
    static LARGE_INTEGER freq;
    LARGE_INTEGER t;
    if (!freq.QuadPart)
        QueryPerformanceFrequency(&freq);
    QueryPerformanceCounter(&t);
    return (double)t.QuadPart * 1e9 / (double)freq.QuadPart;
}

static int program_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* `name` is the program's (the case is program_NAME); `size_what` says
 * what *size counts. Exit status 2 when a round differs. */
static int program_run_rounds(const char *name, const char *size_what, int argc, char **argv, program_round_fn round)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 15;
    if (rounds < 1 || rounds > 1000)
        rounds = 15;
    double ns[1000];
    uint64_t first_sum = 0;
    size_t size = 0;
    for (int r = 0; r < rounds; r++) {
        double t0 = program_now_ns();
        uint64_t sum = round(&size);
        ns[r] = program_now_ns() - t0;
        if (r == 0)
            first_sum = sum;
        else if (sum != first_sum) {
            fprintf(stderr, "%s: round %d differs\n", name, r);
            return 2;
        }
    }
    qsort(ns, (size_t)rounds, sizeof(ns[0]), program_cmp_double);
    fprintf(stderr, "%s: %zu %s, checksum %016llx\n", name, size, size_what, (unsigned long long)first_sum);
    printf("{\"case\": \"program_%s\", \"impl\": \"%s\", \"ns\": %.2f, \"min\": %.2f, \"max\": %.2f, \"samples\": %d}\n",
           name, memshim_is_active() ? "memshim" : "builtin", ns[rounds / 2], ns[0], ns[rounds - 1], rounds);
    return 0;
}

#endif
