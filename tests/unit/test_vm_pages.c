/*
 * test_vm_pages.c - the page byte and the page-run scan (src/vm/vm_pages.c,
 * vm_internal.h), checked exhaustively against their definitions:
 *  - every protection VirtualAlloc/VirtualProtect accepts goes into a page
 *    byte and comes back out unchanged through the decoding table, and the
 *    table says "not committed" (0) for every byte of a page that is not;
 *  - page_byte_writecopy holds exactly for the two copy-on-write bases;
 *  - vm_pages_run (words compared eight pages at a time, an overlapping
 *    last word) gives what a byte-by-byte scan gives, for every run length,
 *    every position of the first differing page and every start offset.
 * One check per family, so a table typo shows as the first byte it breaks.
 */
#include <stdio.h>
#include <string.h>

#include "../../src/vm/vm_internal.h"
#include "unit.h"

static const uint32_t bases[] = { VM_PAGE_NOACCESS, VM_PAGE_READONLY, VM_PAGE_READWRITE, VM_PAGE_WRITECOPY,
                                  VM_PAGE_EXECUTE, VM_PAGE_EXECUTE_READ, VM_PAGE_EXECUTE_READWRITE,
                                  VM_PAGE_EXECUTE_WRITECOPY };
static const uint32_t modifiers[] = { 0, VM_PAGE_GUARD, VM_PAGE_NOCACHE, VM_PAGE_WRITECOMBINE };

static void test_round_trip(void)
{
    unsigned tried = 0, wrong = 0, first_wrong = 0;
    for (size_t b = 0; b < sizeof bases / sizeof bases[0]; b++)
        for (size_t m = 0; m < sizeof modifiers / sizeof modifiers[0]; m++) {
            uint32_t protect = bases[b] | modifiers[m];
            if (!vm_protect_is_valid(protect, true))
                continue;
            tried++;
            uint8_t byte = page_byte_make(PAGE_STATE_COMMITTED, protect);
            if (page_byte_protect(byte) != protect || page_byte_state(byte) != PAGE_STATE_COMMITTED)
                if (!wrong++)
                    first_wrong = protect;
        }
    CHECK(tried == 29, "%u valid protections (8 bases, 3 modifiers, none with PAGE_NOACCESS)", tried);
    CHECK(wrong == 0, "%u protections do not come back from their page byte (first %#x)", wrong, first_wrong);
}

static void test_not_committed(void)
{
    unsigned wrong = 0, first_wrong = 0;
    for (unsigned byte = 0; byte < 256; byte++)
        if (page_byte_state((uint8_t)byte) != PAGE_STATE_COMMITTED && page_byte_protect((uint8_t)byte) != 0)
            if (!wrong++)
                first_wrong = byte;
    CHECK(wrong == 0, "%u bytes of uncommitted pages decode to a protection (first %#x)", wrong, first_wrong);
    CHECK_EQ(page_byte_make(PAGE_STATE_RESERVED, VM_PAGE_READWRITE), PAGE_STATE_RESERVED);
}

static void test_writecopy(void)
{
    unsigned wrong = 0, first_wrong = 0;
    for (size_t b = 0; b < sizeof bases / sizeof bases[0]; b++)
        for (size_t m = 0; m < sizeof modifiers / sizeof modifiers[0]; m++) {
            uint32_t protect = bases[b] | modifiers[m];
            if (!vm_protect_is_valid(protect, true))
                continue;
            bool want = bases[b] == VM_PAGE_WRITECOPY || bases[b] == VM_PAGE_EXECUTE_WRITECOPY;
            if (page_byte_writecopy(page_byte_make(PAGE_STATE_COMMITTED, protect)) != want)
                if (!wrong++)
                    first_wrong = protect;
        }
    CHECK(wrong == 0, "%u protections misjudged as copy-on-write or not (first %#x)", wrong, first_wrong);
    CHECK(!page_byte_writecopy(PAGE_STATE_RESERVED), "a reserved page is not copy-on-write");
}

static size_t run_by_bytes(const uint8_t *pages, size_t first, size_t limit)
{
    size_t i = first + 1;
    while (i < limit && pages[i] == pages[first])
        i++;
    return i - first;
}

static void test_pages_run(void)
{
    enum { MAX = 40 };
    /* Guard bytes on both sides that differ from the run: a scan reading
     * past `limit` or before `first` would count them. */
    uint8_t buf[MAX + 32];
    unsigned cases = 0, wrong = 0;
    size_t bad_first = 0, bad_limit = 0, bad_break = 0;
    for (size_t first = 0; first < 9; first++)
        for (size_t len = 1; first + len <= MAX; len++)
            for (size_t brk = 0; brk <= len; brk++) {     /* brk == len: no differing page */
                memset(buf, 0x5a, sizeof buf);
                memset(buf + 8 + first, 0x0a, len);
                if (brk && brk < len)
                    buf[8 + first + brk] = 0x0e;
                size_t want = run_by_bytes(buf + 8, first, first + len);
                size_t got = vm_pages_run(buf + 8, first, first + len);
                cases++;
                if (got != want && !wrong++) {
                    bad_first = first;
                    bad_limit = first + len;
                    bad_break = brk;
                }
            }
    CHECK(cases > 1000, "%u runs scanned", cases);
    CHECK(wrong == 0, "%u runs differ from a byte-by-byte scan (first: from %zu to %zu, break at +%zu)", wrong,
          bad_first, bad_limit, bad_break);
}

int main(void)
{
    test_round_trip();
    test_not_committed();
    test_writecopy();
    test_pages_run();
    return unit_done();
}
