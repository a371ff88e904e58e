/*
 * debug_heap.c - the win32 side of the heap debugging modes
 * (src/heap/heap_debug.h): switches from the environment, call-site
 * capture, names for code addresses, and the reports.
 *
 *   MEMSHIM_LEAKS=1      at exit, list the heap blocks and VirtualAlloc
 *                        regions still live, grouped by call site, largest
 *                        first; only sites outside the Windows directory
 *                        (the program's exe and its own DLLs).
 *   MEMSHIM_LEAKS=all    every site, Wine's own DLLs included.
 *   MEMSHIM_PAGEHEAP=1   the page heap (overruns fault); =front: underruns.
 *   MEMSHIM_HEAPFILL=1   fill patterns and tail checks at HeapFree.
 *
 * Call sites: the return addresses of the heap call, captured with
 * RtlCaptureStackBackTrace, without memshim's own frames. A block's site is
 * its first frame outside the Windows directory (malloc in msvcrt is not
 * the interesting caller; the program's call of malloc is), else its first
 * frame. Addresses print as module+offset, with the name of the function
 * when the module exports it.
 *
 * Reports go to the host's stderr (fd 2), formatted without a CRT. Thread
 * safety: capture runs on the allocating thread; the leak report runs at
 * process detach (other threads are gone); fault reports may run on any
 * thread and only read the loader's module list.
 */
#include "private.h"
#include "debug_heap.h"
#include "../../src/base/ms_format.h"
#include "../../src/heap/heap_debug.h"
#include "../../src/host/host.h"
#include "../../src/vm/vm.h"

static uintptr_t self_base, self_end;          /* memshim's kernel32 image */
static bool leaks_on, leaks_all;

/* --- call sites ------------------------------------------------------------ */

static void capture_frames(uintptr_t frames[HEAP_DEBUG_FRAMES])
{
    void *stack[32];
    USHORT n = RtlCaptureStackBackTrace(0, 32, stack, NULL);
    unsigned k = 0, i = 0;
    while (i < n && (uintptr_t)stack[i] >= self_base && (uintptr_t)stack[i] < self_end)
        i++;
    for (; i < n && k < HEAP_DEBUG_FRAMES; i++)
        frames[k++] = (uintptr_t)stack[i];
    while (k < HEAP_DEBUG_FRAMES)
        frames[k++] = 0;
}

/* --- modules and symbols --------------------------------------------------- */

struct module {
    uintptr_t base, end;
    char name[48];
    bool system;                        /* under the Windows directory */
};

#define MAX_MODULES 512
static struct module modules[MAX_MODULES];
static unsigned module_count;

static void ascii_of(const UNICODE_STRING *s, char *out, size_t size)
{
    size_t n = 0, len = s->Buffer ? s->Length / sizeof(WCHAR) : 0;
    for (size_t i = 0; i < len && n + 1 < size; i++)
        out[n++] = s->Buffer[i] < 0x80 ? (char)s->Buffer[i] : '?';
    out[n] = 0;
}

static bool under_windows_dir(const UNICODE_STRING *path)
{
    static const char prefix[] = "c:\\windows\\";
    size_t len = path->Buffer ? path->Length / sizeof(WCHAR) : 0;
    if (len < sizeof prefix - 1)
        return false;
    for (size_t i = 0; i < sizeof prefix - 1; i++) {
        WCHAR c = path->Buffer[i];
        if (c >= 'A' && c <= 'Z')
            c = (WCHAR)(c - 'A' + 'a');
        if (c == '/')
            c = '\\';
        if (c != (WCHAR)prefix[i])
            return false;
    }
    return true;
}

/* Snapshot of the loader's module list (PEB.Ldr, in load order). */
static void load_modules(void)
{
    BYTE *ldr = *(BYTE **)(current_peb() + 0x18);             /* PEB.Ldr */
    LIST_ENTRY *head = (LIST_ENTRY *)(ldr + 0x10);            /* InLoadOrderModuleList */
    module_count = 0;
    for (LIST_ENTRY *e = head->Flink; e != head && module_count < MAX_MODULES; e = e->Flink) {
        BYTE *entry = (BYTE *)e;                              /* LDR_DATA_TABLE_ENTRY */
        struct module *m = &modules[module_count++];
        m->base = *(uintptr_t *)(entry + 0x30);              /* DllBase */
        m->end = m->base + *(ULONG *)(entry + 0x40);         /* SizeOfImage */
        ascii_of((UNICODE_STRING *)(entry + 0x58), m->name, sizeof m->name);     /* BaseDllName */
        m->system = under_windows_dir((UNICODE_STRING *)(entry + 0x48));         /* FullDllName */
    }
}

