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

/* Reads the arguments and seeds the generator; returns the step count. */
static int differential_start(int argc, char **argv, int default_steps)
{
    rng = argc > 2 ? strtoull(argv[2], NULL, 0) * 0x9E3779B97F4A7C15ull + 1 : 88172645463325252ull;
    explore = argc > 3 && !strcmp(argv[3], "explore");
    return argc > 1 ? atoi(argv[1]) : default_steps;
}

#endif
