/*
 * Conformance: memory from the heap and VirtualAlloc handed to the rest of
 * the system as buffers, where Wine's other DLLs and its server fill them:
 * a child process's output read through a pipe (its environment block and
 * command line heap blocks too), a registry value, overlapped file I/O
 * completed through an I/O completion port, an overlapped socket receive
 * on loopback, the network adapters' list (ioctls to Wine's network
 * service) and the process list.
 *
 * Why: memshim's pages are reserved in Wine's own page map, and the
 * server's replies that land straight in a buffer are refused there unless
 * memshim shadows the buffer's allocation (see pipebuffers.c). This program
 * checks the paths real programs take to them. The other DLLs are loaded
 * at run time, so that the program links kernel32 and the C runtime only,
 * as every conformance program.
 */
#define WIN32_LEAN_AND_MEAN
#include <winsock2.h>
#include <iphlpapi.h>
#include "harness.h"

static HANDLE heap;

static void test_child_output(void)
{
    harness_context("child process");
    SECURITY_ATTRIBUTES sa = { sizeof(sa), NULL, TRUE };
    HANDLE rd, wr;
    ok(CreatePipe(&rd, &wr, &sa, 0), "CreatePipe: error %lu", GetLastError());
    SetHandleInformation(rd, HANDLE_FLAG_INHERIT, 0);
    STARTUPINFOW si;
    memset(&si, 0, sizeof(si));
    si.cb = sizeof(si);
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdOutput = si.hStdError = wr;
    si.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
    WCHAR *cmd = HeapAlloc(heap, 0, 100 * sizeof(WCHAR));
    wcscpy(cmd, L"cmd.exe /c echo %MEMSHIM_VAR%");
    WCHAR *env = HeapAlloc(heap, HEAP_ZERO_MEMORY, 4096), *e = env;
    WCHAR sysroot[MAX_PATH];
    GetEnvironmentVariableW(L"SystemRoot", sysroot, MAX_PATH);
    e += swprintf(e, 100, L"MEMSHIM_VAR=from-a-heap-block") + 1;
    e += swprintf(e, MAX_PATH + 20, L"SystemRoot=%ls", sysroot) + 1;
    *e = 0;
    PROCESS_INFORMATION pi;
    BOOL started = CreateProcessW(NULL, cmd, NULL, NULL, TRUE, CREATE_UNICODE_ENVIRONMENT, env, NULL, &si, &pi);
    ok(started, "CreateProcess with a heap command line and environment: error %lu", GetLastError());
    CloseHandle(wr);
    char *out = HeapAlloc(heap, HEAP_ZERO_MEMORY, 4096);
    DWORD n, total = 0;
    while (started && total < 4095 && ReadFile(rd, out + total, 4095 - total, &n, NULL) && n)
        total += n;
    ok(strstr(out, "from-a-heap-block") != NULL, "the child's output read into a heap block: '%s'", out);
    if (started) {
        WaitForSingleObject(pi.hProcess, 10000);
        CloseHandle(pi.hProcess);
        CloseHandle(pi.hThread);
    }
    CloseHandle(rd);
}

static void test_registry(void)
{
    harness_context("registry");
    HMODULE advapi = LoadLibraryW(L"advapi32.dll");
    LONG(WINAPI * open_key)(HKEY, LPCWSTR, DWORD, REGSAM, PHKEY) = (void *)GetProcAddress(advapi, "RegOpenKeyExW");
    LONG(WINAPI * query)(HKEY, LPCWSTR, LPDWORD, LPDWORD, LPBYTE, LPDWORD) =
        (void *)GetProcAddress(advapi, "RegQueryValueExW");
    LONG(WINAPI * close_key)(HKEY) = (void *)GetProcAddress(advapi, "RegCloseKey");
    ok(open_key && query && close_key, "advapi32's registry functions");
    if (!open_key || !query || !close_key)
        return;
    HKEY key;
    LONG r = open_key(HKEY_LOCAL_MACHINE, L"Software\\Microsoft\\Windows NT\\CurrentVersion", 0, KEY_READ, &key);
    ok(r == ERROR_SUCCESS, "RegOpenKeyEx: %ld", r);
    WCHAR *value = VirtualAlloc(NULL, 4096, MEM_COMMIT, PAGE_READWRITE);
    DWORD size = 4096, type = 0;
    r = query(key, L"CurrentVersion", NULL, &type, (BYTE *)value, &size);
    ok(r == ERROR_SUCCESS && type == REG_SZ && size > 2, "RegQueryValueEx into a VirtualAlloc page: %ld, type %lu, %lu bytes",
       r, type, size);
    close_key(key);
    VirtualFree(value, 0, MEM_RELEASE);
}

