/*
 * mapping.c - file mappings: CreateFileMapping, MapViewOfFile and friends.
 *
 * Section objects, their names and handles are Wine's (NtCreateSection), so
 * CloseHandle, DuplicateHandle, inheritance and sharing with processes that
 * do not use memshim keep Windows semantics. Views are the core's: placed in
 * its arenas and mapped from the host file descriptor behind the section
 * (wine_server_handle_to_fd), which shares its pages with every other view
 * of the section, Wine's included. Image sections and sections this layer
 * cannot inspect go to Wine's implementation.
 *
 * Views of files and SetEndOfFile: see file_view_hold.c.
 */
#include "private.h"
#include "file_view_hold.h"
#include "section_cache.h"
#include "anonymous_section.h"
#include "stats.h"
#include "../../src/vm/vm.h"
#include "../../src/host/host.h"

/* The owner the core keeps for a view of a pagefile section. A file
 * section's view has its hold token (file_view_hold.c) instead, or NULL
 * when none could be taken: anything but this marker is a file's view. */
static char pagefile_view;

#define SEC_FLAGS (SEC_FILE | SEC_IMAGE | SEC_RESERVE | SEC_COMMIT | SEC_NOCACHE | SEC_WRITECOMBINE | SEC_LARGE_PAGES)
/* UnmapViewOfFileEx's flags (not in mingw's headers). */
#define MEMSHIM_MEM_UNMAP_WITH_TRANSIENT_BOOST 0x1
#define MEMSHIM_MEM_PRESERVE_PLACEHOLDER 0x2

typedef NTSTATUS(CDECL *handle_to_fd_fn)(HANDLE, unsigned int, int *, unsigned int *);


static handle_to_fd_fn handle_to_fd(void)
{
    static handle_to_fd_fn fn;
    if (!fn)
        fn = (handle_to_fd_fn)ntdll_proc("wine_server_handle_to_fd");
    return fn;
}

int section_unix_fd(HANDLE section, unsigned int access)
{
    handle_to_fd_fn to_fd = handle_to_fd();
    int fd = -1;
    unsigned int options = 0;
    if (!to_fd || to_fd(section, access, &fd, &options))
        return -1;
    return fd;
}

/* A new pagefile section of Wine's: what NtQuerySection would say of it
 * (Wine's server rounds its size up to whole pages), so that mapping it
 * costs no server request for that. A named one may also be opened again
 * by name (other handles, same section): its descriptor is fetched now,
 * which costs the request the first map would make, and kept with the
 * handle, so that those handles are known as the same section and map
 * without a request too (section_cache_opened). */
static void remember_new_section(HANDLE section, ACCESS_MASK access, uint64_t size, DWORD sec_type, DWORD protect,
                                 const OBJECT_ATTRIBUTES *attr, unsigned int stamp)
{
    struct section_facts facts = { (size + MS_PAGE_SIZE - 1) & ~(uint64_t)(MS_PAGE_SIZE - 1), sec_type, protect };
    struct host_file_identity id;
    if (sec_type & (SEC_RESERVE | SEC_IMAGE | SEC_FILE))
        return;
    if (!attr->ObjectName) {
        section_cache_remember(section, &facts, NULL, stamp);
        return;
    }
    int fd = section_unix_fd(section, 0);
    if (fd < 0)
        return;
    if (host_fd_identity(fd, &id) || !section_cache_adopt(section, access, &facts, &id, fd, attr, stamp))
        host_close(fd);
}

