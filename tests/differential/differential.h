/*
 * differential.h - what the differential programs share: their arguments
 * (STEPS SEED [explore]) and the seeded generator, an xorshift64 whose
 * sequence is the same under both kernel32s, so both runs make the same
 * calls in the same order.
 */
#ifndef MEMSHIM_DIFFERENTIAL_H
#define MEMSHIM_DIFFERENTIAL_H

#include "harness.h"

static unsigned long long rng;
static int explore;     /* also make the calls known to differ */

static unsigned rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)rng;
}

/* A size from one of n bands, each as likely: base plus a random part
 * below spread. */
struct size_band {
    SIZE_T base, spread;
};
static inline SIZE_T random_size_in(const struct size_band *bands, unsigned n)
{
    const struct size_band *band = &bands[rnd() % n];
    return band->base + rnd() % band->spread;
}

/* Reads the arguments and seeds the generator; returns the step count. */
static int differential_start(int argc, char **argv, int default_steps)
{
    rng = argc > 2 ? strtoull(argv[2], NULL, 0) * 0x9E3779B97F4A7C15ull + 1 : 88172645463325252ull;
    explore = argc > 3 && !strcmp(argv[3], "explore");
    return argc > 1 ? atoi(argv[1]) : default_steps;
}

#endif
