/*
 * Conformance: CreateFileMapping/OpenFileMapping/MapViewOfFile(Ex)/
 * UnmapViewOfFile/FlushViewOfFile, pagefile-backed and file-backed, with
 * the results native Windows gives.
 */
#include "harness.h"


static MEMORY_BASIC_INFORMATION mbi;
static int query(const void *p)
{
    memset(&mbi, 0xcc, sizeof(mbi));
    return VirtualQuery(p, &mbi, sizeof(mbi)) == sizeof(mbi);
}

static void check_view(int line, const void *p, DWORD alloc_prot, SIZE_T size, DWORD prot)
{
    int r = query(p);
    harness_ok(r, __FILE__, line, "VirtualQuery(view %p): error %lu", p, GetLastError());
    if (!r) return;
    harness_ok(mbi.BaseAddress == p && mbi.AllocationBase == p, __FILE__, line,
               "view BaseAddress %p AllocationBase %p, expected %p", mbi.BaseAddress, mbi.AllocationBase, p);
    harness_ok(mbi.AllocationProtect == alloc_prot, __FILE__, line, "view AllocationProtect %#lx, expected %#lx",
               mbi.AllocationProtect, alloc_prot);
    harness_ok(mbi.RegionSize == size, __FILE__, line, "view RegionSize %#zx, expected %#zx", mbi.RegionSize, size);
    harness_ok(mbi.State == MEM_COMMIT, __FILE__, line, "view State %#lx, expected MEM_COMMIT", mbi.State);
    harness_ok(mbi.Protect == prot, __FILE__, line, "view Protect %#lx, expected %#lx", mbi.Protect, prot);
    harness_ok(mbi.Type == MEM_MAPPED, __FILE__, line, "view Type %#lx, expected MEM_MAPPED", mbi.Type);
}
#define CHECK_VIEW(p, ap, size, prot) check_view(__LINE__, p, ap, size, prot)

/* Same for a MapViewOfFile result; a view made by mistake is unmapped so
 * that one wrong answer does not change later checks. */
#define CHECK_FAIL_VIEW(view, err, what) \
    do { \
        CHECK_FAIL(view, err, what); \
        if (view) UnmapViewOfFile(view); \
    } while (0)

static WCHAR name_buf[64];
static const WCHAR *unique_name(const char *tag)
{
    swprintf(name_buf, ARRAYSIZE(name_buf), L"Local\\memshim-conf-%hs-%lu", tag, GetCurrentProcessId());
    return name_buf;
}

static void test_pagefile(void)
{
    HANDLE h;
    unsigned char *v1, *v2, *cv;
    BOOL ret;
    DWORD old;

    SetLastError(0xdeadbeef);
    h = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 0, NULL);
    CHECK_FAIL(h, ERROR_INVALID_PARAMETER, "pagefile section of size 0");

    SetLastError(0xdeadbeef);
    h = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_NOACCESS, 0, GRAN, NULL);
    CHECK_FAIL(h, ERROR_INVALID_PARAMETER, "PAGE_NOACCESS section");

    SetLastError(0xdeadbeef);
    h = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 2 * GRAN, NULL);
    ok(h != NULL, "CreateFileMappingW pagefile: error %lu", GetLastError());
    ok(GetLastError() == ERROR_SUCCESS, "new unnamed section: last error %lu, expected 0", GetLastError());
    if (!h) return;

    v1 = MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0);
    ok(v1 != NULL, "MapViewOfFile FILE_MAP_WRITE, size 0: error %lu", GetLastError());
    v2 = MapViewOfFile(h, FILE_MAP_READ, 0, 0, GRAN);
    ok(v2 != NULL, "MapViewOfFile FILE_MAP_READ: error %lu", GetLastError());
    if (!v1 || !v2) { CloseHandle(h); return; }
    ok(!((ULONG_PTR)v1 & (GRAN - 1)) && !((ULONG_PTR)v2 & (GRAN - 1)), "views %p %p are 64 KiB aligned", v1, v2);
    ok(v1 != v2, "two views at two addresses");
    CHECK_VIEW(v1, PAGE_READWRITE, 2 * GRAN, PAGE_READWRITE);
    CHECK_VIEW(v2, PAGE_READONLY, GRAN, PAGE_READONLY);
    {
        int z = 1;
        for (SIZE_T i = 0; i < 2 * GRAN; i++) if (v1[i]) { z = 0; break; }
        ok(z, "a new pagefile section reads as zeros");
    }

    /* Two views of one section see each other's writes. */
    v1[0] = 0x11;
    v1[GRAN - 1] = 0x22;
    ok(v2[0] == 0x11 && v2[GRAN - 1] == 0x22, "read view sees the write view's data (%#x %#x)", v2[0],
       v2[GRAN - 1]);
#if defined(__x86_64__)
    ok(probe_write(v2 + 8, 1), "writing to a FILE_MAP_READ view faults");
#endif

    /* A second mapping of the second 64 KiB (offset 0x10000). */
    {
        unsigned char *v3 = MapViewOfFile(h, FILE_MAP_ALL_ACCESS, 0, GRAN, PAGE);
        ok(v3 != NULL, "MapViewOfFile at offset 0x10000: error %lu", GetLastError());
        if (v3)
        {
            CHECK_VIEW(v3, PAGE_READWRITE, PAGE, PAGE_READWRITE);
            v3[5] = 0x33;
            ok(v1[GRAN + 5] == 0x33, "offset view aliases the section at 0x10000");
            ok(UnmapViewOfFile(v3), "UnmapViewOfFile: error %lu", GetLastError());
        }
    }

    /* Offsets must be multiples of the allocation granularity. */
    SetLastError(0xdeadbeef);
    cv = MapViewOfFile(h, FILE_MAP_READ, 0, PAGE, PAGE);
    CHECK_FAIL_VIEW(cv, ERROR_MAPPED_ALIGNMENT, "offset 0x1000");
    SetLastError(0xdeadbeef);
    cv = MapViewOfFile(h, FILE_MAP_READ, 0, GRAN + 0x200, 0);
    CHECK_FAIL_VIEW(cv, ERROR_MAPPED_ALIGNMENT, "offset 0x10200");

    /* Views larger than the section, or starting beyond it, fail. */
    SetLastError(0xdeadbeef);
    cv = MapViewOfFile(h, FILE_MAP_READ, 0, 0, 3 * GRAN);
    CHECK_FAIL_VIEW(cv, ERROR_ACCESS_DENIED, "view larger than the section");
    SetLastError(0xdeadbeef);
    cv = MapViewOfFile(h, FILE_MAP_READ, 0, GRAN, 2 * GRAN);
    CHECK_FAIL_VIEW(cv, ERROR_ACCESS_DENIED, "view from 0x10000 past the end of the section");
    SetLastError(0xdeadbeef);
    cv = MapViewOfFile(h, FILE_MAP_READ, 0, 4 * GRAN, 0);
    ok(!cv, "offset beyond the end of the section: should fail");
    ok(GetLastError() == ERROR_ACCESS_DENIED || GetLastError() == ERROR_INVALID_PARAMETER,
       "offset beyond the end of the section: error %lu, expected 5 or 87", GetLastError());
    if (cv) UnmapViewOfFile(cv);

    /* FILE_MAP_COPY: a private copy on write. */
    cv = MapViewOfFile(h, FILE_MAP_COPY, 0, 0, GRAN);
    ok(cv != NULL, "MapViewOfFile FILE_MAP_COPY: error %lu", GetLastError());
    if (cv)
    {
        CHECK_VIEW(cv, PAGE_WRITECOPY, GRAN, PAGE_WRITECOPY);
        ok(cv[0] == 0x11, "copy view sees the section data (%#x)", cv[0]);
        cv[0] = 0x99;
        ok(cv[0] == 0x99, "copy view holds its own write");
        ok(v1[0] == 0x11 && v2[0] == 0x11, "a write to the copy view stays private (%#x %#x)", v1[0], v2[0]);
        v1[PAGE] = 0x44;
        ok(cv[PAGE] == 0x44, "untouched copy-view pages still follow the section (%#x)", cv[PAGE]);
        /* The written page became private read-write (Wine 8.0 keeps
         * reporting the whole view PAGE_WRITECOPY). */
        todo_wine ok(query(cv) && mbi.RegionSize == PAGE && mbi.Protect == PAGE_READWRITE,
           "written copy-view page: Protect %#lx RegionSize %#zx, expected PAGE_READWRITE 0x1000", mbi.Protect,
           mbi.RegionSize);
        ok(query(cv + PAGE) && mbi.Protect == PAGE_WRITECOPY, "unwritten copy-view page: Protect %#lx",
           mbi.Protect);
        ok(UnmapViewOfFile(cv), "UnmapViewOfFile copy view: error %lu", GetLastError());
    }

    /* VirtualProtect on a view: WRITECOPY is allowed on mapped memory. It
     * makes the page copy-on-write: the page shows the section until its
     * first write, which gives it a private copy, reported PAGE_READWRITE
     * from then on (Wine 8.0 writes through to the section). */
    old = 0;
    ret = VirtualProtect(v1 + PAGE, PAGE, PAGE_WRITECOPY, &old);
    ok(ret, "VirtualProtect PAGE_WRITECOPY on a view: error %lu", GetLastError());
    ok(old == PAGE_READWRITE, "old protection %#lx", old);
    ok(query(v1 + PAGE) && mbi.Protect == PAGE_WRITECOPY && mbi.RegionSize == PAGE,
       "copy-on-write page of a shared view: Protect %#lx RegionSize %#zx", mbi.Protect, mbi.RegionSize);
    {
        unsigned char *vw = MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, GRAN);
        ok(vw != NULL, "second FILE_MAP_WRITE view: error %lu", GetLastError());
        if (vw)
        {
            vw[PAGE + 2] = 0x55;
            ok(v1[PAGE + 2] == 0x55, "an unwritten copy-on-write page follows the section (%#x)", v1[PAGE + 2]);
            v1[PAGE] = 0x66;
            ok(v1[PAGE] == 0x66 && v1[PAGE + 2] == 0x55, "the written page holds the write and its old contents "
               "(%#x %#x)", v1[PAGE], v1[PAGE + 2]);
            todo_wine ok(v2[PAGE] == 0x44 && vw[PAGE] == 0x44, "a write to a copy-on-write page stays private "
                         "(%#x %#x)", v2[PAGE], vw[PAGE]);
            vw[PAGE + 3] = 0x77;
            todo_wine ok(v1[PAGE + 3] == 0, "a copied page no longer follows the section (%#x)", v1[PAGE + 3]);
            /* Read-write now like its neighbours: one region with them. */
            todo_wine ok(query(v1 + PAGE) && mbi.Protect == PAGE_READWRITE && mbi.RegionSize == 2 * GRAN - PAGE,
                         "written copy-on-write page: Protect %#lx RegionSize %#zx, expected PAGE_READWRITE 0x1f000",
                         mbi.Protect, mbi.RegionSize);
            /* The core's own writes for the program copy too: a probe of
             * a copy-on-write page finds it writable. */
            ok(VirtualProtect(v1 + 3 * PAGE, PAGE, PAGE_WRITECOPY, &old), "VirtualProtect page 3: error %lu",
               GetLastError());
            ok(!IsBadWritePtr(v1 + 3 * PAGE, 16), "IsBadWritePtr of a copy-on-write page");
            ok(UnmapViewOfFile(vw), "UnmapViewOfFile second write view: error %lu", GetLastError());
        }
    }
    ret = VirtualProtect(v1 + PAGE, PAGE, PAGE_READWRITE, &old);
    ok(ret, "VirtualProtect back to PAGE_READWRITE: error %lu", GetLastError());
    todo_wine ok(old == PAGE_READWRITE, "old protection of the written page %#lx", old);
    ret = VirtualProtect(v1 + 3 * PAGE, PAGE, PAGE_READWRITE, &old);
    ok(ret, "VirtualProtect page 3 back to PAGE_READWRITE: error %lu", GetLastError());
    /* A read-only view cannot become writable. */
    SetLastError(0xdeadbeef);
    ret = VirtualProtect(v2, PAGE, PAGE_READWRITE, &old);
    CHECK_FAIL(ret, ERROR_INVALID_PARAMETER, "VirtualProtect READWRITE on a FILE_MAP_READ view");
    /* VirtualFree cannot touch a view. */
    SetLastError(0xdeadbeef);
    ret = VirtualFree(v1, 0, MEM_RELEASE);
    CHECK_FAIL(ret, ERROR_INVALID_PARAMETER, "VirtualFree MEM_RELEASE of a view");

    /* Closing the section handle keeps the views valid. */
    ok(CloseHandle(h), "CloseHandle(section): error %lu", GetLastError());
    v1[100] = 0x5a;
    ok(v2[100] == 0x5a, "views still share data after CloseHandle");
    CHECK_VIEW(v1, PAGE_READWRITE, 2 * GRAN, PAGE_READWRITE);

    /* Unmap from inside the view; unmapping twice fails. */
    ok(UnmapViewOfFile(v1 + 0x1234), "UnmapViewOfFile(inside the view): error %lu", GetLastError());
    ok(query(v1) && mbi.State == MEM_FREE, "unmapped view is MEM_FREE (State %#lx)", mbi.State);
    SetLastError(0xdeadbeef);
    ret = UnmapViewOfFile(v1);
    CHECK_FAIL(ret, ERROR_INVALID_ADDRESS, "UnmapViewOfFile twice");
    ok(v2[100] == 0x5a, "last view still holds the data");
    ok(UnmapViewOfFile(v2), "UnmapViewOfFile: error %lu", GetLastError());

    /* Not a view. */
    {
        void *priv = VirtualAlloc(NULL, GRAN, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
        SetLastError(0xdeadbeef);
        ret = UnmapViewOfFile(priv);
        CHECK_FAIL(ret, ERROR_INVALID_ADDRESS, "UnmapViewOfFile(VirtualAlloc memory)");
        SetLastError(0xdeadbeef);
        ret = UnmapViewOfFile((char *)priv + 0x3000);
        CHECK_FAIL(ret, ERROR_INVALID_ADDRESS, "UnmapViewOfFile(inside VirtualAlloc memory)");
        ok(query(priv) && mbi.State == MEM_COMMIT, "private memory survives UnmapViewOfFile");
        VirtualFree(priv, 0, MEM_RELEASE);
        SetLastError(0xdeadbeef);
        ret = UnmapViewOfFile(NULL);
        CHECK_FAIL(ret, ERROR_INVALID_ADDRESS, "UnmapViewOfFile(NULL)");
    }
}

