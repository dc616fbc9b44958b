/* toml.c: TOML 1.0 subset parser and a writer that reproduces Python toml 0.10.2 output
 * (see toml.h). Pure code: no I/O; every string in a document is wiped before it is freed. */
#include "toml.h"

#include <inttypes.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "text.h"
#include "banned.h"

/* How a table came to exist; only the parser looks at these (TOML's "defined twice" rules). */
#define TABLE_EXPLICIT 1u /* a [header], an inline table, or the root */
#define TABLE_DOTTED 2u   /* created by a dotted key such as a.b = 1 */
#define TABLE_SEALED 4u   /* an inline table: complete once written */

struct toml_value {
    enum toml_type type;
    union {
        char *s;
        int64_t i;
        double f;
        bool b;
        struct toml_array *a;
        struct toml_table *t;
    } u;
};

struct toml_array {
    size_t len;
    size_t alloc;
    struct toml_value *items;
};

struct toml_entry {
    char *key;
    struct toml_value value;
};

struct toml_table {
    size_t len;
    size_t alloc;
    struct toml_entry *entries;
    unsigned depth; /* 0 for the root */
    unsigned flags;
};

/* ---- memory -------------------------------------------------------------------------- */

static void wipe_free(char *s)
{
    if (s) {
        sodium_memzero(s, strlen(s));
        free(s);
    }
}

/* strdup is not C17. */
static char *dup_string(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static void table_free(struct toml_table *t);

static void value_release(struct toml_value *v)
{
    switch (v->type) {
    case TOML_STRING: wipe_free(v->u.s); break;
    case TOML_ARRAY:
        if (v->u.a) {
            for (size_t i = 0; i < v->u.a->len; i++)
                value_release(&v->u.a->items[i]);
            free(v->u.a->items);
            free(v->u.a);
        }
        break;
    case TOML_TABLE: table_free(v->u.t); break;
    default: break;
    }
    v->type = TOML_NONE;
}

static void table_free(struct toml_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->len; i++) {
        wipe_free(t->entries[i].key);
        value_release(&t->entries[i].value);
    }
    free(t->entries);
    free(t);
}

static struct toml_table *table_new(unsigned depth, unsigned flags)
{
    struct toml_table *t = calloc(1, sizeof(*t));
    if (t) {
        t->depth = depth;
        t->flags = flags;
    }
    return t;
}

static size_t table_find(const struct toml_table *t, const char *key)
{
    for (size_t i = 0; i < t->len; i++)
        if (strcmp(t->entries[i].key, key) == 0)
            return i;
    return SIZE_MAX;
}

static const struct toml_value *table_get(const struct toml_table *t, const char *key)
{
    if (!t || !key)
        return NULL;
    size_t i = table_find(t, key);
    return i == SIZE_MAX ? NULL : &t->entries[i].value;
}

/* Append key (ownership taken on success) -> value (ownership taken on success). */
static enum rc table_append(struct toml_table *t, char *key, struct toml_value value)
{
    if (t->len >= TOML_MAX_KEYS)
        return RC_TOO_LARGE;
    if (t->len == t->alloc) {
        size_t n = t->alloc ? t->alloc * 2 : 8;
        struct toml_entry *e = realloc(t->entries, n * sizeof(*e));
        if (!e)
            return RC_NOMEM;
        t->entries = e;
        t->alloc = n;
    }
    t->entries[t->len].key = key;
    t->entries[t->len].value = value;
    t->len++;
    return RC_OK;
}

static enum rc array_append(struct toml_array *a, struct toml_value value)
{
    if (a->len == a->alloc) {
        size_t n = a->alloc ? a->alloc * 2 : 8;
        struct toml_value *v = realloc(a->items, n * sizeof(*v));
        if (!v)
            return RC_NOMEM;
        a->items = v;
        a->alloc = n;
    }
    a->items[a->len++] = value;
    return RC_OK;
}

/* Offset of the first byte that is not strict UTF-8 (no overlongs, surrogates, > U+10FFFF),
 * or n when all of s is valid. */
static size_t utf8_invalid_at(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t more;
        unsigned lo = 0x80, hi = 0xBF;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            more = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            more = 2;
            if (c == 0xE0)
                lo = 0xA0;
            else if (c == 0xED)
                hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            more = 3;
            if (c == 0xF0)
                lo = 0x90;
            else if (c == 0xF4)
                hi = 0x8F;
        } else {
            return i;
        }
        if (n - i <= more)
            return i;
        if (s[i + 1] < lo || s[i + 1] > hi)
            return i;
        for (size_t k = 2; k <= more; k++)
            if ((s[i + k] & 0xC0) != 0x80)
                return i;
        i += more + 1;
    }
    return n;
}

static bool utf8_valid(const char *s)
{
    size_t n = strlen(s);
    return utf8_invalid_at((const unsigned char *)s, n) == n;
}

static bool is_bare_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

static bool is_bare_key(const char *k)
{
    if (!*k)
        return false;
    for (; *k; k++)
        if (!is_bare_char((unsigned char)*k))
            return false;
    return true;
}

static bool is_control(unsigned char c) { return (c < 0x20 && c != '\t') || c == 0x7F; }

/* ---- writing ------------------------------------------------------------------------- */

/* The writer runs twice: once counting bytes, once appending into the reserved space. */
struct writer {
    struct buf *b;
    bool counting;
    size_t limit; /* counting stops past this */
    size_t emitted;
    enum rc rc; /* sticky: the first failure */
};

static void w_add(struct writer *w, const char *s, size_t n)
{
    if (w->rc != RC_OK)
        return;
    if (w->counting) {
        if (n > w->limit || w->emitted > w->limit - n)
            w->rc = RC_TOO_LARGE;
    } else {
        w->rc = buf_add(w->b, s, n);
    }
    if (w->rc == RC_OK)
        w->emitted += n;
}

static void w_adds(struct writer *w, const char *s) { w_add(w, s, strlen(s)); }

/* A basic string with every character TOML requires escaped; other UTF-8 goes through. */
static void write_string(struct writer *w, const char *s)
{
    w_add(w, "\"", 1);
    const char *run = s;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        const char *esc = NULL;
        char hex[8];
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\b': esc = "\\b"; break;
        case '\t': esc = "\\t"; break;
        case '\n': esc = "\\n"; break;
        case '\f': esc = "\\f"; break;
        case '\r': esc = "\\r"; break;
        default:
            if (c < 0x20 || c == 0x7F) {
                snprintf(hex, sizeof(hex), "\\u%04x", c);
                esc = hex;
            }
        }
        if (esc) {
            w_add(w, run, (size_t)(s - run));
            w_adds(w, esc);
            run = s + 1;
        }
    }
    w_add(w, run, (size_t)(s - run));
    w_add(w, "\"", 1);
}

