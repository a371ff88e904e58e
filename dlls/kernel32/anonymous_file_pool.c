/*
 * anonymous_file_pool.c - the files of unnamed sections, made ahead of
 * time, and their file handles closed afterwards, by a worker thread
 * instead of the program's.
 *
 * An unnamed pagefile section (anonymous_section.c) costs four wineserver
 * requests: alloc_file_handle (the memfd becomes a file handle, the only
 * way Wine's server takes a file), create_mapping, close_handle of that
 * file handle, and, when the program is done, close_handle of the section.
 * Only create_mapping and the section's close are the program's business:
 * the file handle must exist before create_mapping and is useless right
 * after it. So a worker keeps SPARES_WANTED spare files ready (a memfd
 * still empty and unsealed, and its file handle) and closes the file
 * handles that sections no longer need; CreateFileMapping takes a spare,
 * sizes and seals it, and makes one request. When no spare is ready (the
 * first section of a process, a burst) the caller makes the file itself,
 * as before; when no worker can be had, callers do everything.
 *
 * The worker is one thread of memshim's, started at the first unnamed
 * section and sleeping on a futex between jobs (it ends after a second
 * without one, and the next job makes another), rather than ntdll's thread
 * pool: a pool adds threads when its worker is busy, and each Wine thread
 * holds host descriptors, so the process's descriptors would come and go
 * with the pool's mood; ours are a fixed cost.
 *
 * Costs: the same requests in all, off the program's thread; one thread
 * (and its descriptors) per process that has made an unnamed section; up
 * to SPARES_WANTED open file handles of empty memfds (no memory); up to
 * RETIRED_MAX handles waiting to be closed.
 *
 * Invariants:
 * - A spare's memfd is empty and has never been mapped or handed out: each
 *   file serves one section, whose data starts as zeros.
 * - Every retired handle is closed exactly once: by the worker, or by the
 *   caller when the queue is full or there is no worker.
 * - Handles are closed through the unwatched NtClose: a file handle is
 *   never a cached section, and a close the section cache counted would
 *   make a concurrent CreateFileMapping's descriptor unkeepable.
 *
 * Thread safety: pool_lock guards the spares and the retired queue, and is
 * never held across a request or a system call. No caller ever waits for
 * the worker: CreateFileMapping may run under the loader lock, which the
 * new thread needs for its DLL_THREAD_ATTACH.
 */
#include "anonymous_file_pool.h"
#include "section_cache.h"
#include "../../src/base/ms_lock.h"

#define SPARES_WANTED 2
#define RETIRED_MAX 16

typedef NTSTATUS(CDECL *fd_to_handle_fn)(int, unsigned int, unsigned int, HANDLE *);

static fd_to_handle_fn fd_to_handle;
static ms_mutex pool_lock = MS_MUTEX_INIT;
static struct anonymous_file spares[SPARES_WANTED];
static unsigned int spare_count;
static HANDLE retired[RETIRED_MAX];
static unsigned int retired_count;
enum { WORKER_NONE, WORKER_STARTING, WORKER_RUNNING, WORKER_IMPOSSIBLE };
static int worker_state;
static uint32_t work_posted;    /* futex word: bumped for every job */

BOOL anonymous_file_pool_install(void)
{
    fd_to_handle = (fd_to_handle_fn)ntdll_proc("wine_server_fd_to_handle");
    return fd_to_handle != NULL;
}

static BOOL make_file(struct anonymous_file *file)
{
    int fd = host_create_anonymous_file(ANONYMOUS_FILE_NAME);
    if (fd < 0)
        return FALSE;
    /* Not inheritable (no OBJ_INHERIT): a child gets the section, if
     * anything, never its file. */
    if (host_fd_identity(fd, &file->id) ||
        fd_to_handle(fd, FILE_READ_DATA | FILE_WRITE_DATA | FILE_EXECUTE | SYNCHRONIZE, 0, &file->handle)) {
        host_close(fd);
        return FALSE;
    }
    file->fd = fd;
    return TRUE;
}

static void close_retired(void)
{
    HANDLE closing[RETIRED_MAX];
    ms_mutex_lock(&pool_lock);
    unsigned int n = retired_count;
    memcpy(closing, retired, n * sizeof(*closing));
    retired_count = 0;
    ms_mutex_unlock(&pool_lock);
    for (unsigned int i = 0; i < n; i++)
        section_cache_close_unwatched(closing[i]);
}

