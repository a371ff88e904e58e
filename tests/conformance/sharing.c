/*
 * Conformance: sections shared between two real processes.
 *
 * The program is its own child: `conformance_sharing.exe child SCENARIO
 * CONTROL [ARGS]` plays the other side of one scenario and reports through
 * its exit code (0 = every check held) and a message in the control block,
 * a small named section that also carries the child's kernel32 kind and
 * handle values. The parent prints the TAP lines.
 *
 * Scenarios: a named section shared both ways; an inherited handle; a handle
 * duplicated into the child; a child killed while it holds views; two
 * processes incrementing a counter in a section under a named mutex.
 *
 * Children inherit the parent's environment, so under the builtin runner
 * every process is builtin and under the memshim runner every process is
 * memshim. Mixed pairs (`mixed CONTROL`, driven by run-sharing-mixed): a
 * memshim parent whose children are Wine's builtin. Wine 8.0 picks a
 * child's kernel32 from the WINEDLLOVERRIDES of the Unix environment the
 * child's wine process inherits, not from the environment block given to
 * CreateProcess, so a memshim process cannot start a builtin one itself:
 * the script starts `spawner CONTROL` with kernel32=b in the same prefix
 * (hence the same wineserver), and the memshim parent asks it, through the
 * control block, to start each child; the parent then opens the child by
 * its process id.
 */
#include "harness.h"

#define COUNT_ROUNDS 3000
#define CHILD_TIMEOUT 60000

enum { KIND_NATIVE = 1, KIND_BUILTIN = 2, KIND_MEMSHIM = 3 };

struct control
{
    volatile LONG child_kind;
    volatile LONG64 handle;     /* a handle value in the child's table (dup scenario) */
    char msg[256];              /* the child's first failed check */
    char spawn_cmd[1024];       /* mixed runs: the command line for the spawner */
    volatile LONG spawn_pid;    /* the process it started (0: failed) */
    volatile LONG spawn_quit;
};

static struct control *ctl;
static HANDLE ready_ev, go_ev, spawn_ev, spawned_ev;
static char ctl_name[96];
static char exe_path[MAX_PATH];

static LONG own_kind(void)
{
    if (memshim_is_active()) return KIND_MEMSHIM;
    if (GetProcAddress(GetModuleHandleA("ntdll.dll"), "wine_get_version")) return KIND_BUILTIN;
    return KIND_NATIVE;
}

static const char *kind_name(LONG kind)
{
    return kind == KIND_MEMSHIM ? "memshim" : kind == KIND_BUILTIN ? "builtin" : kind == KIND_NATIVE ? "native" : "?";
}

/* "<control>-<suffix>" as an object name. */
static const char *derived(const char *suffix)
{
    static char buf[4][128];
    static int next;
    char *b = buf[next++ & 3];
    snprintf(b, sizeof(buf[0]), "%s-%s", ctl_name, suffix);
    return b;
}

/* ---- the child side ----------------------------------------------------- */

static int child_failed;
static void child_check(int cond, const char *what)
{
    if (!cond && !child_failed)
    {
        child_failed = 1;
        snprintf(ctl->msg, sizeof(ctl->msg), "%s (error %lu)", what, GetLastError());
    }
}

static HANDLE child_event(const char *suffix)
{
    HANDLE ev = OpenEventA(EVENT_ALL_ACCESS, FALSE, derived(suffix));
    child_check(ev != NULL, "OpenEventA");
    return ev;
}

static int child_wait(HANDLE ev)
{
    DWORD r = ev ? WaitForSingleObject(ev, CHILD_TIMEOUT) : WAIT_FAILED;
    child_check(r == WAIT_OBJECT_0, "wait for the parent");
    return r == WAIT_OBJECT_0;
}

/* Map a section, check the parent's text at 0, answer at 128; with events,
 * wait for the parent's second write at 256. */