static void test_named(void)
{
    HANDLE h, h2, h3, ev;
    unsigned char *v1, *v2;
    const WCHAR *name = unique_name("named");
    WCHAR name_copy[64];
    char name_a[64];

    wcscpy(name_copy, name);
    WideCharToMultiByte(CP_ACP, 0, name_copy, -1, name_a, sizeof(name_a), NULL, NULL);

    SetLastError(0xdeadbeef);
    h2 = OpenFileMappingW(FILE_MAP_READ, FALSE, name_copy);
    CHECK_FAIL(h2, ERROR_FILE_NOT_FOUND, "OpenFileMappingW of a name not yet created");

    SetLastError(0xdeadbeef);
    h = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 0x3000, name_copy);
    ok(h != NULL, "CreateFileMappingW named: error %lu", GetLastError());
    ok(GetLastError() == ERROR_SUCCESS, "new named section: last error %lu", GetLastError());
    if (!h) return;

    SetLastError(0xdeadbeef);
    h2 = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 0x3000, name_a);
    ok(h2 != NULL, "CreateFileMappingA of the same name returns a handle: error %lu", GetLastError());
    ok(GetLastError() == ERROR_ALREADY_EXISTS, "second create: last error %lu, expected 183", GetLastError());
    ok(h2 != h, "a new handle to the existing object");

    v1 = MapViewOfFile(h, FILE_MAP_ALL_ACCESS, 0, 0, 0);
    v2 = h2 ? MapViewOfFile(h2, FILE_MAP_ALL_ACCESS, 0, 0, 0) : NULL;
    ok(v1 && v2, "views of both handles: error %lu", GetLastError());
    if (v1 && v2)
    {
        /* The section is 0x3000 bytes: the view is 3 pages. */
        CHECK_VIEW(v1, PAGE_READWRITE, 0x3000, PAGE_READWRITE);
        strcpy((char *)v1, "shared through the name");
        ok(!strcmp((char *)v2, "shared through the name"), "second handle's view sees the data");
    }

    h3 = OpenFileMappingA(FILE_MAP_READ, FALSE, name_a);
    ok(h3 != NULL, "OpenFileMappingA: error %lu", GetLastError());
    if (h3)
    {
        unsigned char *v3;
        SetLastError(0xdeadbeef);
        v3 = MapViewOfFile(h3, FILE_MAP_WRITE, 0, 0, 0);
        CHECK_FAIL_VIEW(v3, ERROR_ACCESS_DENIED, "FILE_MAP_WRITE view of a FILE_MAP_READ handle");
        v3 = MapViewOfFile(h3, FILE_MAP_READ, 0, 0, 0);
        ok(v3 != NULL, "FILE_MAP_READ view of the opened handle: error %lu", GetLastError());
        if (v3)
        {
            ok(v1 && !strcmp((char *)v3, "shared through the name"), "opened handle's view sees the data");
            CHECK_VIEW(v3, PAGE_READONLY, 0x3000, PAGE_READONLY);
            UnmapViewOfFile(v3);
        }
        CloseHandle(h3);
    }

    /* A name held by another object type. */
    ev = CreateEventW(NULL, FALSE, FALSE, unique_name("event"));
    ok(ev != NULL, "CreateEventW: error %lu", GetLastError());
    SetLastError(0xdeadbeef);
    h3 = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, PAGE, unique_name("event"));
    CHECK_FAIL(h3, ERROR_INVALID_HANDLE, "CreateFileMappingW with an event's name");
    CloseHandle(ev);

    /* Closing every handle removes the name but the views keep the data. */
    CloseHandle(h);
    if (h2) CloseHandle(h2);
    SetLastError(0xdeadbeef);
    h3 = OpenFileMappingW(FILE_MAP_READ, FALSE, name_copy);
    CHECK_FAIL(h3, ERROR_FILE_NOT_FOUND, "OpenFileMappingW after every handle is closed");
    if (h3) CloseHandle(h3);
    if (v1) ok(!strcmp((char *)v1, "shared through the name"), "view keeps the data after the handles are gone");
    if (v1) UnmapViewOfFile(v1);
    if (v2) UnmapViewOfFile(v2);
}

static HANDLE make_file(const WCHAR *path, DWORD size, DWORD access)
{
    HANDLE f = CreateFileW(path, access, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                           size == ~0u ? OPEN_EXISTING : CREATE_ALWAYS, 0, NULL);
    if (f != INVALID_HANDLE_VALUE && size != ~0u)
    {
        char buf[512];
        DWORD done;
        for (DWORD off = 0; off < size; off += sizeof(buf))
        {
            for (DWORD i = 0; i < sizeof(buf); i++) buf[i] = (char)('a' + (off + i) % 26);
            WriteFile(f, buf, size - off < sizeof(buf) ? size - off : sizeof(buf), &done, NULL);
        }
    }
    return f;
}

/* A file read into a copy-on-write page of a shared view makes the page's
 * private copy like any other write (the host's read cannot fault into the
 * handler that makes copies on memshim: the copy is made before). */
static void test_writecopy_read_file(void)
{
    WCHAR dir[MAX_PATH], path[MAX_PATH];
    GetTempPathW(MAX_PATH, dir);
    swprintf(path, MAX_PATH, L"%smemshim-cow-read-%lu.bin", dir, GetCurrentProcessId());
    HANDLE f = make_file(path, PAGE, GENERIC_READ | GENERIC_WRITE);
    ok(f != INVALID_HANDLE_VALUE, "make_file: error %lu", GetLastError());
    HANDLE h = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 2 * PAGE, NULL);
    ok(h != NULL, "CreateFileMapping: error %lu", GetLastError());
    unsigned char *v = h ? MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0) : NULL;
    unsigned char *r = h ? MapViewOfFile(h, FILE_MAP_READ, 0, 0, 0) : NULL;
    ok(v && r, "views: error %lu", GetLastError());
    if (f != INVALID_HANDLE_VALUE && v && r)
    {
        DWORD old, got = 0;
        ok(VirtualProtect(v, 2 * PAGE, PAGE_WRITECOPY, &old), "VirtualProtect: error %lu", GetLastError());
        SetFilePointer(f, 0, NULL, FILE_BEGIN);
        SetLastError(0xdeadbeef);
        BOOL ret = ReadFile(f, v + PAGE - 8, 16, &got, NULL);
        ok(ret && got == 16, "ReadFile into copy-on-write pages: ret %d got %lu error %lu", ret, got, GetLastError());
        ok(!memcmp(v + PAGE - 8, "abcdefghijklmnop", 16), "the read data is in the view");
        todo_wine ok(!r[PAGE - 8] && !r[PAGE], "the read stayed private (%#x %#x)", r[PAGE - 8], r[PAGE]);
        todo_wine ok(query(v) && mbi.Protect == PAGE_READWRITE && mbi.RegionSize == 2 * PAGE,
                     "both pages copied: Protect %#lx RegionSize %#zx", mbi.Protect, mbi.RegionSize);
        /* ReadProcessMemory into a copy-on-write page (memshim copies
         * from its own memory into the buffer: the page's copy is made on
         * the way, not while the copy holds the core's lock). */
        unsigned char *src = VirtualAlloc(NULL, PAGE, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);
        unsigned char *w = MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0);
        ok(src && w, "source and second view: error %lu", GetLastError());
        if (src && w)
        {
            SIZE_T done = 0;
            memset(src, 0x5c, 64);
            ok(VirtualProtect(w, PAGE, PAGE_WRITECOPY, &old), "VirtualProtect: error %lu", GetLastError());
            ret = ReadProcessMemory(GetCurrentProcess(), src, w + 100, 64, &done);
            ok(ret && done == 64, "ReadProcessMemory into a copy-on-write page: ret %d done %zu error %lu", ret,
               (size_t)done, GetLastError());
            ok(w[100] == 0x5c && w[163] == 0x5c, "the copied data is in the view (%#x)", w[100]);
            todo_wine ok(!r[100], "the copy stayed private (%#x)", r[100]);
        }
        if (w) UnmapViewOfFile(w);
        if (src) VirtualFree(src, 0, MEM_RELEASE);
    }
    if (v) UnmapViewOfFile(v);
    if (r) UnmapViewOfFile(r);
    if (h) CloseHandle(h);
    if (f != INVALID_HANDLE_VALUE) CloseHandle(f);
    DeleteFileW(path);
}

static void test_file_backed(void)
{
    WCHAR dir[MAX_PATH], path[MAX_PATH];
    HANDLE f, h;
    unsigned char *v, *cv;
    char buf[16];
    DWORD done;

    GetTempPathW(MAX_PATH, dir);
    GetTempFileNameW(dir, L"msh", 0, path);

    f = make_file(path, 0x2345, GENERIC_READ | GENERIC_WRITE);
    ok(f != INVALID_HANDLE_VALUE, "create test file: error %lu", GetLastError());
    if (f == INVALID_HANDLE_VALUE) return;

    /* Size 0 means the size of the file. */
    h = CreateFileMappingW(f, NULL, PAGE_READWRITE, 0, 0, NULL);
    ok(h != NULL, "CreateFileMappingW(file, size 0): error %lu", GetLastError());
    if (h)
    {
        v = MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0);
        ok(v != NULL, "MapViewOfFile(file): error %lu", GetLastError());
        if (v)
        {
            CHECK_VIEW(v, PAGE_READWRITE, 0x3000, PAGE_READWRITE);
            ok(v[0] == 'a' && v[0x2344] == (unsigned char)('a' + 0x2344 % 26), "view shows the file's bytes");
            ok(v[0x2345] == 0 && v[0x2fff] == 0, "the tail of the last page past the end of file is zero");
            memcpy(v + 0x1000, "VIEW-WRITE", 10);
            ok(FlushViewOfFile(v, 0), "FlushViewOfFile: error %lu", GetLastError());
            SetFilePointer(f, 0x1000, NULL, FILE_BEGIN);
            ok(ReadFile(f, buf, 10, &done, NULL) && done == 10 && !memcmp(buf, "VIEW-WRITE", 10),
               "ReadFile sees the write made through the view");
            /* and the other way round */
            SetFilePointer(f, 0x2000, NULL, FILE_BEGIN);
            WriteFile(f, "FILE-WRITE", 10, &done, NULL);
            ok(!memcmp(v + 0x2000, "FILE-WRITE", 10), "the view sees WriteFile's data");

            /* A copy view of the file keeps its writes private. */
            cv = MapViewOfFile(h, FILE_MAP_COPY, 0, 0, 0);
            ok(cv != NULL, "FILE_MAP_COPY view of a file: error %lu", GetLastError());
            if (cv)
            {
                cv[0] = 'Z';
                ok(v[0] == 'a', "copy view's write stays out of the shared view");
                UnmapViewOfFile(cv);
            }
            ok(UnmapViewOfFile(v), "UnmapViewOfFile: error %lu", GetLastError());
            SetFilePointer(f, 0, NULL, FILE_BEGIN);
            ok(ReadFile(f, buf, 1, &done, NULL) && buf[0] == 'a', "copy view's write never reached the file");
        }
        /* A view beyond the end of a file section fails. */
        SetLastError(0xdeadbeef);
        v = MapViewOfFile(h, FILE_MAP_READ, 0, 0, 0x4000);
        CHECK_FAIL_VIEW(v, ERROR_ACCESS_DENIED, "view larger than the file section");
        CloseHandle(h);
    }
    CloseHandle(f);

    /* A read-only file handle. */
    f = make_file(path, ~0u, GENERIC_READ);
    ok(f != INVALID_HANDLE_VALUE, "reopen read-only: error %lu", GetLastError());
    if (f != INVALID_HANDLE_VALUE)
    {
        SetLastError(0xdeadbeef);
        h = CreateFileMappingW(f, NULL, PAGE_READWRITE, 0, 0, NULL);
        CHECK_FAIL(h, ERROR_ACCESS_DENIED, "PAGE_READWRITE section of a read-only file handle");
        h = CreateFileMappingW(f, NULL, PAGE_READONLY, 0, 0, NULL);
        ok(h != NULL, "PAGE_READONLY section of a read-only handle: error %lu", GetLastError());
        if (h)
        {
            SetLastError(0xdeadbeef);
            v = MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0);
            CHECK_FAIL_VIEW(v, ERROR_ACCESS_DENIED, "FILE_MAP_WRITE view of a PAGE_READONLY section");
            v = MapViewOfFile(h, FILE_MAP_READ, 0, 0, 0);
            ok(v != NULL, "FILE_MAP_READ view: error %lu", GetLastError());
            if (v)
            {
                CHECK_VIEW(v, PAGE_READONLY, 0x3000, PAGE_READONLY);
                UnmapViewOfFile(v);
            }
            CloseHandle(h);
        }
        /* A section larger than a file that cannot grow. */
        SetLastError(0xdeadbeef);
        h = CreateFileMappingW(f, NULL, PAGE_READONLY, 0, 0x100000, NULL);
        CHECK_FAIL(h, ERROR_NOT_ENOUGH_MEMORY, "read-only section larger than the file");
        if (h) CloseHandle(h);
        CloseHandle(f);
    }

    /* An empty file cannot be mapped with size 0. */
    f = make_file(path, 0, GENERIC_READ | GENERIC_WRITE);
    if (f != INVALID_HANDLE_VALUE)
    {
        SetLastError(0xdeadbeef);
        h = CreateFileMappingW(f, NULL, PAGE_READWRITE, 0, 0, NULL);
        CHECK_FAIL(h, ERROR_FILE_INVALID, "section of an empty file with size 0");
        /* With an explicit size a writable file grows. */
        h = CreateFileMappingW(f, NULL, PAGE_READWRITE, 0, 0x1800, NULL);
        ok(h != NULL, "section of 0x1800 bytes of an empty writable file: error %lu", GetLastError());
        ok(GetFileSize(f, NULL) == 0x1800, "file grew to %#lx, expected 0x1800", GetFileSize(f, NULL));
        if (h) CloseHandle(h);
        CloseHandle(f);
    }
    ok(DeleteFileW(path), "DeleteFileW: error %lu", GetLastError());
}