static void write_key(struct writer *w, const char *key)
{
    if (is_bare_key(key))
        w_adds(w, key);
    else
        write_string(w, key);
}

/* Python's repr(float): the shortest digits that read back exactly, positional notation for
 * exponents -5 < e < 16, else d.ddde+XX; toml then drops a leading exponent zero. */
static void format_double(double v, char *out, size_t outlen)
{
    if (isnan(v)) {
        snprintf(out, outlen, "nan");
        return;
    }
    if (isinf(v)) {
        snprintf(out, outlen, "%s", v < 0 ? "-inf" : "inf");
        return;
    }
    char sci[48];
    for (int prec = 0; prec < 17; prec++) {
        snprintf(sci, sizeof(sci), "%.*e", prec, v);
        if (strtod(sci, NULL) == v)
            break;
    }
    /* sci is [-]d[.ddd]e[+-]XX, with the locale's decimal point */
    bool neg = sci[0] == '-';
    char digits[24];
    size_t nd = 0;
    const char *p = sci;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9' && nd < sizeof(digits) - 1)
            digits[nd++] = *p;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    digits[nd] = '\0';
    long exp10 = *p == 'e' ? strtol(p + 1, NULL, 10) : 0;
    long decpt = exp10 + 1; /* v = 0.DIGITS * 10^decpt */
    const char *sign = neg ? "-" : "";
    if (decpt > -4 && decpt <= 16) {
        if (decpt <= 0)
            snprintf(out, outlen, "%s0.%.*s%s", sign, (int)-decpt, "0000", digits);
        else if ((size_t)decpt >= nd)
            snprintf(out, outlen, "%s%s%.*s.0", sign, digits, (int)((size_t)decpt - nd),
                     "0000000000000000");
        else
            snprintf(out, outlen, "%s%.*s.%s", sign, (int)decpt, digits, digits + decpt);
    } else if (nd > 1) {
        snprintf(out, outlen, "%s%c.%se%+ld", sign, digits[0], digits + 1, exp10);
    } else {
        snprintf(out, outlen, "%s%ce%+ld", sign, digits[0], exp10);
    }
}

static void write_value(struct writer *w, const struct toml_value *v)
{
    char num[64];
    switch (v->type) {
    case TOML_STRING: write_string(w, v->u.s); break;
    case TOML_INT:
        snprintf(num, sizeof(num), "%" PRId64, v->u.i);
        w_adds(w, num);
        break;
    case TOML_FLOAT:
        format_double(v->u.f, num, sizeof(num));
        w_adds(w, num);
        break;
    case TOML_BOOL: w_adds(w, v->u.b ? "true" : "false"); break;
    case TOML_ARRAY:
        /* toml.dumps: "[ a, b,]", and "[]" when empty */
        w_add(w, "[", 1);
        for (size_t i = 0; i < v->u.a->len; i++) {
            w_add(w, " ", 1);
            write_value(w, &v->u.a->items[i]);
            w_add(w, ",", 1);
        }
        w_add(w, "]", 1);
        break;
    default:
        /* tables never sit in arrays or among a table's values */
        if (w->rc == RC_OK)
            w->rc = RC_INTERNAL;
    }
}

static void write_values(struct writer *w, const struct toml_table *t)
{
    for (size_t i = 0; i < t->len; i++) {
        const struct toml_entry *e = &t->entries[i];
        if (e->value.type == TOML_TABLE)
            continue;
        write_key(w, e->key);
        w_add(w, " = ", 3);
        write_value(w, &e->value);
        w_add(w, "\n", 1);
    }
}

/* One table awaiting its header; the name is rebuilt from the parent chain when written. */
struct section {
    const struct toml_table *t;
    const char *key;
    size_t parent; /* index into the section list, SIZE_MAX for top-level tables */
};

struct sections {
    struct section *v;
    size_t len;
    size_t alloc;
};

/* How many levels below t its subtree's first header is written: 0 when t gets a header of
 * its own (it holds values, or nothing at all), else one more than its nearest sub-table. */
static unsigned header_distance(const struct toml_table *t)
{
    unsigned best = UINT_MAX;
    if (t->len == 0)
        return 0;
    for (size_t i = 0; i < t->len; i++)
        if (t->entries[i].value.type != TOML_TABLE)
            return 0;
    for (size_t i = 0; i < t->len; i++) {
        unsigned d = 1 + header_distance(t->entries[i].value.u.t);
        if (d < best)
            best = d;
    }
    return best;
}

/* Queue t's sub-tables. They go nearest-header first (stable otherwise): that is the order a
 * re-read of the output creates them in, so the output is a fixed point. toml.dumps keeps the
 * insertion order instead, and so reorders such files on every rewrite until it reaches the
 * same fixed point; for every file it writes stably, the two agree. */
static enum rc sections_add_children(struct sections *s, const struct toml_table *t, size_t parent)
{
    size_t n = 0, added = 0;
    unsigned *dist;

    for (size_t i = 0; i < t->len; i++)
        n += t->entries[i].value.type == TOML_TABLE;
    if (n == 0)
        return RC_OK;
    if (s->len + n > s->alloc) {
        size_t cap = s->alloc ? s->alloc : 16;
        while (cap < s->len + n)
            cap *= 2;
        struct section *v = realloc(s->v, cap * sizeof(*v));
        if (!v)
            return RC_NOMEM;
        s->v = v;
        s->alloc = cap;
    }
    if (!(dist = calloc(t->len, sizeof(*dist))))
        return RC_NOMEM;
    for (size_t i = 0; i < t->len; i++)
        if (t->entries[i].value.type == TOML_TABLE)
            dist[i] = header_distance(t->entries[i].value.u.t);
    for (unsigned d = 0; added < n; d++) {
        for (size_t i = 0; i < t->len; i++) {
            const struct toml_entry *e = &t->entries[i];
            if (e->value.type == TOML_TABLE && dist[i] == d) {
                s->v[s->len++] = (struct section){e->value.u.t, e->key, parent};
                added++;
            }
        }
    }
    free(dist);
    return RC_OK;
}

static void write_header(struct writer *w, const struct sections *s, size_t i)
{
    size_t chain[TOML_MAX_DEPTH + 1];
    size_t n = 0;
    for (size_t j = i; j != SIZE_MAX; j = s->v[j].parent) {
        if (n == TOML_MAX_DEPTH + 1) {
            if (w->rc == RC_OK)
                w->rc = RC_INTERNAL;
            return;
        }
        chain[n++] = j;
    }
    w_add(w, "[", 1);
    while (n-- > 0) {
        write_key(w, s->v[chain[n]].key);
        if (n)
            w_add(w, ".", 1);
    }
    w_add(w, "]\n", 2);
}

