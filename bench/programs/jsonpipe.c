/*
 * jsonpipe.c - a second real program for the benchmark: a JSON round trip,
 * the work of every program that reads a configuration or talks to a web
 * service, written the way such C code usually is (a node per value, a
 * copy per string, arrays and objects grown with realloc, all through the C
 * runtime's malloc, which under Wine is HeapAlloc on the process heap).
 *
 * Each round: write a document of RECORDS records into a growing buffer,
 * parse it into a tree, index the records by name in a hash table, change
 * the tree (a new member per record, its "meta" object dropped, its tags
 * sorted), write the tree out again, parse that text, compare the two
 * trees value by value, checksum the text, and free everything. The
 * output (sizes and a checksum) is the same on every platform and
 * allocator; a mismatch exits with status 2.
 *
 * Usage: jsonpipe.exe [ROUNDS]   (prints one JSON line like the other cases)
 * Only the C runtime and QueryPerformanceCounter: runs on native Windows.
 */
#include <string.h>
#include "program_rounds.h"

#define RECORDS 3000
#define BUCKETS 2048

static uint64_t rng;
static uint32_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static void fail(const char *what)
{
    fprintf(stderr, "jsonpipe: %s\n", what);
    exit(2);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p)
        fail("out of memory");
    return p;
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n);
    if (!p)
        fail("out of memory");
    return p;
}

/* --- text ---------------------------------------------------------------- */

struct text {
    char *data;
    size_t len, cap;
};

static void put(struct text *t, const char *s, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        t->cap = (t->len + n + 1) * 3 / 2 + 64;
        t->data = xrealloc(t->data, t->cap);
    }
    memcpy(t->data + t->len, s, n);
    t->len += n;
    t->data[t->len] = 0;
}

static void puts_text(struct text *t, const char *s)
{
    put(t, s, strlen(s));
}

static void put_int(struct text *t, long long v)
{
    char buf[32];
    put(t, buf, (size_t)snprintf(buf, sizeof buf, "%lld", v));
}

/* --- values -------------------------------------------------------------- */

enum kind { J_NULL, J_BOOL, J_INT, J_STRING, J_ARRAY, J_OBJECT };

struct value;
struct member {
    char *key;
    struct value *value;
};

struct value {
    enum kind kind;
    long long number;               /* J_BOOL, J_INT */
    char *string;                   /* J_STRING */
    size_t count, cap;              /* J_ARRAY, J_OBJECT */
    struct value **items;           /* J_ARRAY */
    struct member *members;         /* J_OBJECT */
};

static struct value *new_value(enum kind kind)
{
    struct value *v = xmalloc(sizeof *v);
    memset(v, 0, sizeof *v);
    v->kind = kind;
    return v;
}

static char *copy_string(const char *s, size_t n)
{
    char *c = xmalloc(n + 1);
    memcpy(c, s, n);
    c[n] = 0;
    return c;
}

static void array_push(struct value *a, struct value *item)
{
    if (a->count == a->cap)
        a->items = xrealloc(a->items, (a->cap = a->cap ? a->cap * 2 : 4) * sizeof *a->items);
    a->items[a->count++] = item;
}

static void object_put(struct value *o, char *key, struct value *value)
{
    if (o->count == o->cap)
        o->members = xrealloc(o->members, (o->cap = o->cap ? o->cap * 2 : 4) * sizeof *o->members);
    o->members[o->count].key = key;
    o->members[o->count].value = value;
    o->count++;
}

static struct value *object_get(const struct value *o, const char *key)
{
    for (size_t i = 0; i < o->count; i++)
        if (!strcmp(o->members[i].key, key))
            return o->members[i].value;
    return NULL;
}

static void free_value(struct value *v)
{
    if (!v)
        return;
    free(v->string);
    for (size_t i = 0; v->kind == J_ARRAY && i < v->count; i++)
        free_value(v->items[i]);
    for (size_t i = 0; v->kind == J_OBJECT && i < v->count; i++) {
        free(v->members[i].key);
        free_value(v->members[i].value);
    }
    free(v->items);
    free(v->members);
    free(v);
}

/* --- the document a round starts from --------------------------------------- */

static void put_word(struct text *t, uint32_t letters)
{
    char w[16];
    size_t n = 3 + letters % 9;
    for (size_t i = 0; i < n; i++)
        w[i] = (char)('a' + ((letters >> (i % 5)) + 7 * i) % 26);
    put(t, w, n);
}