static HANDLE CreateFileMappingW_impl(HANDLE file, LPSECURITY_ATTRIBUTES sa, DWORD protect, DWORD size_high,
                                 DWORD size_low, LPCWSTR name)
{
    typedef NTSTATUS(WINAPI * named_dir_fn)(HANDLE *);
    DWORD sec_type = protect & SEC_FLAGS;
    ACCESS_MASK access = STANDARD_RIGHTS_REQUIRED | SECTION_QUERY | SECTION_MAP_READ;
    protect &= ~SEC_FLAGS;
    if (!sec_type)
        sec_type = SEC_COMMIT;
    switch (protect) {
    case PAGE_READONLY:
    case PAGE_WRITECOPY:
        break;
    case PAGE_READWRITE:
        access |= SECTION_MAP_WRITE;
        break;
    case PAGE_EXECUTE_READ:
    case PAGE_EXECUTE_WRITECOPY:
        access |= SECTION_MAP_EXECUTE;
        break;
    case PAGE_EXECUTE_READWRITE:
        access |= SECTION_MAP_WRITE | SECTION_MAP_EXECUTE;
        break;
    default:
        set_last_error(ERROR_INVALID_PARAMETER);
        return NULL;
    }
    if (file == INVALID_HANDLE_VALUE) {
        file = NULL;            /* backed by the paging file: needs a size */
        if (!size_low && !size_high) {
            set_last_error(ERROR_INVALID_PARAMETER);
            return NULL;
        }
    }
    OBJECT_ATTRIBUTES attr;
    UNICODE_STRING name_str;
    InitializeObjectAttributes(&attr, NULL, 0, NULL, sa ? sa->lpSecurityDescriptor : NULL);
    if (sa && sa->bInheritHandle)
        attr.Attributes |= OBJ_INHERIT;
    if (name) {
        RtlInitUnicodeString(&name_str, name);
        attr.ObjectName = &name_str;
        attr.Attributes |= OBJ_OPENIF;
        WINE_FN(named_dir_fn, BaseGetNamedObjectDirectory)(&attr.RootDirectory);
    }
    LARGE_INTEGER size;
    size.u.LowPart = size_low;
    size.u.HighPart = (LONG)size_high;
    HANDLE section = NULL;
    unsigned int stamp = section_cache_stamp();
    NTSTATUS status = STATUS_SUCCESS;
    if (!file && !name && sec_type == SEC_COMMIT)
        section = anonymous_section_create(access, &attr, (uint64_t)size.QuadPart, protect, &status);
    BOOL anonymous = section || status;
    if (!anonymous)
        status = NtCreateSection(&section, access, &attr, &size, protect, sec_type, file);
    TRACE("%p %#lx %#I64x %S -> %p (status %#lx)\n", file, protect | sec_type, (uint64_t)size.QuadPart,
          name ? (const WCHAR *)name : L"", section, (DWORD)status);
    if (status == STATUS_SUCCESS && !file && !anonymous)
        remember_new_section(section, access, (uint64_t)size.QuadPart, sec_type, protect, &attr, stamp);
    /* Success on an existing name still tells the program so. */
    set_last_error(status == STATUS_OBJECT_NAME_EXISTS ? ERROR_ALREADY_EXISTS : status_to_error(status));
    return section;
}

HANDLE WINAPI CreateFileMappingW(HANDLE file, LPSECURITY_ATTRIBUTES sa, DWORD protect, DWORD size_high,
                                 DWORD size_low, LPCWSTR name)
{
    HANDLE ret = CreateFileMappingW_impl(file, sa, protect, size_high, size_low, name);
    STAT_COUNT(STAT_CREATEFILEMAPPINGW, !ret);
    return ret;
}

/* An ANSI object name as UTF-16 (free with RtlFreeUnicodeString); FALSE
 * with the last error set when it cannot be converted. */
static BOOL name_to_unicode(LPCSTR name, UNICODE_STRING *wide)
{
    ANSI_STRING ansi;
    RtlInitAnsiString(&ansi, name);
    NTSTATUS status = RtlAnsiStringToUnicodeString(wide, &ansi, TRUE);
    if (status)
        set_last_error(status == STATUS_BUFFER_OVERFLOW ? ERROR_FILENAME_EXCED_RANGE : status_to_error(status));
    return !status;
}

/* Call an ANSI entry's wide twin, keeping the twin's last error. */
#define CALL_WITH_WIDE_NAME(name, call)                                       \
    do {                                                                      \
        UNICODE_STRING wide_;                                                 \
        if (!name_to_unicode(name, &wide_))                                   \
            return NULL;                                                      \
        LPCWSTR wide_name = wide_.Buffer;                                     \
        HANDLE ret_ = (call);                                                 \
        DWORD err_ = get_last_error();                                        \
        RtlFreeUnicodeString(&wide_);                                         \
        set_last_error(err_);                                                 \
        return ret_;                                                          \
    } while (0)

HANDLE WINAPI CreateFileMappingA(HANDLE file, LPSECURITY_ATTRIBUTES sa, DWORD protect, DWORD size_high,
                                 DWORD size_low, LPCSTR name)
{
    if (!name)
        return CreateFileMappingW(file, sa, protect, size_high, size_low, NULL);
    CALL_WITH_WIDE_NAME(name, CreateFileMappingW(file, sa, protect, size_high, size_low, wide_name));
}

