/*
 * Conformance: reads from pipes land in every kind of memory a program
 * owns - heap blocks (process heap, private heap, the C runtime's malloc),
 * VirtualAlloc pages, section views (shared and copy-on-write) - for
 * ReadFile on an anonymous pipe, overlapped ReadFile on a named pipe
 * (completed after it pends), PeekNamedPipe and TransactNamedPipe. A
 * buffer the program made read-only or decommitted fails the read with
 * ERROR_NOACCESS and the data stays in the pipe; given back its access,
 * the same buffer reads again; and after the heap was left quiet (memshim
 * gives a quiet heap's free pages back in the background).
 *
 * Why: under Wine the server writes such replies into the buffer only if
 * ntdll's own page map says the buffer is writable, and memshim's pages
 * were only reserved there (every one of these reads failed with
 * ERROR_INVALID_USER_BUFFER, and Wine's RPC, services and mount manager
 * with them); nor may that map say writable where the page is not (the
 * process would die inside Wine instead of the read failing).
 */
#include "harness.h"

static HANDLE rd, wr;

static void put(const char *text)
{
    DWORD n = 0;
    ok(WriteFile(wr, text, (DWORD)strlen(text), &n, NULL) && n == strlen(text), "write '%s': error %lu", text,
       GetLastError());
}

/* Read `len` bytes into buf; the check passes if they are `want`. */
static void read_into(char *buf, const char *want, const char *what)
{
    DWORD len = (DWORD)strlen(want), n = 0;
    memset(buf, '.', len);
    SetLastError(0xdeadbeef);
    BOOL r = ReadFile(rd, buf, len, &n, NULL);
    ok(r && n == len && !memcmp(buf, want, len), "%s: ReadFile %d, %lu bytes, error %lu", what, r, n,
       r ? 0 : GetLastError());
}

/* A read into buf fails with ERROR_NOACCESS and leaves the pipe's data. */
static void read_refused(char *buf, const char *what)
{
    DWORD n = 0xdeadbeef;
    SetLastError(0xdeadbeef);
    BOOL r = ReadFile(rd, buf, 4, &n, NULL);
    ok(!r && GetLastError() == ERROR_NOACCESS, "%s: ReadFile %d, error %lu (want ERROR_NOACCESS)", what, r,
       GetLastError());
}

static void test_anonymous_pipe(void)
{
    harness_context("anonymous pipe");
    ok(CreatePipe(&rd, &wr, NULL, 0), "CreatePipe: error %lu", GetLastError());

    char *block = HeapAlloc(GetProcessHeap(), 0, 100);
    put("process heap");
    read_into(block + 3, "process heap", "a process-heap block");
    HeapFree(GetProcessHeap(), 0, block);

    HANDLE heap = HeapCreate(0, 0, 0);
    char *pblock = HeapAlloc(heap, HEAP_ZERO_MEMORY, 5000);
    put("private heap");
    read_into(pblock + 4000, "private heap", "a private-heap block");
    HeapDestroy(heap);

    char *m = malloc(300);
    put("crt malloc");
    read_into(m, "crt malloc", "a malloc block");
    free(m);

    char *big = HeapAlloc(GetProcessHeap(), 0, 1 << 20);     /* a large block of its own */
    put("large block");
    read_into(big + (1 << 19), "large block", "a 1 MiB heap block");
    HeapFree(GetProcessHeap(), 0, big);
}

/* A read into a heap block, then most of the heap freed and left quiet
 * long enough for memshim's background purge to give its free pages back
 * (on a thread of memshim's that cannot call Wine), then reads into blocks
 * of the same heap again. Until the purge's changes to Wine's page map
 * were left for a Wine thread to make, that thread crashed the process. */
static void test_quiet_heap_between_reads(void)
{
    harness_context("quiet heap");
    enum { N = 8000 };
    static char *blocks[N];
    HANDLE h = GetProcessHeap();
    for (int i = 0; i < N; i++)
        blocks[i] = HeapAlloc(h, 0, 2000);
    put("before");
    read_into(blocks[N / 2], "before", "a block of a busy heap");
    for (int i = 0; i < N; i++)
        if (i != N / 2)
            HeapFree(h, 0, blocks[i]);
    Sleep(500);
    char *b = HeapAlloc(h, 0, 3000);
    put("after");
    read_into(b, "after", "a new block after the heap was quiet");
    for (int i = 0; i < 1000; i++)
        blocks[i] = HeapAlloc(h, 0, 2000);
    put("refilled");
    read_into(blocks[999], "refilled", "a block of the refilled heap");
    for (int i = 0; i < 1000; i++)
        HeapFree(h, 0, blocks[i]);
    HeapFree(h, 0, blocks[N / 2]);
    HeapFree(h, 0, b);
}

