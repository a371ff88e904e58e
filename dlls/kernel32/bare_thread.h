/*
 * bare_thread.h - threads of memshim's that Wine does not know of
 * (bare_thread.c).
 */
#ifndef MEMSHIM_BARE_THREAD_H
#define MEMSHIM_BARE_THREAD_H

#include "private.h"

/* Run fn(arg) on a new bare host thread (host_spawn_bare_thread): it may
 * call only the core, the host layer and memshim code that calls nothing
 * of Wine's or of Windows' (its TEB is a stand-in: its own address, the
 * process's PEB, nothing else), every signal is blocked on it, and the
 * process ends without waiting for it. Its stack, TLS word and TEB are a
 * region of the core's for the life of the process. FALSE (with a WARN
 * naming `what`) when it cannot be made. */
BOOL memshim_bare_thread(void (*fn)(void *), void *arg, const char *what);

#endif
