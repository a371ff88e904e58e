/*
 * section_cache.h - what MapViewOfFile needs to know about a pagefile
 * section without asking Wine's server (see section_cache.c).
 */
#ifndef MEMSHIM_SECTION_CACHE_H
#define MEMSHIM_SECTION_CACHE_H

#include "private.h"
#include "../../src/host/host.h"

/* What NtQuerySection(SectionBasicInformation) answers and the core uses. */
struct section_facts {
    uint64_t size;
    DWORD attributes;   /* SEC_* */
};

/* DllMain, before other threads run: watches handle closes (NtClose,
 * NtDuplicateObject). If that cannot be done, the cache stays off. */
void section_cache_install(void);

/* Take a stamp before a server call whose handle is then remembered: the
 * entry is dropped if any handle was closed in between. */
unsigned int section_cache_stamp(void);

/* `section` is a pagefile section with these facts. id: the file behind its
 * descriptor, or NULL when not known yet (then checked at the first find). */
void section_cache_remember(HANDLE section, const struct section_facts *facts,
                            const struct host_file_identity *id, unsigned int stamp);

/* The facts of `section`, whose descriptor is open on the file `id`: TRUE if
 * known for this handle, or for another open handle of the same section. */
BOOL section_cache_find(HANDLE section, const struct host_file_identity *id, unsigned int stamp,
                        struct section_facts *facts);

#endif