static void test_virtual_pages(void)
{
    DWORD old;
    harness_context("VirtualAlloc");
    char *a = VirtualAlloc(NULL, 3 * PAGE, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);
    ok(a != NULL, "VirtualAlloc: error %lu", GetLastError());
    if (!a) return;
    put("first");
    read_into(a + 10, "first", "a committed page");
    ok(!strncmp(a + 10, "first", 5), "the bytes are there for the program");

    ok(VirtualProtect(a, PAGE, PAGE_READONLY, &old) && old == PAGE_READWRITE, "to PAGE_READONLY");
    put("kept");
    read_refused(a + 10, "a read-only page");
    read_into(a + PAGE, "kept", "the next page, after the refused read (nothing was lost)");
    ok(VirtualProtect(a, PAGE, PAGE_READWRITE, &old) && old == PAGE_READONLY, "back to PAGE_READWRITE");
    put("again");
    read_into(a + 10, "again", "the page made writable again");

    ok(VirtualProtect(a + PAGE, PAGE, PAGE_EXECUTE_READWRITE, &old), "to PAGE_EXECUTE_READWRITE");
    put("rwx");
    read_into(a + PAGE, "rwx", "a PAGE_EXECUTE_READWRITE page");
    ok(VirtualProtect(a + PAGE, PAGE, PAGE_NOACCESS, &old), "to PAGE_NOACCESS");
    put("nope");
    read_refused(a + PAGE, "a PAGE_NOACCESS page");
    read_into(a + 2 * PAGE, "nope", "the data after the refused read");

    ok(VirtualFree(a + 2 * PAGE, PAGE, MEM_DECOMMIT), "decommit: error %lu", GetLastError());
    put("gone");
    read_refused(a + 2 * PAGE, "a decommitted page");
    ok(VirtualAlloc(a + 2 * PAGE, PAGE, MEM_COMMIT, PAGE_READWRITE) == a + 2 * PAGE, "commit again");
    read_into(a + 2 * PAGE, "gone", "the page committed again");

    /* Released, and a new allocation at the same address. */
    ok(VirtualFree(a, 0, MEM_RELEASE), "release: error %lu", GetLastError());
    char *b = VirtualAlloc(a, PAGE, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);
    ok(b == a, "a new allocation at the old address: %p, error %lu", b, GetLastError());
    if (b) {
        put("reused");
        read_into(b, "reused", "a new allocation where a shadowed one was");
        VirtualFree(b, 0, MEM_RELEASE);
    }

    /* Reserved only. */
    char *r = VirtualAlloc(NULL, PAGE, MEM_RESERVE, PAGE_READWRITE);
    char *block = HeapAlloc(GetProcessHeap(), 0, 8);
    put("resv");
    read_refused(r, "a reserved page");
    read_into(block, "resv", "the data after it");
    HeapFree(GetProcessHeap(), 0, block);
    VirtualFree(r, 0, MEM_RELEASE);
}

static void test_views(void)
{
    harness_context("views");
    HANDLE s = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 2 * PAGE, NULL);
    ok(s != NULL, "CreateFileMapping: error %lu", GetLastError());
    if (!s) return;
    char *v = MapViewOfFile(s, FILE_MAP_WRITE, 0, 0, 0);
    char *w = MapViewOfFile(s, FILE_MAP_READ, 0, 0, 0);
    ok(v && w, "views: error %lu", GetLastError());
    put("shared");
    read_into(v + PAGE, "shared", "a shared view");
    ok(w && !memcmp(w + PAGE, "shared", 6), "the other view of the section sees it");

    char *c = MapViewOfFile(s, FILE_MAP_COPY, 0, 0, 0);
    ok(c != NULL, "copy-on-write view: error %lu", GetLastError());
    if (c) {
        put("private");
        read_into(c + PAGE, "private", "a copy-on-write view");
        ok(w && !memcmp(w + PAGE, "shared", 6), "the section is unchanged");
        UnmapViewOfFile(c);
    }
    put("readonly");
    read_refused(w, "a read-only view");
    read_into(v, "readonly", "the data after it");
    UnmapViewOfFile(v);
    UnmapViewOfFile(w);
    CloseHandle(s);
}

/* The result of an overlapped operation that may have pended: waits at
 * most 5 s (a failed start is not waited for). */
static BOOL finish(HANDLE h, OVERLAPPED *ov, BOOL started, DWORD *n)
{
    if (!started && GetLastError() != ERROR_IO_PENDING)
        return FALSE;
    if (WaitForSingleObject(ov->hEvent, 5000) != WAIT_OBJECT_0) {
        CancelIo(h);
        return FALSE;
    }
    return GetOverlappedResult(h, ov, n, FALSE);
}

