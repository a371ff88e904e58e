/*
 * file_view_hold.h - keeping a file from being cut under the core's views
 * (see file_view_hold.c).
 */
#ifndef MEMSHIM_FILE_VIEW_HOLD_H
#define MEMSHIM_FILE_VIEW_HOLD_H

#include "private.h"

/* A view of the file section `section` (whose descriptor is fd) is being
 * mapped by the core: the token to keep as the view's owner. */
void *file_view_mapped(HANDLE section, int fd);
/* The view with this token is gone (or its mapping failed). NULL is fine. */
void file_view_unmapped(void *token);
/* CloseHandle is about to close `handle`. */
void file_view_before_close(HANDLE handle);

/* In mapping.c: the host descriptor behind a section handle, -1 if none. */
int section_unix_fd(HANDLE section, unsigned int access);
/* In mapping.c: addr is in a view the core mapped from a file section. */
BOOL mapping_is_file_view(uintptr_t addr);

#endif
