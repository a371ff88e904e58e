/*
 * pageheap_program.c - heap bugs on purpose, for the --pageheap and
 * --heapfill tests. The first argument picks one:
 *   overrun    writes 1 byte past a 32-byte block (allocated in
 *              alloc_victim): the page heap faults at the write
 *   underrun   writes 1 byte before a 32-byte block (--pageheap=front)
 *   uaf        reads a 48-byte block after free_victim freed it
 *   tail       writes 1 byte past a 13-byte block, then frees it: the
 *              tail check at HeapFree reports it, the program goes on
 *   doublefree frees a block twice: the second HeapFree fails and the page
 *              heap reports it
 *   fill       prints the first DWORD of a fresh block and of a freed one
 *   clean      ordinary use (sizes, realloc, validate) that must just work
 * It prints "before" right before the bug and "after" if it survives.
 */
#include <windows.h>
#include <stdio.h>
#include <string.h>

#define SITE __declspec(dllexport) __attribute__((noinline))

SITE char *alloc_victim(SIZE_T size)
{
    return HeapAlloc(GetProcessHeap(), 0, size);
}

SITE void free_victim(char *p)
{
    HeapFree(GetProcessHeap(), 0, p);
}

SITE void write_byte(volatile char *p, int index)
{
    p[index] = 0x41;
}

SITE int read_byte(volatile char *p, int index)
{
    return p[index];
}

static void say(const char *what)
{
    printf("%s\n", what);
    fflush(stdout);
}

static int clean(void)
{
    HANDLE heap = GetProcessHeap();
    char *blocks[64];
    for (int i = 0; i < 64; i++) {
        SIZE_T size = (SIZE_T)i * 37;
        blocks[i] = HeapAlloc(heap, HEAP_ZERO_MEMORY, size);
        if (!blocks[i] || HeapSize(heap, 0, blocks[i]) != size || ((ULONG_PTR)blocks[i] & 15))
            return printf("alloc %d\n", i), 1;
        for (SIZE_T j = 0; j < size; j++)
            if (blocks[i][j])
                return printf("not zero %d\n", i), 1;
        memset(blocks[i], i, size);
    }
    for (int i = 0; i < 64; i++) {
        SIZE_T size = (SIZE_T)i * 37, bigger = size * 2 + 5000;
        char *p = HeapReAlloc(heap, 0, blocks[i], bigger);
        if (!p || HeapSize(heap, 0, p) != bigger || !HeapValidate(heap, 0, p))
            return printf("realloc %d\n", i), 1;
        for (SIZE_T j = 0; j < size; j++)
            if (p[j] != (char)i)
                return printf("contents %d\n", i), 1;
        blocks[i] = p;
    }
    for (int i = 0; i < 64; i++)
        if (!HeapFree(heap, 0, blocks[i]))
            return printf("free %d\n", i), 1;
    HANDLE own = HeapCreate(0, 0, 0);
    for (int i = 0; i < 10; i++)
        HeapAlloc(own, 0, 100);
    if (!HeapDestroy(own))
        return 1;
    return 0;
}

int main(int argc, char **argv)
{
    const char *what = argc > 1 ? argv[1] : "";
    if (!strcmp(what, "overrun")) {
        char *p = alloc_victim(32);
        say("before");
        write_byte(p, 32);
    } else if (!strcmp(what, "underrun")) {
        char *p = alloc_victim(32);
        say("before");
        write_byte(p, -1);
    } else if (!strcmp(what, "uaf")) {
        char *p = alloc_victim(48);
        free_victim(p);
        say("before");
        printf("read %d\n", read_byte(p, 8));
    } else if (!strcmp(what, "tail")) {
        char *p = alloc_victim(13);
        say("before");
        write_byte(p, 13);
        free_victim(p);
    } else if (!strcmp(what, "doublefree")) {
        char *p = alloc_victim(64);
        free_victim(p);
        say("before");
        if (HeapFree(GetProcessHeap(), 0, p))
            return 2;
        printf("second HeapFree failed, error %lu\n", GetLastError());
    } else if (!strcmp(what, "fill")) {
        DWORD *p = (DWORD *)alloc_victim(64);
        printf("fresh %08lx\n", p[3]);
        free_victim((char *)p);
        printf("freed %08lx\n", p[3]);
    } else if (!strcmp(what, "clean")) {
        if (clean())
            return 1;
    } else {
        return 3;
    }
    say("after");
    return 0;
}
