/*
 * ntdll.h - ntdll entry points and types that mingw's winternl.h lacks.
 * Prototypes follow Windows' documented native API (as Wine implements it).
 */
#ifndef MEMSHIM_NTDLL_H
#define MEMSHIM_NTDLL_H

typedef enum {
    memshim_MemoryBasicInformation = 0,
} MEMSHIM_MEMORY_INFORMATION_CLASS;

typedef enum {
    memshim_SectionBasicInformation = 0,
} MEMSHIM_SECTION_INFORMATION_CLASS;

typedef struct {
    PVOID BaseAddress;
    ULONG Attributes;
    LARGE_INTEGER Size;
} MEMSHIM_SECTION_BASIC_INFORMATION;

typedef struct {
    ULONG Attributes;
    ACCESS_MASK GrantedAccess;
    ULONG HandleCount;
    ULONG PointerCount;
    ULONG Reserved[10];
} MEMSHIM_OBJECT_BASIC_INFORMATION;

NTSTATUS NTAPI NtAllocateVirtualMemory(HANDLE, PVOID *, ULONG_PTR, SIZE_T *, ULONG, ULONG);
NTSTATUS NTAPI NtFreeVirtualMemory(HANDLE, PVOID *, SIZE_T *, ULONG);
NTSTATUS NTAPI NtProtectVirtualMemory(HANDLE, PVOID *, SIZE_T *, ULONG, ULONG *);
NTSTATUS NTAPI NtQueryVirtualMemory(HANDLE, LPCVOID, MEMSHIM_MEMORY_INFORMATION_CLASS, PVOID, SIZE_T, SIZE_T *);
NTSTATUS NTAPI NtCreateSection(HANDLE *, ACCESS_MASK, const OBJECT_ATTRIBUTES *, const LARGE_INTEGER *, ULONG,
                               ULONG, HANDLE);
NTSTATUS NTAPI NtOpenSection(HANDLE *, ACCESS_MASK, const OBJECT_ATTRIBUTES *);
NTSTATUS NTAPI NtQuerySection(HANDLE, MEMSHIM_SECTION_INFORMATION_CLASS, PVOID, SIZE_T, SIZE_T *);
NTSTATUS NTAPI NtUnmapViewOfSection(HANDLE, PVOID);
NTSTATUS NTAPI NtDuplicateObject(HANDLE, HANDLE, HANDLE, PHANDLE, ACCESS_MASK, ULONG, ULONG);
NTSTATUS NTAPI NtFlushInstructionCache(HANDLE, LPCVOID, SIZE_T);
NTSTATUS NTAPI LdrGetDllHandle(LPCWSTR, ULONG, const UNICODE_STRING *, HMODULE *);
NTSTATUS NTAPI LdrLoadDll(LPCWSTR, DWORD, const UNICODE_STRING *, HMODULE *);
NTSTATUS NTAPI LdrGetProcedureAddress(HMODULE, const ANSI_STRING *, ULONG, PVOID *);
PVOID NTAPI RtlAddVectoredExceptionHandler(ULONG, PVECTORED_EXCEPTION_HANDLER);
ULONG NTAPI RtlRemoveVectoredExceptionHandler(PVOID);
PVOID NTAPI RtlReAllocateHeap(HANDLE, ULONG, PVOID, SIZE_T);
SIZE_T NTAPI RtlSizeHeap(HANDLE, ULONG, const void *);
void NTAPI RtlRaiseStatus(NTSTATUS);
void NTAPI RtlRaiseException(EXCEPTION_RECORD *);
NTSTATUS NTAPI NtTerminateProcess(HANDLE, LONG);
NTSTATUS NTAPI RtlCreateUserThread(HANDLE, SECURITY_DESCRIPTOR *, BOOLEAN, ULONG, SIZE_T, SIZE_T,
                                   DWORD(WINAPI *)(void *), void *, HANDLE *, CLIENT_ID *);

#endif