HANDLE WINAPI CreateFileMappingNumaW(HANDLE file, LPSECURITY_ATTRIBUTES sa, DWORD protect, DWORD size_high,
                                     DWORD size_low, LPCWSTR name, DWORD node)
{
    TRACE("node %lu\n", node);    /* one NUMA node here: a preference only */
    return CreateFileMappingW(file, sa, protect, size_high, size_low, name);
}

/* The view protection and the section rights that FILE_MAP_* asks for. */
static BOOL view_protection(DWORD access, DWORD *protect, unsigned int *rights, BOOL *shared)
{
    BOOL exec = (access & FILE_MAP_EXECUTE) != 0;
    *shared = TRUE;
    *rights = SECTION_MAP_READ | (exec ? SECTION_MAP_EXECUTE : 0);
    /* FILE_MAP_ALL_ACCESS contains the FILE_MAP_COPY bit (it is
     * SECTION_QUERY), so write access is decided first. */
    if (access & FILE_MAP_WRITE) {
        /* SECTION_MAP_WRITE alone: a FILE_MAP_WRITE handle maps a
         * read-write view (Windows' table of rights per protection). */
        *protect = exec ? PAGE_EXECUTE_READWRITE : PAGE_READWRITE;
        *rights = SECTION_MAP_WRITE | (exec ? SECTION_MAP_EXECUTE : 0);
    } else if (access & FILE_MAP_COPY) {
        *protect = exec ? PAGE_EXECUTE_WRITECOPY : PAGE_WRITECOPY;
        *shared = FALSE;
    } else if (access & FILE_MAP_READ) {
        *protect = exec ? PAGE_EXECUTE_READ : PAGE_READONLY;
    } else {
        /* No read, write or copy access (FILE_MAP_EXECUTE alone included,
         * as kernelbase turns it into no access in Wine and in ReactOS's
         * copy of Windows'): a view nothing may touch, which still needs
         * SECTION_MAP_READ (Wine's tests: a handle with no rights is
         * refused, a FILE_MAP_READ one maps it). Its pages can later be
         * given PAGE_NOACCESS only. */
        *protect = PAGE_NOACCESS;
        *rights = SECTION_MAP_READ;
    }
    return TRUE;
}

/* Whether a view of `view_protect` may be made of a section created with
 * `section_protect`, whatever rights the handle has: Windows refuses the
 * rest with STATUS_SECTION_PROTECTION (its table of compatible
 * protections: write needs a writable section, execute an executable one,
 * a copy-on-write view only a readable one). Wine 8.0 does not check. */
static BOOL view_fits_section(DWORD section_protect, DWORD view_protect)
{
    DWORD fits;
    if (view_protect == PAGE_NOACCESS)
        return TRUE;
    switch (section_protect) {
    case PAGE_READONLY:
    case PAGE_WRITECOPY:
        fits = PAGE_READONLY | PAGE_WRITECOPY;
        break;
    case PAGE_READWRITE:
        fits = PAGE_READONLY | PAGE_WRITECOPY | PAGE_READWRITE;
        break;
    case PAGE_EXECUTE_READ:
        fits = PAGE_READONLY | PAGE_WRITECOPY | PAGE_EXECUTE | PAGE_EXECUTE_READ;
        break;
    case PAGE_EXECUTE_WRITECOPY:
        fits = PAGE_READONLY | PAGE_WRITECOPY | PAGE_EXECUTE | PAGE_EXECUTE_READ | PAGE_EXECUTE_WRITECOPY;
        break;
    default:                        /* PAGE_EXECUTE_READWRITE */
        return TRUE;
    }
    return (view_protect & fits) == view_protect;
}

/* Whether the handle was granted every one of `rights` (TRUE if that
 * cannot be asked: the calls after this one decide then). */
static BOOL handle_grants(HANDLE handle, ACCESS_MASK rights)
{
    MEMSHIM_OBJECT_BASIC_INFORMATION info;
    if (NtQueryObject(handle, ObjectBasicInformation, &info, sizeof(info), NULL))
        return TRUE;
    return (info.GrantedAccess & rights) == rights;
}