/* SetEndOfFile with views of the file: a view past the new end refuses the
 * truncation (ERROR_USER_MAPPED_FILE), growing is allowed, and without views
 * the file can be cut. */
static void test_end_of_file(void)
{
    WCHAR dir[MAX_PATH], path[MAX_PATH];
    HANDLE f, h;
    unsigned char *v;
    char buf[16];
    DWORD done;
    BOOL ret;

    GetTempPathW(MAX_PATH, dir);
    GetTempFileNameW(dir, L"mse", 0, path);
    f = make_file(path, 3 * GRAN, GENERIC_READ | GENERIC_WRITE);
    ok(f != INVALID_HANDLE_VALUE, "create test file: error %lu", GetLastError());
    if (f == INVALID_HANDLE_VALUE) return;
    h = CreateFileMappingW(f, NULL, PAGE_READWRITE, 0, 0, unique_name("eof"));
    v = h ? MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, GRAN) : NULL;
    ok(v != NULL, "view of the first 64 KiB of the file: error %lu", GetLastError());
    if (!v) { if (h) CloseHandle(h); CloseHandle(f); DeleteFileW(path); return; }
    memcpy(v + 0x100, "THROUGH-VIEW", 12);

    SetFilePointer(f, 0x8000, NULL, FILE_BEGIN);
    SetLastError(0xdeadbeef);
    ret = SetEndOfFile(f);
    CHECK_FAIL(ret, ERROR_USER_MAPPED_FILE, "SetEndOfFile inside a mapped view");
    ok(GetFileSize(f, NULL) == 3 * GRAN, "file size after the refused truncation: %#lx", GetFileSize(f, NULL));

    SetFilePointer(f, 4 * GRAN, NULL, FILE_BEGIN);
    ok(SetEndOfFile(f), "SetEndOfFile growing a mapped file: error %lu", GetLastError());
    ok(GetFileSize(f, NULL) == 4 * GRAN, "file grew to %#lx", GetFileSize(f, NULL));

    /* The section handle closed, the view alone still holds the file, but
     * not the section's name. */
    CloseHandle(h);
    SetLastError(0xdeadbeef);
    h = OpenFileMappingW(FILE_MAP_READ, FALSE, unique_name("eof"));
    CHECK_FAIL(h, ERROR_FILE_NOT_FOUND, "OpenFileMapping of a closed file section's name with a view left");
    if (h) CloseHandle(h);
    SetFilePointer(f, 0x8000, NULL, FILE_BEGIN);
    SetLastError(0xdeadbeef);
    ret = SetEndOfFile(f);
    CHECK_FAIL(ret, ERROR_USER_MAPPED_FILE, "SetEndOfFile inside a view whose section handle is closed");
    SetFilePointer(f, 0x100, NULL, FILE_BEGIN);
    ok(ReadFile(f, buf, 12, &done, NULL) && done == 12 && !memcmp(buf, "THROUGH-VIEW", 12),
       "ReadFile sees the view's write without a flush");
    ok(UnmapViewOfFile(v), "UnmapViewOfFile: error %lu", GetLastError());

    /* No view, no section: the file can be cut, and keeps the view's data. */
    SetFilePointer(f, 0x8000, NULL, FILE_BEGIN);
    ok(SetEndOfFile(f), "SetEndOfFile with no view left: error %lu", GetLastError());
    ok(GetFileSize(f, NULL) == 0x8000, "file cut to %#lx", GetFileSize(f, NULL));
    SetFilePointer(f, 0x100, NULL, FILE_BEGIN);
    ok(ReadFile(f, buf, 12, &done, NULL) && done == 12 && !memcmp(buf, "THROUGH-VIEW", 12),
       "the view's write is in the file after the unmap");
    CloseHandle(f);

    /* Two views through one handle, the handle closed: the file stays
     * whole until the last view goes. Then 300 sections of the file, each
     * with a view, all handles closed: the last view alone still holds the
     * file. */
    f = CreateFileW(path, GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING, 0,
                    NULL);
    ok(f != INVALID_HANDLE_VALUE, "reopen the file: error %lu", GetLastError());
    if (f != INVALID_HANDLE_VALUE)
    {
        static unsigned char *views[300];
        unsigned char *v2;
        int mapped = 0;
        h = CreateFileMappingW(f, NULL, PAGE_READONLY, 0, 0, NULL);
        v = h ? MapViewOfFile(h, FILE_MAP_READ, 0, 0, 0) : NULL;
        v2 = h ? MapViewOfFile(h, FILE_MAP_READ, 0, 0, 0x1000) : NULL;
        ok(v && v2, "two views through one handle: error %lu", GetLastError());
        if (h) CloseHandle(h);
        if (v) UnmapViewOfFile(v);
        SetFilePointer(f, 0x1000, NULL, FILE_BEGIN);
        SetLastError(0xdeadbeef);
        ret = SetEndOfFile(f);
        CHECK_FAIL(ret, ERROR_USER_MAPPED_FILE, "SetEndOfFile with the second view left");
        if (v2) UnmapViewOfFile(v2);

        for (int i = 0; i < 300; i++)
        {
            HANDLE s = CreateFileMappingW(f, NULL, PAGE_READONLY, 0, 0, NULL);
            views[i] = s ? MapViewOfFile(s, FILE_MAP_READ, 0, 0, 0) : NULL;
            if (s) CloseHandle(s);
            if (views[i]) mapped++;
        }
        ok(mapped == 300, "300 sections with a view each: %d mapped, error %lu", mapped, GetLastError());
        for (int i = 0; i < 299; i++) if (views[i]) UnmapViewOfFile(views[i]);
        SetLastError(0xdeadbeef);
        ret = SetEndOfFile(f);
        CHECK_FAIL(ret, ERROR_USER_MAPPED_FILE, "SetEndOfFile with the 300th view left");
        if (views[299]) UnmapViewOfFile(views[299]);
        CloseHandle(f);
    }

    /* A file opened for exclusive use, an unnamed section of it. */
    f = CreateFileW(path, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, 0, NULL);
    ok(f != INVALID_HANDLE_VALUE, "open the file exclusively: error %lu", GetLastError());
    if (f != INVALID_HANDLE_VALUE)
    {
        h = CreateFileMappingW(f, NULL, PAGE_READONLY, 0, 0, NULL);
        v = h ? MapViewOfFile(h, FILE_MAP_READ, 0, 0, 0) : NULL;
        ok(v != NULL, "view of the exclusive file: error %lu", GetLastError());
        if (h) CloseHandle(h);
        SetFilePointer(f, 0x1000, NULL, FILE_BEGIN);
        SetLastError(0xdeadbeef);
        ret = SetEndOfFile(f);
        CHECK_FAIL(ret, ERROR_USER_MAPPED_FILE, "SetEndOfFile inside the view of an exclusive file");
        if (v)
        {
            ok(!memcmp(v + 0x100, "THROUGH-VIEW", 12), "the view still reads the file");
            UnmapViewOfFile(v);
        }
        ok(SetEndOfFile(f), "SetEndOfFile after the unmap: error %lu", GetLastError());
        CloseHandle(f);
    }
    ok(DeleteFileW(path), "DeleteFileW: error %lu", GetLastError());
}

/* A handle value just closed (use it before making another handle: values
 * are reused at once). */
static HANDLE closed_handle(void)
{
    HANDLE h = CreateEventW(NULL, FALSE, FALSE, NULL);
    CloseHandle(h);
    return h;
}

/* Bad input: handles that are not sections (invalid, closed, an event, the
 * pseudo handle of the process), bad sizes, offsets and flags. Nothing
 * crashes, every call fails with the Windows error. */
