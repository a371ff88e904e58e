/*
 * vm_flags.h - the Windows MEM_* and PAGE_* numbers, without windows.h.
 */
#ifndef MS_VM_FLAGS_H
#define MS_VM_FLAGS_H

#define VM_MEM_COMMIT       0x00001000u
#define VM_MEM_RESERVE      0x00002000u
#define VM_MEM_REPLACE_PLACEHOLDER 0x00004000u
#define VM_MEM_DECOMMIT     0x00004000u
#define VM_MEM_RELEASE      0x00008000u
#define VM_MEM_FREE         0x00010000u
#define VM_MEM_PRIVATE      0x00020000u
#define VM_MEM_MAPPED       0x00040000u
#define VM_MEM_RESET        0x00080000u
#define VM_MEM_TOP_DOWN     0x00100000u
#define VM_MEM_WRITE_WATCH  0x00200000u
#define VM_MEM_PHYSICAL     0x00400000u
#define VM_MEM_RESET_UNDO   0x01000000u
#define VM_MEM_LARGE_PAGES  0x20000000u
#define VM_MEM_COALESCE_PLACEHOLDERS 0x00000001u
#define VM_MEM_PRESERVE_PLACEHOLDER  0x00000002u

#define VM_PAGE_NOACCESS          0x001u
#define VM_PAGE_READONLY          0x002u
#define VM_PAGE_READWRITE         0x004u
#define VM_PAGE_WRITECOPY         0x008u
#define VM_PAGE_EXECUTE           0x010u
#define VM_PAGE_EXECUTE_READ      0x020u
#define VM_PAGE_EXECUTE_READWRITE 0x040u
#define VM_PAGE_EXECUTE_WRITECOPY 0x080u
#define VM_PAGE_GUARD             0x100u
#define VM_PAGE_NOCACHE           0x200u
#define VM_PAGE_WRITECOMBINE      0x400u
/* Control Flow Guard: PAGE_TARGETS_INVALID to VirtualAlloc,
 * PAGE_TARGETS_NO_UPDATE to VirtualProtect (the same bit). */
#define VM_PAGE_TARGETS_INVALID   0x40000000u

#endif