static const struct module *module_of(uintptr_t addr)
{
    for (unsigned i = 0; i < module_count; i++)
        if (addr >= modules[i].base && addr < modules[i].end)
            return &modules[i];
    return NULL;
}

/* The exported symbol of the function containing addr in module m: its
 * name and address. The function's start comes from the module's unwind
 * table (.pdata), so an address in a function that is not exported is not
 * named after the export before it; without unwind data (leaf functions),
 * the nearest export below is taken. */
static const char *symbol_of(const struct module *m, uintptr_t addr, uintptr_t *sym_addr)
{
    DWORD64 image_base = 0;
    RUNTIME_FUNCTION *function = RtlLookupFunctionEntry(addr, &image_base, NULL);
    DWORD function_rva = function && image_base == m->base ? function->BeginAddress : 0;
    BYTE *base = (BYTE *)m->base;
    IMAGE_NT_HEADERS *nt = (IMAGE_NT_HEADERS *)(base + ((IMAGE_DOS_HEADER *)base)->e_lfanew);
    IMAGE_DATA_DIRECTORY dir = nt->OptionalHeader.DataDirectory[IMAGE_DIRECTORY_ENTRY_EXPORT];
    if (!dir.VirtualAddress || !dir.Size)
        return NULL;
    IMAGE_EXPORT_DIRECTORY *exp = (IMAGE_EXPORT_DIRECTORY *)(base + dir.VirtualAddress);
    DWORD *functions = (DWORD *)(base + exp->AddressOfFunctions);
    DWORD *names = (DWORD *)(base + exp->AddressOfNames);
    WORD *ordinals = (WORD *)(base + exp->AddressOfNameOrdinals);
    DWORD offset = (DWORD)(addr - m->base), best_rva = 0;
    const char *best = NULL;
    for (DWORD i = 0; i < exp->NumberOfNames; i++) {
        DWORD rva = functions[ordinals[i]];
        if (rva >= dir.VirtualAddress && rva < dir.VirtualAddress + dir.Size)
            continue;                   /* a forwarder, not code here */
        if (function_rva ? rva == function_rva : rva <= offset && rva >= best_rva) {
            best_rva = rva;
            best = (const char *)(base + names[i]);
        }
    }
    *sym_addr = m->base + best_rva;
    return best;
}

/* "module+0xOFFSET (symbol+0xN)" into buf. */
static void describe(uintptr_t addr, char *buf, size_t size)
{
    const struct module *m = module_of(addr);
    if (!m) {
        ms_format(buf, size, "%p", (void *)addr);
        return;
    }
    uintptr_t sym_addr;
    const char *sym = symbol_of(m, addr, &sym_addr);
    if (sym)
        ms_format(buf, size, "%s+%#Ix (%s+%#Ix)", m->name, addr - m->base, sym, addr - sym_addr);
    else
        ms_format(buf, size, "%s+%#Ix", m->name, addr - m->base);
}

/* The frame that names a record's site (see the top of the file). */
static unsigned site_index(const uintptr_t *frames)
{
    for (unsigned i = 0; i < HEAP_DEBUG_FRAMES && frames[i]; i++) {
        const struct module *m = module_of(frames[i]);
        if (!m || !m->system)
            return i;
    }
    return 0;
}

static void print_frames(const char *label, const uintptr_t *frames)
{
    char where[192];
    unsigned first = site_index(frames);
    for (unsigned i = first, shown = 0; i < HEAP_DEBUG_FRAMES && frames[i] && shown < 3; i++, shown++) {
        describe(frames[i], where, sizeof where);
        memshim_report("    %s %s\n", shown ? "      called from" : label, where);
    }
    if (!frames[0])
        memshim_report("    %s (unknown)\n", label);
}

/* --- leak report --------------------------------------------------------- */

struct leak_group {
    uintptr_t site;                     /* 0: empty slot */
    uint64_t bytes, largest;
    uint32_t blocks, regions;
    uintptr_t frames[HEAP_DEBUG_FRAMES];
};

#define MAX_GROUPS 8192u
struct leak_scan {
    struct leak_group *groups;
    unsigned used;
    uint64_t blocks, regions, bytes, hidden;
    uint64_t ungrouped;                 /* blocks past MAX_GROUPS sites */
};