static void test_bad_input(void)
{
    HANDLE h, ev, closed, sec;
    char *v;
    BOOL ret;
    WCHAR other[96];

    ev = CreateEventW(NULL, FALSE, FALSE, NULL);
    sec = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 2 * GRAN, NULL);
    ok(ev && sec, "event and section: error %lu", GetLastError());
    if (!ev || !sec) return;

    /* CreateFileMapping on things that are not files. */
    SetLastError(0xdeadbeef);
    h = CreateFileMappingW((HANDLE)(ULONG_PTR)0xdead0, NULL, PAGE_READWRITE, 0, GRAN, NULL);
    CHECK_FAIL(h, ERROR_INVALID_HANDLE, "CreateFileMapping of an invalid handle");
    SetLastError(0xdeadbeef);
    closed = closed_handle();
    h = CreateFileMappingW(closed, NULL, PAGE_READWRITE, 0, GRAN, NULL);
    CHECK_FAIL(h, ERROR_INVALID_HANDLE, "CreateFileMapping of a closed handle");
    SetLastError(0xdeadbeef);
    h = CreateFileMappingW(ev, NULL, PAGE_READWRITE, 0, GRAN, NULL);
    CHECK_FAIL(h, ERROR_INVALID_HANDLE, "CreateFileMapping of an event");
    SetLastError(0xdeadbeef);
    h = CreateFileMappingW(sec, NULL, PAGE_READWRITE, 0, GRAN, NULL);
    CHECK_FAIL(h, ERROR_INVALID_HANDLE, "CreateFileMapping of a section handle");

    /* Protections and section flags. */
    SetLastError(0xdeadbeef);
    h = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, 0, 0, GRAN, NULL);
    CHECK_FAIL(h, ERROR_INVALID_PARAMETER, "protection 0");
    SetLastError(0xdeadbeef);
    h = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE | PAGE_READONLY, 0, GRAN, NULL);
    CHECK_FAIL(h, ERROR_INVALID_PARAMETER, "two protections");
    SetLastError(0xdeadbeef);
    h = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE | PAGE_GUARD, 0, GRAN, NULL);
    CHECK_FAIL(h, ERROR_INVALID_PARAMETER, "PAGE_GUARD");
    SetLastError(0xdeadbeef);
    h = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE | 0x00010000, 0, GRAN, NULL);
    CHECK_FAIL(h, ERROR_INVALID_PARAMETER, "unknown flag 0x10000");
    SetLastError(0xdeadbeef);
    h = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE | SEC_RESERVE | SEC_COMMIT, 0, GRAN, NULL);
    CHECK_FAIL(h, ERROR_INVALID_PARAMETER, "SEC_RESERVE | SEC_COMMIT");
    SetLastError(0xdeadbeef);
    h = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE | SEC_IMAGE, 0, GRAN, NULL);
    CHECK_FAIL(h, ERROR_BAD_EXE_FORMAT, "SEC_IMAGE without a file");
    if (h) CloseHandle(h);

    /* Names: an unprefixed name is the session's (Local\); Global\ works;
     * another type's name fails, also through OpenFileMapping. */
    swprintf(other, ARRAYSIZE(other), L"memshim-conf-plain-%lu", GetCurrentProcessId());
    h = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, GRAN, other);
    ok(h != NULL, "CreateFileMapping with an unprefixed name: error %lu", GetLastError());
    if (h)
    {
        WCHAR local[112];
        HANDLE h2;
        swprintf(local, ARRAYSIZE(local), L"Local\\%ls", other);
        h2 = OpenFileMappingW(FILE_MAP_READ, FALSE, local);
        ok(h2 != NULL, "the unprefixed name opens as Local\\: error %lu", GetLastError());
        if (h2) CloseHandle(h2);
        CloseHandle(h);
    }
    swprintf(other, ARRAYSIZE(other), L"Global\\memshim-conf-global-%lu", GetCurrentProcessId());
    h = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, GRAN, other);
    ok(h != NULL && GetLastError() == ERROR_SUCCESS, "CreateFileMapping Global\\: error %lu", GetLastError());
    if (h)
    {
        HANDLE h2 = OpenFileMappingW(FILE_MAP_ALL_ACCESS, FALSE, other);
        char *a = MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0), *b = h2 ? MapViewOfFile(h2, FILE_MAP_READ, 0, 0, 0) : NULL;
        ok(a && b, "views of the Global\\ section: error %lu", GetLastError());
        if (a && b)
        {
            a[10] = 'g';
            ok(b[10] == 'g', "the Global\\ name's two handles share the section");
        }
        if (a) UnmapViewOfFile(a);
        if (b) UnmapViewOfFile(b);
        if (h2) CloseHandle(h2);
        CloseHandle(h);
    }
    {
        HANDLE named_ev;
        swprintf(other, ARRAYSIZE(other), L"Local\\memshim-conf-ev-%lu", GetCurrentProcessId());
        named_ev = CreateEventW(NULL, FALSE, FALSE, other);
        SetLastError(0xdeadbeef);
        h = OpenFileMappingW(FILE_MAP_READ, FALSE, other);
        CHECK_FAIL(h, ERROR_INVALID_HANDLE, "OpenFileMapping of an event's name");
        CloseHandle(named_ev);
    }
    SetLastError(0xdeadbeef);
    h = OpenFileMappingW(FILE_MAP_READ, FALSE, L"Local\\memshim\\no\\such\\dir");
    CHECK_FAIL(h, ERROR_PATH_NOT_FOUND, "OpenFileMapping in a directory that does not exist");
    SetLastError(0xdeadbeef);
    h = OpenFileMappingW(FILE_MAP_READ, FALSE, NULL);
    CHECK_FAIL(h, ERROR_INVALID_PARAMETER, "OpenFileMapping without a name");

    /* MapViewOfFile of things that are not sections. */
    SetLastError(0xdeadbeef);
    v = MapViewOfFile(NULL, FILE_MAP_READ, 0, 0, 0);
    CHECK_FAIL_VIEW(v, ERROR_INVALID_HANDLE, "MapViewOfFile(NULL)");
    SetLastError(0xdeadbeef);
    v = MapViewOfFile((HANDLE)(ULONG_PTR)0xdead0, FILE_MAP_READ, 0, 0, 0);
    CHECK_FAIL_VIEW(v, ERROR_INVALID_HANDLE, "MapViewOfFile of an invalid handle");
    SetLastError(0xdeadbeef);
    closed = closed_handle();
    v = MapViewOfFile(closed, FILE_MAP_READ, 0, 0, 0);
    CHECK_FAIL_VIEW(v, ERROR_INVALID_HANDLE, "MapViewOfFile of a closed handle");
    SetLastError(0xdeadbeef);
    v = MapViewOfFile(ev, FILE_MAP_READ, 0, 0, 0);
    CHECK_FAIL_VIEW(v, ERROR_INVALID_HANDLE, "MapViewOfFile of an event");
    SetLastError(0xdeadbeef);
    v = MapViewOfFile(GetCurrentProcess(), FILE_MAP_READ, 0, 0, 0);
    CHECK_FAIL_VIEW(v, ERROR_INVALID_HANDLE, "MapViewOfFile of the process pseudo handle");

    /* Access 0 maps read-only; a handle without map rights maps nothing. */
    v = MapViewOfFile(sec, 0, 0, 0, 0);
    ok(v != NULL, "MapViewOfFile with access 0: error %lu", GetLastError());
    if (v) UnmapViewOfFile(v);
    {
        HANDLE none = NULL;
        ok(DuplicateHandle(GetCurrentProcess(), sec, GetCurrentProcess(), &none, 0, FALSE, 0),
           "DuplicateHandle with no access: error %lu", GetLastError());
        SetLastError(0xdeadbeef);
        v = MapViewOfFile(none, FILE_MAP_READ, 0, 0, 0);
        CHECK_FAIL_VIEW(v, ERROR_ACCESS_DENIED, "FILE_MAP_READ view of a handle without access");
        SetLastError(0xdeadbeef);
        v = MapViewOfFile(none, 0, 0, 0, 0);
        CHECK_FAIL_VIEW(v, ERROR_ACCESS_DENIED, "access-0 view of a handle without access");
        CloseHandle(none);
    }

    /* Offsets and sizes. */
    /* An offset past the end: Wine says ERROR_INVALID_PARAMETER, Windows
     * ERROR_ACCESS_DENIED or that (see test_pagefile). */
    SetLastError(0xdeadbeef);
    v = MapViewOfFile(sec, FILE_MAP_READ, 0xffffffff, 0xffff0000, GRAN);
    ok(!v && (GetLastError() == ERROR_ACCESS_DENIED || GetLastError() == ERROR_INVALID_PARAMETER),
       "offset near 2^64 (offset + size wraps): %p, error %lu", v, GetLastError());
    if (v) UnmapViewOfFile(v);
    SetLastError(0xdeadbeef);
    v = MapViewOfFile(sec, FILE_MAP_READ, 0, GRAN, ~(SIZE_T)0 - 0x1000);
    CHECK_FAIL_VIEW(v, ERROR_ACCESS_DENIED, "size near 2^64 (offset + size wraps)");
    SetLastError(0xdeadbeef);
    v = MapViewOfFile(sec, FILE_MAP_READ, 1, 0, 0);
    ok(!v && (GetLastError() == ERROR_ACCESS_DENIED || GetLastError() == ERROR_INVALID_PARAMETER),
       "offset 4 GiB in a 128 KiB section, size 0: %p, error %lu", v, GetLastError());
    if (v) UnmapViewOfFile(v);

    /* Unmap and flush of what is not a view. */
    SetLastError(0xdeadbeef);
    ret = UnmapViewOfFile((void *)(ULONG_PTR)0xdeadbeef);
    CHECK_FAIL(ret, ERROR_INVALID_ADDRESS, "UnmapViewOfFile(0xdeadbeef)");
    SetLastError(0xdeadbeef);
    ret = UnmapViewOfFile(&ret);
    CHECK_FAIL(ret, ERROR_INVALID_ADDRESS, "UnmapViewOfFile(the stack)");
    v = MapViewOfFile(sec, FILE_MAP_WRITE, 0, 0, 0);
    ok(v != NULL, "MapViewOfFile: error %lu", GetLastError());
    if (v)
    {
        ok(FlushViewOfFile(v + 0x1234, 0x10), "FlushViewOfFile inside a view: error %lu", GetLastError());
        ok(FlushViewOfFile(v, 0), "FlushViewOfFile of the whole view: error %lu", GetLastError());
        SetLastError(0xdeadbeef);
        ret = FlushViewOfFile(v + GRAN, 4 * GRAN);
        CHECK_FAIL(ret, ERROR_INVALID_PARAMETER, "FlushViewOfFile past the end of the view");
        ok(UnmapViewOfFile(v), "UnmapViewOfFile: error %lu", GetLastError());
        SetLastError(0xdeadbeef);
        ret = FlushViewOfFile(v, 0);
        CHECK_FAIL(ret, ERROR_INVALID_PARAMETER, "FlushViewOfFile of an unmapped view");
    }
    /* UnmapViewOfFileEx: unknown flags fail and leave the view. */
    v = MapViewOfFile(sec, FILE_MAP_READ, 0, 0, 0);
    ok(v != NULL, "MapViewOfFile: error %lu", GetLastError());
    if (v)
    {
        /* Wine 8.0 ignores the flags and unmaps. */
        SetLastError(0xdeadbeef);
        ret = UnmapViewOfFileEx(v, 0x80000000);
        todo_wine
        {
            CHECK_FAIL(ret, ERROR_INVALID_PARAMETER, "UnmapViewOfFileEx with an unknown flag");
            ok(query(v) && mbi.State == MEM_COMMIT && mbi.Type == MEM_MAPPED, "the view is still mapped");
            /* A view not mapped into a placeholder cannot leave one
             * (STATUS_CONFLICTING_ADDRESSES, Wine's tests of UnmapViewOfFile2). */
            SetLastError(0xdeadbeef);
            ret = UnmapViewOfFileEx(v, 0x2 /* MEM_PRESERVE_PLACEHOLDER */);
            CHECK_FAIL(ret, ERROR_INVALID_ADDRESS, "MEM_PRESERVE_PLACEHOLDER on a plain view");
            ok(query(v) && mbi.State == MEM_COMMIT && mbi.Type == MEM_MAPPED, "the view is still mapped");
            ok(UnmapViewOfFileEx(v, MEM_UNMAP_WITH_TRANSIENT_BOOST), "UnmapViewOfFileEx(TRANSIENT_BOOST): error %lu",
               GetLastError());
        }
        ok(query(v) && mbi.State == MEM_FREE, "the view is gone (State %#lx)", mbi.State);
    }
    SetLastError(0xdeadbeef);
    ret = FlushViewOfFile(NULL, 0);
    CHECK_FAIL(ret, ERROR_INVALID_PARAMETER, "FlushViewOfFile(NULL)");
    {
        /* Private memory: Wine flushes it (msync of anonymous memory). */
        char *priv = VirtualAlloc(NULL, GRAN, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
        ret = FlushViewOfFile(priv, 0);
        ok(ret, "FlushViewOfFile of VirtualAlloc memory: error %lu", GetLastError());
        VirtualFree(priv, 0, MEM_RELEASE);
    }

    CloseHandle(sec);
    CloseHandle(ev);
}

static void test_view_at_address(void)
{
    HANDLE h = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, GRAN, NULL);
    char *want, *v;
    ok(h != NULL, "CreateFileMappingW: error %lu", GetLastError());
    if (!h) return;
    want = VirtualAlloc(NULL, GRAN, MEM_RESERVE, PAGE_NOACCESS);
    ok(want != NULL, "VirtualAlloc: error %lu", GetLastError());
    if (!want) return;

    SetLastError(0xdeadbeef);
    v = MapViewOfFileEx(h, FILE_MAP_WRITE, 0, 0, 0, want);
    CHECK_FAIL_VIEW(v, ERROR_INVALID_ADDRESS, "MapViewOfFileEx at a reserved address");
    VirtualFree(want, 0, MEM_RELEASE);

    SetLastError(0xdeadbeef);
    v = MapViewOfFileEx(h, FILE_MAP_WRITE, 0, 0, 0, want + PAGE);
    CHECK_FAIL_VIEW(v, ERROR_MAPPED_ALIGNMENT, "MapViewOfFileEx at an address not 64 KiB aligned");

    v = MapViewOfFileEx(h, FILE_MAP_WRITE, 0, 0, 0, want);
    ok(v == want, "MapViewOfFileEx at a free address returned %p, expected %p (error %lu)", v, want,
       GetLastError());
    if (v)
    {
        CHECK_VIEW(v, PAGE_READWRITE, GRAN, PAGE_READWRITE);
        UnmapViewOfFile(v);
    }

    /* Above the user address space, or a view that would run into it:
     * NtMapViewOfSection refuses the base before anything else
     * (STATUS_INVALID_PARAMETER_3). Wine 8.0 maps the first one. */
    SetLastError(0xdeadbeef);
    v = MapViewOfFileEx(h, FILE_MAP_WRITE, 0, 0, 0, (void *)(ULONG_PTR)0x800000000000ull);
    todo_wine ok(!v && GetLastError() == ERROR_INVALID_PARAMETER, "a view above user space: %p, error %lu", v,
                 GetLastError());
    if (v) UnmapViewOfFile(v);
    SetLastError(0xdeadbeef);
    v = MapViewOfFileEx(h, FILE_MAP_WRITE, 0, 0, 2 * GRAN, (void *)(ULONG_PTR)0x7ffffffe0000ull);
    todo_wine ok(!v && GetLastError() == ERROR_INVALID_PARAMETER, "a view running out of user space: %p, error %lu",
                 v, GetLastError());
    if (v) UnmapViewOfFile(v);
    CloseHandle(h);
}

static void test_sec_reserve(void)
{
    HANDLE h = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE | SEC_RESERVE, 0, 4 * GRAN, NULL);
    char *v, *c;
    ok(h != NULL, "SEC_RESERVE section: error %lu", GetLastError());
    if (!h) return;
    v = MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0);
    ok(v != NULL, "view of a SEC_RESERVE section: error %lu", GetLastError());
    if (v)
    {
        ok(query(v) && mbi.State == MEM_RESERVE && mbi.Type == MEM_MAPPED && mbi.Protect == 0 &&
           mbi.AllocationProtect == PAGE_READWRITE && mbi.RegionSize == 4 * GRAN,
           "SEC_RESERVE view: State %#lx Type %#lx Protect %#lx AllocationProtect %#lx RegionSize %#zx", mbi.State,
           mbi.Type, mbi.Protect, mbi.AllocationProtect, mbi.RegionSize);
        c = VirtualAlloc(v, GRAN, MEM_COMMIT, PAGE_READWRITE);
        ok(c == v, "VirtualAlloc(MEM_COMMIT) inside the view returned %p, error %lu", c, GetLastError());
        if (c)
        {
            c[0] = 1;
            ok(query(v) && mbi.State == MEM_COMMIT && mbi.RegionSize == GRAN && mbi.Type == MEM_MAPPED,
               "committed part: State %#lx RegionSize %#zx Type %#lx", mbi.State, mbi.RegionSize, mbi.Type);
        }
        SetLastError(0xdeadbeef);
        c = VirtualAlloc(v + GRAN, PAGE, MEM_COMMIT, PAGE_WRITECOPY);
        ok(c == v + GRAN, "MEM_COMMIT PAGE_WRITECOPY inside the view returned %p, error %lu", c, GetLastError());
        ok(query(v + GRAN) && mbi.State == MEM_COMMIT && mbi.Protect == PAGE_WRITECOPY && mbi.RegionSize == PAGE,
           "committed copy-on-write: State %#lx Protect %#lx RegionSize %#zx", mbi.State, mbi.Protect,
           mbi.RegionSize);
        UnmapViewOfFile(v);
    }
    CloseHandle(h);
}

/* A handle value closed and then given to another object must never be
 * mapped with the facts of the section it named before (memshim remembers
 * the size and attributes of pagefile sections by handle). */
typedef LONG(WINAPI *nt_close_fn)(HANDLE);
typedef LONG(WINAPI *nt_create_section_fn)(HANDLE *, ACCESS_MASK, void *, LARGE_INTEGER *, ULONG, ULONG, HANDLE);

/* A SEC_RESERVE section made without kernel32 (so memshim does not see it
 * made), of `size` bytes. */
static HANDLE reserve_section_by_ntdll(SIZE_T size)
{
    nt_create_section_fn create =
        (nt_create_section_fn)(void *)GetProcAddress(GetModuleHandleA("ntdll.dll"), "NtCreateSection");
    LARGE_INTEGER max;
    HANDLE h = NULL;
    max.QuadPart = (LONGLONG)size;
    if (!create || create(&h, SECTION_ALL_ACCESS, NULL, &max, PAGE_READWRITE, SEC_RESERVE, NULL))
        return NULL;
    return h;
}

/* `h` must map as a reserve-only section of `size` bytes. */
static void check_reserve_view(int line, HANDLE h, SIZE_T size, const char *how)
{
    char *v = MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0);
    harness_ok(v != NULL, __FILE__, line, "%s: view of the SEC_RESERVE section: error %lu", how, GetLastError());
    if (!v)
        return;
    harness_ok(query(v) && mbi.State == MEM_RESERVE && mbi.RegionSize == size, __FILE__, line,
               "%s: State %#lx RegionSize %#zx, expected MEM_RESERVE %#zx", how, mbi.State, mbi.RegionSize, size);
    UnmapViewOfFile(v);
}

/* The handle value `closed` had is free: a SEC_RESERVE section of `size`
 * made through ntdll (which may take that value) must map as one. */
