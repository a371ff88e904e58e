/*
 * section_cache.c - what MapViewOfFile needs of a pagefile section (size,
 * SEC_* attributes, often the host descriptor), by handle, so that it does
 * not ask Wine's server.
 *
 * Every request to the wineserver costs tens of microseconds, far more
 * than the mapping itself. MapViewOfFile needs the section's size and
 * attributes (NtQuerySection, one request) and the host descriptor behind
 * it (wine_server_handle_to_fd: one request, then cached by ntdll per
 * handle). For a section created here, CreateFileMapping already knows the
 * first; for any pagefile section mapped once through a handle, the answer
 * holds as long as that handle stays open (a section's size and attributes
 * never change, and an open handle always names the same object).
 *
 * An entry may also hold a descriptor of the section's file with the
 * rights granted to its handle (section_cache_adopt): the file memshim made
 * for an unnamed section (anonymous_section.c), or, for a section made by
 * name, the one the server gave at creation. Such a handle maps with no
 * request at all. The name it was made by is kept with it: while that
 * handle is open, the object keeps its name (a section's name lives exactly
 * as long as the object), so a handle that OpenFileMapping gets for the
 * same name (and root directory handle) is the same section, and borrows
 * the descriptor (section_cache_opened): open, map, unmap and close then
 * cost two requests instead of Wine's six.
 *
 * Invariants:
 * - An entry lives only while its handle is open: NtClose, and
 *   NtDuplicateObject with DUPLICATE_CLOSE_SOURCE, are hooked and drop the
 *   entry of the handle first (kernel32's and kernelbase's CloseHandle both
 *   end there), closing its descriptor. Entries remembered across any close
 *   (a stamp taken before the server call that made the handle, compared
 *   under the lock) are not kept, so a handle closed by another thread
 *   meanwhile leaves nothing. Closing a root directory handle forgets the
 *   names kept below it.
 * - A descriptor is handed out only for rights the handle was granted:
 *   anything else takes the server's way, which refuses as Windows does.
 * - Only pagefile sections are cached. Wine's server backs each of them
 *   with a file of its own, unlinked, exactly as long as the section size:
 *   the descriptor's device and inode name the section as long as some
 *   handle keeps the section alive. A find checks the handle's entry
 *   against the descriptor it got from ntdll for that handle (same file,
 *   or, before the first map of a section created here, the same length),
 *   and a handle without an entry borrows the facts of an entry of the same
 *   file, whose open handle proves that the file is still that section's
 *   (an inode number of a freed file may be reused at once on ext4).
 * - File sections are not cached: several sections of one file share its
 *   inode with different sizes.
 * Not seen: a handle of this process closed by another process
 *   (DuplicateHandle from here with DUPLICATE_CLOSE_SOURCE). ntdll's own
 *   descriptor cache has the same blind spot. For entries without a
 *   descriptor, the identity check above still refuses an entry unless the
 *   new object is backed by the same file; an entry with one would map the
 *   old section's file for a new object that reused the handle value.
 *
 * Thread safety: one lock over the table; lookups are a scan of at most
 * CACHE_ENTRIES entries. The close hooks skip the lock while the table is
 * empty. Descriptors leave the table as duplicates (the entry's own may be
 * closed by another thread as soon as the lock is released).
 */
#include "section_cache.h"
#include "hotpatch.h"
#include "../../src/base/ms_lock.h"

#define CACHE_ENTRIES 64
#define NAME_CHARS 64              /* longer names are not kept */

struct cache_entry {
    HANDLE handle;                  /* NULL: free */
    struct section_facts facts;
    struct host_file_identity file;
    BOOL file_known;
    int own_fd;                     /* a descriptor of the section's file, or -1 */
    ACCESS_MASK access;             /* the rights granted to handle (with own_fd) */
    BOOL anonymous;                 /* made over a file of ours (anonymous_section.c) */
    HANDLE root;                    /* with name_len: the name the handle was made or opened by */
    USHORT name_len;                /* in WCHARs; 0: none kept */
    WCHAR name[NAME_CHARS];
};

