/*
 * Conformance: a 64-bit program linked without /LARGEADDRESSAWARE
 * (IMAGE_FILE_LARGE_ADDRESS_AWARE clear) gets only addresses below 2 GiB
 * from Windows: from VirtualAlloc, top-down or not, from heaps, and from
 * views. meson links this program with --disable-large-address-aware.
 */
#include "harness.h"

#define LIMIT ((ULONG_PTR)0x80000000)

static void check(const char *what, const void *p, SIZE_T size, int wine_deviates)
{
    ok(p != NULL, "%s: allocated", what);
    todo_wine_if(wine_deviates)
    ok((ULONG_PTR)p + size <= LIMIT, "%s at %p..%p stays below 2 GiB", what, p, (const char *)p + size);
}

int main(void)
{
    IMAGE_NT_HEADERS *nt;
    BYTE *image = (BYTE *)GetModuleHandleA(NULL);
    harness_init();
    nt = (IMAGE_NT_HEADERS *)(image + ((IMAGE_DOS_HEADER *)image)->e_lfanew);
    {
        SYSTEM_INFO si;
        GetSystemInfo(&si);
        todo_wine ok((ULONG_PTR)si.lpMaximumApplicationAddress == 0x7FFEFFFF,
                     "lpMaximumApplicationAddress %p, expected 0x7ffeffff", si.lpMaximumApplicationAddress);
    }
    ok(!(nt->FileHeader.Characteristics & IMAGE_FILE_LARGE_ADDRESS_AWARE), "built without LARGE_ADDRESS_AWARE");
    {
        void *a = VirtualAlloc(NULL, 0x10000, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
        void *b = VirtualAlloc(NULL, 0x10000, MEM_RESERVE | MEM_TOP_DOWN, PAGE_READWRITE);
        void *c = VirtualAlloc(NULL, 256 << 20, MEM_RESERVE, PAGE_NOACCESS);
        void *h = HeapAlloc(GetProcessHeap(), 0, 100);
        void *big = HeapAlloc(GetProcessHeap(), 0, 3 << 20);
        HANDLE s = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 0x10000, NULL);
        void *v = s ? MapViewOfFile(s, FILE_MAP_ALL_ACCESS, 0, 0, 0) : NULL;
        check("VirtualAlloc", a, 0x10000, 0);
        check("VirtualAlloc(MEM_TOP_DOWN)", b, 0x10000, 1);    /* Wine 8.0 places it at the top */
        check("VirtualAlloc 256 MiB", c, 256 << 20, 0);
        check("HeapAlloc", h, 100, 0);
        check("HeapAlloc 3 MiB", big, 3 << 20, 0);
        check("MapViewOfFile", v, 0x10000, 0);
        if (v) UnmapViewOfFile(v);
        if (s) CloseHandle(s);
        HeapFree(GetProcessHeap(), 0, big);
        HeapFree(GetProcessHeap(), 0, h);
        VirtualFree(c, 0, MEM_RELEASE);
        VirtualFree(b, 0, MEM_RELEASE);
        VirtualFree(a, 0, MEM_RELEASE);
    }
    return harness_done();
}