static BOOL check_reused_by_ntdll(int line, HANDLE closed, SIZE_T size, const char *how)
{
    HANDLE again = reserve_section_by_ntdll(size);
    ok(again != NULL, "NtCreateSection SEC_RESERVE");
    if (!again) return FALSE;
    trace("%s: handle %p, then %p", how, closed, again);
    check_reserve_view(line, again, size, how);
    CloseHandle(again);
    return TRUE;
}

static void test_handle_reuse(void)
{
    nt_close_fn nt_close = (nt_close_fn)(void *)GetProcAddress(GetModuleHandleA("ntdll.dll"), "NtClose");
    HANDLE h, again, dup;
    char *v, *w;

    /* Closed by NtClose before any view, the value reused by a section of
     * the same size (so its file is as long) made by ntdll. */
    h = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 2 * GRAN, NULL);
    ok(h != NULL && nt_close != NULL, "section: error %lu", GetLastError());
    if (!h || !nt_close) return;
    ok(nt_close(h) == 0, "NtClose");
    if (!check_reused_by_ntdll(__LINE__, h, 2 * GRAN, "after NtClose")) return;

    /* The same after a view (the handle's file is then known) and CloseHandle. */
    h = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 3 * GRAN, NULL);
    v = h ? MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0) : NULL;
    ok(v != NULL, "view: error %lu", GetLastError());
    if (v) UnmapViewOfFile(v);
    CloseHandle(h);
    if (!check_reused_by_ntdll(__LINE__, h, 3 * GRAN, "after a view and CloseHandle")) return;

    /* Closed by DuplicateHandle(DUPLICATE_CLOSE_SOURCE): the duplicate is
     * the section, the old value is another one. (A lower value is freed
     * first, so that the duplicate does not take the old value back.) */
    HANDLE filler = CreateEventW(NULL, TRUE, FALSE, NULL);
    h = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 2 * GRAN, NULL);
    ok(h != NULL && filler != NULL, "section: error %lu", GetLastError());
    if (!h) return;
    CloseHandle(filler);
    ok(DuplicateHandle(GetCurrentProcess(), h, GetCurrentProcess(), &dup, SECTION_QUERY | SECTION_MAP_READ, FALSE,
                       DUPLICATE_CLOSE_SOURCE),
       "DuplicateHandle: error %lu", GetLastError());
    again = reserve_section_by_ntdll(2 * GRAN);
    ok(again != NULL, "NtCreateSection SEC_RESERVE");
    trace("DuplicateHandle(DUPLICATE_CLOSE_SOURCE): handle %p, then %p, duplicate %p", h, again, dup);
    if (again) check_reserve_view(__LINE__, again, 2 * GRAN, "after DUPLICATE_CLOSE_SOURCE");
    SetLastError(0xdeadbeef);
    v = MapViewOfFile(dup, FILE_MAP_WRITE, 0, 0, 0);
    CHECK_FAIL_VIEW(v, ERROR_ACCESS_DENIED, "write view through the read-only duplicate");
    v = MapViewOfFile(dup, FILE_MAP_READ, 0, 0, 0);
    ok(v != NULL, "view of the duplicate: error %lu", GetLastError());
    if (v)
    {
        CHECK_VIEW(v, PAGE_READONLY, 2 * GRAN, PAGE_READONLY);
        UnmapViewOfFile(v);
    }
    CloseHandle(dup);
    if (again) CloseHandle(again);

    /* Given to another process with DUPLICATE_CLOSE_SOURCE: the value is
     * free here, and taken by a section of the same size made by ntdll. */
    {
        WCHAR self[MAX_PATH];
        STARTUPINFOW si;
        memset(&si, 0, sizeof(si));
        si.cb = sizeof(si);
        PROCESS_INFORMATION pi;
        GetModuleFileNameW(NULL, self, MAX_PATH);
        if (!CreateProcessW(self, NULL, NULL, NULL, FALSE, CREATE_SUSPENDED, NULL, NULL, &si, &pi))
        {
            skip("no child process: error %lu", GetLastError());
        }
        else
        {
            h = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 2 * GRAN, NULL);
            ok(h != NULL, "section: error %lu", GetLastError());
            ok(DuplicateHandle(GetCurrentProcess(), h, pi.hProcess, &dup, 0, FALSE,
                               DUPLICATE_SAME_ACCESS | DUPLICATE_CLOSE_SOURCE),
               "DuplicateHandle to a child: error %lu", GetLastError());
            check_reused_by_ntdll(__LINE__, h, 2 * GRAN, "after DUPLICATE_CLOSE_SOURCE to a child");
            TerminateProcess(pi.hProcess, 0);
            WaitForSingleObject(pi.hProcess, 5000);
            CloseHandle(pi.hThread);
            CloseHandle(pi.hProcess);
        }
    }

    /* The value reused by an object that is no section. */
    h = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, GRAN, NULL);
    ok(h != NULL, "section: error %lu", GetLastError());
    if (!h) return;
    CloseHandle(h);
    again = CreateEventW(NULL, TRUE, FALSE, NULL);
    trace("event: handle %p, then %p", h, again);
    SetLastError(0xdeadbeef);
    v = MapViewOfFile(again, FILE_MAP_READ, 0, 0, 0);
    CHECK_FAIL_VIEW(v, ERROR_INVALID_HANDLE, "MapViewOfFile of an event");
    CloseHandle(again);

    /* Other handles of a named section are the same section; a new section
     * of the same name after the old one is gone is not (its file may get
     * the old file's inode number). */
    const WCHAR *name = unique_name("reuse");
    h = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, PAGE, name);
    ok(h != NULL, "named section: error %lu", GetLastError());
    if (!h) return;
    again = OpenFileMappingW(FILE_MAP_ALL_ACCESS, FALSE, name);
    v = MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0);
    w = again ? MapViewOfFile(again, FILE_MAP_WRITE, 0, 0, 0) : NULL;
    ok(v && w, "views through both handles: error %lu", GetLastError());
    if (v && w)
    {
        CHECK_VIEW(w, PAGE_READWRITE, PAGE, PAGE_READWRITE);
        v[5] = 42;
        ok(w[5] == 42, "both views show the same section");
    }
    if (v) UnmapViewOfFile(v);
    if (w) UnmapViewOfFile(w);
    SetLastError(0xdeadbeef);
    w = again ? MapViewOfFile(again, FILE_MAP_READ, 0, 0, PAGE + 1) : NULL;
    CHECK_FAIL_VIEW(w, ERROR_ACCESS_DENIED, "view larger than the opened section");
    CloseHandle(again);
    again = OpenFileMappingW(FILE_MAP_READ, FALSE, name);
    ok(again != NULL, "OpenFileMapping FILE_MAP_READ: error %lu", GetLastError());
    SetLastError(0xdeadbeef);
    w = again ? MapViewOfFile(again, FILE_MAP_WRITE, 0, 0, 0) : NULL;
    CHECK_FAIL_VIEW(w, ERROR_ACCESS_DENIED, "write view through a read-only handle");
    w = again ? MapViewOfFile(again, FILE_MAP_READ, 0, 0, 0) : NULL;
    ok(w != NULL, "read view through a read-only handle: error %lu", GetLastError());
    if (w) UnmapViewOfFile(w);
    CloseHandle(again);
    CloseHandle(h);

    for (int round = 0; round < 2; round++)
    {
        SIZE_T size = (round + 3) * PAGE;
        h = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, (DWORD)size, name);
        ok(h != NULL && GetLastError() == ERROR_SUCCESS, "named section again: error %lu", GetLastError());
        if (!h) return;
        again = OpenFileMappingW(FILE_MAP_ALL_ACCESS, FALSE, name);
        w = again ? MapViewOfFile(again, FILE_MAP_READ, 0, 0, 0) : NULL;
        ok(w != NULL, "view of the new section: error %lu", GetLastError());
        if (w)
        {
            CHECK_VIEW(w, PAGE_READONLY, size, PAGE_READONLY);
            ok(!w[5], "the new section reads as zeros");
            UnmapViewOfFile(w);
        }
        CloseHandle(again);
        CloseHandle(h);
    }
}

/* Threads writing into the same copy-on-write pages of a shared view at
 * once: every write lands in the page's one private copy (the copy of a
 * page made while another thread's first write to it was faulting must
 * not lose that write), and none reaches the section. */
#define COW_THREADS 3
#define COW_PAGES 16
static unsigned char *volatile cow_view;
static HANDLE cow_go[COW_THREADS], cow_done[COW_THREADS];

static DWORD WINAPI cow_writer(void *arg)
{
    int id = (int)(ULONG_PTR)arg;
    for (;;)
    {
        WaitForSingleObject(cow_go[id], INFINITE);
        unsigned char *v = cow_view;
        if (!v) break;
        for (int i = 0; i < COW_PAGES; i++)
            v[i * PAGE + 64 * id] = (unsigned char)(0x80 + id);
        SetEvent(cow_done[id]);
    }
    return 0;
}

static void test_writecopy_threads(void)
{
    HANDLE threads[COW_THREADS];
    HANDLE h = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, COW_PAGES * PAGE, NULL);
    ok(h != NULL, "CreateFileMapping: error %lu", GetLastError());
    if (!h) return;
    unsigned char *section = MapViewOfFile(h, FILE_MAP_READ, 0, 0, 0);
    ok(section != NULL, "read view: error %lu", GetLastError());
    for (int t = 0; t < COW_THREADS; t++)
    {
        cow_go[t] = CreateEventW(NULL, FALSE, FALSE, NULL);
        cow_done[t] = CreateEventW(NULL, FALSE, FALSE, NULL);
        threads[t] = CreateThread(NULL, 0, cow_writer, (void *)(ULONG_PTR)t, 0, NULL);
    }
    int lost = 0, leaked = 0, unprotected = 0;
    for (int round = 0; round < 40 && section; round++)
    {
        unsigned char *v = MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0);
        DWORD old;
        if (!v || !VirtualProtect(v, COW_PAGES * PAGE, PAGE_WRITECOPY, &old))
        {
            ok(0, "round %d: view or VirtualProtect failed: error %lu", round, GetLastError());
            if (v) UnmapViewOfFile(v);
            break;
        }
        cow_view = v;
        for (int t = 0; t < COW_THREADS; t++) SetEvent(cow_go[t]);
        WaitForMultipleObjects(COW_THREADS, cow_done, TRUE, INFINITE);
        for (int i = 0; i < COW_PAGES; i++)
        {
            for (int t = 0; t < COW_THREADS; t++)
            {
                if (v[i * PAGE + 64 * t] != 0x80 + t) lost++;
                if (section[i * PAGE + 64 * t]) leaked++;
            }
            MEMORY_BASIC_INFORMATION m;
            if (!VirtualQuery(v + i * PAGE, &m, sizeof(m)) || m.Protect != PAGE_READWRITE) unprotected++;
        }
        UnmapViewOfFile(v);
    }
    ok(!lost, "%d writes lost in copy-on-write pages written by %d threads at once", lost, COW_THREADS);
    todo_wine ok(!leaked, "%d writes to copy-on-write pages reached the section", leaked);
    todo_wine ok(!unprotected, "%d written copy-on-write pages not reported PAGE_READWRITE", unprotected);
    cow_view = NULL;
    for (int t = 0; t < COW_THREADS; t++)
    {
        SetEvent(cow_go[t]);
        WaitForSingleObject(threads[t], INFINITE);
        CloseHandle(threads[t]);
        CloseHandle(cow_go[t]);
        CloseHandle(cow_done[t]);
    }
    if (section) UnmapViewOfFile(section);
    CloseHandle(h);
}

/* What NtQuerySection says of an unnamed pagefile section (memshim makes
 * the file behind it itself: the section must still read as SEC_COMMIT),
 * through the handle that made it and through a duplicate. */
typedef struct
{
    void *base;
    ULONG attributes;
    LARGE_INTEGER size;
} section_basic_info;
typedef LONG(WINAPI *nt_query_section_fn)(HANDLE, int, void *, SIZE_T, SIZE_T *);

static void check_section_basic(int line, HANDLE h, ULONG attributes, LONGLONG size, const char *what)
{
    nt_query_section_fn query_section =
        (nt_query_section_fn)(void *)GetProcAddress(GetModuleHandleA("ntdll.dll"), "NtQuerySection");
    section_basic_info info;
    SIZE_T got = 0;
    memset(&info, 0xcc, sizeof(info));
    harness_ok(query_section != NULL, __FILE__, line, "ntdll exports NtQuerySection");
    if (!query_section) return;
    LONG status = query_section(h, 0 /* SectionBasicInformation */, &info, sizeof(info), &got);
    harness_ok(!status && got == sizeof(info), __FILE__, line, "%s: NtQuerySection status %#lx, %zu bytes", what,
               status, got);
    harness_ok(info.attributes == attributes, __FILE__, line, "%s: Attributes %#lx, expected %#lx", what,
               info.attributes, attributes);
    harness_ok(info.size.QuadPart == size, __FILE__, line, "%s: Size %#llx, expected %#llx", what,
               (unsigned long long)info.size.QuadPart, (unsigned long long)size);
}

/* Sections whose handles MapViewOfFile knows without asking Wine's server
 * on memshim: unnamed ones it made, many at once; named ones opened again
 * by name, also after the handle that made them is closed, and the same
 * name after every handle of it closed (another section then). */
