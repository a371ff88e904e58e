/*
 * hotpatch.c - redirect an ntdll function to a hook, keeping a trampoline
 * that runs the original.
 *
 * The entry of the function is overwritten with `movabs rax, hook; jmp rax`
 * (12 bytes; rax is free at a function's entry in the Windows x64 ABI). The
 * whole instructions that covered those bytes are copied into a trampoline,
 * followed by `jmp [rip+0]` back to the rest of the function: that jump
 * clobbers no register, because Wine's syscall thunks have already loaded
 * the syscall number into eax when it runs. A small decoder checks each
 * copied instruction and refuses (no hook, an ERR trace) anything it does
 * not know and anything RIP-relative, whose copy would point elsewhere.
 * Patching happens in DllMain at process attach, before other threads run.
 */
#include "private.h"
#include "hotpatch.h"
#include "../../src/vm/vm.h"

#define PATCH_SIZE 12           /* movabs rax, imm64 ; jmp rax */
#define RETURN_JUMP_SIZE 14     /* jmp [rip+0] ; dq target */

/* Length of one prologue instruction at p, or 0 if unknown/unsafe. */
static int insn_length(const BYTE *p)
{
    int len = 0;
    if ((p[0] & 0xF0) == 0x40)          /* REX */
        len = 1;
    BYTE op = p[len];
    if (op >= 0x50 && op <= 0x57)       /* push reg */
        return len + 1;
    if (op >= 0xB8 && op <= 0xBF)       /* mov reg, imm32 (imm64 with REX.W) */
        return len + 1 + (len && (p[0] & 8) ? 8 : 4);
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
    case 0xF6:                          /* test r/m8, imm8 (only /0 and /1 take an immediate) */
        modrm_at = len + 1;
        if (((p[modrm_at] >> 3) & 7) > 1)
            return 0;
        imm = 1;
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

static void write_entry_jump(BYTE *at, const void *target)
{
    at[0] = 0x48;                       /* movabs rax, target */
    at[1] = 0xB8;
    memcpy(at + 2, &target, 8);
    at[10] = 0xFF;                      /* jmp rax */
    at[11] = 0xE0;
}

static void write_return_jump(BYTE *at, const void *target)
{
    at[0] = 0xFF;                       /* jmp [rip+0] */
    at[1] = 0x25;
    memset(at + 2, 0, 4);
    memcpy(at + 6, &target, 8);
}

bool hotpatch(const char *module, const char *name, void *fn, void *hook, void **original)
{
    BYTE *code = fn;
    int copied = 0;
    while (copied < PATCH_SIZE) {
        int n = insn_length(code + copied);
        if (!n) {
            ERR("cannot hook %s.%s: unknown prologue byte %02x at +%d; its callers bypass memshim\n", module, name,
                code[copied], copied);
            return false;
        }
        copied += n;
    }
    if (!trampoline_area) {
        uintptr_t area = 0;
        if (vm_allocate_internal(&area, MS_PAGE_SIZE, MS_GRANULARITY, PAGE_EXECUTE_READWRITE, VM_USAGE_CODE, NULL))
            return false;
        trampoline_area = (BYTE *)area;
    }
    if (trampoline_used + copied + RETURN_JUMP_SIZE > MS_PAGE_SIZE)
        return false;
    BYTE *tramp = trampoline_area + trampoline_used;
    memcpy(tramp, code, copied);
    write_return_jump(tramp + copied, code + copied);
    trampoline_used += ms_align_up(copied + RETURN_JUMP_SIZE, 16);

    void *page = code;
    SIZE_T size = PATCH_SIZE;
    ULONG old;
    if (NtProtectVirtualMemory(CURRENT_PROCESS, &page, &size, PAGE_EXECUTE_READWRITE, &old))
        return false;
    /* The hook may run as soon as the jump is written (the very next
     * NtProtectVirtualMemory below, when that is what is being hooked):
     * its way to the original must be in place first. */
    *original = tramp;
    write_entry_jump(code, hook);
    /* Leftover bytes of a split instruction are never executed: pad with int3. */
    for (int i = PATCH_SIZE; i < copied; i++)
        code[i] = 0xCC;
    page = code;
    size = PATCH_SIZE;
    NtProtectVirtualMemory(CURRENT_PROCESS, &page, &size, old, &old);
    NtFlushInstructionCache(CURRENT_PROCESS, code, copied);
    TRACE("hooked %s.%s (%d bytes moved)\n", module, name, copied);
    return true;
}

bool hotpatch_export(const char *name, void *hook, void **original)
{
    void *fn = ntdll_proc(name);
    return fn && hotpatch("ntdll", name, fn, hook, original);
}
