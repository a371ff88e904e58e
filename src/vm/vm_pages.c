/*
 * vm_pages.c - the per-page byte: Windows protections in 6 bits, and what
 * the host must be told for each.
 */
#include "vm_internal.h"

#define PROT_MODIFIERS (VM_PAGE_GUARD | VM_PAGE_NOCACHE | VM_PAGE_WRITECOMBINE)

/* A protection is one base value plus at most one modifier, and a modifier
 * never goes with PAGE_NOACCESS (Windows' rules for VirtualAlloc/Protect). */
bool vm_protect_is_valid(uint32_t protect, bool allow_writecopy)
{
    uint32_t base = protect & 0xFFu;
    uint32_t mods = protect & PROT_MODIFIERS;
    if (protect & ~(0xFFu | PROT_MODIFIERS))
        return false;
    if (base == 0 || (base & (base - 1)))
        return false;
    if (mods & (mods - 1))
        return false;
    if (mods && base == VM_PAGE_NOACCESS)
        return false;
    if (!allow_writecopy && (base == VM_PAGE_WRITECOPY || base == VM_PAGE_EXECUTE_WRITECOPY))
        return false;
    return true;
}

bool vm_protect_take_cfg(uint32_t *protect)
{
    if (!(*protect & VM_PAGE_TARGETS_INVALID))
        return true;
    if (!(*protect & (VM_PAGE_EXECUTE | VM_PAGE_EXECUTE_READ | VM_PAGE_EXECUTE_READWRITE | VM_PAGE_EXECUTE_WRITECOPY)))
        return false;
    *protect &= ~VM_PAGE_TARGETS_INVALID;
    return true;
}

/* Recent Windows keeps the caching attribute per allocation: Wine's tests,
 * run there, find a PAGE_NOCACHE allocation's pages still PAGE_NOCACHE
 * after VirtualProtect(PAGE_READONLY), and a plain one's plain after
 * VirtualProtect(PAGE_READONLY | PAGE_NOCACHE). Wine's builtin does the
 * same for commits, which no test on Windows pins; memshim follows it. */
uint32_t vm_protect_cached_as(const struct vm_allocation *alloc, uint32_t protect)
{
    uint32_t kept = alloc->type == VM_MEM_MAPPED ? VM_PAGE_NOCACHE : VM_PAGE_NOCACHE | VM_PAGE_WRITECOMBINE;
    return (protect & ~(VM_PAGE_NOCACHE | VM_PAGE_WRITECOMBINE)) | (alloc->alloc_protect & kept);
}

#define PAGE_BYTES_4(b) PAGE_BYTE_PROTECT(b), PAGE_BYTE_PROTECT((b) + 1), PAGE_BYTE_PROTECT((b) + 2), \
    PAGE_BYTE_PROTECT((b) + 3)
#define PAGE_BYTES_16(b) PAGE_BYTES_4(b), PAGE_BYTES_4((b) + 4), PAGE_BYTES_4((b) + 8), PAGE_BYTES_4((b) + 12)
#define PAGE_BYTES_64(b) PAGE_BYTES_16(b), PAGE_BYTES_16((b) + 16), PAGE_BYTES_16((b) + 32), PAGE_BYTES_16((b) + 48)
const uint32_t vm_page_byte_protect[256] = { PAGE_BYTES_64(0u), PAGE_BYTES_64(64u), PAGE_BYTES_64(128u),
                                             PAGE_BYTES_64(192u) };

uint8_t page_byte_make(uint32_t state, uint32_t protect)
{
    if (state != PAGE_STATE_COMMITTED)
        return PAGE_STATE_RESERVED;     /* reserved pages carry no protection */
    uint32_t base = protect & 0xFFu;
    uint32_t index = (uint32_t)__builtin_ctz(base);
    uint32_t byte = state | (index << 2);
    if (protect & VM_PAGE_GUARD)
        byte |= PAGE_BYTE_GUARD;
    if (protect & VM_PAGE_NOCACHE)
        byte |= 1u << 6;
    if (protect & VM_PAGE_WRITECOMBINE)
        byte |= 1u << 7;
    return (uint8_t)byte;
}

int page_host_prot(uint8_t byte)
{
    if (page_byte_state(byte) != PAGE_STATE_COMMITTED || (byte & PAGE_BYTE_GUARD))
        return HOST_PROT_NONE;      /* guard pages trap on first touch */
    switch (1u << ((byte >> 2) & 7u)) {
    case VM_PAGE_READONLY:          return HOST_PROT_READ;
    case VM_PAGE_READWRITE:         return HOST_PROT_READ | HOST_PROT_WRITE;
    case VM_PAGE_WRITECOPY:         return HOST_PROT_READ | HOST_PROT_WRITE;
    case VM_PAGE_EXECUTE:           return HOST_PROT_READ | HOST_PROT_EXEC;
    case VM_PAGE_EXECUTE_READ:      return HOST_PROT_READ | HOST_PROT_EXEC;
    case VM_PAGE_EXECUTE_READWRITE: return HOST_PROT_READ | HOST_PROT_WRITE | HOST_PROT_EXEC;
    case VM_PAGE_EXECUTE_WRITECOPY: return HOST_PROT_READ | HOST_PROT_WRITE | HOST_PROT_EXEC;
    default:                        return HOST_PROT_NONE;
    }
}

uint8_t page_byte_copied(uint8_t byte)
{
    uint32_t protect = page_byte_protect(byte);
    uint32_t base = protect & 0xFFu;
    protect = (protect & ~0xFFu) | (base == VM_PAGE_WRITECOPY ? VM_PAGE_READWRITE : VM_PAGE_EXECUTE_READWRITE);
    return page_byte_make(page_byte_state(byte), protect);
}

int vm_host_prot(const struct vm_allocation *alloc, uint8_t byte)
{
    int prot = page_host_prot(byte);
    /* The host mapping of a shared view writes through to the section:
     * write access would let the first write skip the copy. */
    if (alloc && alloc->shared_view && page_byte_writecopy(byte))
        prot &= ~HOST_PROT_WRITE;
    return prot;
}

