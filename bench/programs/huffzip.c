/*
 * huffzip.c - a small real program for the benchmark: a word-level Huffman
 * compressor, written the way C programs usually are (malloc, realloc,
 * strdup, free through the C runtime), which under Wine means HeapAlloc on
 * the process heap for every one of them.
 *
 * Each round: generate a text of lines (each line its own malloc'd string,
 * the text a growing array), count the words in a chained hash table (an
 * entry and a string copy per new word), build a Huffman code over the
 * words (a node per symbol, a binary heap), encode the text into a growing
 * bit buffer, decode it into a growing string and compare with the input,
 * then free everything. The output (sizes and a checksum) is the same on
 * every platform and allocator; a mismatch exits with status 2.
 *
 * Usage: huffzip.exe [ROUNDS]   (prints one JSON line like the other cases)
 * Only the C runtime and QueryPerformanceCounter: runs on native Windows.
 */
#include <string.h>
#include "program_rounds.h"

#define LINES 6000
#define VOCAB 5000
#define BUCKETS 4096

static uint64_t rng = 88172645463325252ull;
static uint32_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p) {
        fprintf(stderr, "huffzip: out of memory (%zu bytes)\n", n);
        exit(2);
    }
    return p;
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n);
    if (!p) {
        fprintf(stderr, "huffzip: out of memory (%zu bytes)\n", n);
        exit(2);
    }
    return p;
}

/* A word of the vocabulary: letters chosen from its index, 2..12 long,
 * with a Zipf-like choice of index so some words are far more common. */
static void make_word(uint32_t index, char *out)
{
    uint32_t x = index * 2654435761u + 12345u;
    size_t len = 2 + x % 11;
    for (size_t i = 0; i < len; i++) {
        x = x * 1103515245u + 12345u;
        out[i] = (char)('a' + (x >> 16) % 26);
    }
    out[len] = 0;
}

static char **generate_text(size_t *count)
{
    char **lines = NULL;
    size_t n = 0, cap = 0;
    for (int l = 0; l < LINES; l++) {
        size_t words = 3 + next_rand() % 14, len = 0, lcap = 16;
        char *line = xmalloc(lcap);
        for (size_t w = 0; w < words; w++) {
            char word[16];
            uint32_t r = next_rand() % VOCAB;
            make_word(r * r / VOCAB, word);       /* squares favour small indices */
            size_t wl = strlen(word);
            while (len + wl + 2 > lcap)
                line = xrealloc(line, lcap *= 2);
            if (w)
                line[len++] = ' ';
            memcpy(line + len, word, wl);
            len += wl;
        }
        line[len] = 0;
        if (n == cap)
            lines = xrealloc(lines, (cap = cap ? cap * 2 : 64) * sizeof(*lines));
        lines[n++] = line;
    }
    *count = n;
    return lines;
}

struct entry {
    struct entry *next;
    char *word;
    uint32_t count, symbol;
    uint32_t code, bits;
};

struct node {
    uint32_t weight;
    int symbol;                          /* -1 for an inner node */
    struct node *left, *right;
};

