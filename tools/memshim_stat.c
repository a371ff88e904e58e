/*
 * memshim_stat.c - `memshim stat PID|NAME [--watch]`: print the live
 * statistics a process running on memshim publishes in
 * /dev/shm/memshim-<pid> (include/memshim_live.h), in the layout of the
 * exit report of `memshim run --stats`.
 *
 * A native Linux program (built by meson as a native target). It maps the
 * page read-only and never writes it; the figures are read under the page's
 * sequence lock. PID is the Linux pid of the Wine process; a NAME is matched
 * against the program name of every page (with or without ".exe", any case).
 *
 * Exit status: 0 printed; 1 no such page, not a memshim page, or the
 * process is gone; 2 usage.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "memshim_live.h"

static const char *prog = "memshim stat";

static int usage(void)
{
    fprintf(stderr, "usage: %s PID|NAME [--watch]\n", prog);
    return 2;
}

/* Map the page of `pid`; NULL with a message on stderr if there is none. */
static const struct memshim_live_page *map_page(long pid, int quiet)
{
    char path[64];
    snprintf(path, sizeof path, "%s%ld", MEMSHIM_LIVE_PATH_PREFIX, pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (!quiet)
            fprintf(stderr, "%s: no live statistics for process %ld (%s: %s); run it with "
                            "`memshim run --stats` or MEMSHIM_LIVE=1\n", prog, pid, path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) || st.st_size < (off_t)sizeof(struct memshim_live_page)) {
        if (!quiet)
            fprintf(stderr, "%s: %s is not a memshim statistics page\n", prog, path);
        close(fd);
        return NULL;
    }
    void *p = mmap(NULL, sizeof(struct memshim_live_page), PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED) {
        fprintf(stderr, "%s: cannot map %s: %s\n", prog, path, strerror(errno));
        return NULL;
    }
    const struct memshim_live_page *page = p;
    uint64_t magic = __atomic_load_n(&page->magic, __ATOMIC_ACQUIRE);
    if (magic != MEMSHIM_LIVE_MAGIC || page->version != MEMSHIM_LIVE_VERSION) {
        if (!quiet)
            fprintf(stderr, "%s: %s is %s (version %u, this reader knows %u)\n", prog, path,
                    magic == MEMSHIM_LIVE_MAGIC ? "of another layout" : "not a complete memshim statistics page",
                    page->version, MEMSHIM_LIVE_VERSION);
        munmap(p, sizeof *page);
        return NULL;
    }
    return page;
}

static int process_runs(long pid)
{
    return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

/* A pid from NAME: the one page whose program matches. */
static long find_by_name(const char *name)
{
    DIR *dir = opendir("/dev/shm");
    if (!dir) {
        fprintf(stderr, "%s: /dev/shm: %s\n", prog, strerror(errno));
        return -1;
    }
    const char *base = strrchr(MEMSHIM_LIVE_PATH_PREFIX, '/') + 1;
    size_t base_len = strlen(base), name_len = strlen(name);
    long found = -1;
    int matches = 0;
    struct dirent *e;
    while ((e = readdir(dir))) {
        if (strncmp(e->d_name, base, base_len) || !isdigit((unsigned char)e->d_name[base_len]))
            continue;
        long pid = strtol(e->d_name + base_len, NULL, 10);
        const struct memshim_live_page *page = map_page(pid, 1);
        if (!page)
            continue;
        const char *p = page->program;
        size_t len = strnlen(p, MEMSHIM_LIVE_PROGRAM_MAX);
        int match = (len == name_len && !strncasecmp(p, name, len)) ||
                    (len == name_len + 4 && !strncasecmp(p, name, name_len) && !strncasecmp(p + name_len, ".exe", 4));
        if (match && process_runs(pid)) {
            if (matches++)
                fprintf(stderr, "%s: several processes run %s: %ld and %ld; give the pid\n", prog, name, found, pid);
            found = pid;
        }
        munmap((void *)page, sizeof *page);
    }
    closedir(dir);
    if (!matches)
        fprintf(stderr, "%s: no running process named %s publishes memshim statistics\n", prog, name);
    return matches == 1 ? found : -1;
}

static void read_figures(const struct memshim_live_page *page, struct memshim_live_figures *out)
{
    for (;;) {
        uint64_t before = __atomic_load_n(&page->seq, __ATOMIC_ACQUIRE);
        if (before & 1) {
            sched_yield();
            continue;
        }
        memcpy(out, (const void *)&page->figures, sizeof *out);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&page->seq, __ATOMIC_RELAXED) == before)
            return;
    }
}