static void child_use_section(HANDLE section, const char *expect)
{
    char *v = section ? MapViewOfFile(section, FILE_MAP_ALL_ACCESS, 0, 0, 0) : NULL;
    child_check(v != NULL, "MapViewOfFile in the child");
    if (!v) return;
    child_check(!strcmp(v, expect), "the child sees the parent's data");
    strcpy(v + 128, "from the child");
    child_check(UnmapViewOfFile(v), "UnmapViewOfFile in the child");
}

static int child_main(int argc, char **argv)
{
    const char *scenario = argv[2];
    HANDLE ctl_section;

    /* A crash must not start Wine's debugger and keep the parent waiting. */
    SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX);
    snprintf(ctl_name, sizeof(ctl_name), "%s", argv[3]);
    ctl_section = OpenFileMappingA(FILE_MAP_ALL_ACCESS, FALSE, ctl_name);
    if (!ctl_section) return 3;
    ctl = MapViewOfFile(ctl_section, FILE_MAP_ALL_ACCESS, 0, 0, 0);
    if (!ctl) return 4;
    ctl->child_kind = own_kind();

    if (!strcmp(scenario, "open") && argc >= 5)
    {
        /* Open the parent's named section; both ways, twice. */
        HANDLE ready = child_event("ready"), go = child_event("go");
        HANDLE h = OpenFileMappingA(FILE_MAP_ALL_ACCESS, FALSE, argv[4]);
        char *v = h ? MapViewOfFile(h, FILE_MAP_ALL_ACCESS, 0, 0, 0) : NULL;
        child_check(v != NULL, "OpenFileMappingA + MapViewOfFile in the child");
        if (v)
        {
            child_check(!strcmp(v, "from the parent"), "the child sees the parent's data");
            strcpy(v + 128, "from the child");
            SetEvent(ready);
            if (child_wait(go))
                child_check(!strcmp(v + 256, "the parent again"), "the child sees the parent's second write");
            strcpy(v + 384, "the child again");
            child_check(UnmapViewOfFile(v), "UnmapViewOfFile in the child");
        }
        else
            SetEvent(ready);
        if (h) CloseHandle(h);
    }
    else if (!strcmp(scenario, "create") && argc >= 5)
    {
        /* Make the named section; the parent opens it. */
        HANDLE ready = child_event("ready"), go = child_event("go");
        HANDLE h = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 2 * GRAN, argv[4]);
        char *v = h ? MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0) : NULL;
        child_check(h && GetLastError() == ERROR_SUCCESS, "CreateFileMappingA makes a new name in the child");
        child_check(v != NULL, "MapViewOfFile in the child");
        if (v) strcpy(v + GRAN, "made by the child");
        SetEvent(ready);
        if (v && child_wait(go))
            child_check(!strcmp(v + GRAN + 128, "the parent's answer"), "the child sees the parent's answer");
        if (v) UnmapViewOfFile(v);
        if (h) CloseHandle(h);
    }
    else if (!strcmp(scenario, "inherit") && argc >= 5)
    {
        HANDLE h = (HANDLE)(ULONG_PTR)strtoull(argv[4], NULL, 16);
        child_use_section(h, "inherited");
        child_check(CloseHandle(h), "CloseHandle of the inherited handle");
    }
    else if (!strcmp(scenario, "dup"))
    {
        HANDLE go = child_event("go");
        if (child_wait(go))
        {
            HANDLE h = (HANDLE)(ULONG_PTR)ctl->handle;
            child_use_section(h, "duplicated");
            child_check(CloseHandle(h), "CloseHandle of the duplicated handle");
        }
    }
    else if (!strcmp(scenario, "filewrite") && argc >= 5)
    {
        /* Write a file through a view and exit holding it: no unmap, no
         * flush, no CloseHandle. */
        HANDLE f = CreateFileA(argv[4], GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
                               OPEN_EXISTING, 0, NULL);
        HANDLE h = f != INVALID_HANDLE_VALUE ? CreateFileMappingA(f, NULL, PAGE_READWRITE, 0, 0, NULL) : NULL;
        char *v = h ? MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0) : NULL;
        child_check(v != NULL, "file view in the child");
        if (v) strcpy(v + 0x1000, "written by the child");
        ExitProcess(child_failed ? 1 : 0);
    }
    else if (!strcmp(scenario, "hold") && argc >= 5)
    {
        /* Hold two views and wait to be killed. */
        HANDLE ready = child_event("ready");
        HANDLE h = OpenFileMappingA(FILE_MAP_ALL_ACCESS, FALSE, argv[4]);
        char *v = h ? MapViewOfFile(h, FILE_MAP_ALL_ACCESS, 0, 0, 0) : NULL;
        char *r = h ? MapViewOfFile(h, FILE_MAP_READ, 0, GRAN, 0) : NULL;
        child_check(v && r, "two views in the child");
        if (v) strcpy(v + GRAN + 16, "the child was here");
        SetEvent(ready);
        Sleep(INFINITE);
    }
    else if (!strcmp(scenario, "count") && argc >= 7)
    {
        HANDLE ready = child_event("ready"), go = child_event("go");
        HANDLE h = OpenFileMappingA(FILE_MAP_ALL_ACCESS, FALSE, argv[4]);
        HANDLE mutex = OpenMutexA(SYNCHRONIZE | MUTEX_MODIFY_STATE, FALSE, argv[5]);
        volatile LONG *counter = h ? MapViewOfFile(h, FILE_MAP_ALL_ACCESS, 0, 0, 0) : NULL;
        int rounds = atoi(argv[6]);
        child_check(counter && mutex, "section and mutex in the child");
        SetEvent(ready);
        if (counter && mutex && child_wait(go))
        {
            for (int i = 0; i < rounds; i++)
            {
                if (WaitForSingleObject(mutex, CHILD_TIMEOUT) != WAIT_OBJECT_0) { child_check(0, "mutex"); break; }
                LONG seen = *counter;
                if (!(i & 7)) SwitchToThread();  /* widen the window a lost update would need */
                *counter = seen + 1;
                ReleaseMutex(mutex);
            }
        }
    }
    else
        child_check(0, "unknown scenario");
    return child_failed ? 1 : 0;
}

