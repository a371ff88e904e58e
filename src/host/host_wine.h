/*
 * host_wine.h - what only the Wine host needs from the DLL.
 *
 * Once the DLL hooks ntdll's NtAllocateVirtualMemory/NtFreeVirtualMemory
 * (so that other paths to memshim's memory reach the core), the host must
 * reserve and release arenas through the original functions: the hooks
 * themselves take the core's lock.
 */
#ifndef MS_HOST_WINE_H
#define MS_HOST_WINE_H

typedef int32_t(__stdcall *host_nt_allocate_fn)(void *, void **, uintptr_t, size_t *, uint32_t, uint32_t);
typedef int32_t(__stdcall *host_nt_free_fn)(void *, void **, size_t *, uint32_t);

void host_wine_use_ntdll(host_nt_allocate_fn allocate, host_nt_free_fn release);

#endif