static LPVOID MapViewOfFileEx_impl(HANDLE section, DWORD access, DWORD offset_high, DWORD offset_low, SIZE_T count,
                              LPVOID addr)
{
    typedef LPVOID(WINAPI * fn_t)(HANDLE, DWORD, DWORD, DWORD, SIZE_T, LPVOID);
    DWORD protect;
    unsigned int rights;
    BOOL shared;
    uint64_t offset = ((uint64_t)offset_high << 32) | offset_low;
    MEMSHIM_SECTION_BASIC_INFORMATION info;
    struct section_facts facts;
    struct host_file_identity id;
    handle_to_fd_fn to_fd = handle_to_fd();
    int fd = -1;
    unsigned int options = 0;
    unsigned int stamp = section_cache_stamp();
    BOOL known = FALSE, own = FALSE;

    /* A base above the user address space, or a view that would run into
     * it, is refused before the handle is looked at
     * (STATUS_INVALID_PARAMETER_3); Wine 8.0 maps above it. */
    if ((uintptr_t)addr > MS_USER_SPACE_LIMIT || (addr && count && count - 1 > MS_USER_SPACE_LIMIT - (uintptr_t)addr)) {
        set_last_error(ERROR_INVALID_PARAMETER);
        return NULL;
    }
    if (!view_protection(access, &protect, &rights, &shared) || !to_fd) {
        TRACE("%p %#lx: not a view the core maps, passthrough\n", section, access);
        return WINE_FN(fn_t, MapViewOfFileEx)(section, access, offset_high, offset_low, count, addr);
    }
    /* The descriptor first (ntdll keeps it per handle, so this is free after
     * the first time): it tells whether the section is one whose facts are
     * known (section_cache.c). Asking for SECTION_QUERY too keeps the rule
     * below for handles without it; any failure takes the slow way, which
     * gives the errors in their order. */
    BOOL identified = FALSE;
    if ((fd = section_cache_own_fd(section, rights | SECTION_QUERY, &facts)) >= 0) {
        known = own = TRUE;
    } else if (!to_fd(section, rights | SECTION_QUERY, &fd, &options)) {
        identified = !host_fd_identity(fd, &id);
        known = identified && section_cache_find(section, &id, stamp, &facts);
    } else {
        /* Without SECTION_QUERY, or without the rights the view needs: the
         * rights are Windows' first check (before the offset's alignment
         * and the section's size), so a handle refused them fails here. */
        NTSTATUS status = to_fd(section, rights, &fd, &options);
        if (status == STATUS_ACCESS_DENIED) {
            TRACE("%p %#lx: the handle lacks the rights %#x\n", section, access, rights);
            set_last_error(ERROR_ACCESS_DENIED);
            return NULL;
        }
        if (status)
            fd = -1;
    }
    /* What the core cannot serve is Wine's: images, sections it may not
     * query (opened without SECTION_QUERY), reserve-only sections for now. */
    if (!known) {
        if (NtQuerySection(section, memshim_SectionBasicInformation, &info, sizeof(info), NULL) ||
            (info.Attributes & (SEC_IMAGE | SEC_RESERVE))) {
            TRACE("%p %#lx: not a section the core maps, passthrough\n", section, access);
            if (fd >= 0)
                host_close(fd);
            return WINE_FN(fn_t, MapViewOfFileEx)(section, access, offset_high, offset_low, count, addr);
        }
        facts.size = (uint64_t)info.Size.QuadPart;
        facts.attributes = info.Attributes;
        facts.protect = 0;
        if (identified)
            section_cache_remember(section, &facts, &id, stamp);
    }
    DWORD error = 0;
    uint64_t section_size = facts.size;
    /* The handle's rights come first, as on Windows. Wine's server hands
     * out the descriptor without looking at SECTION_MAP_EXECUTE, so an
     * executable view through a handle the cache does not vouch for asks
     * what the handle was granted (one request, for such views only). */
    if (!own && (rights & SECTION_MAP_EXECUTE) && !handle_grants(section, SECTION_MAP_EXECUTE))
        error = ERROR_ACCESS_DENIED;
    else if ((offset & (MS_GRANULARITY - 1)) || ((uintptr_t)addr & (MS_GRANULARITY - 1)))
        error = ERROR_MAPPED_ALIGNMENT;
    else if (facts.protect && !view_fits_section(facts.protect, protect))
        error = ERROR_INVALID_PARAMETER;    /* STATUS_SECTION_PROTECTION */
    else if (offset >= section_size)
        error = ERROR_INVALID_PARAMETER;
    else if (!count)
        count = (SIZE_T)(section_size - offset);
    else if (count > section_size - offset)
        error = ERROR_ACCESS_DENIED;
    if (error) {
        TRACE("%p %#lx %#I64x %#Ix %p -> error %lu (known %d, protect %#lx)\n", section, access, offset, count, addr,
              error, known, facts.protect);
        if (fd >= 0)
            host_close(fd);
        set_last_error(error);
        return NULL;
    }
    if (fd < 0) {
        NTSTATUS status = to_fd(section, rights, &fd, &options);
        if (status) {
            set_last_error(status_to_error(status));
            return NULL;
        }
    }
    /* A SEC_NOCACHE section's views are PAGE_NOCACHE, allocation protection
     * and every page alike (SEC_WRITECOMBINE is kept by the section and
     * shows on no view). */
    if (facts.attributes & SEC_NOCACHE)
        protect |= PAGE_NOCACHE;
    void *owner = (facts.attributes & SEC_FILE) ? file_view_mapped(section, fd) : &pagefile_view;
    uintptr_t base = (uintptr_t)addr;
    ms_status st = vm_map_view(&base, count, protect, fd, offset, shared, FALSE, owner);
    host_close(fd);
    if (st && owner != &pagefile_view)
        file_view_unmapped(owner);
    TRACE("%p %#lx %#I64x %#Ix %p -> %p (%u)\n", section, access, offset, count, addr, (void *)base, st);
    if (st) {
        set_last_error(st);
        return NULL;
    }
    return (void *)base;
}