/* toml.dumps' layout: the root's values, then tables level by level (breadth first). A table
 * gets a header when it has values or is empty; one holding only tables is implied. */
static enum rc write_document(struct writer *w, const struct toml_table *root)
{
    struct sections s = {NULL, 0, 0};
    enum rc rc = RC_OK;

    write_values(w, root);
    if ((rc = sections_add_children(&s, root, SIZE_MAX)) != RC_OK)
        goto out;
    for (size_t level = 0; level < s.len && w->rc == RC_OK;) {
        size_t level_end = s.len;
        for (size_t i = level; i < level_end; i++) {
            const struct toml_table *t = s.v[i].t;
            size_t tables = 0;
            for (size_t k = 0; k < t->len; k++)
                tables += t->entries[k].value.type == TOML_TABLE;
            if (tables < t->len || t->len == 0) {
                if (w->emitted)
                    w_add(w, "\n", 1);
                write_header(w, &s, i);
                write_values(w, t);
            }
            if ((rc = sections_add_children(&s, t, i)) != RC_OK)
                goto out;
        }
        level = level_end;
    }
    rc = w->rc;
out:
    free(s.v);
    return rc;
}

enum rc toml_dump(const struct toml_table *root, struct buf *out)
{
    static const char zeros[256];
    size_t cap = out->cap ? out->cap : BUF_DEFAULT_CAP;
    size_t start = out->len;
    size_t room = cap > out->len ? cap - out->len : 0;
    /* never write a document toml_parse would refuse to read back */
    struct writer w = {out, true, room < TOML_MAX_SIZE ? room : TOML_MAX_SIZE, 0, RC_OK};
    enum rc rc;

    if ((rc = write_document(&w, root)) != RC_OK)
        goto out;
    if (w.emitted == 0)
        goto out;
    /* Reserve with zeros first, so the real text is never copied by a realloc. */
    for (size_t left = w.emitted; left;) {
        size_t n = left < sizeof(zeros) ? left : sizeof(zeros);
        if ((rc = buf_add(out, zeros, n)) != RC_OK)
            goto out;
        left -= n;
    }
    out->len = start;
    out->data[start] = '\0';
    struct writer w2 = {out, false, 0, 0, RC_OK};
    if ((rc = write_document(&w2, root)) == RC_OK && w2.emitted != w.emitted)
        rc = RC_INTERNAL;
out:
    if (rc != RC_OK && out->data) {
        out->len = start;
        out->data[start] = '\0';
    }
    return rc;
}

/* ---- parsing ------------------------------------------------------------------------- */

struct parser {
    const char *p;
    const char *end;
    size_t line;
    unsigned depth; /* arrays and inline tables being parsed */
    struct toml_table *root;
    struct toml_table *cur; /* the table the latest [header] opened */
    char *err;
    size_t errlen;
};

