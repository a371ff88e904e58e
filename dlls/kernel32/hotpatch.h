/*
 * hotpatch.h - see hotpatch.c.
 */
#ifndef MEMSHIM_HOTPATCH_H
#define MEMSHIM_HOTPATCH_H

/* Send calls of `fn` (module!name, for traces) to `hook`. *original receives a trampoline that runs
 * the original function - before the patch is live, since the hook may be
 * entered at once. Returns false (with an ERR trace, *original untouched)
 * when the entry cannot be patched. */
bool hotpatch(const char *module, const char *name, void *fn, void *hook, void **original);
/* The same for an export of ntdll, by name. */
bool hotpatch_export(const char *name, void *hook, void **original);

#endif
