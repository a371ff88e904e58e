/*
 * anonymous_file_pool.h - the files of unnamed sections, made ahead and
 * their file handles closed after, off the caller's thread (see
 * anonymous_file_pool.c).
 */
#ifndef MEMSHIM_ANONYMOUS_FILE_POOL_H
#define MEMSHIM_ANONYMOUS_FILE_POOL_H

#include "private.h"
#include "../../src/host/host.h"

/* The memfds' name: /proc/PID/fd shows "/memfd:memshim-section (deleted)". */
#define ANONYMOUS_FILE_NAME "memshim-section"

struct anonymous_file {
    int fd;                         /* an empty memfd, not sealed yet */
    HANDLE handle;                  /* Wine's file handle of it, for NtCreateSection */
    struct host_file_identity id;   /* its device and inode (size 0) */
};

/* DllMain: finds wine_server_fd_to_handle. FALSE when ntdll lacks it (then
 * anonymous_file_take always fails). */
BOOL anonymous_file_pool_install(void);

/* A new file: a spare made ahead if one is ready, else one made now. FALSE
 * when none can be made. The caller sizes and seals file->fd
 * (host_seal_anonymous_file_size), owns it, and gives file->handle back to
 * anonymous_file_retire. */
BOOL anonymous_file_take(struct anonymous_file *file);

/* The file handle is not needed any more (the section holds the file):
 * closed by the pool's worker, or here when the worker is behind. */
void anonymous_file_retire(HANDLE handle);

#endif
