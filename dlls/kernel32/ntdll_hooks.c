/*
 * ntdll_hooks.c - memshim's heap blocks stay memshim's on every path.
 *
 * Wine's own DLLs reach the heap through kernel32 (us), but also through
 * kernelbase (which forwards to ntdll) and by calling ntdll's Rtl*Heap
 * directly. A block memshim allocated may therefore be freed, sized,
 * reallocated or validated by ntdll. We patch the entry of those ntdll
 * functions with a jump to a hook that serves memshim's blocks (found by
 * ownership lookup) and sends every other pointer on to the original code
 * through a trampoline. RtlAllocateHeap is hooked only for memshim's
 * private heap handles: what Wine allocates in its own heaps stays Wine's,
 * and our exports route Wine's blocks back to ntdll.
 *
 * Patching happens in DllMain at process attach, before the program or any
 * other thread runs. The trampoline copies whole instructions of the
 * original prologue; a small decoder checks each one and refuses (no hook,
 * an ERR trace) on anything it does not know or anything RIP-relative,
 * whose copy would point elsewhere.
 */
#include "private.h"
#include "../../src/heap/heap.h"
#include "../../src/vm/vm.h"

#define PATCH_SIZE 12           /* movabs rax, imm64 ; jmp rax */

/* Length of one prologue instruction at p, or 0 if unknown/unsafe. */
static int insn_length(const BYTE *p)
{
    int len = 0;
    if ((p[0] & 0xF0) == 0x40)          /* REX */
        len = 1;
    BYTE op = p[len];
    if (op >= 0x50 && op <= 0x57)       /* push reg */
        return len + 1;
    int modrm_at, imm = 0;
    switch (op) {
    case 0x89: case 0x8B: case 0x8D:    /* mov r/m,r ; mov r,r/m ; lea */
    case 0x31: case 0x33: case 0x29: case 0x2B: case 0x85:   /* xor, sub, test */
        modrm_at = len + 1;
        break;
    case 0x83:                          /* group 1, imm8 */
        modrm_at = len + 1;
        imm = 1;
        break;
    case 0x81:                          /* group 1, imm32 */
        modrm_at = len + 1;
        imm = 4;
        break;
    default:
        return 0;
    }
    BYTE modrm = p[modrm_at];
    int mod = modrm >> 6, rm = modrm & 7;
    int n = modrm_at + 1;
    if (mod != 3 && rm == 4)            /* SIB byte */
        n++;
    if (mod == 0 && rm == 5)
        return 0;                       /* RIP-relative: not copyable as is */
    if (mod == 0 && rm == 4 && (p[modrm_at + 1] & 7) == 5)
        n += 4;                         /* SIB with disp32 and no base */
    if (mod == 1)
        n += 1;
    else if (mod == 2)
        n += 4;
    return n + imm;
}

static BYTE *trampoline_area;
static size_t trampoline_used;

static void write_jump(BYTE *at, const void *target)
{
    at[0] = 0x48;                       /* movabs rax, target */
    at[1] = 0xB8;
    memcpy(at + 2, &target, 8);
    at[10] = 0xFF;                      /* jmp rax */
    at[11] = 0xE0;
}

/* Redirect `fn` to `hook`; returns a trampoline that runs the original. */
static void *hook_function(const char *name, void *fn, void *hook)
{
    BYTE *code = fn;
    int copied = 0;
    while (copied < PATCH_SIZE) {
        int n = insn_length(code + copied);
        if (!n) {
            ERR("cannot hook ntdll.%s: unknown prologue byte %02x at +%d; its callers bypass memshim\n", name,
                code[copied], copied);
            return NULL;
        }
        copied += n;
    }
    if (!trampoline_area) {
        uintptr_t area = 0;
        if (vm_allocate_internal(&area, MS_PAGE_SIZE, MS_GRANULARITY, PAGE_EXECUTE_READWRITE, VM_USAGE_CODE, NULL))
            return NULL;
        trampoline_area = (BYTE *)area;
    }
    if (trampoline_used + copied + PATCH_SIZE > MS_PAGE_SIZE)
        return NULL;
    BYTE *tramp = trampoline_area + trampoline_used;
    memcpy(tramp, code, copied);
    write_jump(tramp + copied, code + copied);
    trampoline_used += ms_align_up(copied + PATCH_SIZE, 16);

    void *page = code;
    SIZE_T size = PATCH_SIZE;
    ULONG old;
    if (NtProtectVirtualMemory(CURRENT_PROCESS, &page, &size, PAGE_EXECUTE_READWRITE, &old))
        return NULL;
    write_jump(code, hook);
    /* Leftover bytes of a split instruction are never executed: pad with int3. */
    for (int i = PATCH_SIZE; i < copied; i++)
        code[i] = 0xCC;
    page = code;
    size = PATCH_SIZE;
    NtProtectVirtualMemory(CURRENT_PROCESS, &page, &size, old, &old);
    NtFlushInstructionCache(CURRENT_PROCESS, code, copied);
    TRACE("hooked ntdll.%s (%d bytes moved)\n", name, copied);
    return tramp;
}

