/*
 * ms_error.h - result codes of the core.
 *
 * The core speaks Win32 error numbers directly (0 = success): every public
 * core function is the engine of a Win32 API call, and its failures are
 * defined by what Windows returns from GetLastError. Defining the numbers
 * here (rather than including winerror.h) keeps the core free of Windows
 * headers and lets the native unit tests check exact codes.
 */
#ifndef MS_ERROR_H
#define MS_ERROR_H

typedef unsigned int ms_status;

#define MS_OK                          0u
#define MS_ERROR_INVALID_HANDLE        6u
#define MS_ERROR_NOT_ENOUGH_MEMORY     8u
#define MS_ERROR_OUTOFMEMORY          14u
#define MS_ERROR_NOT_SUPPORTED        50u
#define MS_ERROR_INVALID_PARAMETER    87u
#define MS_ERROR_INSUFFICIENT_BUFFER 122u
#define MS_ERROR_INVALID_ADDRESS     487u
#define MS_ERROR_NOT_LOCKED          158u
#define MS_ERROR_INVALID_FLAGS      1004u
#define MS_ERROR_NOACCESS            998u
#define MS_ERROR_COMMITMENT_LIMIT   1455u
#define MS_ERROR_PRIVILEGE_NOT_HELD 1314u
#define MS_ERROR_PARTIAL_COPY        299u
#define MS_ERROR_ACCESS_DENIED         5u
#define MS_ERROR_WORKING_SET_QUOTA  1453u
#define MS_ERROR_GEN_FAILURE          31u
#define MS_ERROR_DISCARDED           157u
#define MS_ERROR_NO_MORE_ITEMS       259u

#endif
