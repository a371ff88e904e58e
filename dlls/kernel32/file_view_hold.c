/*
 * file_view_hold.c - a file stays whole while the core maps it.
 *
 * Wine's server refuses to cut a file below its size while a section of it
 * exists (STATUS_USER_MAPPED_FILE, so SetEndOfFile fails with
 * ERROR_USER_MAPPED_FILE), and Wine's own views keep the file's mapping
 * descriptor in the server after the program closed the section handle.
 * The core's views are plain host mappings the server does not see, so
 * without help the program could close the section and cut the file under
 * a live view (a later access beyond the new end would fault).
 *
 * The help costs nothing while the program holds its section handle (the
 * section itself protects the file then): views of a file section are
 * counted per section handle in a small table, and only when CloseHandle
 * closes a handle that still has views of the core does this take a hold:
 * a new unnamed read-only section of the same file, opened again by its
 * host path, so that neither the program's section nor its name stay
 * alive. If the file cannot be opened again (the program opened it without
 * FILE_SHARE_READ, or it was deleted), the hold is a duplicate of the
 * program's handle, which keeps a named section's name reachable until the
 * last view goes (Wine reports the file's path as the name of every file
 * section, so named ones cannot be told apart). The hold is closed with the
 * last view. When the table is full, each view takes a hold of its own at
 * once.
 *
 * Not seen: handles closed without CloseHandle (NtClose, DuplicateHandle
 * with DUPLICATE_CLOSE_SOURCE): their views are not held, as before. An
 * entry whose handle was closed that way may later be matched by a new
 * handle with the same value; that only makes a hold of the new section
 * when it is closed, which is harmless.
 *
 * Thread safety: the table is guarded by one lock; holds are made and
 * closed outside it (server calls), and an entry is re-checked by its
 * generation after.
 */
#include "file_view_hold.h"
#include "../../src/base/ms_lock.h"
#include "../../src/host/host.h"

#define HOLD_ENTRIES 256

struct hold_entry {
    HANDLE handle;      /* the program's section handle; NULL once it is closed */
    HANDLE hold;        /* taken when the handle was closed with views left */
    LONG views;         /* the core's live views mapped through the handle */
    unsigned int generation;
    BOOL in_use;
};

static struct hold_entry entries[HOLD_ENTRIES];
static ms_mutex entries_lock = MS_MUTEX_INIT;
static volatile LONG entries_in_use;    /* read without the lock by CloseHandle's fast path */

static BOOL is_entry(const void *token)
{
    return (const char *)token >= (const char *)entries && (const char *)token < (const char *)(entries + HOLD_ENTRIES);
}

/* An unnamed read-only section of the file open on fd, made by opening the
 * file again by its host path (so it is the same file to Wine's server);
 * NULL when that fails: a file deleted, or opened without FILE_SHARE_READ
 * by the program. (A file renamed between the readlink and the open gives
 * a section of whatever has the name now: harmless, that file just cannot
 * be cut while the view lives.) */
static HANDLE section_of_path(int fd)
{
    typedef NTSTATUS(WINAPI * utf8_fn)(WCHAR *, DWORD, DWORD *, const char *, DWORD);
    static const WCHAR prefix[] = L"\\??\\unix";
    char path[1024];
    WCHAR nt_path[ARRAYSIZE(prefix) + 1024];
    DWORD wide_bytes = 0;
    static utf8_fn utf8_to_unicode;     /* looked up once; every thread finds the same */
    if (!utf8_to_unicode)
        utf8_to_unicode = (utf8_fn)ntdll_proc("RtlUTF8ToUnicodeN");
    long len = host_fd_path(fd, path, sizeof(path));
    if (len <= 0 || path[0] != '/' || !utf8_to_unicode)
        return NULL;
    if (len > 10 && !memcmp(path + len - 10, " (deleted)", 10))
        return NULL;
    memcpy(nt_path, prefix, sizeof(prefix) - sizeof(WCHAR));
    WCHAR *tail = nt_path + ARRAYSIZE(prefix) - 1;
    if (utf8_to_unicode(tail, 1023 * sizeof(WCHAR), &wide_bytes, path, (DWORD)len))
        return NULL;
    tail[wide_bytes / sizeof(WCHAR)] = 0;
    for (WCHAR *p = tail; *p; p++)
        if (*p == '/')
            *p = '\\';
    UNICODE_STRING name;
    OBJECT_ATTRIBUTES attr;
    IO_STATUS_BLOCK io;
    HANDLE file = NULL, section = NULL;
    RtlInitUnicodeString(&name, nt_path);
    InitializeObjectAttributes(&attr, &name, 0, NULL, NULL);
    NTSTATUS status = NtCreateFile(&file, FILE_READ_DATA | SYNCHRONIZE, &attr, &io, NULL, 0,
                                   FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, FILE_OPEN,
                                   FILE_SYNCHRONOUS_IO_NONALERT | FILE_NON_DIRECTORY_FILE, NULL, 0);
    if (!status) {
        status = NtCreateSection(&section, SECTION_QUERY, NULL, NULL, PAGE_READONLY, SEC_COMMIT, file);
        NtClose(file);
    }
    if (status) {
        TRACE("no section held for %s (status %#lx)\n", path, (DWORD)status);
        return NULL;
    }
    return section;
}

