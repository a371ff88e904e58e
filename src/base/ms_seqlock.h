/*
 * ms_seqlock.h - a sequence count for data read far more often than it
 * changes (the address-space map, the sampled memory figures).
 *
 * Writers, serialised by a lock of their own, make the count odd before
 * changing anything and even again after. A reader copies what it needs
 * between two loads of the count and keeps the copy only if the count was
 * even and the same both times; so nothing a reader copies may be trusted
 * for memory safety before that check (follow no pointer it read unless
 * the pointee outlives every change).
 *
 * C11 style: relaxed odd store + release fence to begin writing, release
 * store to end; acquire load to begin reading, acquire fence + relaxed
 * load to validate. On x86-64 the fences are compiler barriers only.
 *
 * TSan has no model of fences (GCC refuses them under -fsanitize=thread)
 * nor of the validation: under it, ms_seq_read_begin always says no, so
 * every reader takes the writers' lock, and the count is kept all the same.
 */
#ifndef MS_SEQLOCK_H
#define MS_SEQLOCK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#if defined(__SANITIZE_THREAD__)
#define MS_SEQLOCK_READS 0
#define ms_seq_fence(order) ((void)0)
#else
#define MS_SEQLOCK_READS 1
#define ms_seq_fence(order) atomic_thread_fence(order)
#endif

/* With the writers' lock held. */
static inline void ms_seq_write_begin(_Atomic uint32_t *seq)
{
    atomic_store_explicit(seq, atomic_load_explicit(seq, memory_order_relaxed) + 1, memory_order_relaxed);
    ms_seq_fence(memory_order_release);
}

static inline void ms_seq_write_end(_Atomic uint32_t *seq)
{
    atomic_store_explicit(seq, atomic_load_explicit(seq, memory_order_relaxed) + 1, memory_order_release);
}

/* The count to read under, or false: a writer is inside (or TSan). */
static inline bool ms_seq_read_begin(_Atomic uint32_t *seq, uint32_t *count)
{
    *count = atomic_load_explicit(seq, memory_order_acquire);
    return MS_SEQLOCK_READS && !(*count & 1);
}

/* Whether what was read since ms_seq_read_begin gave `count` holds. */
static inline bool ms_seq_read_valid(_Atomic uint32_t *seq, uint32_t count)
{
    ms_seq_fence(memory_order_acquire);
    return atomic_load_explicit(seq, memory_order_relaxed) == count;
}

#endif