static void test_known_sections(void)
{
    enum { COUNT = 100 };
    static HANDLE many[COUNT];
    static unsigned char *views[COUNT];
    HANDLE h, dup, opened, again;
    unsigned char *v, *w;

    h = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 3 * PAGE, NULL);
    ok(h != NULL, "unnamed section: error %lu", GetLastError());
    if (!h) return;
    check_section_basic(__LINE__, h, SEC_COMMIT, 3 * PAGE, "unnamed section");
    ok(DuplicateHandle(GetCurrentProcess(), h, GetCurrentProcess(), &dup, 0, FALSE, DUPLICATE_SAME_ACCESS),
       "DuplicateHandle: error %lu", GetLastError());
    check_section_basic(__LINE__, dup, SEC_COMMIT, 3 * PAGE, "its duplicate");
    v = MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0);
    w = MapViewOfFile(dup, FILE_MAP_READ, 0, 0, 0);
    ok(v && w, "views through the handle and its duplicate: error %lu", GetLastError());
    if (v && w)
    {
        CHECK_VIEW(w, PAGE_READONLY, 3 * PAGE, PAGE_READONLY);
        v[2 * PAGE + 7] = 0x5a;
        ok(w[2 * PAGE + 7] == 0x5a, "the duplicate's view shows the write");
    }
    if (v) UnmapViewOfFile(v);
    if (w) UnmapViewOfFile(w);
    CloseHandle(dup);
    CloseHandle(h);

    /* A read-only one: its handle may not map for writing. */
    h = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READONLY, 0, PAGE, NULL);
    ok(h != NULL, "read-only unnamed section: error %lu", GetLastError());
    if (h)
    {
        check_section_basic(__LINE__, h, SEC_COMMIT, PAGE, "read-only unnamed section");
        SetLastError(0xdeadbeef);
        v = MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0);
        CHECK_FAIL_VIEW(v, ERROR_ACCESS_DENIED, "write view of a PAGE_READONLY section");
        v = MapViewOfFile(h, FILE_MAP_READ, 0, 0, 0);
        ok(v && !v[100], "read view of a PAGE_READONLY section reads zeros: error %lu", GetLastError());
        if (v) UnmapViewOfFile(v);
        CloseHandle(h);
    }

    /* Every protection a pagefile section may have: a pagefile section
     * (SEC_COMMIT) whose views read zeros, writable where it allows. */
    static const struct { DWORD protect, access; BOOL writable; } kinds[] = {
        { PAGE_READONLY, FILE_MAP_READ, FALSE },
        { PAGE_READWRITE, FILE_MAP_WRITE, TRUE },
        { PAGE_WRITECOPY, FILE_MAP_COPY, TRUE },
        { PAGE_EXECUTE_READ, FILE_MAP_READ | FILE_MAP_EXECUTE, FALSE },
        { PAGE_EXECUTE_READWRITE, FILE_MAP_WRITE | FILE_MAP_EXECUTE, TRUE },
        { PAGE_EXECUTE_WRITECOPY, FILE_MAP_COPY | FILE_MAP_EXECUTE, TRUE },
    };
    for (size_t k = 0; k < ARRAYSIZE(kinds); k++)
    {
        h = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, kinds[k].protect, 0, 2 * PAGE, NULL);
        ok(h != NULL, "unnamed section %#lx: error %lu", kinds[k].protect, GetLastError());
        if (!h) continue;
        check_section_basic(__LINE__, h, SEC_COMMIT, 2 * PAGE, "unnamed section, each protection");
        v = MapViewOfFile(h, kinds[k].access, 0, 0, 0);
        ok(v && !v[PAGE + 1], "view %#lx of section %#lx reads zeros: error %lu", kinds[k].access,
           kinds[k].protect, GetLastError());
        if (v && kinds[k].writable)
        {
            v[PAGE + 1] = 3;
            ok(v[PAGE + 1] == 3, "view %#lx of section %#lx takes a write", kinds[k].access, kinds[k].protect);
        }
        if (v) UnmapViewOfFile(v);
        CloseHandle(h);
    }

    /* A handle with every right still maps only what the section's own
     * protection allows: Windows refuses the rest with
     * STATUS_SECTION_PROTECTION (ERROR_INVALID_PARAMETER). Wine 8.0 maps
     * them (a writable view of a read-only section). */
    static const struct { DWORD protect, access; BOOL fits; } fits[] = {
        { PAGE_READONLY, FILE_MAP_WRITE, FALSE },
        { PAGE_READONLY, FILE_MAP_COPY, TRUE },
        { PAGE_READONLY, FILE_MAP_READ | FILE_MAP_EXECUTE, FALSE },
        { PAGE_WRITECOPY, FILE_MAP_WRITE, FALSE },
        { PAGE_WRITECOPY, FILE_MAP_COPY, TRUE },
        { PAGE_READWRITE, FILE_MAP_READ | FILE_MAP_EXECUTE, FALSE },
        { PAGE_READWRITE, FILE_MAP_WRITE, TRUE },
        { PAGE_EXECUTE_READ, FILE_MAP_WRITE, FALSE },
        { PAGE_EXECUTE_READ, FILE_MAP_READ | FILE_MAP_EXECUTE, TRUE },
        { PAGE_EXECUTE_READ, FILE_MAP_COPY | FILE_MAP_EXECUTE, FALSE },
        { PAGE_EXECUTE_WRITECOPY, FILE_MAP_WRITE, FALSE },
        { PAGE_EXECUTE_WRITECOPY, FILE_MAP_COPY | FILE_MAP_EXECUTE, TRUE },
    };
    for (size_t k = 0; k < ARRAYSIZE(fits); k++)
    {
        h = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, fits[k].protect, 0, PAGE, NULL);
        dup = NULL;
        ok(h && DuplicateHandle(GetCurrentProcess(), h, GetCurrentProcess(), &dup, SECTION_ALL_ACCESS, FALSE, 0),
           "section %#lx and a duplicate with every right: error %lu", fits[k].protect, GetLastError());
        if (!dup) { if (h) CloseHandle(h); continue; }
        SetLastError(0xdeadbeef);
        v = MapViewOfFile(dup, fits[k].access, 0, 0, 0);
        if (fits[k].fits)
            ok(v != NULL, "view %#lx of a section %#lx: error %lu", fits[k].access, fits[k].protect, GetLastError());
        else
            todo_wine_if(is_wine_builtin())
            ok(!v && GetLastError() == ERROR_INVALID_PARAMETER,
               "view %#lx of a section %#lx: %p, error %lu, expected ERROR_INVALID_PARAMETER", fits[k].access,
               fits[k].protect, v, GetLastError());
        if (v) UnmapViewOfFile(v);
        CloseHandle(dup);
        CloseHandle(h);
    }

    /* Through a handle without the right, the handle is refused first
     * (ERROR_ACCESS_DENIED): CreateFileMapping grants SECTION_MAP_EXECUTE
     * only for an executable protection, OpenFileMapping what it asks. */
    h = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, PAGE, unique_name("noexec"));
    ok(h != NULL, "PAGE_READWRITE section: error %lu", GetLastError());
    if (h)
    {
        SetLastError(0xdeadbeef);
        v = MapViewOfFile(h, FILE_MAP_READ | FILE_MAP_EXECUTE, 0, 0, 0);
        CHECK_FAIL_VIEW(v, ERROR_ACCESS_DENIED, "an executable view through CreateFileMapping's handle");
        dup = OpenFileMappingW(FILE_MAP_READ | SECTION_QUERY, FALSE, unique_name("noexec"));
        ok(dup != NULL, "OpenFileMappingW: error %lu", GetLastError());
        SetLastError(0xdeadbeef);
        v = dup ? MapViewOfFile(dup, FILE_MAP_READ | FILE_MAP_EXECUTE, 0, 0, 0) : NULL;
        if (dup) CHECK_FAIL_VIEW(v, ERROR_ACCESS_DENIED, "an executable view through a FILE_MAP_READ handle");
        v = dup ? MapViewOfFile(dup, FILE_MAP_READ, 0, 0, 0) : NULL;
        ok(v != NULL, "a read view through it: error %lu", GetLastError());
        if (v) UnmapViewOfFile(v);
        if (dup) CloseHandle(dup);
        CloseHandle(h);
    }
    /* ... before the section's size is looked at: CreateFileMapping's
     * handle of a read-only section has no SECTION_MAP_WRITE. */
    h = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READONLY, 0, GRAN, NULL);
    ok(h != NULL, "PAGE_READONLY section: error %lu", GetLastError());
    if (h)
    {
        SetLastError(0xdeadbeef);
        v = MapViewOfFile(h, FILE_MAP_WRITE, 0, GRAN, 0);
        CHECK_FAIL_VIEW(v, ERROR_ACCESS_DENIED, "a write view at the section's end through a handle without the right");
        SetLastError(0xdeadbeef);
        v = MapViewOfFile(h, FILE_MAP_READ, 0, GRAN, 0);
        CHECK_FAIL_VIEW(v, ERROR_INVALID_PARAMETER, "a read view at the section's end");
        CloseHandle(h);
    }

    /* More sections alive at once than memshim keeps track of. */
    for (int i = 0; i < COUNT; i++)
    {
        many[i] = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, (DWORD)(PAGE * (1 + i % 3)), NULL);
        views[i] = many[i] ? MapViewOfFile(many[i], FILE_MAP_WRITE, 0, 0, 0) : NULL;
        if (views[i]) views[i][i % PAGE] = (unsigned char)(i + 1);
    }
    int good = 0;
    for (int i = 0; i < COUNT; i++)
    {
        unsigned char *r = many[i] ? MapViewOfFile(many[i], FILE_MAP_READ, 0, 0, 0) : NULL;
        if (r && views[i] && r[i % PAGE] == (unsigned char)(i + 1) && query(r) && mbi.RegionSize == (SIZE_T)PAGE * (1 + i % 3))
            good++;
        if (r) UnmapViewOfFile(r);
        if (views[i]) UnmapViewOfFile(views[i]);
        if (many[i]) CloseHandle(many[i]);
    }
    ok(good == COUNT, "%d of %d sections alive at once map again with their own data and size", good, COUNT);

    /* By name, the creating handle closed first: the opened one still
     * leads to the section, with its own rights. */
    const WCHAR *name = unique_name("known");
    h = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 2 * PAGE, name);
    opened = OpenFileMappingW(FILE_MAP_ALL_ACCESS, FALSE, name);
    ok(h && opened, "named section made and opened: error %lu", GetLastError());
    if (!h || !opened) return;
    check_section_basic(__LINE__, opened, SEC_COMMIT, 2 * PAGE, "named section, opened");
    v = MapViewOfFile(opened, FILE_MAP_WRITE, 0, 0, 0);
    ok(v != NULL, "view through the opened handle: error %lu", GetLastError());
    if (v) strcpy((char *)v + PAGE, "by name");
    CloseHandle(h);
    again = OpenFileMappingW(FILE_MAP_READ, FALSE, name);
    ok(again != NULL, "opened again after the creating handle closed: error %lu", GetLastError());
    if (again)
    {
        SetLastError(0xdeadbeef);
        w = MapViewOfFile(again, FILE_MAP_WRITE, 0, 0, 0);
        CHECK_FAIL_VIEW(w, ERROR_ACCESS_DENIED, "write view through the FILE_MAP_READ handle");
        w = MapViewOfFile(again, FILE_MAP_READ, 0, 0, 0);
        ok(w && !strcmp((char *)w + PAGE, "by name"), "its view shows the section's data");
        if (w) UnmapViewOfFile(w);
        CloseHandle(again);
    }
    if (v) UnmapViewOfFile(v);
    CloseHandle(opened);

    /* Every handle closed: the name is free, and a new section of it is
     * another one (fresh zeros, its own size), however it is opened. */
    h = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 4 * PAGE, name);
    ok(h != NULL && GetLastError() == ERROR_SUCCESS, "the name made anew: error %lu", GetLastError());
    opened = OpenFileMappingW(FILE_MAP_READ, FALSE, name);
    w = opened ? MapViewOfFile(opened, FILE_MAP_READ, 0, 0, 0) : NULL;
    ok(w != NULL, "view of the new section by name: error %lu", GetLastError());
    if (w)
    {
        CHECK_VIEW(w, PAGE_READONLY, 4 * PAGE, PAGE_READONLY);
        ok(!w[PAGE], "the new section reads as zeros");
        UnmapViewOfFile(w);
    }
    if (opened) CloseHandle(opened);
    if (h) CloseHandle(h);

    /* A name longer than memshim keeps: the same answers. */
    WCHAR long_name[200];
    swprintf(long_name, ARRAYSIZE(long_name), L"Local\\memshim-conf-a-rather-long-name-for-a-section-%lu-%s",
             GetCurrentProcessId(), L"0123456789012345678901234567890123456789012345678901234567890123456789");
    h = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, PAGE, long_name);
    opened = OpenFileMappingW(FILE_MAP_ALL_ACCESS, FALSE, long_name);
    v = h ? MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0) : NULL;
    w = opened ? MapViewOfFile(opened, FILE_MAP_READ, 0, 0, 0) : NULL;
    ok(v && w, "long-named section made, opened and mapped: error %lu", GetLastError());
    if (v && w)
    {
        v[9] = 9;
        ok(w[9] == 9, "both views of the long-named section show the write");
    }
    if (v) UnmapViewOfFile(v);
    if (w) UnmapViewOfFile(w);
    if (opened) CloseHandle(opened);
    if (h) CloseHandle(h);
}

/* The protection of the page at p (and the size of its run when size is
 * not 0). The query comes before the check, so the message shows what it
 * read. */
static void check_protect(int line, const void *p, DWORD prot, SIZE_T size, const char *what)
{
    int r = query(p);
    harness_ok(r && mbi.Protect == prot && (!size || mbi.RegionSize == size), __FILE__, line,
               "%s: Protect %#lx RegionSize %#zx, expected %#lx %#zx", what, mbi.Protect, mbi.RegionSize, prot, size);
}
#define CHECK_PROTECT(p, prot, size, what) check_protect(__LINE__, p, prot, size, what)
/* The SEC_* attributes: which CreateFileMapping takes for the paging file
 * and for a file, and what NtQuerySection then reads (the table is the one
 * Wine's tests pin against Windows); and what views show of them: a
 * SEC_NOCACHE section's views are PAGE_NOCACHE, allocation protection and
 * every page alike, whatever VirtualProtect gives a page; SEC_WRITECOMBINE
 * shows on no view. */
