/*
 * anonymous_section.h - unnamed pagefile sections over files of our own
 * (see anonymous_section.c).
 */
#ifndef MEMSHIM_ANONYMOUS_SECTION_H
#define MEMSHIM_ANONYMOUS_SECTION_H

#include "private.h"

/* DllMain, before other threads run: hooks NtQuerySection. If that cannot
 * be done, anonymous_section_create always declines. */
void anonymous_section_install(void);

/* NtCreateSection of an unnamed SEC_COMMIT pagefile section of `size`
 * bytes, made over an anonymous file of ours. Returns the handle; or NULL
 * with *status set when Wine refused the section; or NULL with
 * STATUS_SUCCESS when this way is closed (the caller goes Wine's way). */
HANDLE anonymous_section_create(ACCESS_MASK access, OBJECT_ATTRIBUTES *attr, uint64_t size, DWORD protect,
                                NTSTATUS *status);

#endif
