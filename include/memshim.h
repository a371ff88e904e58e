/*
 * memshim.h - for Windows programs that want to know whether memshim is
 * their kernel32 (tests, diagnostics). Header-only; needs <windows.h>;
 * compiles on native Windows too, where memshim is never active.
 *
 * memshim loads Wine's builtin kernel32 next to itself under the module
 * name below (its forwarders point there), so that module being loaded is
 * the sign. Wine's debug channel for memshim's traces is "memshim"
 * (WINEDEBUG=+memshim).
 */
#ifndef MEMSHIM_H
#define MEMSHIM_H

#define MEMSHIM_WINE_KERNEL32_ALIAS "wine_kernel32.dll"
#define MEMSHIM_DEBUG_CHANNEL "memshim"

static inline int memshim_is_active(void)
{
    return GetModuleHandleA(MEMSHIM_WINE_KERNEL32_ALIAS) != NULL;
}

#endif