static void test_sec_flags(void)
{
    static const struct { int file; DWORD flags, error, attrs; } cases[] = {
        { 0, SEC_RESERVE, 0, SEC_RESERVE },
        { 0, SEC_RESERVE | SEC_NOCACHE, 0, SEC_RESERVE | SEC_NOCACHE },
        { 0, SEC_RESERVE | SEC_LARGE_PAGES, ERROR_INVALID_PARAMETER, 0 },
        { 0, SEC_RESERVE | SEC_WRITECOMBINE, 0, SEC_RESERVE | SEC_WRITECOMBINE },
        { 0, SEC_COMMIT, 0, SEC_COMMIT },
        { 0, SEC_COMMIT | SEC_NOCACHE, 0, SEC_COMMIT | SEC_NOCACHE },
        { 0, SEC_COMMIT | SEC_WRITECOMBINE, 0, SEC_COMMIT | SEC_WRITECOMBINE },
        { 0, SEC_RESERVE | SEC_COMMIT, ERROR_INVALID_PARAMETER, 0 },
        { 0, SEC_IMAGE, ERROR_BAD_EXE_FORMAT, 0 },
        { 0, SEC_IMAGE | SEC_RESERVE, ERROR_INVALID_PARAMETER, 0 },
        { 0, SEC_IMAGE | SEC_COMMIT, ERROR_INVALID_PARAMETER, 0 },
        { 0, SEC_NOCACHE, ERROR_INVALID_PARAMETER, 0 },
        { 0, SEC_LARGE_PAGES, ERROR_INVALID_PARAMETER, 0 },
        { 0, SEC_WRITECOMBINE, ERROR_INVALID_PARAMETER, 0 },
        { 0, SEC_FILE, ERROR_INVALID_PARAMETER, 0 },
        { 0, SEC_FILE | SEC_RESERVE, ERROR_INVALID_PARAMETER, 0 },
        { 0, SEC_FILE | SEC_COMMIT, ERROR_INVALID_PARAMETER, 0 },
        { 0, 0, 0, SEC_COMMIT },
        { 1, SEC_RESERVE, 0, SEC_FILE },
        { 1, SEC_RESERVE | SEC_NOCACHE, 0, SEC_FILE | SEC_NOCACHE },
        { 1, SEC_RESERVE | SEC_LARGE_PAGES, ERROR_INVALID_PARAMETER, 0 },
        { 1, SEC_RESERVE | SEC_WRITECOMBINE, 0, SEC_FILE | SEC_WRITECOMBINE },
        { 1, SEC_COMMIT, 0, SEC_FILE },
        { 1, SEC_COMMIT | SEC_NOCACHE, 0, SEC_FILE | SEC_NOCACHE },
        { 1, SEC_COMMIT | SEC_LARGE_PAGES, ERROR_INVALID_PARAMETER, 0 },
        { 1, SEC_COMMIT | SEC_WRITECOMBINE, 0, SEC_FILE | SEC_WRITECOMBINE },
        { 1, SEC_RESERVE | SEC_COMMIT, ERROR_INVALID_PARAMETER, 0 },
        { 1, SEC_IMAGE, ERROR_BAD_EXE_FORMAT, 0 },
        { 1, SEC_NOCACHE, ERROR_INVALID_PARAMETER, 0 },
        { 1, SEC_LARGE_PAGES, ERROR_INVALID_PARAMETER, 0 },
        { 1, SEC_WRITECOMBINE, ERROR_INVALID_PARAMETER, 0 },
        { 1, SEC_FILE, ERROR_INVALID_PARAMETER, 0 },
        { 1, 0, 0, SEC_FILE },
    };
    WCHAR dir[MAX_PATH], path[MAX_PATH];
    HANDLE file[2], h, h2;
    unsigned char *v, *v2;
    DWORD old;
    char what[64];

    GetTempPathW(MAX_PATH, dir);
    GetTempFileNameW(dir, L"msh", 0, path);
    file[0] = INVALID_HANDLE_VALUE;
    file[1] = make_file(path, 2 * PAGE, GENERIC_READ | GENERIC_WRITE);
    ok(file[1] != INVALID_HANDLE_VALUE, "CreateFileW: error %lu", GetLastError());
    if (file[1] == INVALID_HANDLE_VALUE) return;
    for (size_t i = 0; i < ARRAYSIZE(cases); i++)
    {
        for (int named = 0; named < 2; named++)
        {
            snprintf(what, sizeof(what), "case %zu (%s, %#lx)%s", i, cases[i].file ? "file" : "pagefile",
                     cases[i].flags, named ? " named" : "");
            SetLastError(0xdeadbeef);
            h = CreateFileMappingW(file[cases[i].file], NULL, cases[i].flags | PAGE_READWRITE, 0, PAGE,
                                   named ? unique_name("sec") : NULL);
            if (cases[i].error)
            {
                CHECK_FAIL(h, cases[i].error, what);
                if (h) CloseHandle(h);
                continue;
            }
            ok(h != NULL && GetLastError() == 0, "%s: handle %p, error %lu", what, h, GetLastError());
            if (!h) continue;
            check_section_basic(__LINE__, h, cases[i].attrs, PAGE, what);
            CloseHandle(h);
        }
    }
    CloseHandle(file[1]);

    /* Views of a SEC_NOCACHE section, made and opened by name. */
    h = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE | SEC_COMMIT | SEC_NOCACHE, 0, GRAN,
                           unique_name("nocache"));
    ok(h != NULL, "SEC_NOCACHE section: error %lu", GetLastError());
    if (!h) return;
    v = MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0);
    ok(v != NULL, "FILE_MAP_WRITE view: error %lu", GetLastError());
    if (v)
    {
        CHECK_VIEW(v, PAGE_READWRITE | PAGE_NOCACHE, GRAN, PAGE_READWRITE | PAGE_NOCACHE);
        v[PAGE] = 7;
        ok(VirtualProtect(v, PAGE, PAGE_READONLY, &old), "VirtualProtect: error %lu", GetLastError());
        ok(old == (PAGE_READWRITE | PAGE_NOCACHE), "old protection %#lx", old);
        CHECK_VIEW(v, PAGE_READWRITE | PAGE_NOCACHE, PAGE, PAGE_READONLY | PAGE_NOCACHE);
        CHECK_PROTECT(v + PAGE, PAGE_READWRITE | PAGE_NOCACHE, GRAN - PAGE, "the rest");
        ok(VirtualProtect(v, PAGE, PAGE_NOACCESS, &old), "VirtualProtect(PAGE_NOACCESS): error %lu",
           GetLastError());
        ok(old == (PAGE_READONLY | PAGE_NOCACHE), "old protection %#lx", old);
        CHECK_PROTECT(v, PAGE_NOACCESS | PAGE_NOCACHE, PAGE, "no access");
        ok(VirtualProtect(v, PAGE, PAGE_READWRITE | PAGE_GUARD, &old), "VirtualProtect(guard): error %lu",
           GetLastError());
        CHECK_PROTECT(v, PAGE_READWRITE | PAGE_GUARD | PAGE_NOCACHE, PAGE, "guard");
        ok(VirtualProtect(v, PAGE, PAGE_WRITECOPY, &old), "VirtualProtect(PAGE_WRITECOPY): error %lu",
           GetLastError());
        CHECK_PROTECT(v, PAGE_WRITECOPY | PAGE_NOCACHE, PAGE, "write-copy");
        /* Back to the view's own: one region again. */
        ok(VirtualProtect(v, PAGE, PAGE_READWRITE, &old), "VirtualProtect(PAGE_READWRITE): error %lu",
           GetLastError());
        CHECK_VIEW(v, PAGE_READWRITE | PAGE_NOCACHE, GRAN, PAGE_READWRITE | PAGE_NOCACHE);
    }
    h2 = OpenFileMappingW(FILE_MAP_READ, FALSE, unique_name("nocache"));
    ok(h2 != NULL, "OpenFileMappingW: error %lu", GetLastError());
    v2 = h2 ? MapViewOfFile(h2, FILE_MAP_READ, 0, 0, 0) : NULL;
    ok(v2 != NULL, "FILE_MAP_READ view of the opened handle: error %lu", GetLastError());
    if (v2)
    {
        CHECK_VIEW(v2, PAGE_READONLY | PAGE_NOCACHE, GRAN, PAGE_READONLY | PAGE_NOCACHE);
        ok(v2[PAGE] == 7, "the opened view reads %u", v2[PAGE]);
        UnmapViewOfFile(v2);
    }
    if (h2) CloseHandle(h2);
    v2 = MapViewOfFile(h, FILE_MAP_COPY, 0, 0, 0);
    ok(v2 != NULL, "FILE_MAP_COPY view: error %lu", GetLastError());
    if (v2)
    {
        CHECK_VIEW(v2, PAGE_WRITECOPY | PAGE_NOCACHE, GRAN, PAGE_WRITECOPY | PAGE_NOCACHE);
        UnmapViewOfFile(v2);
    }
    if (v) UnmapViewOfFile(v);
    CloseHandle(h);

    /* A file's SEC_NOCACHE section is the same. */
    file[1] = make_file(path, GRAN, GENERIC_READ | GENERIC_WRITE);
    h = file[1] != INVALID_HANDLE_VALUE
            ? CreateFileMappingW(file[1], NULL, PAGE_READWRITE | SEC_COMMIT | SEC_NOCACHE, 0, 0, NULL)
            : NULL;
    ok(h != NULL, "file SEC_NOCACHE section: error %lu", GetLastError());
    v = h ? MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0) : NULL;
    ok(v != NULL, "its view: error %lu", GetLastError());
    if (v)
    {
        CHECK_VIEW(v, PAGE_READWRITE | PAGE_NOCACHE, GRAN, PAGE_READWRITE | PAGE_NOCACHE);
        UnmapViewOfFile(v);
    }
    if (h) CloseHandle(h);
    if (file[1] != INVALID_HANDLE_VALUE) CloseHandle(file[1]);
    ok(DeleteFileW(path), "DeleteFileW: error %lu", GetLastError());

    /* SEC_WRITECOMBINE: kept by the section, shown by no view. And a cache
     * modifier asked of a view's page is taken without effect (what Wine's
     * builtin does; not verified on Windows). */
    h = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE | SEC_COMMIT | SEC_WRITECOMBINE, 0, GRAN,
                           NULL);
    ok(h != NULL, "SEC_WRITECOMBINE section: error %lu", GetLastError());
    v = h ? MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0) : NULL;
    ok(v != NULL, "its view: error %lu", GetLastError());
    if (v)
    {
        CHECK_VIEW(v, PAGE_READWRITE, GRAN, PAGE_READWRITE);
        ok(VirtualProtect(v, PAGE, PAGE_READONLY | PAGE_NOCACHE, &old), "VirtualProtect(nocache): error %lu",
           GetLastError());
        ok(old == PAGE_READWRITE, "old protection %#lx", old);
        CHECK_PROTECT(v, PAGE_READONLY, PAGE, "nocache asked of a view's page");
        ok(VirtualProtect(v, PAGE, PAGE_READWRITE | PAGE_WRITECOMBINE, &old),
           "VirtualProtect(writecombine): error %lu", GetLastError());
        CHECK_VIEW(v, PAGE_READWRITE, GRAN, PAGE_READWRITE);
        UnmapViewOfFile(v);
    }
    if (h) CloseHandle(h);
}

/* VirtualProtect and VirtualAlloc(MEM_COMMIT) on views: a view may be
 * given a protection only within the accesses it was mapped with (Windows
 * weighs read, write and execute; PAGE_WRITECOPY counts as read, the
 * executable copy-on-write kinds keep their copy right), else
 * ERROR_INVALID_PARAMETER. Committing a pagefile view's pages again sets
 * their protection by the same rule; a file's view refuses it with
 * ERROR_ACCESS_DENIED. Kept apart from the code under test: the rule is
 * written here from Windows' behaviour, as Wine's tests pin it. */
static DWORD view_access(DWORD prot)
{
    enum { R = 1, W = 2, X = 4, WC = 8 };
    switch (prot)
    {
    case PAGE_READONLY: case PAGE_WRITECOPY: return R;
    case PAGE_READWRITE: return R | W;
    case PAGE_EXECUTE: case PAGE_EXECUTE_READ: return R | X;
    case PAGE_EXECUTE_WRITECOPY: return R | WC | X;
    case PAGE_EXECUTE_READWRITE: return R | W | WC | X;
    default: return 0;
    }
}

static BOOL view_allows(DWORD view_prot, DWORD prot)
{
    DWORD view = view_access(view_prot), want = view_access(prot);
    return view == want || (view && (view & want) == want);
}

