/*
 * guarded_copy.S - copy bytes to or from memory the program named, failing
 * instead of faulting when it is not there.
 *
 * Windows' system calls probe the buffers a program passes and return
 * STATUS_ACCESS_VIOLATION (ERROR_NOACCESS) for a bad one; a DLL without a C
 * runtime has no __try. This copy is how memshim touches such a buffer: a
 * fault between memshim_guarded_copy_fault_begin and _end (only the loads
 * and stores there can fault) is caught by the vectored handler
 * (exception.c), which resumes at memshim_guarded_copy_fixup, and the copy
 * returns 0. No stack frame: the fixup only has to return. Eight bytes at a
 * time, then the tail byte by byte (a MEMORY_BASIC_INFORMATION is 48).
 *
 * int memshim_guarded_copy(void *dst, const void *src, SIZE_T n);
 *   Win64 ABI: rcx = dst, rdx = src, r8 = n. Returns 1, or 0 on a fault
 *   (the bytes before the fault were copied).
 */
    .text
    .p2align 4
    .globl memshim_guarded_copy
    .def memshim_guarded_copy; .scl 2; .type 32; .endef
    .seh_proc memshim_guarded_copy
memshim_guarded_copy:
    .seh_endprologue
    xorl %eax, %eax
    movq %r8, %r10
    andq $-8, %r10
    .globl memshim_guarded_copy_fault_begin
memshim_guarded_copy_fault_begin:
    jz 3f
1:  movq (%rdx,%rax), %r9
    movq %r9, (%rcx,%rax)
    addq $8, %rax
    cmpq %r10, %rax
    jb 1b
3:  cmpq %r8, %rax
    jae 2f
4:  movzbl (%rdx,%rax), %r9d
    movb %r9b, (%rcx,%rax)
    incq %rax
    cmpq %r8, %rax
    jb 4b
    .globl memshim_guarded_copy_fault_end
memshim_guarded_copy_fault_end:
2:  movl $1, %eax
    ret
    .globl memshim_guarded_copy_fixup
memshim_guarded_copy_fixup:
    xorl %eax, %eax
    ret
    .seh_endproc