static void write_document(struct text *t)
{
    puts_text(t, "[\n");
    for (int r = 0; r < RECORDS; r++) {
        puts_text(t, r ? ",\n {\"id\": " : " {\"id\": ");
        put_int(t, r);
        puts_text(t, ", \"name\": \"");
        put_word(t, next_rand());
        put_int(t, r);
        puts_text(t, "\", \"active\": ");
        puts_text(t, next_rand() % 3 ? "true" : "false");
        puts_text(t, ", \"score\": ");
        put_int(t, (long long)(next_rand() % 100000) - 50000);
        puts_text(t, ", \"tags\": [");
        for (uint32_t i = 0, n = next_rand() % 6; i < n; i++) {
            puts_text(t, i ? ", \"" : "\"");
            put_word(t, next_rand());
            puts_text(t, "\"");
        }
        puts_text(t, "], \"friends\": [");
        for (uint32_t i = 0, n = next_rand() % 8; i < n; i++) {
            if (i)
                puts_text(t, ", ");
            put_int(t, next_rand() % RECORDS);
        }
        puts_text(t, "], \"meta\": {\"created\": ");
        put_int(t, 1600000000 + next_rand() % 100000000);
        puts_text(t, ", \"note\": \"");
        for (uint32_t i = 0, n = 1 + next_rand() % 12; i < n; i++) {
            if (i)
                puts_text(t, " ");
            put_word(t, next_rand());
        }
        puts_text(t, "\", \"parent\": null}}");
    }
    puts_text(t, "\n]\n");
}

/* --- parsing -------------------------------------------------------------- */

struct parser {
    const char *at;
};

static void skip_space(struct parser *p)
{
    while (*p->at == ' ' || *p->at == '\n' || *p->at == '\t' || *p->at == '\r')
        p->at++;
}

static char *parse_string(struct parser *p)
{
    if (*p->at != '"')
        fail("string expected");
    const char *s = ++p->at;
    while (*p->at && *p->at != '"')
        p->at++;
    if (!*p->at)
        fail("unterminated string");
    return copy_string(s, (size_t)(p->at++ - s));
}

static struct value *parse_value(struct parser *p)
{
    skip_space(p);
    char c = *p->at;
    struct value *v;
    if (c == '{') {
        v = new_value(J_OBJECT);
        p->at++;
        skip_space(p);
        while (*p->at != '}') {
            skip_space(p);
            char *key = parse_string(p);
            skip_space(p);
            if (*p->at++ != ':')
                fail("':' expected");
            object_put(v, key, parse_value(p));
            skip_space(p);
            if (*p->at == ',')
                p->at++;
            else if (*p->at != '}')
                fail("',' or '}' expected");
        }
        p->at++;
    } else if (c == '[') {
        v = new_value(J_ARRAY);
        p->at++;
        skip_space(p);
        while (*p->at != ']') {
            array_push(v, parse_value(p));
            skip_space(p);
            if (*p->at == ',')
                p->at++;
            else if (*p->at != ']')
                fail("',' or ']' expected");
        }
        p->at++;
    } else if (c == '"') {
        v = new_value(J_STRING);
        v->string = parse_string(p);
    } else if (c == '-' || (c >= '0' && c <= '9')) {
        v = new_value(J_INT);
        char *end;
        v->number = strtoll(p->at, &end, 10);
        p->at = end;
    } else if (!strncmp(p->at, "true", 4) || !strncmp(p->at, "false", 5)) {
        v = new_value(J_BOOL);
        v->number = c == 't';
        p->at += c == 't' ? 4 : 5;
    } else if (!strncmp(p->at, "null", 4)) {
        v = new_value(J_NULL);
        p->at += 4;
    } else {
        fail("value expected");
    }
    return v;
}

/* --- writing ----------------------------------------------------------------- */

static void write_value(struct text *t, const struct value *v)
{
    switch (v->kind) {
    case J_NULL: puts_text(t, "null"); break;
    case J_BOOL: puts_text(t, v->number ? "true" : "false"); break;
    case J_INT: put_int(t, v->number); break;
    case J_STRING:
        puts_text(t, "\"");
        puts_text(t, v->string);
        puts_text(t, "\"");
        break;
    case J_ARRAY:
        puts_text(t, "[");
        for (size_t i = 0; i < v->count; i++) {
            if (i)
                puts_text(t, ",");
            write_value(t, v->items[i]);
        }
        puts_text(t, "]");
        break;
    case J_OBJECT:
        puts_text(t, "{");
        for (size_t i = 0; i < v->count; i++) {
            puts_text(t, i ? ",\"" : "\"");
            puts_text(t, v->members[i].key);
            puts_text(t, "\":");
            write_value(t, v->members[i].value);
        }
        puts_text(t, "}");
        break;
    }
}