static struct cache_entry entries[CACHE_ENTRIES];
static ms_mutex cache_lock = MS_MUTEX_INIT;
static unsigned int entries_used;           /* read without the lock by the close hooks */
static unsigned int next_victim;            /* round-robin eviction when the table is full */
static unsigned int closes;                 /* handle closes seen: section_cache_stamp */
static BOOL cache_on;                       /* set once in DllMain */

typedef NTSTATUS(NTAPI *close_fn)(HANDLE);
typedef NTSTATUS(NTAPI *duplicate_fn)(HANDLE, HANDLE, HANDLE, PHANDLE, ACCESS_MASK, ULONG, ULONG);
static close_fn orig_close;
static duplicate_fn orig_duplicate;

static struct cache_entry *entry_of_locked(HANDLE section)
{
    for (int i = 0; i < CACHE_ENTRIES; i++)
        if (entries[i].handle == section)
            return &entries[i];
    return NULL;
}

static void close_own_fd_locked(struct cache_entry *entry)
{
    if (entry->own_fd >= 0)
        host_close(entry->own_fd);
    entry->own_fd = -1;
}

static void drop_locked(struct cache_entry *entry)
{
    close_own_fd_locked(entry);
    entry->handle = NULL;
    __atomic_store_n(&entries_used, entries_used - 1, __ATOMIC_RELAXED);
}

/* The entry for `section`, a free one, or a victim; filled by the caller. */
static struct cache_entry *slot_for_locked(HANDLE section)
{
    struct cache_entry *entry = entry_of_locked(section);
    if (entry)
        return entry;
    entry = entry_of_locked(NULL);
    if (entry) {
        entry->own_fd = -1;     /* a free entry holds none (a never used one reads 0) */
        __atomic_store_n(&entries_used, entries_used + 1, __ATOMIC_RELAXED);
    } else {
        entry = &entries[next_victim++ % CACHE_ENTRIES];
        close_own_fd_locked(entry);
    }
    entry->anonymous = FALSE;
    entry->name_len = 0;
    return entry;
}

static void forget(HANDLE handle)
{
    __atomic_fetch_add(&closes, 1, __ATOMIC_ACQ_REL);
    if (!handle || !__atomic_load_n(&entries_used, __ATOMIC_RELAXED))
        return;
    ms_mutex_lock(&cache_lock);
    for (int i = 0; i < CACHE_ENTRIES; i++) {
        if (entries[i].handle == handle)
            drop_locked(&entries[i]);
        else if (entries[i].handle && entries[i].root == handle)
            entries[i].name_len = 0;    /* names below a closed directory handle mean nothing now */
    }
    ms_mutex_unlock(&cache_lock);
}

static NTSTATUS NTAPI hook_NtClose(HANDLE handle)
{
    /* Again after the close: a thread mapping the handle while it is being
     * closed may have added an entry in between (its stamp was taken after
     * the first forget). Dropping a new object's entry that reuses the
     * value at once only costs it a request. */
    forget(handle);
    NTSTATUS status = orig_close(handle);
    forget(handle);
    return status;
}

static NTSTATUS NTAPI hook_NtDuplicateObject(HANDLE source_process, HANDLE source, HANDLE dest_process,
                                             PHANDLE dest, ACCESS_MASK access, ULONG attributes, ULONG options)
{
    /* The source may be another process's handle: forgetting ours with the
     * same value only costs a request later. */
    if (options & DUPLICATE_CLOSE_SOURCE)
        forget(source);
    return orig_duplicate(source_process, source, dest_process, dest, access, attributes, options);
}

NTSTATUS section_cache_close_unwatched(HANDLE handle)
{
    return orig_close ? orig_close(handle) : NtClose(handle);
}