static void test_completion_port(void)
{
    harness_context("I/O completion port");
    WCHAR path[MAX_PATH];
    GetTempPathW(MAX_PATH, path);
    wcscat(path, L"memshim-wineapis.bin");
    HANDLE f = CreateFileW(path, GENERIC_READ | GENERIC_WRITE, 0, NULL, CREATE_ALWAYS,
                           FILE_FLAG_OVERLAPPED | FILE_FLAG_NO_BUFFERING | FILE_FLAG_DELETE_ON_CLOSE, NULL);
    ok(f != INVALID_HANDLE_VALUE, "CreateFile: error %lu", GetLastError());
    if (f == INVALID_HANDLE_VALUE)
        return;
    char *buf = VirtualAlloc(NULL, 65536, MEM_COMMIT, PAGE_READWRITE);
    memset(buf, 'q', 65536);
    HANDLE port = CreateIoCompletionPort(f, NULL, 7, 0);
    OVERLAPPED *ov = HeapAlloc(heap, HEAP_ZERO_MEMORY, sizeof(*ov));
    DWORD n = 0;
    ULONG_PTR key = 0;
    OVERLAPPED *done = NULL;
    BOOL r = WriteFile(f, buf, 65536, NULL, ov) || GetLastError() == ERROR_IO_PENDING;
    r = r && GetQueuedCompletionStatus(port, &n, &key, &done, 10000);
    ok(r && n == 65536 && key == 7 && done == ov, "overlapped write completed through the port: %lu bytes", n);
    memset(buf, 0, 65536);
    memset(ov, 0, sizeof(*ov));
    r = ReadFile(f, buf, 65536, NULL, ov) || GetLastError() == ERROR_IO_PENDING;
    r = r && GetQueuedCompletionStatus(port, &n, &key, &done, 10000);
    ok(r && n == 65536 && buf[0] == 'q' && buf[65535] == 'q', "overlapped read into a VirtualAlloc buffer: %lu bytes", n);
    CloseHandle(f);
    CloseHandle(port);
    VirtualFree(buf, 0, MEM_RELEASE);
}

#define SENT 100000

static DWORD WINAPI send_all(void *arg)
{
    int(WINAPI * send_fn)(SOCKET, const char *, int, int) =
        (void *)GetProcAddress(GetModuleHandleW(L"ws2_32.dll"), "send");
    SOCKET(WINAPI * accept_fn)(SOCKET, struct sockaddr *, int *) =
        (void *)GetProcAddress(GetModuleHandleW(L"ws2_32.dll"), "accept");
    int(WINAPI * close_fn)(SOCKET) = (void *)GetProcAddress(GetModuleHandleW(L"ws2_32.dll"), "closesocket");
    SOCKET c = accept_fn((SOCKET)(ULONG_PTR)arg, NULL, NULL);
    char *msg = HeapAlloc(heap, 0, SENT);
    memset(msg, 'z', SENT);
    int r = send_fn(c, msg, SENT, 0);
    close_fn(c);
    return r == SENT ? 0 : 1;
}