LPVOID WINAPI MapViewOfFileEx(HANDLE section, DWORD access, DWORD offset_high, DWORD offset_low, SIZE_T count,
                              LPVOID addr)
{
    LPVOID ret = MapViewOfFileEx_impl(section, access, offset_high, offset_low, count, addr);
    STAT_COUNT(STAT_MAPVIEWOFFILEEX, !ret);
    return ret;
}

LPVOID WINAPI MapViewOfFile(HANDLE section, DWORD access, DWORD offset_high, DWORD offset_low, SIZE_T count)
{
    return MapViewOfFileEx(section, access, offset_high, offset_low, count, NULL);
}

LPVOID WINAPI MapViewOfFileExNuma(HANDLE section, DWORD access, DWORD offset_high, DWORD offset_low, SIZE_T count,
                                  LPVOID addr, DWORD node)
{
    TRACE("node %lu\n", node);
    return MapViewOfFileEx(section, access, offset_high, offset_low, count, addr);
}

static BOOL UnmapViewOfFile_impl(LPCVOID addr)
{
    typedef BOOL(WINAPI * fn_t)(LPCVOID);
    void *hold = NULL;
    ms_status st = vm_unmap_view((uintptr_t)addr, &hold);
    if (st == VM_NOT_OWNED) {
        TRACE("%p: not memshim's, passthrough\n", addr);
        return WINE_FN(fn_t, UnmapViewOfFile)(addr);
    }
    TRACE("%p -> %u\n", addr, st);
    if (st) {
        set_last_error(st);
        return FALSE;
    }
    if (hold != &pagefile_view)
        file_view_unmapped(hold);
    return TRUE;
}

BOOL mapping_is_file_view(uintptr_t addr)
{
    struct vm_allocation_info alloc;
    return vm_lookup(addr, &alloc) && alloc.usage == VM_USAGE_VIEW && alloc.owner != &pagefile_view;
}

BOOL WINAPI UnmapViewOfFile(LPCVOID addr)
{
    BOOL ret = UnmapViewOfFile_impl(addr);
    STAT_COUNT(STAT_UNMAPVIEWOFFILE, !ret);
    return ret;
}