static unsigned long long kib(uint64_t bytes)
{
    return (unsigned long long)(bytes >> 10);
}

static void print_page(const struct memshim_live_page *page)
{
    struct memshim_live_figures f;
    read_figures(page, &f);
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    uint64_t now_ns = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
    long long age_ms = now_ns > f.updated_ns ? (long long)((now_ns - f.updated_ns) / 1000000) : 0;
    printf("memshim stats (process %d, %.*s, live, figures %lld ms old):\n", page->linux_pid,
           (int)MEMSHIM_LIVE_PROGRAM_MAX, page->program, age_ms);
    printf("  %-22s %12s %10s\n", "function", "calls", "failed");
    unsigned n = page->function_count < MEMSHIM_LIVE_FUNCTIONS ? page->function_count : MEMSHIM_LIVE_FUNCTIONS;
    for (unsigned i = 0; i < n; i++) {
        const struct memshim_live_function *fn = &page->functions[i];
        uint64_t calls = __atomic_load_n(&fn->calls, __ATOMIC_RELAXED);
        if (calls)
            printf("  %-22.*s %12llu %10llu\n", (int)MEMSHIM_LIVE_NAME_MAX, fn->name, (unsigned long long)calls,
                   (unsigned long long)__atomic_load_n(&fn->failures, __ATOMIC_RELAXED));
    }
    printf("  committed %llu KiB now, %llu KiB peak; reserved %llu KiB; views %llu (%llu KiB)\n",
           kib(f.committed_bytes), kib(f.peak_committed_bytes), kib(f.reserved_bytes),
           (unsigned long long)f.views, kib(f.view_bytes));
    printf("  heaps: %llu private live; %llu KiB in use (process heap %llu KiB)\n",
           (unsigned long long)f.private_heaps, kib(f.heap_in_use), kib(f.process_heap_in_use));
    unsigned heaps = f.heap_count < MEMSHIM_LIVE_HEAPS ? f.heap_count : MEMSHIM_LIVE_HEAPS;
    for (unsigned i = 0; i < heaps; i++)
        printf("    %s %#llx: %llu blocks, %llu KiB in use; peak %llu blocks, %llu KiB\n",
               f.heaps[i].is_process_heap ? "process heap" : "heap", (unsigned long long)f.heaps[i].handle,
               (unsigned long long)f.heaps[i].blocks, kib(f.heaps[i].in_use),
               (unsigned long long)f.heaps[i].peak_blocks, kib(f.heaps[i].peak_in_use));
    if (f.heaps_live > heaps)
        printf("    ... and %u more heaps\n", f.heaps_live - heaps);
    printf("  host mappings: %lld\n", (long long)f.host_mappings);
}

int main(int argc, char **argv)
{
    const char *target = NULL;
    int watch = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--watch"))
            watch = 1;
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
            return usage(), 0;
        else if (argv[i][0] == '-' || target)
            return usage();
        else
            target = argv[i];
    }
    if (!target)
        return usage();
    char *end;
    long pid = strtol(target, &end, 10);
    if (*end || pid <= 0)
        pid = find_by_name(target);
    if (pid <= 0)
        return 1;
    const struct memshim_live_page *page = map_page(pid, 0);
    if (!page)
        return 1;
    if (!process_runs(pid)) {
        fprintf(stderr, "%s: process %ld is gone (it left %s%ld behind: it did not exit normally)\n", prog, pid,
                MEMSHIM_LIVE_PATH_PREFIX, pid);
        return 1;
    }
    if (!watch) {
        print_page(page);
        return 0;
    }
    char path[64];
    snprintf(path, sizeof path, "%s%ld", MEMSHIM_LIVE_PATH_PREFIX, pid);
    for (;;) {
        if (isatty(STDOUT_FILENO))
            fputs("\033[H\033[2J", stdout);
        print_page(page);
        fflush(stdout);
        sleep(1);
        if (access(path, F_OK) || !process_runs(pid)) {
            printf("process %ld has exited\n", pid);
            return 0;
        }
    }
}