/* ---- the parent side ---------------------------------------------------- */

static BOOL start_child(const char *scenario, const char *args, BOOL inherit, BOOL builtin, DWORD flags,
                        PROCESS_INFORMATION *pi)
{
    char cmd[1024];
    STARTUPINFOA si;
    memset(&si, 0, sizeof(si));
    si.cb = sizeof(si);
    snprintf(cmd, sizeof(cmd), "\"%s\" child %s %s %s", exe_path, scenario, ctl_name, args);
    ctl->child_kind = 0;
    ctl->msg[0] = 0;
    if (builtin)
    {
        /* The builtin spawner starts it; the handle comes from its id. */
        memset(pi, 0, sizeof(*pi));
        strcpy(ctl->spawn_cmd, cmd);
        ctl->spawn_pid = 0;
        ResetEvent(spawned_ev);
        SetEvent(spawn_ev);
        if (WaitForSingleObject(spawned_ev, CHILD_TIMEOUT) != WAIT_OBJECT_0 || !ctl->spawn_pid) return FALSE;
        pi->dwProcessId = ctl->spawn_pid;
        pi->hProcess = OpenProcess(PROCESS_ALL_ACCESS, FALSE, ctl->spawn_pid);
        return pi->hProcess != NULL;
    }
    return CreateProcessA(NULL, cmd, NULL, NULL, inherit, flags, NULL, NULL, &si, pi);
}

/* Wait for the child; its exit code (~0 on timeout). */
static DWORD finish_child(PROCESS_INFORMATION *pi)
{
    DWORD code = ~0u;
    if (WaitForSingleObject(pi->hProcess, CHILD_TIMEOUT) == WAIT_OBJECT_0)
        GetExitCodeProcess(pi->hProcess, &code);
    else
        TerminateProcess(pi->hProcess, 99);
    CloseHandle(pi->hProcess);
    if (pi->hThread) CloseHandle(pi->hThread);
    return code;
}


