/*
 * heap_private.h - what heap.c, heap_info.c and the ntdll heap hooks share.
 */
#ifndef MEMSHIM_HEAP_PRIVATE_H
#define MEMSHIM_HEAP_PRIVATE_H

struct ms_heap;

/* The core heap behind a heap handle (the process heap handle names the
 * core's process heap), or NULL when the handle is Wine's. */
struct ms_heap *memshim_core_heap(HANDLE handle);
/* The handle to give Wine for a handle that names no heap of the core:
 * itself, or NULL when no heap can be there (in the core's memory: free,
 * reserved or unreadable, as a destroyed heap of ours; elsewhere: memory
 * that cannot be read), which Wine's heap would read and fault on. Wine
 * answers NULL as it answers every handle that is no heap. */
HANDLE memshim_wine_heap(HANDLE handle);
/* A failed allocation on `heap` (NULL: flags alone decide): raises
 * STATUS_NO_MEMORY, as Windows does, when the call or the heap's creation
 * asked for HEAP_GENERATE_EXCEPTIONS; returns otherwise. */
void memshim_raise_no_memory(struct ms_heap *heap, DWORD flags, SIZE_T size);
/* A pointer handed to free/realloc that is no live block of the core:
 * terminates the process with STATUS_HEAP_CORRUPTION when the program
 * enabled HeapEnableTerminationOnCorruption, else a WARN trace. */
void memshim_heap_corruption(HANDLE handle, const void *block);
/* A failed heap_realloc of `block` (of `owner`, named by `handle`), on
 * every path (HeapReAlloc, RtlReAllocateHeap): the error code, then the
 * corruption report for a block that is not live, or the
 * HEAP_GENERATE_EXCEPTIONS exception for memory that could not be had. */
void memshim_heap_realloc_failed(HANDLE handle, struct ms_heap *owner, const void *block, DWORD flags, SIZE_T size,
                                 ms_status err);

#endif