static void test_view_protection(void)
{
    static const struct { DWORD access, prot; } views[] = {
        { FILE_MAP_READ, PAGE_READONLY },
        { FILE_MAP_WRITE, PAGE_READWRITE },
        { FILE_MAP_COPY, PAGE_WRITECOPY },
        { FILE_MAP_READ | FILE_MAP_EXECUTE, PAGE_EXECUTE_READ },
        { FILE_MAP_WRITE | FILE_MAP_EXECUTE, PAGE_EXECUTE_READWRITE },
        { FILE_MAP_COPY | FILE_MAP_EXECUTE, PAGE_EXECUTE_WRITECOPY },
    };
    static const DWORD prots[] = { PAGE_NOACCESS, PAGE_READONLY, PAGE_READWRITE, PAGE_WRITECOPY, PAGE_EXECUTE,
                                   PAGE_EXECUTE_READ, PAGE_EXECUTE_READWRITE, PAGE_EXECUTE_WRITECOPY };
    WCHAR dir[MAX_PATH], path[MAX_PATH];
    HANDLE h, f, fh;
    unsigned char *v, *w;
    DWORD old;
    BOOL ret;

    h = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_EXECUTE_READWRITE, 0, GRAN, NULL);
    ok(h != NULL, "PAGE_EXECUTE_READWRITE pagefile section: error %lu", GetLastError());
    if (!h) return;
    for (size_t i = 0; i < ARRAYSIZE(views); i++)
    {
        v = MapViewOfFile(h, views[i].access, 0, 0, 0);
        ok(v != NULL, "view %#lx: error %lu", views[i].access, GetLastError());
        if (!v) continue;
        for (size_t j = 0; j < ARRAYSIZE(prots); j++)
        {
            BOOL allowed = view_allows(views[i].prot, prots[j]);
            SetLastError(0xdeadbeef);
            ret = VirtualProtect(v + PAGE, PAGE, prots[j], &old);
            if (allowed)
            {
                ok(ret, "view %#lx, VirtualProtect %#lx: error %lu", views[i].prot, prots[j], GetLastError());
                ok(!ret || (query(v + PAGE) && mbi.Protect == prots[j]),
                   "view %#lx, VirtualProtect %#lx: page reads %#lx", views[i].prot, prots[j], mbi.Protect);
                VirtualProtect(v + PAGE, PAGE, views[i].prot, &old);
            }
            else
            {
                /* Wine 8.0 lets an execute-read view become execute-writecopy. */
                BOOL wine_lets = views[i].prot == PAGE_EXECUTE_READ && prots[j] == PAGE_EXECUTE_WRITECOPY;
                todo_wine_if(wine_lets)
                ok(!ret && GetLastError() == ERROR_INVALID_PARAMETER,
                   "view %#lx, VirtualProtect %#lx: ret %d error %lu, expected ERROR_INVALID_PARAMETER",
                   views[i].prot, prots[j], ret, GetLastError());
                todo_wine_if(wine_lets)
                ok(query(v + PAGE) && mbi.Protect == views[i].prot, "view %#lx, refused %#lx: page reads %#lx",
                   views[i].prot, prots[j], mbi.Protect);
                if (ret)
                    VirtualProtect(v + PAGE, PAGE, views[i].prot, &old);
            }
        }
        ok(UnmapViewOfFile(v), "UnmapViewOfFile: error %lu", GetLastError());
    }

    /* MEM_COMMIT on a pagefile view: the pages are the section's, already
     * committed; the protection asked for is set if the view allows it. */
    v = MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0);
    ok(v != NULL, "FILE_MAP_WRITE view: error %lu", GetLastError());
    if (v)
    {
        v[PAGE] = 0x5a;
        SetLastError(0xdeadbeef);
        ok(VirtualAlloc(v + PAGE, PAGE, MEM_COMMIT, PAGE_READONLY) == v + PAGE,
           "MEM_COMMIT PAGE_READONLY on a pagefile view: error %lu", GetLastError());
        ok(query(v + PAGE) && mbi.Protect == PAGE_READONLY && mbi.State == MEM_COMMIT && mbi.Type == MEM_MAPPED &&
           mbi.AllocationProtect == PAGE_READWRITE && mbi.RegionSize == PAGE,
           "committed again: Protect %#lx State %#lx Type %#lx RegionSize %#zx", mbi.Protect, mbi.State, mbi.Type,
           mbi.RegionSize);
        ok(v[PAGE] == 0x5a, "committing again keeps the data (%#x)", v[PAGE]);
        SetLastError(0xdeadbeef);
        ok(!VirtualAlloc(v + PAGE, PAGE, MEM_COMMIT, PAGE_EXECUTE_READ) && GetLastError() == ERROR_INVALID_PARAMETER,
           "MEM_COMMIT PAGE_EXECUTE_READ on a FILE_MAP_WRITE view: error %lu, expected 87", GetLastError());
        /* Copy-on-write too, as VirtualProtect would (a program's test run
         * on Windows commits a shared view's page PAGE_WRITECOPY and expects
         * its writes to stay in that view). */
        w = MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0);
        ok(w != NULL, "second FILE_MAP_WRITE view: error %lu", GetLastError());
        SetLastError(0xdeadbeef);
        ok(VirtualAlloc(v + 2 * PAGE, PAGE, MEM_COMMIT, PAGE_WRITECOPY) == v + 2 * PAGE,
           "MEM_COMMIT PAGE_WRITECOPY on a pagefile view: error %lu", GetLastError());
        ok(query(v + 2 * PAGE) && mbi.Protect == PAGE_WRITECOPY && mbi.RegionSize == PAGE,
           "committed copy-on-write: Protect %#lx RegionSize %#zx", mbi.Protect, mbi.RegionSize);
        if (w)
        {
            v[2 * PAGE] = 0x33;
            todo_wine ok(w[2 * PAGE] == 0, "a write to the committed copy-on-write page stayed private (%#x)",
                         w[2 * PAGE]);
            todo_wine ok(query(v + 2 * PAGE) && mbi.Protect == PAGE_READWRITE,
                         "written copy-on-write page: Protect %#lx", mbi.Protect);
            ok(UnmapViewOfFile(w), "UnmapViewOfFile: error %lu", GetLastError());
        }
        SetLastError(0xdeadbeef);
        ok(!VirtualAlloc(v + 2 * PAGE, PAGE, MEM_COMMIT, PAGE_EXECUTE_WRITECOPY) &&
           GetLastError() == ERROR_INVALID_PARAMETER,
           "MEM_COMMIT PAGE_EXECUTE_WRITECOPY on a FILE_MAP_WRITE view: error %lu, expected 87", GetLastError());
        ok(VirtualAlloc(v, GRAN, MEM_COMMIT, PAGE_READWRITE) == v, "MEM_COMMIT of the whole view: error %lu",
           GetLastError());
        ok(query(v) && mbi.Protect == PAGE_READWRITE && mbi.RegionSize == GRAN, "whole view: Protect %#lx size %#zx",
           mbi.Protect, mbi.RegionSize);
        SetLastError(0xdeadbeef);
        ok(VirtualAlloc(v, GRAN, MEM_RESET, PAGE_NOACCESS) == v, "MEM_RESET on a pagefile view: error %lu",
           GetLastError());
        ok(UnmapViewOfFile(v), "UnmapViewOfFile: error %lu", GetLastError());
    }
    CloseHandle(h);

    /* MEM_COMMIT on a file's view: refused, the protection untouched. */
    GetTempPathW(MAX_PATH, dir);
    GetTempFileNameW(dir, L"msp", 0, path);
    f = make_file(path, GRAN, GENERIC_READ | GENERIC_WRITE);
    ok(f != INVALID_HANDLE_VALUE, "create test file: error %lu", GetLastError());
    if (f == INVALID_HANDLE_VALUE) return;
    fh = CreateFileMappingW(f, NULL, PAGE_READWRITE, 0, 0, NULL);
    ok(fh != NULL, "file section: error %lu", GetLastError());
    v = fh ? MapViewOfFile(fh, FILE_MAP_WRITE, 0, 0, 0) : NULL;
    ok(v != NULL, "file view: error %lu", GetLastError());
    if (v)
    {
        SetLastError(0xdeadbeef);
        ok(!VirtualAlloc(v, PAGE, MEM_COMMIT, PAGE_READWRITE) && GetLastError() == ERROR_ACCESS_DENIED,
           "MEM_COMMIT on a file's view: error %lu, expected ERROR_ACCESS_DENIED", GetLastError());
        SetLastError(0xdeadbeef);
        ok(!VirtualAlloc(v, PAGE, MEM_COMMIT, PAGE_READONLY) && GetLastError() == ERROR_ACCESS_DENIED,
           "MEM_COMMIT PAGE_READONLY on a file's view: error %lu, expected ERROR_ACCESS_DENIED", GetLastError());
        ok(query(v) && mbi.Protect == PAGE_READWRITE, "file view after the refusals: Protect %#lx", mbi.Protect);
        ok(VirtualProtect(v, PAGE, PAGE_EXECUTE_READ, &old) == FALSE && GetLastError() == ERROR_INVALID_PARAMETER,
           "PAGE_EXECUTE_READ on a FILE_MAP_WRITE file view: error %lu, expected 87", GetLastError());
        UnmapViewOfFile(v);
    }
    if (fh) CloseHandle(fh);
    CloseHandle(f);
    DeleteFileW(path);
}

/* A view asked for with no read, write or copy access (0, or
 * FILE_MAP_EXECUTE alone) is a PAGE_NOACCESS view: the handle needs
 * SECTION_MAP_READ for it (Wine's tests, run on Windows, map one through a
 * FILE_MAP_READ handle and refuse a handle with no rights), nothing may
 * touch it, and its pages take PAGE_NOACCESS only, by VirtualProtect or by
 * a commit (it is a pagefile section's: committed already). */
static void test_noaccess_view(void)
{
    static const DWORD kinds[] = { 0, FILE_MAP_EXECUTE };
    HANDLE h = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 2 * GRAN, NULL), dup = NULL;
    DWORD old = 0;
    ok(h != NULL, "section: error %lu", GetLastError());
    if (!h) return;
    for (size_t k = 0; k < ARRAYSIZE(kinds); k++)
    {
        char *v = MapViewOfFile(h, kinds[k], 0, GRAN, 0);
        ok(v != NULL, "view with access %#lx: error %lu", kinds[k], GetLastError());
        if (!v) continue;
        CHECK_VIEW(v, PAGE_NOACCESS, GRAN, PAGE_NOACCESS);
        ok(probe_read(v + 5), "access %#lx: reading the view faults", kinds[k]);
        ok(VirtualAlloc(v + PAGE, PAGE, MEM_COMMIT, PAGE_NOACCESS) == v + PAGE,
           "access %#lx: commit PAGE_NOACCESS: error %lu", kinds[k], GetLastError());
        SetLastError(0xdeadbeef);
        ok(!VirtualAlloc(v + PAGE, PAGE, MEM_COMMIT, PAGE_READONLY) && GetLastError() == ERROR_INVALID_PARAMETER,
           "access %#lx: commit PAGE_READONLY refused: error %lu", kinds[k], GetLastError());
        ok(VirtualProtect(v + 2 * PAGE, PAGE, PAGE_NOACCESS, &old) && old == PAGE_NOACCESS,
           "access %#lx: VirtualProtect(PAGE_NOACCESS): error %lu, old %#lx", kinds[k], GetLastError(), old);
        SetLastError(0xdeadbeef);
        ok(!VirtualProtect(v + 2 * PAGE, PAGE, PAGE_READONLY, &old) && GetLastError() == ERROR_INVALID_PARAMETER,
           "access %#lx: VirtualProtect(PAGE_READONLY) refused: error %lu", kinds[k], GetLastError());
        ok(UnmapViewOfFile(v + 0x1234), "access %#lx: unmap from inside: error %lu", kinds[k], GetLastError());
    }
    ok(DuplicateHandle(GetCurrentProcess(), h, GetCurrentProcess(), &dup, 0, FALSE, 0), "DuplicateHandle: error %lu",
       GetLastError());
    if (dup)
    {
        SetLastError(0xdeadbeef);
        char *v = MapViewOfFile(dup, 0, 0, 0, 0);
        CHECK_FAIL_VIEW(v, ERROR_ACCESS_DENIED, "a no-access view through a handle with no rights");
        CloseHandle(dup);
    }
    CloseHandle(h);
}

/* This process's handles, from the system's handle table (Wine 8.0's
 * GetProcessHandleCount answers 0); -1 if it cannot be read. */
static long count_own_handles(void)
{
    typedef struct { ULONG pid; UCHAR type, flags; USHORT handle; void *object; ACCESS_MASK access; } entry_t;
    static LONG(WINAPI *query_system)(ULONG, void *, ULONG, ULONG *);
    static char table[4 << 20];
    ULONG len = 0;
    long n = 0;
    if (!query_system)
        query_system = (void *)GetProcAddress(GetModuleHandleA("ntdll.dll"), "NtQuerySystemInformation");
    if (!query_system || query_system(16 /* SystemHandleInformation */, table, sizeof(table), &len))
        return -1;
    ULONG count = *(ULONG *)table;
    const entry_t *entries = (const entry_t *)(table + sizeof(void *));
    for (ULONG i = 0; i < count; i++)
        n += entries[i].pid == GetCurrentProcessId();
    return n;
}

/* Many unnamed sections made at once, more than memshim keeps ready: each
 * has data of its own that starts as zeros, lives on in a view after its
 * handle is closed, and no handle is left behind once all are closed. */
static void test_unnamed_burst(void)
{
    enum { COUNT = 100 };
    HANDLE h[COUNT];
    unsigned char *v[COUNT];
    CloseHandle(CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, PAGE, NULL));
    long before = harness_settled_count(count_own_handles, -1);
    int zeros = 0, own = 0, made = 0;
    for (int i = 0; i < COUNT; i++)
    {
        DWORD size = PAGE * (1 + i % 16);
        h[i] = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, size, NULL);
        v[i] = h[i] ? MapViewOfFile(h[i], FILE_MAP_WRITE, 0, 0, 0) : NULL;
        if (!v[i])
            continue;
        made++;
        zeros += v[i][0] == 0 && v[i][size - 1] == 0;
        v[i][0] = (unsigned char)i;
        v[i][size - 1] = (unsigned char)~i;
        if (i % 2)
            CloseHandle(h[i]);
    }
    ok(made == COUNT, "%d of %d sections made and mapped: error %lu", made, COUNT, GetLastError());
    ok(zeros == made, "%d of %d new sections start as zeros", zeros, made);
    for (int i = 0; i < COUNT; i++)
    {
        if (!v[i])
            continue;
        own += v[i][0] == (unsigned char)i && v[i][PAGE * (1 + i % 16) - 1] == (unsigned char)~i;
        UnmapViewOfFile(v[i]);
        if (i % 2 == 0)
            CloseHandle(h[i]);
    }
    ok(own == made, "%d of %d sections kept their own data", own, made);
    if (before < 0)
    {
        skip("the system's handle table cannot be read");
        return;
    }
    long after = harness_settled_count(count_own_handles, before);
    ok(after == before, "handles before %ld, after %ld", before, after);
}

int main(void)
{
    harness_init();
    test_pagefile();
    test_named();
    test_file_backed();
    test_end_of_file();
    test_bad_input();
    test_view_at_address();
    test_sec_reserve();
    test_handle_reuse();
    test_known_sections();
    test_sec_flags();
    test_view_protection();
    test_noaccess_view();
    test_unnamed_burst();
    test_writecopy_threads();
    test_writecopy_read_file();
    return harness_done();
}