void section_cache_install(void)
{
    BOOL closes_seen = hotpatch_export("NtClose", (void *)hook_NtClose, (void **)&orig_close);
    BOOL duplicates_seen =
        hotpatch_export("NtDuplicateObject", (void *)hook_NtDuplicateObject, (void **)&orig_duplicate);
    cache_on = closes_seen && duplicates_seen;
    if (!cache_on)
        FIXME("handle closes cannot be watched: every MapViewOfFile asks Wine's server for the section\n");
}

unsigned int section_cache_stamp(void)
{
    return __atomic_load_n(&closes, __ATOMIC_ACQUIRE);
}

static BOOL same_file(const struct host_file_identity *a, const struct host_file_identity *b)
{
    return a->device == b->device && a->inode == b->inode;
}

void section_cache_remember(HANDLE section, const struct section_facts *facts,
                            const struct host_file_identity *id, unsigned int stamp)
{
    if (!cache_on || !section || (facts->attributes & (SEC_FILE | SEC_IMAGE | SEC_RESERVE)) ||
        (id && id->size != facts->size))
        return;
    ms_mutex_lock(&cache_lock);
    if (section_cache_stamp() == stamp) {
        struct cache_entry *entry = slot_for_locked(section);
        entry->handle = section;
        entry->facts = *facts;
        entry->file_known = id != NULL;
        if (id)
            entry->file = *id;
    }
    ms_mutex_unlock(&cache_lock);
}

/* The name in attr, if it can be kept: the same (root, name) resolves to
 * the same object for as long as a handle keeps that object alive (a
 * section's name goes with the object, NtMakeTemporaryObject only lets it
 * go then), and as long as the root directory handle stays open (forget). */
static void keep_name_locked(struct cache_entry *entry, const OBJECT_ATTRIBUTES *attr)
{
    entry->name_len = 0;
    if (!cache_on || !attr || !attr->ObjectName || !attr->ObjectName->Buffer)
        return;
    USHORT len = attr->ObjectName->Length / sizeof(WCHAR);
    if (!len || len > NAME_CHARS)
        return;
    memcpy(entry->name, attr->ObjectName->Buffer, len * sizeof(WCHAR));
    entry->root = attr->RootDirectory;
    entry->name_len = len;
}

/* Make `section`'s entry one that carries a descriptor (fd, which it now
 * owns) and the rights of the handle. */
static void keep_known_locked(HANDLE section, const struct section_facts *facts, const struct host_file_identity *id,
                              int fd, ACCESS_MASK access, BOOL anonymous, const OBJECT_ATTRIBUTES *named)
{
    struct cache_entry *entry = slot_for_locked(section);
    close_own_fd_locked(entry);
    entry->handle = section;
    entry->facts = *facts;
    entry->file = *id;
    entry->file_known = TRUE;
    entry->own_fd = fd;
    entry->access = access;
    entry->anonymous = anonymous;
    keep_name_locked(entry, named);
}

BOOL section_cache_adopt(HANDLE section, ACCESS_MASK access, const struct section_facts *facts,
                         const struct host_file_identity *id, int fd, const OBJECT_ATTRIBUTES *named,
                         unsigned int stamp)
{
    BOOL adopted = FALSE;
    if (!cache_on || !section || id->size != facts->size)
        return FALSE;
    ms_mutex_lock(&cache_lock);
    if (section_cache_stamp() == stamp) {
        keep_known_locked(section, facts, id, fd, access, !named, named);
        adopted = TRUE;
    }
    ms_mutex_unlock(&cache_lock);
    return adopted;
}

static BOOL same_name(const struct cache_entry *entry, const OBJECT_ATTRIBUTES *attr)
{
    return entry->name_len && entry->root == attr->RootDirectory &&
           entry->name_len * sizeof(WCHAR) == attr->ObjectName->Length &&
           !memcmp(entry->name, attr->ObjectName->Buffer, attr->ObjectName->Length);
}