/* A hold on the file behind `section` (see the top of the file): a new
 * unnamed section of the same file, else a duplicate of the program's
 * section handle. NULL when neither can be made: the views work, but Wine
 * may then cut the file under them. */
static HANDLE hold_file_section(HANDLE section, int fd)
{
    HANDLE keep = section_of_path(fd);
    if (!keep && NtDuplicateObject(CURRENT_PROCESS, section, CURRENT_PROCESS, &keep, 0, 0,
                                   DUPLICATE_SAME_ACCESS))
        keep = NULL;
    return keep;
}

void *file_view_mapped(HANDLE section, int fd)
{
    struct hold_entry *found = NULL, *free_entry = NULL;
    ms_mutex_lock(&entries_lock);
    for (int i = 0; i < HOLD_ENTRIES && !found; i++) {
        if (entries[i].in_use && entries[i].handle == section)
            found = &entries[i];
        else if (!entries[i].in_use && !free_entry)
            free_entry = &entries[i];
    }
    if (!found && free_entry) {
        found = free_entry;
        found->handle = section;
        found->hold = NULL;
        found->views = 0;
        found->generation++;
        found->in_use = TRUE;
        entries_in_use++;
    }
    if (found)
        found->views++;
    ms_mutex_unlock(&entries_lock);
    if (found)
        return found;
    /* No room to count: this view holds the file itself, now. */
    return hold_file_section(section, fd);
}

void file_view_unmapped(void *token)
{
    if (!token)
        return;
    if (!is_entry(token)) {
        NtClose((HANDLE)token);
        return;
    }
    struct hold_entry *entry = token;
    HANDLE hold = NULL;
    ms_mutex_lock(&entries_lock);
    if (--entry->views == 0) {
        hold = entry->hold;
        entry->handle = entry->hold = NULL;
        entry->in_use = FALSE;
        entries_in_use--;
    }
    ms_mutex_unlock(&entries_lock);
    if (hold)
        NtClose(hold);
}

void file_view_before_close(HANDLE handle)
{
    if (!entries_in_use || !handle)
        return;
    struct hold_entry *entry = NULL;
    unsigned int generation = 0;
    ms_mutex_lock(&entries_lock);
    for (int i = 0; i < HOLD_ENTRIES; i++) {
        if (entries[i].in_use && entries[i].handle == handle) {
            entry = &entries[i];
            entry->handle = NULL;   /* the value may name something else after the close */
            generation = entry->generation;
            break;
        }
    }
    ms_mutex_unlock(&entries_lock);
    if (!entry)
        return;
    int fd = section_unix_fd(handle, 0);
    if (fd < 0)
        return;
    HANDLE hold = hold_file_section(handle, fd);
    host_close(fd);
    ms_mutex_lock(&entries_lock);
    if (entry->in_use && entry->generation == generation && !entry->hold) {
        entry->hold = hold;
        hold = NULL;
    }
    ms_mutex_unlock(&entries_lock);
    if (hold)
        NtClose(hold);  /* the views went meanwhile */
}
