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
    DWORD protect;      /* the section's page protection (PAGE_*); 0 when not known: NtQuerySection does not tell */
};

/* DllMain, before other threads run: watches handle closes (NtClose,
 * NtDuplicateObject). If that cannot be done, the cache stays off. */
void section_cache_install(void);

/* Take a stamp before a server call whose handle is then remembered: the
 * entry is dropped if any handle was closed in between. */
unsigned int section_cache_stamp(void);

/* NtClose of a handle that is never a cached section's (a file handle
 * memshim made), not counted as a close: section_cache_stamp stays. */
NTSTATUS section_cache_close_unwatched(HANDLE handle);

/* `section` is a pagefile section with these facts. id: the file behind its
 * descriptor, or NULL when not known yet (then checked at the first find). */
void section_cache_remember(HANDLE section, const struct section_facts *facts,
                            const struct host_file_identity *id, unsigned int stamp);

/* `section` was made here, with `access` granted to the handle, and `fd`
 * is a descriptor of its file: the file memshim made for it (named NULL,
 * anonymous_section.c), or the one Wine's server gave for a section made or
 * opened by the name in `named`. The cache takes the descriptor (closed
 * when the handle is) and returns TRUE; FALSE (the caller keeps fd) when
 * the cache is off or a handle was closed since `stamp`. */
BOOL section_cache_adopt(HANDLE section, ACCESS_MASK access, const struct section_facts *facts,
                         const struct host_file_identity *id, int fd, const OBJECT_ATTRIBUTES *named,
                         unsigned int stamp);

/* NtOpenSection gave `section` for the name in attr, asking `access`: if a
 * handle made or opened by that name is open and known, the new handle is
 * the same section, and is known from now on too. */
void section_cache_opened(HANDLE section, ACCESS_MASK access, const OBJECT_ATTRIBUTES *attr, unsigned int stamp);

/* Whether `section` is a handle this process made over a file of its own. */
BOOL section_cache_is_anonymous(HANDLE section);

/* A new descriptor of `section`'s file, if memshim made the section and its
 * handle has every one of `rights` (then *facts is filled), else -1: the
 * mapping needs no request to Wine's server then. */
int section_cache_own_fd(HANDLE section, ACCESS_MASK rights, struct section_facts *facts);

/* The facts of `section`, whose descriptor is open on the file `id`: TRUE if
 * known for this handle, or for another open handle of the same section. */
BOOL section_cache_find(HANDLE section, const struct host_file_identity *id, unsigned int stamp,
                        struct section_facts *facts);

#endif