static void refill_spares(void)
{
    for (;;) {
        ms_mutex_lock(&pool_lock);
        BOOL short_of_spares = spare_count < SPARES_WANTED;
        ms_mutex_unlock(&pool_lock);
        struct anonymous_file file;
        /* A failure is not retried until the next job. */
        if (!short_of_spares || !make_file(&file))
            return;
        ms_mutex_lock(&pool_lock);
        BOOL kept = spare_count < SPARES_WANTED;
        if (kept)
            spares[spare_count++] = file;
        ms_mutex_unlock(&pool_lock);
        if (!kept) {
            section_cache_close_unwatched(file.handle);
            host_close(file.fd);
        }
    }
}

/* A worker with no job for this long ends (a new one is made for the next
 * job): a process whose own threads have all exited ends with its last
 * thread, and ours must not keep it alive. */
#define WORKER_IDLE_EXIT_NS 1000000000u

static DWORD WINAPI pool_worker(void *context)
{
    (void)context;
    for (;;) {
        /* A job posted after this load changes the word, so the wait
         * below returns at once: none is missed. */
        uint32_t seen = __atomic_load_n(&work_posted, __ATOMIC_SEQ_CST);
        close_retired();
        refill_spares();
        host_futex_wait_timeout(&work_posted, seen, WORKER_IDLE_EXIT_NS);
        if (__atomic_load_n(&work_posted, __ATOMIC_SEQ_CST) != seen)
            continue;
        /* Nothing came (or a spurious wake-up: then this ends early, and
         * the next job makes a worker). Gone before the last look at the
         * jobs, as post_job counts its job before it looks at the state:
         * one of the two sees the other. */
        __atomic_store_n(&worker_state, WORKER_NONE, __ATOMIC_SEQ_CST);
        int none = WORKER_NONE;
        if (__atomic_load_n(&work_posted, __ATOMIC_SEQ_CST) == seen ||
            !__atomic_compare_exchange_n(&worker_state, &none, WORKER_RUNNING, FALSE, __ATOMIC_SEQ_CST,
                                         __ATOMIC_SEQ_CST))
            return memshim_thread_exit_code();  /* the process's, should this be its last thread */
    }
}

/* Wakes the worker, starting it if there is none; FALSE when none can be
 * had (then the caller does the work). */
static BOOL post_job(void)
{
    __atomic_fetch_add(&work_posted, 1, __ATOMIC_SEQ_CST);
    int state = __atomic_load_n(&worker_state, __ATOMIC_SEQ_CST);
    if (state == WORKER_NONE &&
        __atomic_compare_exchange_n(&worker_state, &state, WORKER_STARTING, FALSE, __ATOMIC_SEQ_CST,
                                    __ATOMIC_SEQ_CST)) {
        HANDLE thread = NULL;
        NTSTATUS status = RtlCreateUserThread(CURRENT_PROCESS, NULL, FALSE, 0, 0, 0, pool_worker, NULL, &thread,
                                              NULL);
        if (status)
            WARN("no worker thread (status %08lx): section files are made and closed by their callers\n",
                 (unsigned long)status);
        else
            NtClose(thread);
        state = status ? WORKER_IMPOSSIBLE : WORKER_RUNNING;
        __atomic_store_n(&worker_state, state, __ATOMIC_SEQ_CST);
    }
    if (state == WORKER_IMPOSSIBLE)
        return FALSE;
    /* Looked at again: a thread still being made finds the job when it
     * starts, and a sleeping one is woken. */
    if (__atomic_load_n(&worker_state, __ATOMIC_SEQ_CST) == WORKER_RUNNING)
        host_futex_wake(&work_posted, 1);
    return TRUE;
}

BOOL anonymous_file_take(struct anonymous_file *file)
{
    if (!fd_to_handle)
        return FALSE;
    ms_mutex_lock(&pool_lock);
    BOOL ready = spare_count != 0;
    if (ready)
        *file = spares[--spare_count];
    ms_mutex_unlock(&pool_lock);
    post_job();
    return ready || make_file(file);
}

void anonymous_file_retire(HANDLE handle)
{
    ms_mutex_lock(&pool_lock);
    BOOL queued = retired_count < RETIRED_MAX;
    if (queued)
        retired[retired_count++] = handle;
    ms_mutex_unlock(&pool_lock);
    if (!queued)
        section_cache_close_unwatched(handle);
    else if (!post_job())
        close_retired();
}
