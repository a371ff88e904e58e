/*
 * Conformance: file mappings used by several threads at once, and nothing
 * leaked on the host.
 *
 * Four threads create pagefile, named and file-backed sections, map, write,
 * query, flush and unmap views, close section handles before and after
 * their views, and hand views to each other through shared slots (a view is
 * often unmapped by a thread that did not map it). Reserve-only sections
 * made and closed through ntdll take handle values other threads' sections
 * just freed, and must still map as reserve-only (memshim remembers the
 * size and attributes of pagefile sections by handle). Every check is made by
 * the thread itself; failures are counted and reported by the main thread.
 *
 * Leaks: the process's host mappings (lines of /proc/PID/maps) and
 * descriptors (entries of /proc/PID/fd), read through Wine's Z: drive, are
 * counted after a warm-up round (arenas, heaps, caches grown; the threads
 * exist and wait) and again after three more rounds, each once it has
 * stopped moving (memshim's spare section files are made by a worker
 * thread). Descriptors must match exactly; mappings within a small slack
 * (neighbouring host mappings may merge or split once); a leak of one mapping or descriptor per view would
 * show up as thousands.
 */
#include "harness.h"

#define THREADS 4
#define ITERATIONS 150
#define SLOTS 8
#define MAPS_SLACK 16

static volatile LONG failures;
static char first_failure[256];
static void *volatile slots[SLOTS];
static HANDLE start_ev[THREADS], done_ev[THREADS], quit_ev;
static HANDLE files[THREADS];
static LONG(WINAPI *nt_create_section)(HANDLE *, ACCESS_MASK, void *, LARGE_INTEGER *, ULONG, ULONG, HANDLE);
static LONG(WINAPI *nt_close)(HANDLE);

static void fail(const char *what, int thread, int iter)
{
    if (InterlockedIncrement(&failures) == 1)
        snprintf(first_failure, sizeof(first_failure), "thread %d iteration %d: %s (error %lu)", thread, iter, what,
                 GetLastError());
}
#define CHECK(cond, what) do { if (!(cond)) fail(what, id, iter); } while (0)

static int is_view(const void *p, SIZE_T size)
{
    MEMORY_BASIC_INFORMATION mbi;
    return VirtualQuery(p, &mbi, sizeof(mbi)) == sizeof(mbi) && mbi.AllocationBase == p && mbi.Type == MEM_MAPPED &&
           mbi.State == MEM_COMMIT && mbi.RegionSize == size;
}

