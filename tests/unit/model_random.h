/*
 * model_random.h - the random source of the model-based tests (test_vm_model,
 * test_heap_model): a seeded xorshift sequence, or, in their libFuzzer
 * builds (MEMSHIM_FUZZ), the fuzzer's bytes first, two per choice, so a
 * crash input replays the same operations.
 */
#ifndef MEMSHIM_MODEL_RANDOM_H
#define MEMSHIM_MODEL_RANDOM_H

#include <stddef.h>
#include <stdint.h>

static uint64_t rng;

#ifdef MEMSHIM_FUZZ
static const uint8_t *fuzz_data;
static size_t fuzz_left;
#endif

/* A choice in [0, n). */
static uint32_t rnd(uint32_t n)
{
#ifdef MEMSHIM_FUZZ
    if (fuzz_left >= 2) {
        uint32_t v = (uint32_t)fuzz_data[0] | (uint32_t)fuzz_data[1] << 8;
        fuzz_data += 2;
        fuzz_left -= 2;
        return v % n;
    }
#endif
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

#endif