BOOL WINAPI UnmapViewOfFileEx(PVOID addr, ULONG flags)
{
    typedef BOOL(WINAPI * fn_t)(PVOID, ULONG);
    if (!vm_owns((uintptr_t)addr))
        return WINE_FN(fn_t, UnmapViewOfFileEx)(addr, flags);
    /* MEM_UNMAP_WITH_TRANSIENT_BOOST is a scheduling hint. The core makes
     * no placeholders, so none of its views can leave one behind: Windows
     * refuses MEM_PRESERVE_PLACEHOLDER on such a view with
     * STATUS_CONFLICTING_ADDRESSES (Wine's tests). Other bits are unknown. */
    if (flags & ~(MEMSHIM_MEM_UNMAP_WITH_TRANSIENT_BOOST | MEMSHIM_MEM_PRESERVE_PLACEHOLDER)) {
        set_last_error(ERROR_INVALID_PARAMETER);
        return FALSE;
    }
    if (flags & MEMSHIM_MEM_PRESERVE_PLACEHOLDER) {
        set_last_error(ERROR_INVALID_ADDRESS);
        return FALSE;
    }
    return UnmapViewOfFile(addr);
}

static BOOL FlushViewOfFile_impl(LPCVOID addr, SIZE_T size)
{
    typedef BOOL(WINAPI * fn_t)(LPCVOID, SIZE_T);
    ms_status st = vm_sync_view((uintptr_t)addr, size);
    if (st == VM_NOT_OWNED)
        return WINE_FN(fn_t, FlushViewOfFile)(addr, size);
    if (st == MS_ERROR_INVALID_ADDRESS) {
        /* Not a view: answered as Wine does (Windows not verified here):
         * private memory has nothing to write back, free space is
         * ERROR_INVALID_PARAMETER. */
        struct vm_allocation_info alloc;
        st = vm_lookup((uintptr_t)addr, &alloc) ? MS_OK : MS_ERROR_INVALID_PARAMETER;
    }
    TRACE("%p %#Ix -> %u\n", addr, size, st);
    if (st) {
        set_last_error(st);
        return FALSE;
    }
    return TRUE;
}

BOOL WINAPI FlushViewOfFile(LPCVOID addr, SIZE_T size)
{
    BOOL ret = FlushViewOfFile_impl(addr, size);
    STAT_COUNT(STAT_FLUSHVIEWOFFILE, !ret);
    return ret;
}

static HANDLE OpenFileMappingW_impl(DWORD access, BOOL inherit, LPCWSTR name)
{
    typedef NTSTATUS(WINAPI * named_dir_fn)(HANDLE *);
    if (!name) {
        set_last_error(ERROR_INVALID_PARAMETER);
        return NULL;
    }
    /* Opening for a copy-on-write view needs only read access. */
    if (access == FILE_MAP_COPY)
        access = SECTION_MAP_READ;
    OBJECT_ATTRIBUTES attr;
    UNICODE_STRING name_str;
    RtlInitUnicodeString(&name_str, name);
    InitializeObjectAttributes(&attr, &name_str, inherit ? OBJ_INHERIT : 0, NULL, NULL);
    WINE_FN(named_dir_fn, BaseGetNamedObjectDirectory)(&attr.RootDirectory);
    HANDLE section = NULL;
    unsigned int stamp = section_cache_stamp();
    NTSTATUS status = NtOpenSection(&section, access, &attr);
    if (!status)
        section_cache_opened(section, access, &attr, stamp);
    TRACE("%#lx %d %S -> %p (status %#lx)\n", access, inherit, (const WCHAR *)name, section, (DWORD)status);
    if (status) {
        set_last_error(status_to_error(status));
        return NULL;
    }
    return section;
}

HANDLE WINAPI OpenFileMappingW(DWORD access, BOOL inherit, LPCWSTR name)
{
    HANDLE ret = OpenFileMappingW_impl(access, inherit, name);
    STAT_COUNT(STAT_OPENFILEMAPPINGW, !ret);
    return ret;
}

HANDLE WINAPI OpenFileMappingA(DWORD access, BOOL inherit, LPCSTR name)
{
    if (!name)
        return OpenFileMappingW(access, inherit, NULL);
    CALL_WITH_WIDE_NAME(name, OpenFileMappingW(access, inherit, wide_name));
}

/* Handles are Wine's; a section handle closes the Wine way and the core's
 * views stay valid (the host mapping holds the pages); a file section with
 * views of the core's left is held first (file_view_hold.c). */
BOOL WINAPI CloseHandle(HANDLE handle)
{
    typedef BOOL(WINAPI * fn_t)(HANDLE);
    file_view_before_close(handle);
    return WINE_FN(fn_t, CloseHandle)(handle);
}