static void one_round(int id)
{
    char name[96];
    for (int iter = 0; iter < ITERATIONS; iter++)
    {
        SIZE_T size = GRAN * (1 + iter % 3);
        HANDLE h = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, (DWORD)size, NULL);
        unsigned char *w = h ? MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0) : NULL;
        unsigned char *r = h ? MapViewOfFile(h, FILE_MAP_READ, 0, 0, GRAN) : NULL;
        CHECK(w && r, "pagefile section and two views");
        if (w && r)
        {
            w[id * 16 + iter % 16] = (unsigned char)iter;
            CHECK(r[id * 16 + iter % 16] == (unsigned char)iter, "the read view sees the write");
            CHECK(is_view(w, size) && is_view(r, GRAN), "VirtualQuery of both views");
        }
        /* Every other time the section handle goes first. */
        if (iter & 1) CloseHandle(h);
        if (r) CHECK(UnmapViewOfFile(r), "UnmapViewOfFile");
        /* Hand the write view to the slots; unmap whatever was there. */
        if (w)
        {
            void *old = InterlockedExchangePointer((void *volatile *)&slots[(id + iter) % SLOTS], w);
            if (old) CHECK(UnmapViewOfFile(old), "UnmapViewOfFile of another thread's view");
        }
        if (!(iter & 1) && h) CloseHandle(h);

        /* A reserve-only section of the same size, made and closed by ntdll. */
        {
            HANDLE rs = NULL;
            LARGE_INTEGER max;
            MEMORY_BASIC_INFORMATION mbi;
            max.QuadPart = (LONGLONG)size;
            CHECK(!nt_create_section(&rs, SECTION_ALL_ACCESS, NULL, &max, PAGE_READWRITE, SEC_RESERVE, NULL),
                  "NtCreateSection SEC_RESERVE");
            void *v = rs ? MapViewOfFile(rs, FILE_MAP_WRITE, 0, 0, 0) : NULL;
            CHECK(v && VirtualQuery(v, &mbi, sizeof(mbi)) == sizeof(mbi) && mbi.State == MEM_RESERVE &&
                  mbi.RegionSize == size, "a view of a SEC_RESERVE section is reserved, whole");
            if (v) CHECK(UnmapViewOfFile(v), "UnmapViewOfFile of the reserved view");
            if (rs) nt_close(rs);
        }

        /* A named section opened by name. */
        snprintf(name, sizeof(name), "Local\\memshim-mapthreads-%lu-%d", GetCurrentProcessId(), id);
        h = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, GRAN, name);
        {
            HANDLE o = OpenFileMappingA((iter & 1) ? FILE_MAP_ALL_ACCESS : FILE_MAP_READ, FALSE, name);
            unsigned char *v = o ? MapViewOfFile(o, FILE_MAP_READ, 0, 0, 0) : NULL;
            CHECK(h && o && v, "named section opened and mapped");
            if (v) CHECK(is_view(v, GRAN), "VirtualQuery of the named view");
            if (v) CHECK(UnmapViewOfFile(v), "UnmapViewOfFile of the named view");
            if (o) CloseHandle(o);
        }
        if (h) CloseHandle(h);

        /* The thread's file, through a section of its first 64 KiB. */
        h = CreateFileMappingA(files[id], NULL, PAGE_READWRITE, 0, GRAN, NULL);
        {
            unsigned char *v = h ? MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0) : NULL;
            CHECK(v != NULL, "file section and view");
            /* Every other time the handle goes first: the view then holds
             * the file on its own. */
            if ((iter & 1) && h) { CloseHandle(h); h = NULL; }
            if (v)
            {
                v[iter % GRAN] = 'x';
                CHECK(FlushViewOfFile(v + (iter % 16) * 0x1000, 0x1000), "FlushViewOfFile");
                CHECK(UnmapViewOfFile(v), "UnmapViewOfFile of the file view");
            }
        }
        if (h) CloseHandle(h);
    }
}

static DWORD WINAPI worker(void *arg)
{
    int id = (int)(ULONG_PTR)arg;
    HANDLE wait[2] = {quit_ev, start_ev[id]};
    /* One round per start signal, until quit. */
    while (WaitForMultipleObjects(2, wait, FALSE, INFINITE) == WAIT_OBJECT_0 + 1)
    {
        one_round(id);
        SetEvent(done_ev[id]);
    }
    return 0;
}

static void run_round(void)
{
    for (int i = 0; i < THREADS; i++) SetEvent(start_ev[i]);
    WaitForMultipleObjects(THREADS, done_ev, TRUE, INFINITE);
    /* Empty the slots: every view made in the round is gone after it. */
    for (int i = 0; i < SLOTS; i++)
    {
        void *v = InterlockedExchangePointer((void *volatile *)&slots[i], NULL);
        if (v && !UnmapViewOfFile(v)) InterlockedIncrement(&failures);
    }
}

/* The Linux process id. Not "self": Wine's server opens files for its
 * clients, so /proc/self would be the wineserver. PE code under Wine may
 * make Linux system calls itself (getpid is 39 on x86-64). */
static char proc_dir[64];
static BOOL find_proc_dir(void)
{
#if defined(__x86_64__)
    long long pid;
    __asm__ volatile("syscall" : "=a"(pid) : "a"(39LL) : "rcx", "r11", "memory");
    snprintf(proc_dir, sizeof(proc_dir), "Z:\\proc\\%lld", pid);
    return pid > 0;
#else
    return FALSE;
#endif
}

