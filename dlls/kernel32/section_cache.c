/*
 * section_cache.c - size and SEC_* attributes of pagefile sections, by
 * handle, so that MapViewOfFile does not ask Wine's server for them.
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
 * Invariants:
 * - An entry lives only while its handle is open: NtClose, and
 *   NtDuplicateObject with DUPLICATE_CLOSE_SOURCE, are hooked and drop the
 *   entry of the handle first (kernel32's and kernelbase's CloseHandle both
 *   end there). Entries remembered across any close (a stamp taken before
 *   the server call that made the handle, compared under the lock) are not
 *   kept, so a handle closed by another thread meanwhile leaves nothing.
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
 *   (DuplicateHandle from here with DUPLICATE_CLOSE_SOURCE): ntdll's own
 *   descriptor cache has the same blind spot, and the identity check above
 *   still refuses an entry unless the new object is backed by the same
 *   file.
 *
 * Thread safety: one lock over the table; lookups are a scan of at most
 * CACHE_ENTRIES entries. The close hooks skip the lock while the table is
 * empty.
 */
#include "section_cache.h"
#include "hotpatch.h"
#include "../../src/base/ms_lock.h"

#define CACHE_ENTRIES 64

struct cache_entry {
    HANDLE handle;                  /* NULL: free */
    struct section_facts facts;
    struct host_file_identity file;
    BOOL file_known;
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

static void drop_locked(struct cache_entry *entry)
{
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
    if (!entry)
        return &entries[next_victim++ % CACHE_ENTRIES];
    __atomic_store_n(&entries_used, entries_used + 1, __ATOMIC_RELAXED);
    return entry;
}

static void forget(HANDLE handle)
{
    __atomic_fetch_add(&closes, 1, __ATOMIC_ACQ_REL);
    if (!handle || !__atomic_load_n(&entries_used, __ATOMIC_RELAXED))
        return;
    ms_mutex_lock(&cache_lock);
    struct cache_entry *entry = entry_of_locked(handle);
    if (entry)
        drop_locked(entry);
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