static void test_socket(void)
{
    harness_context("socket");
    HMODULE ws = LoadLibraryW(L"ws2_32.dll");
#define WS(name) ((void *)GetProcAddress(ws, #name))
    int(WINAPI * startup)(WORD, WSADATA *) = WS(WSAStartup);
    SOCKET(WINAPI * sock)(int, int, int, void *, GROUP, DWORD) = WS(WSASocketW);
    int(WINAPI * bind_fn)(SOCKET, const struct sockaddr *, int) = WS(bind);
    int(WINAPI * name_fn)(SOCKET, struct sockaddr *, int *) = WS(getsockname);
    int(WINAPI * listen_fn)(SOCKET, int) = WS(listen);
    int(WINAPI * connect_fn)(SOCKET, const struct sockaddr *, int) = WS(connect);
    int(WINAPI * recv_fn)(SOCKET, WSABUF *, DWORD, DWORD *, DWORD *, WSAOVERLAPPED *, void *) = WS(WSARecv);
    int(WINAPI * last_error)(void) = WS(WSAGetLastError);
    BOOL(WINAPI * result)(SOCKET, WSAOVERLAPPED *, DWORD *, BOOL, DWORD *) = WS(WSAGetOverlappedResult);
    int(WINAPI * close_fn)(SOCKET) = WS(closesocket);
#undef WS
    ok(startup && sock && bind_fn && name_fn && listen_fn && connect_fn && recv_fn && last_error && result && close_fn,
       "ws2_32's functions");
    if (!close_fn)
        return;
    WSADATA wd;
    startup(MAKEWORD(2, 2), &wd);
    SOCKET l = sock(AF_INET, SOCK_STREAM, 0, NULL, 0, 0);
    struct sockaddr_in a = { 0 };
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = 0x0100007f;     /* 127.0.0.1 */
    int len = sizeof(a);
    ok(!bind_fn(l, (struct sockaddr *)&a, sizeof(a)) && !name_fn(l, (struct sockaddr *)&a, &len) && !listen_fn(l, 1),
       "a loopback listener");
    HANDLE sender = CreateThread(NULL, 0, send_all, (void *)(ULONG_PTR)l, 0, NULL);
    SOCKET s = sock(AF_INET, SOCK_STREAM, 0, NULL, 0, WSA_FLAG_OVERLAPPED);
    ok(!connect_fn(s, (struct sockaddr *)&a, sizeof(a)), "connect: %d", last_error());
    char *buf = HeapAlloc(heap, 0, SENT);
    DWORD got = 0;
    HANDLE event = CreateEventW(NULL, TRUE, FALSE, NULL);
    while (got < SENT) {
        WSABUF wb = { SENT - got, buf + got };
        DWORD flags = 0, n = 0;
        WSAOVERLAPPED wo = { 0 };
        wo.hEvent = event;
        ResetEvent(event);
        if (recv_fn(s, &wb, 1, &n, &flags, &wo, NULL)) {
            if (last_error() != WSA_IO_PENDING || WaitForSingleObject(event, 10000) != WAIT_OBJECT_0 ||
                !result(s, &wo, &n, FALSE, &flags))
                break;
        }
        if (!n)
            break;
        got += n;
    }
    ok(got == SENT && buf[0] == 'z' && buf[SENT - 1] == 'z', "overlapped WSARecv into a heap block: %lu bytes", got);
    DWORD code = 1;
    ok(WaitForSingleObject(sender, 10000) == WAIT_OBJECT_0 && GetExitCodeThread(sender, &code) && !code,
       "the sender sent everything");
    CloseHandle(sender);
    CloseHandle(event);
    close_fn(s);
    close_fn(l);
}

static void test_adapters(void)
{
    harness_context("network adapters");
    ULONG(WINAPI * get_addresses)(ULONG, ULONG, void *, IP_ADAPTER_ADDRESSES *, ULONG *) =
        (void *)GetProcAddress(LoadLibraryW(L"iphlpapi.dll"), "GetAdaptersAddresses");
    ok(get_addresses != NULL, "GetAdaptersAddresses");
    if (!get_addresses)
        return;
    ULONG size = 0;
    ULONG r = get_addresses(AF_UNSPEC, 0, NULL, NULL, &size);
    ok(r == ERROR_BUFFER_OVERFLOW && size > 0, "the size asked for: %lu, %lu bytes", r, size);
    IP_ADAPTER_ADDRESSES *list = HeapAlloc(heap, 0, size);
    r = get_addresses(AF_UNSPEC, 0, NULL, list, &size);
    ok(r == NO_ERROR, "GetAdaptersAddresses into a heap block: %lu", r);
    int loopback = 0;
    for (IP_ADAPTER_ADDRESSES *p = r == NO_ERROR ? list : NULL; p; p = p->Next)
        loopback |= p->IfType == IF_TYPE_SOFTWARE_LOOPBACK;
    ok(loopback, "the list has the loopback adapter");
}

static void test_process_list(void)
{
    harness_context("process list");
    BOOL(WINAPI * enum_processes)(DWORD *, DWORD, DWORD *) =
        (void *)GetProcAddress(LoadLibraryW(L"psapi.dll"), "EnumProcesses");
    ok(enum_processes != NULL, "EnumProcesses");
    if (!enum_processes)
        return;
    DWORD *ids = VirtualAlloc(NULL, 65536, MEM_COMMIT, PAGE_READWRITE), bytes = 0;
    ok(enum_processes(ids, 65536, &bytes) && bytes >= sizeof(DWORD), "EnumProcesses into a VirtualAlloc page: %lu bytes",
       bytes);
    int self = 0;
    for (DWORD i = 0; i < bytes / sizeof(DWORD); i++)
        self |= ids[i] == GetCurrentProcessId();
    ok(self, "this process is in the list");
    VirtualFree(ids, 0, MEM_RELEASE);
}

int main(void)
{
    harness_init();
    heap = GetProcessHeap();
    test_child_output();
    test_registry();
    test_completion_port();
    test_socket();
    test_adapters();
    test_process_list();
    return harness_done();
}