void section_cache_opened(HANDLE section, ACCESS_MASK access, const OBJECT_ATTRIBUTES *attr, unsigned int stamp)
{
    /* Generic rights and MAXIMUM_ALLOWED are granted as something else
     * than asked: only exact requests are known. */
    if (!cache_on || !section || !attr->ObjectName || (access & (GENERIC_ALL | GENERIC_READ | GENERIC_WRITE | GENERIC_EXECUTE | MAXIMUM_ALLOWED)) ||
        !__atomic_load_n(&entries_used, __ATOMIC_RELAXED))
        return;
    ms_mutex_lock(&cache_lock);
    for (int i = 0; i < CACHE_ENTRIES; i++) {
        struct cache_entry *named = &entries[i];
        if (!named->handle || named->own_fd < 0 || !same_name(named, attr))
            continue;
        /* A handle of the same name is open, so the name still names its
         * object, and the open found that one. */
        int fd = section_cache_stamp() == stamp ? host_dup(named->own_fd) : -1;
        if (fd >= 0) {
            /* Copies: the slot taken may be this very entry (a full table). */
            struct section_facts facts = named->facts;
            struct host_file_identity file = named->file;
            keep_known_locked(section, &facts, &file, fd, access, named->anonymous, attr);
        }
        break;
    }
    ms_mutex_unlock(&cache_lock);
}

BOOL section_cache_is_anonymous(HANDLE section)
{
    BOOL anonymous = FALSE;
    if (!cache_on || !__atomic_load_n(&entries_used, __ATOMIC_RELAXED))
        return FALSE;
    ms_mutex_lock(&cache_lock);
    struct cache_entry *entry = entry_of_locked(section);
    anonymous = entry && entry->anonymous;
    ms_mutex_unlock(&cache_lock);
    return anonymous;
}

int section_cache_own_fd(HANDLE section, ACCESS_MASK rights, struct section_facts *facts)
{
    int fd = -1;
    if (!cache_on || !__atomic_load_n(&entries_used, __ATOMIC_RELAXED))
        return -1;
    ms_mutex_lock(&cache_lock);
    struct cache_entry *entry = entry_of_locked(section);
    if (entry && entry->own_fd >= 0 && (entry->access & rights) == rights) {
        /* A duplicate: the handle may be closed (and the entry's descriptor
         * with it) by another thread while the caller maps. */
        fd = host_dup(entry->own_fd);
        if (fd >= 0)
            *facts = entry->facts;
    }
    ms_mutex_unlock(&cache_lock);
    return fd < 0 ? -1 : fd;
}

BOOL section_cache_find(HANDLE section, const struct host_file_identity *id, unsigned int stamp,
                        struct section_facts *facts)
{
    if (!cache_on || !__atomic_load_n(&entries_used, __ATOMIC_RELAXED))
        return FALSE;
    BOOL found = FALSE;
    ms_mutex_lock(&cache_lock);
    struct cache_entry *entry = entry_of_locked(section);
    if (entry) {
        /* The handle's own entry, if the descriptor agrees with it. */
        if (entry->file_known ? same_file(&entry->file, id) && entry->facts.size == id->size
                              : entry->facts.size == id->size) {
            entry->file = *id;
            entry->file_known = TRUE;
            *facts = entry->facts;
            found = TRUE;
        } else {
            drop_locked(entry);
        }
    }
    for (int i = 0; i < CACHE_ENTRIES && !found; i++) {
        /* Another open handle of the same file: the same section. */
        if (entries[i].handle && entries[i].file_known && same_file(&entries[i].file, id) &&
            entries[i].facts.size == id->size) {
            *facts = entries[i].facts;
            found = TRUE;
            if (section_cache_stamp() == stamp) {
                struct cache_entry *mine = slot_for_locked(section);
                mine->handle = section;
                mine->facts = *facts;
                mine->file = *id;
                mine->file_known = TRUE;
            }
        }
    }
    ms_mutex_unlock(&cache_lock);
    return found;
}