static uint32_t hash_word(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

static struct entry *lookup(struct entry **table, const char *s, size_t n, int add, uint32_t *symbols)
{
    struct entry **slot = &table[hash_word(s, n) % BUCKETS];
    for (struct entry *e = *slot; e; e = e->next)
        if (strlen(e->word) == n && !memcmp(e->word, s, n))
            return e;
    if (!add)
        return NULL;
    struct entry *e = xmalloc(sizeof(*e));
    e->word = xmalloc(n + 1);
    memcpy(e->word, s, n);
    e->word[n] = 0;
    e->count = 0;
    e->symbol = (*symbols)++;
    e->next = *slot;
    *slot = e;
    return e;
}

/* Binary min-heap of nodes by weight. */
static void heap_push(struct node **heap, size_t *n, struct node *x)
{
    size_t i = (*n)++;
    while (i && heap[(i - 1) / 2]->weight > x->weight) {
        heap[i] = heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    heap[i] = x;
}

static struct node *heap_pop(struct node **heap, size_t *n)
{
    struct node *top = heap[0], *last = heap[--*n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n)
            break;
        if (c + 1 < *n && heap[c + 1]->weight < heap[c]->weight)
            c++;
        if (heap[c]->weight >= last->weight)
            break;
        heap[i] = heap[c];
        i = c;
    }
    heap[i] = last;
    return top;
}

static void assign_codes(struct node *t, struct entry **by_symbol, uint32_t code, uint32_t bits)
{
    if (t->symbol >= 0) {
        by_symbol[t->symbol]->code = code;
        by_symbol[t->symbol]->bits = bits ? bits : 1;
        return;
    }
    assign_codes(t->left, by_symbol, code << 1, bits + 1);
    assign_codes(t->right, by_symbol, (code << 1) | 1, bits + 1);
}

static void free_tree(struct node *t)
{
    if (!t)
        return;
    free_tree(t->left);
    free_tree(t->right);
    free(t);
}

struct bits {
    uint8_t *data;
    size_t nbits, cap;
};

static void put_bits(struct bits *b, uint32_t code, uint32_t n)
{
    for (uint32_t i = n; i-- > 0;) {
        if (b->nbits / 8 >= b->cap) {
            b->cap = b->cap ? b->cap * 2 : 256;
            b->data = xrealloc(b->data, b->cap);
        }
        if (!(b->nbits % 8))
            b->data[b->nbits / 8] = 0;
        if ((code >> i) & 1)
            b->data[b->nbits / 8] |= (uint8_t)(0x80 >> (b->nbits % 8));
        b->nbits++;
    }
}

/* One round; returns a checksum of the compressed stream. */
static uint64_t round_once(size_t *compressed_bytes)
{
    rng = 88172645463325252ull;     /* the same text every round */
    size_t nlines;
    char **lines = generate_text(&nlines);
    struct entry **table = calloc(BUCKETS, sizeof(*table));
    if (!table)
        exit(2);
    uint32_t symbols = 1;                /* symbol 0: end of line */
    size_t eol_count = 0;
    for (size_t l = 0; l < nlines; l++) {
        const char *s = lines[l];
        while (*s) {
            const char *e = strchr(s, ' ');
            size_t n = e ? (size_t)(e - s) : strlen(s);
            lookup(table, s, n, 1, &symbols)->count++;
            s += n + (e != NULL);
        }
        eol_count++;
    }
    struct entry **by_symbol = xmalloc(symbols * sizeof(*by_symbol));
    struct entry eol = { NULL, NULL, (uint32_t)eol_count, 0, 0, 0 };
    by_symbol[0] = &eol;
    for (size_t b = 0; b < BUCKETS; b++)
        for (struct entry *e = table[b]; e; e = e->next)
            by_symbol[e->symbol] = e;

    struct node **heap = xmalloc(symbols * sizeof(*heap));
    size_t hn = 0;
    for (uint32_t s = 0; s < symbols; s++) {
        struct node *leaf = xmalloc(sizeof(*leaf));
        leaf->weight = by_symbol[s]->count;
        leaf->symbol = (int)s;
        leaf->left = leaf->right = NULL;
        heap_push(heap, &hn, leaf);
    }
    while (hn > 1) {
        struct node *inner = xmalloc(sizeof(*inner));
        inner->left = heap_pop(heap, &hn);
        inner->right = heap_pop(heap, &hn);
        inner->weight = inner->left->weight + inner->right->weight;
        inner->symbol = -1;
        heap_push(heap, &hn, inner);
    }
    struct node *tree = heap[0];
    free(heap);
    assign_codes(tree, by_symbol, 0, 0);

    struct bits out = { NULL, 0, 0 };
    for (size_t l = 0; l < nlines; l++) {
        const char *s = lines[l];
        while (*s) {
            const char *e = strchr(s, ' ');
            size_t n = e ? (size_t)(e - s) : strlen(s);
            struct entry *en = lookup(table, s, n, 0, NULL);
            put_bits(&out, en->code, en->bits);
            s += n + (e != NULL);
        }
        put_bits(&out, eol.code, eol.bits);
    }

    /* Decode line by line into fresh strings and compare. */
    size_t pos = 0, line = 0;
    char *text = NULL;
    size_t tlen = 0, tcap = 0;
    while (line < nlines) {
        struct node *t = tree;
        while (t->symbol < 0) {
            int bit = (out.data[pos / 8] >> (7 - pos % 8)) & 1;
            pos++;
            t = bit ? t->right : t->left;
        }
        if (t->symbol == 0) {
            char *decoded = xmalloc(tlen + 1);
            memcpy(decoded, text ? text : "", tlen);
            decoded[tlen] = 0;
            if (strcmp(decoded, lines[line]) != 0) {
                fprintf(stderr, "huffzip: line %zu decodes wrong\n", line);
                exit(2);
            }
            free(decoded);
            tlen = 0;
            line++;
            continue;
        }
        const char *w = by_symbol[t->symbol]->word;
        size_t wl = strlen(w);
        if (tlen + wl + 2 > tcap)
            text = xrealloc(text, tcap = (tlen + wl + 2) * 2);
        if (tlen)
            text[tlen++] = ' ';
        memcpy(text + tlen, w, wl);
        tlen += wl;
    }
    free(text);

    uint64_t sum = 1469598103934665603ull;
    for (size_t i = 0; i < (out.nbits + 7) / 8; i++)
        sum = (sum ^ out.data[i]) * 1099511628211ull;
    *compressed_bytes = (out.nbits + 7) / 8;
    free(out.data);
    free_tree(tree);
    free(by_symbol);
    for (size_t b = 0; b < BUCKETS; b++)
        for (struct entry *e = table[b], *next; e; e = next) {
            next = e->next;
            free(e->word);
            free(e);
        }
    free(table);
    for (size_t l = 0; l < nlines; l++)
        free(lines[l]);
    free(lines);
    return sum;
}

int main(int argc, char **argv)
{
    return program_run_rounds("huffzip", "compressed bytes", argc, argv, round_once);
}