static void count_leak(const struct heap_debug_record *rec, void *ctx)
{
    struct leak_scan *scan = ctx;
    unsigned idx = site_index(rec->alloc_frames);
    uintptr_t site = rec->alloc_frames[idx];
    const struct module *m = module_of(site);
    if (!leaks_all && (!site || (m && m->system))) {
        scan->hidden++;
        return;
    }
    if (!site)
        site = 1;                       /* unknown caller: one group of its own */
    unsigned h = (unsigned)(((uint64_t)site * 0x9E3779B97F4A7C15ull) >> 40) & (MAX_GROUPS - 1);
    for (unsigned probes = 0; probes < MAX_GROUPS; probes++, h = (h + 1) & (MAX_GROUPS - 1)) {
        struct leak_group *g = &scan->groups[h];
        if (g->site && g->site != site)
            continue;
        if (!g->site) {
            if (scan->used + 1 >= MAX_GROUPS) {
                scan->ungrouped++;
                break;
            }
            scan->used++;
            g->site = site;
            for (unsigned i = 0; i < HEAP_DEBUG_FRAMES; i++)
                g->frames[i] = rec->alloc_frames[i];
        }
        g->bytes += rec->size;
        if (rec->size > g->largest)
            g->largest = rec->size;
        if (rec->kind == HEAP_DEBUG_REGION)
            g->regions++;
        else
            g->blocks++;
        break;
    }
    if (rec->kind == HEAP_DEBUG_REGION)
        scan->regions++;
    else
        scan->blocks++;
    scan->bytes += rec->size;
}

#define MAX_SHOWN 100

static void leak_report(void)
{
    struct leak_scan scan = { 0 };
    uintptr_t mem = 0;
    if (vm_allocate_internal(&mem, ms_align_up(MAX_GROUPS * sizeof(struct leak_group), MS_GRANULARITY),
                             MS_GRANULARITY, PAGE_READWRITE, VM_USAGE_HEAP, NULL)) {
        memshim_report("memshim leaks: no memory for the report\n");
        return;
    }
    scan.groups = (struct leak_group *)mem;
    load_modules();
    heap_debug_for_each_live(count_leak, &scan);
    memshim_report("memshim leaks (process %d): %llu bytes in %llu heap blocks and %llu VirtualAlloc regions still live "
        "at exit, from %u call sites%s\n",
        host_getpid(), (unsigned long long)scan.bytes, (unsigned long long)scan.blocks,
        (unsigned long long)scan.regions, scan.used,
        leaks_all ? "" : " outside the Windows directory (--leaks=all for every site)");
    /* Largest first: pick the biggest remaining group each time (the
     * report shows at most MAX_SHOWN; a leak report is not a hot path). */
    for (unsigned shown = 0; shown < scan.used; shown++) {
        struct leak_group *best = NULL;
        for (unsigned i = 0; i < MAX_GROUPS; i++) {
            struct leak_group *g = &scan.groups[i];
            if (g->site && (!best || g->bytes > best->bytes || (g->bytes == best->bytes && g->site < best->site)))
                best = g;
        }
        if (shown == MAX_SHOWN) {
            memshim_report("  ... and %u more call sites\n", scan.used - shown);
            break;
        }
        char count[64];
        if (best->regions && best->blocks)
            ms_format(count, sizeof count, "%u blocks + %u regions", best->blocks, best->regions);
        else if (best->regions)
            ms_format(count, sizeof count, "%u region%s", best->regions, best->regions == 1 ? "" : "s");
        else
            ms_format(count, sizeof count, "%u block%s", best->blocks, best->blocks == 1 ? "" : "s");
        memshim_report("  %llu bytes in %s (largest %llu)\n", (unsigned long long)best->bytes, count,
            (unsigned long long)best->largest);
        print_frames("allocated at", best->frames);
        best->site = 0;
    }
    if (scan.ungrouped)
        memshim_report("  (%llu more blocks from further call sites, beyond the %u this report can group)\n",
            (unsigned long long)scan.ungrouped, MAX_GROUPS - 1);
    if (!leaks_all && scan.hidden)
        memshim_report("  (%llu more blocks from Wine's own DLLs not shown)\n", (unsigned long long)scan.hidden);
    vm_release_internal(mem);
}

/* --- problems found by heap calls, and faults -------------------------------- */

