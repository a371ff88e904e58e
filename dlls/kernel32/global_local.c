/*
 * global_local.c - the Global* and Local* families.
 *
 * Not yet served by the core: each passes through to Wine (FIXME trace once).
 * Wine implements them on its own process heap, so their blocks stay Wine's
 * and the ownership routing of HeapFree/HeapSize keeps working on them.
 */
#include "private.h"

#define PT(ret, name, params, ...) \
    ret WINAPI name params { PASSTHROUGH_FIXME(ret(WINAPI *) params, name, __VA_ARGS__); }

PT(HGLOBAL, GlobalAlloc, (UINT flags, SIZE_T size), flags, size)
PT(HGLOBAL, GlobalReAlloc, (HGLOBAL mem, SIZE_T size, UINT flags), mem, size, flags)
PT(HGLOBAL, GlobalFree, (HGLOBAL mem), mem)
PT(LPVOID, GlobalLock, (HGLOBAL mem), mem)
PT(BOOL, GlobalUnlock, (HGLOBAL mem), mem)
PT(SIZE_T, GlobalSize, (HGLOBAL mem), mem)
PT(UINT, GlobalFlags, (HGLOBAL mem), mem)
PT(HGLOBAL, GlobalHandle, (LPCVOID ptr), ptr)
PT(HLOCAL, LocalAlloc, (UINT flags, SIZE_T size), flags, size)
PT(HLOCAL, LocalReAlloc, (HLOCAL mem, SIZE_T size, UINT flags), mem, size, flags)
PT(HLOCAL, LocalFree, (HLOCAL mem), mem)
PT(LPVOID, LocalLock, (HLOCAL mem), mem)
PT(BOOL, LocalUnlock, (HLOCAL mem), mem)
PT(SIZE_T, LocalSize, (HLOCAL mem), mem)
PT(UINT, LocalFlags, (HLOCAL mem), mem)
PT(HLOCAL, LocalHandle, (LPCVOID ptr), ptr)