static void reset_events(void)
{
    ResetEvent(ready_ev);
    ResetEvent(go_ev);
}

#define CHECK_CHILD(code, what) \
    ok((code) == 0, "%s: child (%s) exit code %lu: %s", what, kind_name(ctl->child_kind), (code), \
       ctl->msg[0] ? ctl->msg : "-")

/* (a) and (b): the parent's named section opened by a child, and a child's
 * named section opened by the parent; `builtin` makes the child builtin. */
static void test_named(BOOL builtin)
{
    const char *what = builtin ? "named, builtin child" : "named, same kind";
    const char *name = derived(builtin ? "named-b" : "named");
    char args[160];
    PROCESS_INFORMATION pi;
    HANDLE h;
    char *v;
    DWORD code;

    reset_events();
    h = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, GRAN, name);
    v = h ? MapViewOfFile(h, FILE_MAP_ALL_ACCESS, 0, 0, 0) : NULL;
    ok(v != NULL, "%s: section and view: error %lu", what, GetLastError());
    if (!v) return;
    strcpy(v, "from the parent");
    snprintf(args, sizeof(args), "%s", name);
    ok(start_child("open", args, FALSE, builtin, 0, &pi), "%s: CreateProcess: error %lu", what, GetLastError());
    ok(WaitForSingleObject(ready_ev, CHILD_TIMEOUT) == WAIT_OBJECT_0, "%s: child ready", what);
    ok(!strcmp(v + 128, "from the child"), "%s: the parent sees the child's write (%.20s)", what, v + 128);
    strcpy(v + 256, "the parent again");
    SetEvent(go_ev);
    code = finish_child(&pi);
    CHECK_CHILD(code, what);
    ok(!strcmp(v + 384, "the child again"), "%s: the parent sees the child's last write", what);
    ok(ctl->child_kind == (builtin ? KIND_BUILTIN : own_kind()), "%s: the child ran %s, expected %s", what,
       kind_name(ctl->child_kind), kind_name(builtin ? KIND_BUILTIN : own_kind()));
    UnmapViewOfFile(v);
    CloseHandle(h);

    /* The other direction: the child makes the name, the parent opens it. */
    reset_events();
    name = derived(builtin ? "made-b" : "made");
    snprintf(args, sizeof(args), "%s", name);
    ok(start_child("create", args, FALSE, builtin, 0, &pi), "%s: CreateProcess: error %lu", what, GetLastError());
    ok(WaitForSingleObject(ready_ev, CHILD_TIMEOUT) == WAIT_OBJECT_0, "%s: child ready", what);
    h = OpenFileMappingA(FILE_MAP_WRITE, FALSE, name);
    ok(h != NULL, "%s: OpenFileMappingA of the child's section: error %lu", what, GetLastError());
    v = h ? MapViewOfFile(h, FILE_MAP_WRITE, 0, GRAN, GRAN) : NULL;
    ok(v != NULL, "%s: view at 0x10000 of the child's section: error %lu", what, GetLastError());
    if (v)
    {
        ok(!strcmp(v, "made by the child"), "%s: the parent sees the child's data", what);
        strcpy(v + 128, "the parent's answer");
    }
    SetEvent(go_ev);
    code = finish_child(&pi);
    CHECK_CHILD(code, what);
    if (v)
    {
        ok(!strcmp(v, "made by the child"), "%s: the data outlives the child that made it", what);
        UnmapViewOfFile(v);
    }
    if (h) CloseHandle(h);
}

