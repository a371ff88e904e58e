/*
 * guarded_copy.S - copy bytes to or from memory the program named, failing
 * instead of faulting when it is not there.
 *
 * Windows' system calls probe the buffers a program passes and return
 * STATUS_ACCESS_VIOLATION (ERROR_NOACCESS) for a bad one; a DLL without a C
 * runtime has no __try. This copy is the one place where memshim touches
 * such a buffer: a fault on one of its two memory instructions is caught
 * by the vectored handler (exception.c), which resumes at
 * memshim_guarded_copy_fixup, and the copy returns 0. No stack frame: the
 * fixup only has to return.
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
    testq %r8, %r8
    jz 2f
    .globl memshim_guarded_copy_fault_begin
memshim_guarded_copy_fault_begin:
1:  movzbl (%rdx,%rax), %r9d
    movb %r9b, (%rcx,%rax)
    .globl memshim_guarded_copy_fault_end
memshim_guarded_copy_fault_end:
    incq %rax
    cmpq %r8, %rax
    jne 1b
2:  movl $1, %eax
    ret
    .globl memshim_guarded_copy_fixup
memshim_guarded_copy_fixup:
    xorl %eax, %eax
    ret
    .seh_endproc