typedef void *(NTAPI *alloc_fn)(HANDLE, ULONG, SIZE_T);
typedef BOOLEAN(NTAPI *free_fn)(HANDLE, ULONG, void *);
typedef SIZE_T(NTAPI *size_fn)(HANDLE, ULONG, const void *);
typedef void *(NTAPI *realloc_fn)(HANDLE, ULONG, void *, SIZE_T);
typedef BOOLEAN(NTAPI *validate_fn)(HANDLE, ULONG, const void *);

static alloc_fn orig_alloc;
static free_fn orig_free;
static size_fn orig_size;
static realloc_fn orig_realloc;
static validate_fn orig_validate;

/* Wine code (kernelbase's HeapAlloc among it) given one of memshim's
 * private heap handles. Wine's own handles go on; the test is an alignment
 * check and a lock-free bitmap read. */
static void *NTAPI hook_RtlAllocateHeap(HANDLE handle, ULONG flags, SIZE_T size)
{
    struct ms_heap *heap = heap_from_handle(handle);
    if (MS_LIKELY(!heap))
        return orig_alloc(handle, flags, size);
    ms_status err = MS_OK;
    void *block = heap_alloc(heap, flags, size, &err);
    if (!block && (flags & HEAP_GENERATE_EXCEPTIONS))
        RtlRaiseStatus(STATUS_NO_MEMORY);
    return block;
}

static BOOLEAN NTAPI hook_RtlFreeHeap(HANDLE heap, ULONG flags, void *ptr)
{
    struct ms_heap *owner = ptr ? heap_owner_of(ptr) : NULL;
    if (!owner)
        return orig_free(heap, flags, ptr);
    TRACE("%p %p: memshim's block, freed by memshim\n", heap, ptr);
    return heap_free(owner, flags, ptr) == MS_OK;
}

static SIZE_T NTAPI hook_RtlSizeHeap(HANDLE heap, ULONG flags, const void *ptr)
{
    struct ms_heap *owner = ptr ? heap_owner_of(ptr) : NULL;
    if (!owner)
        return orig_size(heap, flags, ptr);
    return heap_size(owner, flags, ptr);
}

static void *NTAPI hook_RtlReAllocateHeap(HANDLE heap, ULONG flags, void *ptr, SIZE_T size)
{
    struct ms_heap *owner = ptr ? heap_owner_of(ptr) : NULL;
    if (!owner)
        return orig_realloc(heap, flags, ptr, size);
    ms_status err = MS_OK;
    void *result = heap_realloc(owner, flags, ptr, size, &err);
    if (!result && (flags & HEAP_GENERATE_EXCEPTIONS))
        RtlRaiseStatus(STATUS_NO_MEMORY);
    return result;
}

static BOOLEAN NTAPI hook_RtlValidateHeap(HANDLE heap, ULONG flags, const void *ptr)
{
    struct ms_heap *owner = ptr ? heap_owner_of(ptr) : NULL;
    if (!owner)
        return orig_validate(heap, flags, ptr);
    return heap_validate(owner, flags, ptr);
}

static void *hook_export(const char *name, void *hook)
{
    void *fn = ntdll_proc(name);
    return fn ? hook_function(name, fn, hook) : NULL;
}

void memshim_install_ntdll_hooks(void)
{
    orig_alloc = (alloc_fn)hook_export("RtlAllocateHeap", (void *)hook_RtlAllocateHeap);
    orig_free = (free_fn)hook_export("RtlFreeHeap", (void *)hook_RtlFreeHeap);
    orig_size = (size_fn)hook_export("RtlSizeHeap", (void *)hook_RtlSizeHeap);
    orig_realloc = (realloc_fn)hook_export("RtlReAllocateHeap", (void *)hook_RtlReAllocateHeap);
    orig_validate = (validate_fn)hook_export("RtlValidateHeap", (void *)hook_RtlValidateHeap);
}