/* (c) an inherited handle of an unnamed section. */
static void test_inherit(void)
{
    SECURITY_ATTRIBUTES sa = {sizeof(sa), NULL, TRUE};
    PROCESS_INFORMATION pi;
    char args[64];
    HANDLE h = CreateFileMappingA(INVALID_HANDLE_VALUE, &sa, PAGE_READWRITE, 0, GRAN, NULL);
    char *v = h ? MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0) : NULL;
    DWORD flags = 0, code;
    ok(v != NULL, "inherit: section and view: error %lu", GetLastError());
    if (!v) return;
    ok(GetHandleInformation(h, &flags) && (flags & HANDLE_FLAG_INHERIT), "inherit: the handle is inheritable (%#lx)",
       flags);
    strcpy(v, "inherited");
    snprintf(args, sizeof(args), "%llx", (unsigned long long)(ULONG_PTR)h);
    ok(start_child("inherit", args, TRUE, FALSE, 0, &pi), "inherit: CreateProcess: error %lu", GetLastError());
    code = finish_child(&pi);
    CHECK_CHILD(code, "inherit");
    ok(!strcmp(v + 128, "from the child"), "inherit: the parent sees the child's write");
    UnmapViewOfFile(v);
    CloseHandle(h);
}

/* (d) DuplicateHandle of an unnamed, non-inheritable section into the child. */
static void test_duplicate(BOOL builtin)
{
    const char *what = builtin ? "dup, builtin child" : "dup";
    PROCESS_INFORMATION pi;
    HANDLE remote = NULL;
    HANDLE h = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, GRAN, NULL);
    char *v = h ? MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0) : NULL;
    DWORD code;
    ok(v != NULL, "%s: section and view: error %lu", what, GetLastError());
    if (!v) return;
    strcpy(v, "duplicated");
    reset_events();
    ok(start_child("dup", "", FALSE, builtin, 0, &pi), "%s: CreateProcess: error %lu", what, GetLastError());
    ok(DuplicateHandle(GetCurrentProcess(), h, pi.hProcess, &remote, 0, FALSE, DUPLICATE_SAME_ACCESS),
       "%s: DuplicateHandle into the child: error %lu", what, GetLastError());
    ctl->handle = (LONG64)(ULONG_PTR)remote;
    SetEvent(go_ev);
    code = finish_child(&pi);
    CHECK_CHILD(code, what);
    ok(!strcmp(v + 128, "from the child"), "%s: the parent sees the child's write", what);
    UnmapViewOfFile(v);
    CloseHandle(h);
}

/* (e) a child killed while it holds two views. */
static void test_killed(BOOL builtin)
{
    const char *what = builtin ? "killed, builtin child" : "killed";
    const char *name = derived(builtin ? "hold-b" : "hold");
    char args[160];
    PROCESS_INFORMATION pi;
    HANDLE h = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 2 * GRAN, name), h2;
    char *v = h ? MapViewOfFile(h, FILE_MAP_ALL_ACCESS, 0, 0, 0) : NULL, *v2;
    DWORD code = 0;
    ok(v != NULL, "%s: section and view: error %lu", what, GetLastError());
    if (!v) return;
    strcpy(v, "kept by the parent");
    reset_events();
    snprintf(args, sizeof(args), "%s", name);
    ok(start_child("hold", args, FALSE, builtin, 0, &pi), "%s: CreateProcess: error %lu", what, GetLastError());
    ok(WaitForSingleObject(ready_ev, CHILD_TIMEOUT) == WAIT_OBJECT_0, "%s: child ready", what);
    ok(ctl->msg[0] == 0, "%s: the child mapped its views (%s)", what, ctl->msg);
    ok(TerminateProcess(pi.hProcess, 42), "%s: TerminateProcess: error %lu", what, GetLastError());
    ok(WaitForSingleObject(pi.hProcess, CHILD_TIMEOUT) == WAIT_OBJECT_0, "%s: the child is gone", what);
    GetExitCodeProcess(pi.hProcess, &code);
    ok(code == 42, "%s: exit code %lu", what, code);
    CloseHandle(pi.hProcess);
    if (pi.hThread) CloseHandle(pi.hThread);

    ok(!strcmp(v, "kept by the parent"), "%s: the parent's view is intact", what);
    ok(!strcmp(v + GRAN + 16, "the child was here"), "%s: the killed child's write stays in the section", what);
    v[GRAN + 32] = 'x';
    h2 = OpenFileMappingA(FILE_MAP_READ, FALSE, name);
    ok(h2 != NULL, "%s: the name still opens: error %lu", what, GetLastError());
    v2 = h2 ? MapViewOfFile(h2, FILE_MAP_READ, 0, 0, 0) : NULL;
    ok(v2 && !strcmp(v2, "kept by the parent") && v2[GRAN + 32] == 'x', "%s: a new view shows the section", what);
    if (v2) UnmapViewOfFile(v2);
    if (h2) CloseHandle(h2);
    UnmapViewOfFile(v);
    CloseHandle(h);
}

