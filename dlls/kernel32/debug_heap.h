/*
 * debug_heap.h - the heap debugging modes of the DLL (debug_heap.c): leak
 * report, page heap and fill patterns, switched on from the environment.
 */
#ifndef MEMSHIM_DEBUG_HEAP_H
#define MEMSHIM_DEBUG_HEAP_H

/* Read MEMSHIM_LEAKS / MEMSHIM_PAGEHEAP / MEMSHIM_HEAPFILL and turn the
 * modes on; `self` is memshim's own module (its frames are not call sites). */
void memshim_debug_heap_init(HINSTANCE self);
/* At process exit: the leak report, if asked for. */
void memshim_debug_heap_report(void);
/* An access violation: if it hit a page-heap block, report it (the
 * exception then goes on to the program). */
void memshim_debug_heap_fault(const EXCEPTION_RECORD *rec);

#endif
