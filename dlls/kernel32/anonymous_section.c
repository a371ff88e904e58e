/*
 * anonymous_section.c - unnamed pagefile sections over anonymous files of
 * our own instead of the file Wine's server makes for each.
 *
 * For every pagefile section, Wine's server creates a file in its
 * directory (on disk for Debian's /tmp), sizes it, unlinks it, and frees
 * it again when the section goes; every page the program first writes
 * allocates a block of that file. For an unnamed SEC_COMMIT section, memshim
 * makes the file itself instead: a memfd (host_create_anonymous_file:
 * shared memory, mode 0600, in no directory, sealed at its size), handed
 * to the server as a file handle, from which NtCreateSection makes the
 * section. The file handle is made ahead and closed afterwards by a worker
 * thread (anonymous_file_pool.c), so that the caller makes one request. The section object is still Wine's: its handle, names,
 * DuplicateHandle and inheritance work as before, and a process without
 * memshim maps it the usual way. The memfd lives exactly as long as a
 * pagefile section's data: while a handle, the server's descriptor or a
 * view holds it. Mapping costs no request to the server, since the
 * descriptor is already here (section_cache.c keeps it with the handle).
 *
 * What differs underneath: Wine's server calls such a section a file
 * section (SEC_FILE) where Windows and Wine say SEC_COMMIT for a pagefile
 * one. NtQuerySection is hooked so that this process reports SEC_COMMIT
 * (recognised by the memfd's name); a process without memshim that is
 * handed the section sees SEC_FILE there. Named sections keep Wine's own
 * backing, so that processes without memshim see the same section.
 *
 * Thread safety: no state but the hook's trampoline, set in DllMain.
 */
#include "anonymous_section.h"
#include "hotpatch.h"
#include "section_cache.h"
#include "file_view_hold.h"
#include "../../src/host/host.h"
#include "../../src/vm/vm.h"
#include "anonymous_file_pool.h"

typedef NTSTATUS(NTAPI *query_section_fn)(HANDLE, MEMSHIM_SECTION_INFORMATION_CLASS, PVOID, SIZE_T, SIZE_T *);

static query_section_fn orig_query_section;

/* Whether the descriptor is open on the file of such a section (made by
 * memshim in this or any other process). */
static BOOL is_anonymous_file(int fd)
{
    static const char memfd_path[] = "/memfd:" ANONYMOUS_FILE_NAME " (deleted)";
    char path[sizeof(memfd_path) + 1];
    long n = host_fd_path(fd, path, sizeof(path));
    return n == (long)sizeof(memfd_path) - 1 && !memcmp(path, memfd_path, sizeof(memfd_path) - 1);
}

static BOOL is_anonymous_section(HANDLE section)
{
    if (section_cache_is_anonymous(section))
        return TRUE;
    /* Another handle of it, perhaps made in another process: ntdll keeps
     * the descriptor per handle, so only the first question costs. */
    int fd = section_unix_fd(section, 0);
    if (fd < 0)
        return FALSE;
    BOOL anonymous = is_anonymous_file(fd);
    host_close(fd);
    return anonymous;
}

static NTSTATUS NTAPI hook_NtQuerySection(HANDLE section, MEMSHIM_SECTION_INFORMATION_CLASS what, PVOID info,
                                          SIZE_T size, SIZE_T *returned)
{
    NTSTATUS status = orig_query_section(section, what, info, size, returned);
    if (status || what != memshim_SectionBasicInformation || size < sizeof(MEMSHIM_SECTION_BASIC_INFORMATION))
        return status;
    MEMSHIM_SECTION_BASIC_INFORMATION *basic = info;
    if ((basic->Attributes & (SEC_FILE | SEC_IMAGE)) == SEC_FILE && is_anonymous_section(section))
        basic->Attributes = SEC_COMMIT;
    return status;
}

void anonymous_section_install(void)
{
    if (!anonymous_file_pool_install() ||
        !hotpatch_export("NtQuerySection", (void *)hook_NtQuerySection, (void **)&orig_query_section))
        orig_query_section = NULL;
}

HANDLE anonymous_section_create(ACCESS_MASK access, OBJECT_ATTRIBUTES *attr, uint64_t size, DWORD protect,
                                NTSTATUS *status)
{
    /* Wine's server rounds a pagefile section up to whole pages: so does
     * the file, and the size the section is made with. */
    uint64_t rounded = (size + MS_PAGE_SIZE - 1) & ~(uint64_t)(MS_PAGE_SIZE - 1);
    struct section_facts facts = { rounded, SEC_COMMIT, protect };
    struct anonymous_file file;
    HANDLE section = NULL;
    *status = STATUS_SUCCESS;
    /* Beyond the commit limit (RAM and swap), the file could be made but
     * never filled: such a request keeps Wine's answer. */
    if (!orig_query_section || rounded < size || rounded > vm_commit_limit() || !anonymous_file_take(&file))
        return NULL;
    if (host_seal_anonymous_file_size(file.fd, rounded)) {
        host_close(file.fd);
        anonymous_file_retire(file.handle);
        return NULL;
    }
    file.id.size = rounded;
    unsigned int stamp = section_cache_stamp();
    LARGE_INTEGER max_size;
    max_size.QuadPart = (LONGLONG)rounded;
    *status = NtCreateSection(&section, access, attr, &max_size, protect, SEC_COMMIT, file.handle);
    if (*status || !section_cache_adopt(section, access, &facts, &file.id, file.fd, NULL, stamp))
        host_close(file.fd);
    anonymous_file_retire(file.handle);
    return *status ? NULL : section;
}