static void problem(enum heap_debug_problem what, const struct heap_debug_record *rec)
{
    uintptr_t here[HEAP_DEBUG_FRAMES];
    capture_frames(here);
    load_modules();
    if (what == HEAP_DEBUG_DOUBLE_FREE)
        memshim_report("memshim page heap: double free of block %p (%Iu bytes, heap %p)\n", (void *)rec->block, rec->size,
            rec->heap);
    else
        memshim_report("memshim heap: the bytes after block %p (%Iu bytes, heap %p) were overwritten (found by HeapFree or "
            "HeapValidate)\n", (void *)rec->block, rec->size, rec->heap);
    print_frames("this call at", here);
    if (rec->alloc_frames[0])
        print_frames("allocated at", rec->alloc_frames);
    if (what == HEAP_DEBUG_DOUBLE_FREE)
        print_frames("first freed at", rec->free_frames);
}

void memshim_debug_heap_fault(const EXCEPTION_RECORD *rec)
{
    uintptr_t addr = (uintptr_t)rec->ExceptionInformation[1];
    struct heap_debug_record block;
    if (!heap_debug_find_fault(addr, &block))
        return;
    load_modules();
    const char *access = rec->ExceptionInformation[0] == 1 ? "write" :
                         rec->ExceptionInformation[0] == 8 ? "execution" : "read";
    char where[192], what[128];
    describe((uintptr_t)rec->ExceptionAddress, where, sizeof where);
    if (block.freed)
        ms_format(what, sizeof what, "%Id bytes into block %p, which was freed", (intptr_t)(addr - block.block),
                  (void *)block.block);
    else if (addr < block.block)
        ms_format(what, sizeof what, "%Iu bytes before the start of block %p", block.block - addr,
                  (void *)block.block);
    else
        ms_format(what, sizeof what, "%Iu bytes past the end of block %p", addr - (block.block + block.size),
                  (void *)block.block);
    memshim_report("memshim page heap: %s of %p by %s: %s (%Iu bytes, heap %p)\n", access, (void *)addr, where, what,
        block.size, block.heap);
    print_frames("allocated at", block.alloc_frames);
    if (block.freed)
        print_frames("freed at", block.free_frames);
}

/* --- switches ---------------------------------------------------------------- */

/* The variable's value as ASCII in buf ("" when unset). */
static void env_value(const WCHAR *name, char *buf, size_t size)
{
    typedef DWORD(WINAPI * fn_t)(LPCWSTR, LPWSTR, DWORD);
    WCHAR value[16];
    DWORD n = WINE_FN(fn_t, GetEnvironmentVariableW)(name, value, 16);
    size_t k = 0;
    if (n < 16)
        for (DWORD i = 0; i < n && k + 1 < size; i++)
            buf[k++] = value[i] < 0x80 ? (char)value[i] : '?';
    buf[k] = 0;
}

static bool is_on(const char *v)
{
    return v[0] && v[0] != '0';
}

static bool equals(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

void memshim_debug_heap_init(HINSTANCE self)
{
    char leaks[16], page[16], fill[16];
    env_value(L"MEMSHIM_LEAKS", leaks, sizeof leaks);
    env_value(L"MEMSHIM_PAGEHEAP", page, sizeof page);
    env_value(L"MEMSHIM_HEAPFILL", fill, sizeof fill);
    unsigned mode = 0;
    if (is_on(leaks)) {
        mode |= HEAP_DEBUG_TRACK;
        leaks_on = true;
        leaks_all = equals(leaks, "all");
    }
    if (is_on(page))
        mode |= equals(page, "front") ? HEAP_DEBUG_PAGE | HEAP_DEBUG_FRONT : HEAP_DEBUG_PAGE;
    if (is_on(fill))
        mode |= HEAP_DEBUG_FILL;
    if (!mode)
        return;
#ifdef MEMSHIM_NO_HOOKS
    ERR("this memshim was built with -Dhooks=false: no leak report, page heap or fill patterns\n");
    return;
#endif
    BYTE *base = (BYTE *)self;
    IMAGE_NT_HEADERS *nt = (IMAGE_NT_HEADERS *)(base + ((IMAGE_DOS_HEADER *)base)->e_lfanew);
    self_base = (uintptr_t)base;
    self_end = self_base + nt->OptionalHeader.SizeOfImage;
    static const struct heap_debug_callbacks callbacks = { capture_frames, problem };
    if (heap_debug_enable(mode, &callbacks, 0) != MS_OK)
        ERR("could not turn the heap debugging modes on\n");
}

void memshim_debug_heap_report(void)
{
    if (leaks_on)
        leak_report();
}