/* A child's writes through a view of a file reach the file, though it
 * exits without unmapping or flushing. */
static void test_file_after_exit(BOOL builtin)
{
    const char *what = builtin ? "file after exit, builtin child" : "file after exit";
    char dir[MAX_PATH], path[MAX_PATH], buf[32];
    PROCESS_INFORMATION pi;
    DWORD done, code;
    HANDLE f;
    GetTempPathA(MAX_PATH, dir);
    GetTempFileNameA(dir, "msx", 0, path);
    f = CreateFileA(path, GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, CREATE_ALWAYS, 0,
                    NULL);
    ok(f != INVALID_HANDLE_VALUE, "%s: create: error %lu", what, GetLastError());
    if (f == INVALID_HANDLE_VALUE) return;
    SetFilePointer(f, 0x3000, NULL, FILE_BEGIN);
    SetEndOfFile(f);
    ok(start_child("filewrite", path, FALSE, builtin, 0, &pi), "%s: CreateProcess: error %lu", what,
       GetLastError());
    code = finish_child(&pi);
    CHECK_CHILD(code, what);
    memset(buf, 0, sizeof(buf));
    SetFilePointer(f, 0x1000, NULL, FILE_BEGIN);
    ok(ReadFile(f, buf, 21, &done, NULL) && done == 21 && !strcmp(buf, "written by the child"),
       "%s: ReadFile sees what the exited child wrote through its view (%.21s)", what, buf);
    CloseHandle(f);
    ok(DeleteFileA(path), "%s: DeleteFileA: error %lu", what, GetLastError());
}

/* (f) parent and child each add COUNT_ROUNDS to a counter in a section,
 * read-modify-write under a named mutex: no update is lost. */
static void test_counter(BOOL builtin)
{
    const char *what = builtin ? "counter, builtin child" : "counter, same kind";
    const char *name = derived(builtin ? "count-b" : "count"), *mutex_name = derived(builtin ? "mutex-b" : "mutex");
    char args[256];
    PROCESS_INFORMATION pi;
    HANDLE h = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, GRAN, name);
    HANDLE mutex = CreateMutexA(NULL, FALSE, mutex_name);
    volatile LONG *counter = h ? MapViewOfFile(h, FILE_MAP_ALL_ACCESS, 0, 0, 0) : NULL;
    DWORD code;
    int i;
    ok(counter && mutex, "%s: section, view and mutex: error %lu", what, GetLastError());
    if (!counter || !mutex) return;
    reset_events();
    snprintf(args, sizeof(args), "%s %s %d", name, mutex_name, COUNT_ROUNDS);
    ok(start_child("count", args, FALSE, builtin, 0, &pi), "%s: CreateProcess: error %lu", what, GetLastError());
    ok(WaitForSingleObject(ready_ev, CHILD_TIMEOUT) == WAIT_OBJECT_0, "%s: child ready", what);
    SetEvent(go_ev);
    for (i = 0; i < COUNT_ROUNDS; i++)
    {
        if (WaitForSingleObject(mutex, CHILD_TIMEOUT) != WAIT_OBJECT_0) break;
        LONG seen = *counter;
        if (!(i & 7)) SwitchToThread();
        *counter = seen + 1;
        ReleaseMutex(mutex);
    }
    code = finish_child(&pi);
    CHECK_CHILD(code, what);
    ok(i == COUNT_ROUNDS, "%s: the parent ran %d rounds", what, i);
    ok(*counter == 2 * COUNT_ROUNDS, "%s: counter %ld, expected %d", what, *counter, 2 * COUNT_ROUNDS);
    ok(ctl->child_kind == (builtin ? KIND_BUILTIN : own_kind()), "%s: the child ran %s", what,
       kind_name(ctl->child_kind));
    UnmapViewOfFile((void *)counter);
    CloseHandle(h);
    CloseHandle(mutex);
}