/* Lines of /proc/PID/maps (the host's mappings of this process). */
static long count_maps(void)
{
    char path[96];
    snprintf(path, sizeof(path), "%s\\maps", proc_dir);
    HANDLE f = CreateFileA(path, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
    static char buf[1 << 16];
    DWORD got;
    long lines = 0;
    if (f == INVALID_HANDLE_VALUE) return -1;
    while (ReadFile(f, buf, sizeof(buf), &got, NULL) && got)
        for (DWORD i = 0; i < got; i++) lines += buf[i] == '\n';
    CloseHandle(f);
    return lines;
}

/* Entries of /proc/PID/fd (the host descriptors of this process). */
static long count_fds(void)
{
    WIN32_FIND_DATAA fd;
    char path[96];
    snprintf(path, sizeof(path), "%s\\fd\\*", proc_dir);
    HANDLE find = FindFirstFileA(path, &fd);
    long n = 0;
    if (find == INVALID_HANDLE_VALUE) return -1;
    do
        if (strcmp(fd.cFileName, ".") && strcmp(fd.cFileName, "..")) n++;
    while (FindNextFileA(find, &fd));
    FindClose(find);
    return n;
}

int main(void)
{
    HANDLE threads[THREADS];
    char dir[MAX_PATH], path[THREADS][MAX_PATH];
    long maps0, fds0, maps1, fds1;

    harness_init();
    HMODULE ntdll = GetModuleHandleA("ntdll.dll");
    nt_create_section = (void *)GetProcAddress(ntdll, "NtCreateSection");
    nt_close = (void *)GetProcAddress(ntdll, "NtClose");
    if (!ok(nt_create_section && nt_close, "ntdll's NtCreateSection and NtClose"))
        return harness_done();
    GetTempPathA(MAX_PATH, dir);
    quit_ev = CreateEventA(NULL, TRUE, FALSE, NULL);
    for (int i = 0; i < THREADS; i++)
    {
        GetTempFileNameA(dir, "mst", 0, path[i]);
        files[i] = CreateFileA(path[i], GENERIC_READ | GENERIC_WRITE, 0, NULL, CREATE_ALWAYS,
                               FILE_FLAG_DELETE_ON_CLOSE, NULL);
        start_ev[i] = CreateEventA(NULL, FALSE, FALSE, NULL);
        done_ev[i] = CreateEventA(NULL, FALSE, FALSE, NULL);
        threads[i] = CreateThread(NULL, 0, worker, (void *)(ULONG_PTR)i, 0, NULL);
        ok(files[i] != INVALID_HANDLE_VALUE && threads[i], "thread %d and its file: error %lu", i, GetLastError());
    }

    run_round();    /* warm-up */
    if (!is_wine() || !find_proc_dir())
    {
        skip("host mapping and descriptor counts need Wine on Linux x86-64");
        SetEvent(quit_ev);
        WaitForMultipleObjects(THREADS, threads, TRUE, INFINITE);
        ok(failures == 0, "%ld failed checks in the threads; first: %s", failures, failures ? first_failure : "-");
        return harness_done();
    }
    maps0 = count_maps();
    fds0 = harness_settled_count(count_fds, -1);
    ok(maps0 > 0 && fds0 > 0, "/proc/self/maps has %ld lines, /proc/self/fd %ld entries", maps0, fds0);
    for (int round = 0; round < 3; round++) run_round();
    maps1 = count_maps();
    fds1 = harness_settled_count(count_fds, fds0);

    ok(failures == 0, "%ld failed checks in the threads; first: %s", failures, failures ? first_failure : "-");
    ok(fds1 == fds0, "host descriptors before %ld, after %ld", fds0, fds1);
    ok(maps1 >= maps0 - MAPS_SLACK && maps1 <= maps0 + MAPS_SLACK, "host mappings before %ld, after %ld", maps0,
       maps1);
    trace("%d threads x %d iterations x 4 rounds; maps %ld -> %ld, fds %ld -> %ld", THREADS, ITERATIONS, maps0, maps1,
          fds0, fds1);

    SetEvent(quit_ev);
    WaitForMultipleObjects(THREADS, threads, TRUE, INFINITE);
    for (int i = 0; i < THREADS; i++)
    {
        CloseHandle(threads[i]);
        CloseHandle(files[i]);
    }
    return harness_done();
}