struct answer_args {
    HANDLE server;
    char *buf;
};

/* Read the request on the server end (its own overlapped read), answer it. */
static DWORD WINAPI answer_thread(void *arg)
{
    struct answer_args *a = arg;
    OVERLAPPED ov = { 0 };
    DWORD n = 0, rc = 1;
    ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (finish(a->server, &ov, ReadFile(a->server, a->buf, 64, NULL, &ov), &n)) {
        ResetEvent(ov.hEvent);
        rc = !finish(a->server, &ov, WriteFile(a->server, "answer", 6, NULL, &ov), &n);
    }
    CloseHandle(ov.hEvent);
    return rc;
}

static void test_named_pipe(void)
{
    harness_context("named pipe");
    const WCHAR *name = L"\\\\.\\pipe\\memshim-pipebuffers";
    HANDLE server = CreateNamedPipeW(name, PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED,
                                     PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE | PIPE_WAIT, 1, 4096, 4096, 0, NULL);
    ok(server != INVALID_HANDLE_VALUE, "CreateNamedPipe: error %lu", GetLastError());
    if (server == INVALID_HANDLE_VALUE) return;
    HANDLE client = CreateFileW(name, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, 0, NULL);
    ok(client != INVALID_HANDLE_VALUE, "client: error %lu", GetLastError());
    DWORD mode = PIPE_READMODE_MESSAGE, n;
    ok(SetNamedPipeHandleState(client, &mode, NULL, NULL), "message mode: error %lu", GetLastError());

    /* Overlapped: the read pends, the write completes it later. */
    char *buf = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, 64);
    OVERLAPPED ov = { 0 };
    ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
    SetLastError(0xdeadbeef);
    BOOL r = ReadFile(server, buf, 64, NULL, &ov);
    DWORD err = GetLastError();
    ok(!r && err == ERROR_IO_PENDING, "overlapped read pends: %d, error %lu", r, err);
    ok(WriteFile(client, "completed later", 15, &n, NULL), "client write: error %lu", GetLastError());
    n = 0;
    SetLastError(err);
    r = finish(server, &ov, r, &n);
    ok(r && n == 15 && !memcmp(buf, "completed later", 15), "overlapped read completes into a heap block: %d, %lu",
       r, n);

    /* PeekNamedPipe and TransactNamedPipe fill their buffers too. */
    ok(WriteFile(client, "peek me", 7, &n, NULL), "client write");
    char *peek = HeapAlloc(GetProcessHeap(), 0, 32);
    DWORD avail = 0, left = 0;
    n = 0;
    r = PeekNamedPipe(server, peek, 32, &n, &avail, &left);
    ok(r && n == 7 && !memcmp(peek, "peek me", 7), "PeekNamedPipe into a heap block: %d, %lu bytes, error %lu", r, n,
       r ? 0 : GetLastError());
    memset(&ov, 0, sizeof(ov) - sizeof(ov.hEvent));
    ResetEvent(ov.hEvent);
    ok(finish(server, &ov, ReadFile(server, buf, 64, &n, &ov), &n) && n == 7, "the peeked message is read: error %lu",
       GetLastError());

    /* TransactNamedPipe: the answer comes from a thread serving the pipe. */
    char *reply = VirtualAlloc(NULL, PAGE, MEM_COMMIT, PAGE_READWRITE);
    struct answer_args args = { server, buf };
    HANDLE thread = CreateThread(NULL, 0, answer_thread, &args, 0, NULL);
    n = 0;
    r = TransactNamedPipe(client, "question", 8, reply, 64, &n, NULL);
    ok(r && n == 6 && !memcmp(reply, "answer", 6), "TransactNamedPipe into a VirtualAlloc page: %d, %lu bytes, error %lu",
       r, n, r ? 0 : GetLastError());
    DWORD code = 1;
    ok(WaitForSingleObject(thread, 10000) == WAIT_OBJECT_0 && GetExitCodeThread(thread, &code) && code == 0,
       "the serving thread read the request and answered (exit code %lu)", code);
    CloseHandle(thread);
    ok(!memcmp(buf, "question", 8), "the server got the transaction's request");
    HeapFree(GetProcessHeap(), 0, peek);
    HeapFree(GetProcessHeap(), 0, buf);
    VirtualFree(reply, 0, MEM_RELEASE);
    CloseHandle(ov.hEvent);
    CloseHandle(client);
    CloseHandle(server);
}

int main(void)
{
    harness_init();
    test_anonymous_pipe();
    test_quiet_heap_between_reads();
    test_virtual_pages();
    test_views();
    test_named_pipe();
    return harness_done();
}