/* The control block and the events, made or opened by name. */
static BOOL open_control(void)
{
    HANDLE section = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, sizeof(*ctl), ctl_name);
    ctl = section ? MapViewOfFile(section, FILE_MAP_ALL_ACCESS, 0, 0, 0) : NULL;
    ready_ev = CreateEventA(NULL, TRUE, FALSE, derived("ready"));
    go_ev = CreateEventA(NULL, TRUE, FALSE, derived("go"));
    spawn_ev = CreateEventA(NULL, FALSE, FALSE, derived("spawn"));
    spawned_ev = CreateEventA(NULL, TRUE, FALSE, derived("spawned"));
    return ctl && ready_ev && go_ev && spawn_ev && spawned_ev;
}

/* Mixed runs: a builtin process that starts the children the memshim
 * parent asks for (they inherit its kernel32=b). Each child's handle is
 * kept until the next request, so that the parent can still open an
 * early-exiting child by its id. */
static int spawner_main(void)
{
    HANDLE up = CreateEventA(NULL, TRUE, FALSE, derived("spawner-up")), last = NULL;
    if (!open_control() || !up) return 3;
    SetEvent(up);
    while (WaitForSingleObject(spawn_ev, 120000) == WAIT_OBJECT_0 && !ctl->spawn_quit)
    {
        STARTUPINFOA si;
        PROCESS_INFORMATION pi;
        memset(&si, 0, sizeof(si));
        si.cb = sizeof(si);
        if (last) CloseHandle(last);
        last = NULL;
        if (CreateProcessA(NULL, ctl->spawn_cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi))
        {
            last = pi.hProcess;
            CloseHandle(pi.hThread);
            ctl->spawn_pid = pi.dwProcessId;
        }
        SetEvent(spawned_ev);
    }
    if (last) CloseHandle(last);
    return 0;
}

int main(int argc, char **argv)
{
    BOOL mixed = argc >= 3 && !strcmp(argv[1], "mixed");
    HANDLE spawner_up = NULL;
    if (argc >= 4 && !strcmp(argv[1], "child"))
        return child_main(argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "noop"))
        return 0;   /* run-sharing-mixed: make sure the prefix is ready */
    if (argc >= 3 && !strcmp(argv[1], "spawner"))
    {
        SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX);
        snprintf(ctl_name, sizeof(ctl_name), "%s", argv[2]);
        return spawner_main();
    }

    harness_init();
    GetModuleFileNameA(NULL, exe_path, sizeof(exe_path));
    if (mixed)
        snprintf(ctl_name, sizeof(ctl_name), "%s", argv[2]);
    else
        snprintf(ctl_name, sizeof(ctl_name), "Local\\memshim-sharing-%lu", GetCurrentProcessId());
    if (mixed)
        spawner_up = CreateEventA(NULL, TRUE, FALSE, derived("spawner-up"));
    if (!ok(open_control(), "control section and events: error %lu", GetLastError()))
        return harness_done();

    if (mixed)
    {
        ok(is_memshim(), "the mixed parent runs memshim");
        ok(WaitForSingleObject(spawner_up, CHILD_TIMEOUT) == WAIT_OBJECT_0, "the builtin spawner is up");
        test_named(TRUE);
        test_duplicate(TRUE);
        test_killed(TRUE);
        test_file_after_exit(TRUE);
        test_counter(TRUE);
        ctl->spawn_quit = 1;
        SetEvent(spawn_ev);
        return harness_done();
    }
    test_named(FALSE);
    test_inherit();
    test_duplicate(FALSE);
    test_killed(FALSE);
    test_file_after_exit(FALSE);
    test_counter(FALSE);
    return harness_done();
}