static int same_value(const struct value *a, const struct value *b)
{
    if (a->kind != b->kind || a->number != b->number || a->count != b->count)
        return 0;
    if (a->kind == J_STRING)
        return !strcmp(a->string, b->string);
    for (size_t i = 0; a->kind == J_ARRAY && i < a->count; i++)
        if (!same_value(a->items[i], b->items[i]))
            return 0;
    for (size_t i = 0; a->kind == J_OBJECT && i < a->count; i++)
        if (strcmp(a->members[i].key, b->members[i].key) || !same_value(a->members[i].value, b->members[i].value))
            return 0;
    return 1;
}

/* --- the change a round makes ---------------------------------------------- */

struct index_entry {
    char *name;
    struct value *record;
    struct index_entry *next;
};

static size_t hash_name(const char *s)
{
    size_t h = 5381;
    while (*s)
        h = h * 33 + (unsigned char)*s++;
    return h % BUCKETS;
}

static int cmp_strings(const void *a, const void *b)
{
    return strcmp((*(struct value *const *)a)->string, (*(struct value *const *)b)->string);
}

/* Index the records by name, give each one the sum of its friends' scores
 * (looked up by name through the index) and the names of its friends,
 * drop its "meta" object and sort its tags. */
static void transform(struct value *doc)
{
    struct index_entry **index = xmalloc(BUCKETS * sizeof *index);
    memset(index, 0, BUCKETS * sizeof *index);
    char **names = xmalloc(doc->count * sizeof *names);
    for (size_t r = 0; r < doc->count; r++) {
        struct value *rec = doc->items[r];
        struct index_entry *e = xmalloc(sizeof *e);
        e->name = copy_string(object_get(rec, "name")->string, strlen(object_get(rec, "name")->string));
        e->record = rec;
        size_t h = hash_name(e->name);
        e->next = index[h];
        index[h] = e;
        names[r] = e->name;
    }
    for (size_t r = 0; r < doc->count; r++) {
        struct value *rec = doc->items[r];
        struct value *friends = object_get(rec, "friends");
        struct value *sum = new_value(J_INT);
        struct value *friend_names = new_value(J_ARRAY);
        for (size_t i = 0; i < friends->count; i++) {
            const char *name = names[friends->items[i]->number];
            struct index_entry *e = index[hash_name(name)];
            while (e && strcmp(e->name, name))
                e = e->next;
            if (!e)
                fail("a friend is not in the index");
            sum->number += object_get(e->record, "score")->number;
            struct value *n = new_value(J_STRING);
            n->string = copy_string(name, strlen(name));
            array_push(friend_names, n);
        }
        object_put(rec, copy_string("friends_score", 13), sum);
        object_put(rec, copy_string("friend_names", 12), friend_names);
        for (size_t i = 0; i < rec->count; i++)
            if (!strcmp(rec->members[i].key, "meta")) {
                free(rec->members[i].key);
                free_value(rec->members[i].value);
                memmove(rec->members + i, rec->members + i + 1, (rec->count - i - 1) * sizeof *rec->members);
                rec->count--;
                break;
            }
        struct value *tags = object_get(rec, "tags");
        qsort(tags->items, tags->count, sizeof *tags->items, cmp_strings);
    }
    for (size_t b = 0; b < BUCKETS; b++)
        for (struct index_entry *e = index[b], *next; e; e = next) {
            next = e->next;
            free(e->name);
            free(e);
        }
    free(index);
    free(names);
}

/* --- a round ----------------------------------------------------------------- */

static uint64_t round_once(size_t *out_bytes)
{
    rng = 88172645463325252ull;     /* the same document every round */
    struct text doc = { NULL, 0, 0 };
    write_document(&doc);
    struct parser p = { doc.data };
    struct value *tree = parse_value(&p);
    free(doc.data);
    if (tree->kind != J_ARRAY || tree->count != RECORDS)
        fail("the document parsed wrong");
    transform(tree);

    struct text out = { NULL, 0, 0 };
    write_value(&out, tree);
    struct parser q = { out.data };
    struct value *again = parse_value(&q);
    if (!same_value(tree, again))
        fail("the written tree reads back different");

    uint64_t sum = 1469598103934665603ull;
    for (size_t i = 0; i < out.len; i++)
        sum = (sum ^ (unsigned char)out.data[i]) * 1099511628211ull;
    *out_bytes = out.len;
    free(out.data);
    free_value(again);
    free_value(tree);
    return sum;
}

int main(int argc, char **argv)
{
    return program_run_rounds("jsonpipe", "bytes written", argc, argv, round_once);
}