static enum rc perr(struct parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static enum rc perr(struct parser *ps, const char *fmt, ...)
{
    if (ps->err && ps->errlen) {
        int n = snprintf(ps->err, ps->errlen, "line %zu: ", ps->line);
        if (n >= 0 && (size_t)n < ps->errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return RC_PARSE;
}

/* A table_append failure as the parser reports it. */
static enum rc append_failed(struct parser *ps, enum rc rc)
{
    if (rc == RC_TOO_LARGE)
        return perr(ps, "more than %d keys in one table", TOML_MAX_KEYS);
    return rc;
}

/* Copy text into dst for a message, cut at a UTF-8 boundary with "..." if it does not fit. */
static void show_text(const char *text, size_t len, char *dst, size_t dstlen)
{
    if (len < dstlen) {
        snprintf(dst, dstlen, "%.*s", (int)len, text);
        return;
    }
    size_t n = dstlen > 4 ? dstlen - 4 : 0;
    while (n && ((unsigned char)text[n] & 0xC0) == 0x80)
        n--;
    snprintf(dst, dstlen, "%.*s...", (int)n, text);
}

/* A key for an error message: quoted and escaped, like "my org". */
static const char *show_key(const char *key, char *dst, size_t dstlen)
{
    struct buf b;
    buf_init(&b, 0);
    struct writer w = {&b, false, 0, 0, RC_OK};
    write_string(&w, key);
    show_text(w.rc == RC_OK ? buf_str(&b) : "\"?\"", w.rc == RC_OK ? b.len : 3, dst, dstlen);
    buf_release(&b);
    return dst;
}

/* A table path for an error message, as a header spells it: [a."b c"]. */
static const char *show_path(char *const *keys, size_t n, char *dst, size_t dstlen)
{
    struct buf b;
    buf_init(&b, 0);
    struct writer w = {&b, false, 0, 0, RC_OK};
    w_add(&w, "[", 1);
    for (size_t i = 0; i < n; i++) {
        if (i)
            w_add(&w, ".", 1);
        write_key(&w, keys[i]);
    }
    w_add(&w, "]", 1);
    show_text(w.rc == RC_OK ? buf_str(&b) : "[?]", w.rc == RC_OK ? b.len : 3, dst, dstlen);
    buf_release(&b);
    return dst;
}

static bool at(const struct parser *ps, size_t off, char c)
{
    return (size_t)(ps->end - ps->p) > off && ps->p[off] == c;
}

/* What the parser stands on, for "found ..." in messages. */
static const char *show_here(const struct parser *ps, char *dst, size_t dstlen)
{
    if (ps->p >= ps->end)
        snprintf(dst, dstlen, "end of file");
    else if (*ps->p == '\n' || (*ps->p == '\r' && at(ps, 1, '\n')))
        snprintf(dst, dstlen, "end of line");
    else if (*ps->p > 0x20 && *ps->p < 0x7F)
        snprintf(dst, dstlen, "'%c'", *ps->p);
    else
        snprintf(dst, dstlen, "byte 0x%02X", (unsigned char)*ps->p);
    return dst;
}

static void skip_ws(struct parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t'))
        ps->p++;
}

static bool eat_newline(struct parser *ps)
{
    if (at(ps, 0, '\n')) {
        ps->p++;
    } else if (at(ps, 0, '\r') && at(ps, 1, '\n')) {
        ps->p += 2;
    } else {
        return false;
    }
    ps->line++;
    return true;
}

/* A comment runs to the end of the line; TOML forbids control characters in it. */
static enum rc skip_comment(struct parser *ps)
{
    if (!at(ps, 0, '#'))
        return RC_OK;
    for (ps->p++; ps->p < ps->end && *ps->p != '\n'; ps->p++) {
        if (*ps->p == '\r' && at(ps, 1, '\n'))
            break;
        if (is_control((unsigned char)*ps->p))
            return perr(ps, "control character 0x%02X in comment", (unsigned char)*ps->p);
    }
    return RC_OK;
}

/* Whitespace, newlines and comments, as allowed between array elements. */
static enum rc skip_blank(struct parser *ps)
{
    enum rc rc;
    for (;;) {
        skip_ws(ps);
        if ((rc = skip_comment(ps)) != RC_OK)
            return rc;
        if (!eat_newline(ps))
            return RC_OK;
    }
}

static enum rc expect_eol(struct parser *ps, const char *after)
{
    char here[32];
    enum rc rc;
    skip_ws(ps);
    if ((rc = skip_comment(ps)) != RC_OK)
        return rc;
    if (ps->p >= ps->end || eat_newline(ps))
        return RC_OK;
    return perr(ps, "expected end of line after %s, found %s", after,
                show_here(ps, here, sizeof(here)));
}

/* Append code point cp as UTF-8. */
static size_t put_utf8(char *d, uint32_t cp)
{
    if (cp < 0x80) {
        d[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        d[0] = (char)(0xC0 | (cp >> 6));
        d[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        d[0] = (char)(0xE0 | (cp >> 12));
        d[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        d[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    d[0] = (char)(0xF0 | (cp >> 18));
    d[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    d[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    d[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* The character a one-letter escape such as \n stands for, or 0. */
static char simple_escape(char e)
{
    switch (e) {
    case 'b': return '\b';
    case 't': return '\t';
    case 'n': return '\n';
    case 'f': return '\f';
    case 'r': return '\r';
    case '"': return '"';
    case '\\': return '\\';
    default: return 0;
    }
}

enum str_kind { STR_BASIC, STR_LITERAL, STR_ML_BASIC, STR_ML_LITERAL };

/* Find the end of a string whose body starts at ps->p: sets *body_end (exclusive) and
 * *after (past the closing quotes). Lines are counted later, while decoding. */
static enum rc scan_string(struct parser *ps, enum str_kind kind, const char **body_end,
                           const char **after)
{
    char q = (kind == STR_BASIC || kind == STR_ML_BASIC) ? '"' : '\'';
    bool ml = kind == STR_ML_BASIC || kind == STR_ML_LITERAL;
    const char *s = ps->p;
    while (s < ps->end) {
        if (*s == '\\' && q == '"') {
            if (s + 1 >= ps->end || (!ml && (s[1] == '\n' || s[1] == '\r')))
                break;
            s += 2;
            continue;
        }
        if (!ml && (*s == '\n' || *s == '\r'))
            break;
        if (*s != q) {
            s++;
            continue;
        }
        if (!ml) {
            *body_end = s;
            *after = s + 1;
            return RC_OK;
        }
        size_t run = 0;
        while (s + run < ps->end && s[run] == q)
            run++;
        if (run < 3) {
            s += run;
            continue;
        }
        if (run > 5)
            return perr(ps, "too many quotes closing a multi-line string");
        *body_end = s + (run - 3);
        *after = s + run;
        return RC_OK;
    }
    return perr(ps, ml ? "unterminated multi-line string" : "unterminated string");
}

/* Decode [ps->p, body_end) into a new string in *out; counts lines; checks escapes and
 * control characters. The result never needs more room than the source. */
static enum rc decode_string(struct parser *ps, enum str_kind kind, const char *body_end,
                             char **out)
{
    bool basic = kind == STR_BASIC || kind == STR_ML_BASIC;
    bool ml = kind == STR_ML_BASIC || kind == STR_ML_LITERAL;
    char *d = malloc((size_t)(body_end - ps->p) + 1);
    size_t n = 0;
    enum rc rc = RC_OK;

    if (!d)
        return RC_NOMEM;
    if (ml)
        eat_newline(ps); /* a newline right after the opening quotes is not content */
    while (ps->p < body_end) {
        unsigned char c = (unsigned char)*ps->p;
        if (ml && (c == '\n' || c == '\r')) {
            if (!eat_newline(ps)) {
                rc = perr(ps, "control character 0x0D in string");
                goto out;
            }
            d[n++] = '\n';
            continue;
        }
        if (is_control(c)) {
            rc = perr(ps, "control character 0x%02X in string", c);
            goto out;
        }
        if (c != '\\' || !basic) {
            d[n++] = (char)c;
            ps->p++;
            continue;
        }
        /* an escape; scan_string guarantees a character follows the backslash */
        char e = ps->p + 1 < body_end ? ps->p[1] : '\0';
        char simple = simple_escape(e);
        if (simple) {
            d[n++] = simple;
            ps->p += 2;
        } else if (e == 'u' || e == 'U') {
            int digits = e == 'u' ? 4 : 8;
            uint32_t cp = 0;
            if (body_end - ps->p < 2 + digits) {
                rc = perr(ps, "\\%c escape needs %d hex digits", e, digits);
                goto out;
            }
            for (int i = 0; i < digits; i++) {
                int h = text_hex_value(ps->p[2 + i]);
                if (h < 0) {
                    rc = perr(ps, "\\%c escape needs %d hex digits", e, digits);
                    goto out;
                }
                cp = cp << 4 | (uint32_t)h;
            }
            if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
                rc = perr(ps, "escape \\%c%.*s is not a Unicode scalar value", e, digits,
                          ps->p + 2);
                goto out;
            }
            if (cp == 0) {
                rc = perr(ps, "NUL characters (\\u0000) in strings are not supported");
                goto out;
            }
            n += put_utf8(d + n, cp);
            ps->p += 2 + digits;
        } else if (ml && (e == ' ' || e == '\t' || e == '\n' || e == '\r')) {
            /* line-ending backslash: drop it and all whitespace up to the next text */
            ps->p++;
            skip_ws(ps);
            if (!eat_newline(ps)) {
                rc = perr(ps, "a backslash may only be followed by spaces before the newline");
                goto out;
            }
            for (;;) {
                skip_ws(ps);
                if (ps->p >= body_end || !eat_newline(ps))
                    break;
            }
        } else {
            char here[32];
            ps->p++;
            rc = perr(ps, "invalid escape sequence \\ followed by %s",
                      show_here(ps, here, sizeof(here)));
            goto out;
        }
    }
    d[n] = '\0';
out:
    if (rc != RC_OK) {
        sodium_memzero(d, n);
        free(d);
        return rc;
    }
    *out = d;
    return RC_OK;
}

/* A quoted string of either kind starting at ps->p (on the opening quote). */
static enum rc parse_string(struct parser *ps, bool allow_ml, char **out)
{
    char q = *ps->p;
    bool ml = at(ps, 1, q) && at(ps, 2, q);
    enum str_kind kind = q == '"' ? (ml ? STR_ML_BASIC : STR_BASIC)
                                  : (ml ? STR_ML_LITERAL : STR_LITERAL);
    const char *body_end = NULL, *after = NULL;
    enum rc rc;

    if (ml && !allow_ml)
        return perr(ps, "a key cannot be a multi-line string");
    ps->p += ml ? 3 : 1;
    if ((rc = scan_string(ps, kind, &body_end, &after)) != RC_OK)
        return rc;
    if ((rc = decode_string(ps, kind, body_end, out)) != RC_OK)
        return rc;
    ps->p = after;
    return RC_OK;
}

static enum rc parse_simple_key(struct parser *ps, char **out)
{
    char here[32];
    if (at(ps, 0, '"') || at(ps, 0, '\''))
        return parse_string(ps, false, out);
    const char *s = ps->p;
    while (ps->p < ps->end && is_bare_char((unsigned char)*ps->p))
        ps->p++;
    if (ps->p == s)
        return perr(ps, "expected a key, found %s", show_here(ps, here, sizeof(here)));
    size_t n = (size_t)(ps->p - s);
    char *k = malloc(n + 1);
    if (!k)
        return RC_NOMEM;
    memcpy(k, s, n);
    k[n] = '\0';
    *out = k;
    return RC_OK;
}

/* A dotted key a."b c".d into keys[0..*n), each a new string the caller frees. */
static enum rc parse_key(struct parser *ps, char **keys, size_t *n)
{
    enum rc rc;
    *n = 0;
    for (;;) {
        skip_ws(ps);
        if (*n == TOML_MAX_DEPTH)
            return perr(ps, "key has more than %d dotted parts", TOML_MAX_DEPTH);
        if ((rc = parse_simple_key(ps, &keys[*n])) != RC_OK)
            return rc;
        (*n)++;
        skip_ws(ps);
        if (!at(ps, 0, '.'))
            return RC_OK;
        ps->p++;
    }
}

static void free_keys(char **keys, size_t n)
{
    for (size_t i = 0; i < n; i++)
        wipe_free(keys[i]);
}

static enum rc parse_value(struct parser *ps, unsigned table_depth, struct toml_value *out);

/* Digits with single underscores between them; returns false on a misplaced underscore. */
static bool scan_digits(const char *s, size_t n, size_t *i, int base, char *clean, size_t *cn)
{
    size_t start = *i;
    bool prev_digit = false;
    for (; *i < n; (*i)++) {
        char c = s[*i];
        int v = text_hex_value(c);
        if (c == '_') {
            if (!prev_digit || *i + 1 >= n || text_hex_value(s[*i + 1]) < 0 ||
                text_hex_value(s[*i + 1]) >= base)
                return false;
            prev_digit = false;
            continue;
        }
        if (v < 0 || v >= base)
            break;
        clean[(*cn)++] = c;
        prev_digit = true;
    }
    return *i > start;
}

static enum rc parse_int_digits(struct parser *ps, const char *digits, int base, bool neg,
                                int64_t *out, const char *tok, size_t toklen)
{
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t acc = 0;
    for (const char *d = digits; *d; d++) {
        uint64_t v = (uint64_t)text_hex_value(*d);
        if (acc > (limit - v) / (uint64_t)base)
            return perr(ps, "integer %.*s is out of range", (int)toklen, tok);
        acc = acc * (uint64_t)base + v;
    }
    if (neg)
        *out = acc == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)acc;
    else
        *out = (int64_t)acc;
    return RC_OK;
}

/* Integers (decimal, 0x, 0o, 0b), floats, inf and nan. */
static enum rc parse_number(struct parser *ps, struct toml_value *out)
{
    const char *tok = ps->p;
    size_t n = 0;
    while (tok + n < ps->end &&
           (is_bare_char((unsigned char)tok[n]) || tok[n] == '+' || tok[n] == '.' || tok[n] == ':'))
        n++;
    int len = (int)(n < 64 ? n : 64); /* for messages */
    size_t lead = 0;                  /* leading digits, to recognise 1979-05-27 and 07:32:00 */
    while (lead < n && tok[lead] >= '0' && tok[lead] <= '9')
        lead++;
    if ((lead == 4 && n > 4 && tok[4] == '-') || (lead == 2 && n > 2 && tok[2] == ':'))
        return perr(ps, "dates and times are not supported");
    if (n > TOML_MAX_NUMBER)
        return perr(ps, "number is longer than %d characters", TOML_MAX_NUMBER);

    char clean[TOML_MAX_NUMBER + 16];
    size_t cn = 0, i = 0;
    bool neg = false, is_float = false;
    if (n && (tok[0] == '+' || tok[0] == '-')) {
        neg = tok[0] == '-';
        clean[cn++] = tok[0];
        i = 1;
    }
    if (n - i == 3 && (memcmp(tok + i, "inf", 3) == 0 || memcmp(tok + i, "nan", 3) == 0)) {
        double v = tok[i] == 'i' ? INFINITY : NAN;
        out->type = TOML_FLOAT;
        out->u.f = neg ? -v : v;
        ps->p += n;
        return RC_OK;
    }
    if (i == 0 && n > 2 && tok[0] == '0' && (tok[1] == 'x' || tok[1] == 'o' || tok[1] == 'b')) {
        int base = tok[1] == 'x' ? 16 : tok[1] == 'o' ? 8 : 2;
        i = 2;
        if (!scan_digits(tok, n, &i, base, clean, &cn) || i != n)
            return perr(ps, "invalid number %.*s", len, tok);
        clean[cn] = '\0';
        out->type = TOML_INT;
        ps->p += n;
        return parse_int_digits(ps, clean, base, false, &out->u.i, tok, (size_t)len);
    }
    size_t int_start = i;
    if (!scan_digits(tok, n, &i, 10, clean, &cn))
        return perr(ps, "invalid %s %.*s", tok[0] == 'i' || tok[0] == 'n' ? "value" : "number", len,
                    tok);
    if (tok[int_start] == '0' && i - int_start > 1)
        return perr(ps, "leading zeros are not allowed in %.*s", len, tok);
    if (i < n && tok[i] == '.') {
        clean[cn++] = '.';
        i++;
        is_float = true;
        if (!scan_digits(tok, n, &i, 10, clean, &cn))
            return perr(ps, "invalid number %.*s", len, tok);
    }
    if (i < n && (tok[i] == 'e' || tok[i] == 'E')) {
        clean[cn++] = 'e';
        i++;
        if (i < n && (tok[i] == '+' || tok[i] == '-'))
            clean[cn++] = tok[i++];
        is_float = true;
        if (!scan_digits(tok, n, &i, 10, clean, &cn))
            return perr(ps, "invalid number %.*s", len, tok);
    }
    if (i != n)
        return perr(ps, "invalid number %.*s", len, tok);
    clean[cn] = '\0';
    ps->p += n;
    if (!is_float) {
        out->type = TOML_INT;
        return parse_int_digits(ps, clean + (clean[0] == '+' || clean[0] == '-'), 10, neg,
                                &out->u.i, tok, (size_t)len);
    }
    /* strtod reads the locale's decimal point; hand it that instead of '.' */
    char local[sizeof(clean) + 16];
    const struct lconv *lc = localeconv();
    const char *dp = lc && lc->decimal_point && *lc->decimal_point ? lc->decimal_point : ".";
    char *dot = strchr(clean, '.');
    if (dot && strcmp(dp, ".") != 0 && strlen(dp) < 16) {
        snprintf(local, sizeof(local), "%.*s%s%s", (int)(dot - clean), clean, dp, dot + 1);
    } else {
        memcpy(local, clean, cn + 1);
    }
    out->type = TOML_FLOAT;
    out->u.f = strtod(local, NULL); /* out of range: +-inf or 0, as Python reads it */
    return RC_OK;
}

static void seal(struct toml_table *t)
{
    t->flags |= TABLE_SEALED | TABLE_EXPLICIT;
    for (size_t i = 0; i < t->len; i++)
        if (t->entries[i].value.type == TOML_TABLE)
            seal(t->entries[i].value.u.t);
}

static enum rc parse_keyval(struct parser *ps, struct toml_table *t);

static enum rc parse_inline_table(struct parser *ps, unsigned depth, struct toml_value *out)
{
    char here[32];
    enum rc rc = RC_OK;
    struct toml_table *t = NULL;

    if (depth > TOML_MAX_DEPTH)
        return perr(ps, "tables nested more than %d deep", TOML_MAX_DEPTH);
    if (!(t = table_new(depth, TABLE_EXPLICIT)))
        return RC_NOMEM;
    ps->p++;
    skip_ws(ps);
    if (at(ps, 0, '}')) {
        ps->p++;
        goto out;
    }
    for (;;) {
        skip_ws(ps);
        if (ps->p < ps->end && (*ps->p == '\n' || *ps->p == '\r' || *ps->p == '#')) {
            rc = perr(ps, "an inline table must be on one line");
            goto out;
        }
        if ((rc = parse_keyval(ps, t)) != RC_OK)
            goto out;
        skip_ws(ps);
        if (at(ps, 0, '}')) {
            ps->p++;
            break;
        }
        if (!at(ps, 0, ',')) {
            rc = ps->p < ps->end && (*ps->p == '\n' || *ps->p == '\r' || *ps->p == '#')
                     ? perr(ps, "an inline table must be on one line")
                     : perr(ps, "expected ',' or '}' in inline table, found %s",
                            show_here(ps, here, sizeof(here)));
            goto out;
        }
        ps->p++;
        skip_ws(ps);
        if (at(ps, 0, '}')) {
            rc = perr(ps, "trailing comma in inline table");
            goto out;
        }
    }
out:
    if (rc != RC_OK) {
        table_free(t);
        return rc;
    }
    seal(t);
    out->type = TOML_TABLE;
    out->u.t = t;
    return RC_OK;
}

static enum rc parse_array(struct parser *ps, unsigned depth, struct toml_value *out)
{
    char here[32];
    enum rc rc = RC_OK;
    struct toml_value arr = {TOML_ARRAY, {.a = calloc(1, sizeof(struct toml_array))}};

    if (!arr.u.a)
        return RC_NOMEM;
    ps->p++;
    for (;;) {
        if ((rc = skip_blank(ps)) != RC_OK)
            goto out;
        if (at(ps, 0, ']'))
            break;
        struct toml_value v = {TOML_NONE, {0}};
        if ((rc = parse_value(ps, depth, &v)) != RC_OK)
            goto out;
        if (v.type == TOML_TABLE) {
            value_release(&v);
            rc = perr(ps, "arrays of tables are not supported");
            goto out;
        }
        if ((rc = array_append(arr.u.a, v)) != RC_OK) {
            value_release(&v);
            goto out;
        }
        if ((rc = skip_blank(ps)) != RC_OK)
            goto out;
        if (at(ps, 0, ']'))
            break;
        if (!at(ps, 0, ',')) {
            rc = ps->p >= ps->end ? perr(ps, "unterminated array")
                                  : perr(ps, "expected ',' or ']' in array, found %s",
                                         show_here(ps, here, sizeof(here)));
            goto out;
        }
        ps->p++;
    }
    ps->p++;
out:
    if (rc != RC_OK) {
        value_release(&arr);
        return rc;
    }
    *out = arr;
    return RC_OK;
}

/* Any value; table_depth is the depth an inline table here would have. */
static enum rc parse_value(struct parser *ps, unsigned table_depth, struct toml_value *out)
{
    char here[32];
    enum rc rc;

    if (ps->p >= ps->end || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '#')
        return perr(ps, "expected a value, found %s", show_here(ps, here, sizeof(here)));
    char c = *ps->p;
    if (c == '"' || c == '\'') {
        out->type = TOML_STRING;
        return parse_string(ps, true, &out->u.s);
    }
    if (c == '[' || c == '{') {
        if (ps->depth >= TOML_MAX_DEPTH)
            return perr(ps, "arrays and inline tables nested more than %d deep", TOML_MAX_DEPTH);
        ps->depth++;
        rc = c == '[' ? parse_array(ps, table_depth, out)
                      : parse_inline_table(ps, table_depth, out);
        ps->depth--;
        return rc;
    }
    if ((size_t)(ps->end - ps->p) >= 4 && memcmp(ps->p, "true", 4) == 0) {
        ps->p += 4;
        out->type = TOML_BOOL;
        out->u.b = true;
        return RC_OK;
    }
    if ((size_t)(ps->end - ps->p) >= 5 && memcmp(ps->p, "false", 5) == 0) {
        ps->p += 5;
        out->type = TOML_BOOL;
        out->u.b = false;
        return RC_OK;
    }
    if ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == 'i' || c == 'n')
        return parse_number(ps, out);
    return perr(ps, "expected a value, found %s", show_here(ps, here, sizeof(here)));
}

/* key = value into t; dotted keys create (or extend) tables defined by dotted keys. */
static enum rc parse_keyval(struct parser *ps, struct toml_table *t)
{
    char *keys[TOML_MAX_DEPTH];
    size_t n = 0;
    char shown[96], here[32];
    struct toml_value v = {TOML_NONE, {0}};
    enum rc rc;

    if ((rc = parse_key(ps, keys, &n)) != RC_OK)
        goto out;
    for (size_t i = 0; i + 1 < n; i++) {
        size_t idx = table_find(t, keys[i]);
        if (idx == SIZE_MAX) {
            struct toml_table *sub;
            if (t->depth + 1 > TOML_MAX_DEPTH) {
                rc = perr(ps, "tables nested more than %d deep", TOML_MAX_DEPTH);
                goto out;
            }
            if (!(sub = table_new(t->depth + 1, TABLE_DOTTED))) {
                rc = RC_NOMEM;
                goto out;
            }
            struct toml_value tv = {TOML_TABLE, {.t = sub}};
            if ((rc = table_append(t, keys[i], tv)) != RC_OK) {
                table_free(sub);
                rc = append_failed(ps, rc);
                goto out;
            }
            keys[i] = NULL;
            t = sub;
            continue;
        }
        struct toml_value *ev = &t->entries[idx].value;
        if (ev->type != TOML_TABLE) {
            rc = perr(ps, "key %s is already defined as a value, not a table",
                      show_key(keys[i], shown, sizeof(shown)));
            goto out;
        }
        if (ev->u.t->flags & TABLE_SEALED) {
            rc = perr(ps, "inline table %s cannot be extended",
                      show_key(keys[i], shown, sizeof(shown)));
            goto out;
        }
        if (ev->u.t->flags & TABLE_EXPLICIT) {
            rc = perr(ps, "table %s has its own [header] and cannot be extended by dotted keys",
                      show_key(keys[i], shown, sizeof(shown)));
            goto out;
        }
        ev->u.t->flags |= TABLE_DOTTED;
        t = ev->u.t;
    }
    if (table_find(t, keys[n - 1]) != SIZE_MAX) {
        rc = perr(ps, "duplicate key %s", show_key(keys[n - 1], shown, sizeof(shown)));
        goto out;
    }
    skip_ws(ps);
    if (!at(ps, 0, '=')) {
        rc = perr(ps, "expected '=' after key %s, found %s",
                  show_key(keys[n - 1], shown, sizeof(shown)), show_here(ps, here, sizeof(here)));
        goto out;
    }
    ps->p++;
    skip_ws(ps);
    if ((rc = parse_value(ps, t->depth + 1, &v)) != RC_OK)
        goto out;
    if ((rc = table_append(t, keys[n - 1], v)) != RC_OK) {
        rc = append_failed(ps, rc);
        goto out;
    }
    keys[n - 1] = NULL;
    v.type = TOML_NONE;
out:
    value_release(&v);
    free_keys(keys, n);
    return rc;
}

/* [a.b.c]: intermediate tables may already exist; the last one must be new or implicit. */
static enum rc parse_header(struct parser *ps)
{
    char *keys[TOML_MAX_DEPTH];
    size_t n = 0;
    char shown[128], here[32];
    struct toml_table *t = ps->root;
    enum rc rc;

    ps->p++;
    if (at(ps, 0, '[')) {
        rc = perr(ps, "arrays of tables ([[...]]) are not supported");
        goto out;
    }
    if ((rc = parse_key(ps, keys, &n)) != RC_OK)
        goto out;
    if (!at(ps, 0, ']')) {
        rc = perr(ps, "expected ']' to close the table header, found %s",
                  show_here(ps, here, sizeof(here)));
        goto out;
    }
    ps->p++;
    for (size_t i = 0; i < n; i++) {
        bool last = i + 1 == n;
        size_t idx = table_find(t, keys[i]);
        if (idx == SIZE_MAX) {
            struct toml_table *sub;
            if (t->depth + 1 > TOML_MAX_DEPTH) {
                rc = perr(ps, "tables nested more than %d deep", TOML_MAX_DEPTH);
                goto out;
            }
            if (!(sub = table_new(t->depth + 1, last ? TABLE_EXPLICIT : 0))) {
                rc = RC_NOMEM;
                goto out;
            }
            struct toml_value tv = {TOML_TABLE, {.t = sub}};
            if ((rc = table_append(t, keys[i], tv)) != RC_OK) {
                table_free(sub);
                rc = append_failed(ps, rc);
                goto out;
            }
            keys[i] = NULL;
            t = sub;
            continue;
        }
        struct toml_value *ev = &t->entries[idx].value;
        if (ev->type != TOML_TABLE) {
            rc = perr(ps, "key %s is already defined as a value, not a table",
                      show_key(keys[i], shown, sizeof(shown)));
            goto out;
        }
        t = ev->u.t;
        if (t->flags & TABLE_SEALED) {
            rc = perr(ps, "inline table %s cannot be extended",
                      show_path(keys, i + 1, shown, sizeof(shown)));
            goto out;
        }
        if (!last)
            continue;
        if (t->flags & TABLE_EXPLICIT) {
            rc = perr(ps, "table %s defined twice", show_path(keys, n, shown, sizeof(shown)));
            goto out;
        }
        if (t->flags & TABLE_DOTTED) {
            rc = perr(ps, "table %s was already defined by dotted keys",
                      show_path(keys, n, shown, sizeof(shown)));
            goto out;
        }
        t->flags |= TABLE_EXPLICIT;
    }
    ps->cur = t;
out:
    free_keys(keys, n);
    return rc;
}

enum rc toml_parse(const char *text, size_t len, struct toml_table **out, char *err, size_t errlen)
{
    struct parser ps = {text, text + len, 1, 0, NULL, NULL, err, errlen};
    enum rc rc = RC_OK;

    *out = NULL;
    if (err && errlen)
        err[0] = '\0';
    if (len > TOML_MAX_SIZE) {
        if (err && errlen)
            snprintf(err, errlen, "document is larger than %zu bytes", TOML_MAX_SIZE);
        return RC_TOO_LARGE;
    }
    if (!text && len)
        return RC_INVALID;
    size_t bad = utf8_invalid_at((const unsigned char *)text, len);
    if (bad != len) {
        for (size_t i = 0; i < bad; i++)
            ps.line += text[i] == '\n';
        return perr(&ps, "invalid UTF-8 (byte 0x%02X)", (unsigned char)text[bad]);
    }
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        ps.p += 3;
    if (!(ps.root = table_new(0, TABLE_EXPLICIT)))
        return RC_NOMEM;
    ps.cur = ps.root;
    while (ps.p < ps.end) {
        skip_ws(&ps);
        if ((rc = skip_comment(&ps)) != RC_OK)
            goto out;
        if (ps.p >= ps.end || eat_newline(&ps))
            continue;
        if (*ps.p == '[') {
            if ((rc = parse_header(&ps)) != RC_OK)
                goto out;
            rc = expect_eol(&ps, "the table header");
        } else {
            if ((rc = parse_keyval(&ps, ps.cur)) != RC_OK)
                goto out;
            rc = expect_eol(&ps, "the value");
        }
        if (rc != RC_OK)
            goto out;
    }
out:
    if (rc != RC_OK) {
        if (rc == RC_NOMEM && err && errlen)
            snprintf(err, errlen, "out of memory");
        table_free(ps.root);
        return rc;
    }
    *out = ps.root;
    return RC_OK;
}

/* ---- document API -------------------------------------------------------------------- */

struct toml_table *toml_new(void) { return table_new(0, TABLE_EXPLICIT); }

void toml_free(struct toml_table *root) { table_free(root); }

size_t toml_count(const struct toml_table *t) { return t ? t->len : 0; }

const char *toml_key_at(const struct toml_table *t, size_t i)
{
    return t && i < t->len ? t->entries[i].key : NULL;
}

enum toml_type toml_type_of(const struct toml_table *t, const char *key)
{
    const struct toml_value *v = table_get(t, key);
    return v ? v->type : TOML_NONE;
}

const char *toml_get_string(const struct toml_table *t, const char *key)
{
    const struct toml_value *v = table_get(t, key);
    return v && v->type == TOML_STRING ? v->u.s : NULL;
}

enum rc toml_get_int(const struct toml_table *t, const char *key, int64_t *out)
{
    const struct toml_value *v = table_get(t, key);
    if (!v)
        return RC_NOT_FOUND;
    if (v->type != TOML_INT)
        return RC_INVALID;
    *out = v->u.i;
    return RC_OK;
}

enum rc toml_get_double(const struct toml_table *t, const char *key, double *out)
{
    const struct toml_value *v = table_get(t, key);
    if (!v)
        return RC_NOT_FOUND;
    if (v->type == TOML_INT)
        *out = (double)v->u.i;
    else if (v->type == TOML_FLOAT)
        *out = v->u.f;
    else
        return RC_INVALID;
    return RC_OK;
}

enum rc toml_get_bool(const struct toml_table *t, const char *key, bool *out)
{
    const struct toml_value *v = table_get(t, key);
    if (!v)
        return RC_NOT_FOUND;
    if (v->type != TOML_BOOL)
        return RC_INVALID;
    *out = v->u.b;
    return RC_OK;
}

const struct toml_table *toml_get_table(const struct toml_table *t, const char *key)
{
    const struct toml_value *v = table_get(t, key);
    return v && v->type == TOML_TABLE ? v->u.t : NULL;
}

const struct toml_array *toml_get_array(const struct toml_table *t, const char *key)
{
    const struct toml_value *v = table_get(t, key);
    return v && v->type == TOML_ARRAY ? v->u.a : NULL;
}

size_t toml_array_len(const struct toml_array *a) { return a ? a->len : 0; }

enum toml_type toml_array_type(const struct toml_array *a, size_t i)
{
    return a && i < a->len ? a->items[i].type : TOML_NONE;
}

const char *toml_array_string(const struct toml_array *a, size_t i)
{
    return a && i < a->len && a->items[i].type == TOML_STRING ? a->items[i].u.s : NULL;
}

/* Store v under key (taking v on success and on failure). */
static enum rc set_value(struct toml_table *t, const char *key, struct toml_value v)
{
    enum rc rc = RC_OK;
    char *k = NULL;

    if (!t || !key || !utf8_valid(key)) {
        rc = RC_INVALID;
        goto out;
    }
    size_t idx = table_find(t, key);
    if (idx != SIZE_MAX) {
        value_release(&t->entries[idx].value);
        t->entries[idx].value = v;
        v.type = TOML_NONE;
        goto out;
    }
    if (!(k = dup_string(key))) {
        rc = RC_NOMEM;
        goto out;
    }
    if ((rc = table_append(t, k, v)) != RC_OK)
        goto out;
    k = NULL;
    v.type = TOML_NONE;
out:
    wipe_free(k);
    value_release(&v);
    return rc;
}

enum rc toml_set_string(struct toml_table *t, const char *key, const char *value)
{
    if (!value || !utf8_valid(value))
        return RC_INVALID;
    struct toml_value v = {TOML_STRING, {.s = dup_string(value)}};
    if (!v.u.s)
        return RC_NOMEM;
    return set_value(t, key, v);
}

enum rc toml_set_int(struct toml_table *t, const char *key, int64_t value)
{
    return set_value(t, key, (struct toml_value){TOML_INT, {.i = value}});
}

enum rc toml_set_double(struct toml_table *t, const char *key, double value)
{
    return set_value(t, key, (struct toml_value){TOML_FLOAT, {.f = value}});
}

enum rc toml_set_bool(struct toml_table *t, const char *key, bool value)
{
    return set_value(t, key, (struct toml_value){TOML_BOOL, {.b = value}});
}

enum rc toml_set_strings(struct toml_table *t, const char *key, const char *const *items, size_t n)
{
    struct toml_value v = {TOML_ARRAY, {.a = calloc(1, sizeof(struct toml_array))}};
    enum rc rc = RC_OK;

    if (!v.u.a)
        return RC_NOMEM;
    for (size_t i = 0; i < n; i++) {
        if (!items[i] || !utf8_valid(items[i])) {
            rc = RC_INVALID;
            goto out;
        }
        struct toml_value s = {TOML_STRING, {.s = dup_string(items[i])}};
        if (!s.u.s) {
            rc = RC_NOMEM;
            goto out;
        }
        if ((rc = array_append(v.u.a, s)) != RC_OK) {
            value_release(&s);
            goto out;
        }
    }
    return set_value(t, key, v);
out:
    value_release(&v);
    return rc;
}

bool toml_remove(struct toml_table *t, const char *key)
{
    size_t idx = t && key ? table_find(t, key) : SIZE_MAX;
    if (idx == SIZE_MAX)
        return false;
    wipe_free(t->entries[idx].key);
    value_release(&t->entries[idx].value);
    memmove(&t->entries[idx], &t->entries[idx + 1], (t->len - idx - 1) * sizeof(*t->entries));
    t->len--;
    return true;
}

enum rc toml_ensure_table(struct toml_table *t, const char *key, struct toml_table **out)
{
    if (!t || !key)
        return RC_INVALID;
    size_t idx = table_find(t, key);
    if (idx != SIZE_MAX) {
        if (t->entries[idx].value.type != TOML_TABLE)
            return RC_CONFLICT;
        *out = t->entries[idx].value.u.t;
        return RC_OK;
    }
    if (t->depth + 1 > TOML_MAX_DEPTH)
        return RC_TOO_LARGE;
    struct toml_table *sub = table_new(t->depth + 1, TABLE_EXPLICIT);
    if (!sub)
        return RC_NOMEM;
    enum rc rc = set_value(t, key, (struct toml_value){TOML_TABLE, {.t = sub}});
    if (rc == RC_OK)
        *out = sub;
    return rc;
}
