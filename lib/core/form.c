/* form.c: application/x-www-form-urlencoded parsing (see form.h). */
#include "form.h"

#include <stdio.h>
#include <string.h>

#include "text.h"
#include "banned.h"

enum rc form_next(const char *s, size_t len, size_t *pos, struct form_field *f)
{
    size_t i = *pos;
    while (i < len && s[i] == '&')
        i++;
    if (i >= len) {
        *pos = len;
        return RC_NOT_FOUND;
    }
    size_t start = i;
    while (i < len && s[i] != '&')
        i++;
    const char *pair = s + start;
    size_t plen = i - start;
    const char *eq = memchr(pair, '=', plen);
    f->name = pair;
    f->name_len = eq ? (size_t)(eq - pair) : plen;
    f->value = eq ? eq + 1 : pair + plen;
    f->value_len = eq ? plen - f->name_len - 1 : 0;
    *pos = i;
    return RC_OK;
}

enum rc form_decode(const char *s, size_t len, char *out, size_t size, size_t *out_len)
{
    size_t j = 0;
    if (size == 0)
        return RC_TOO_LARGE;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            if (len - i < 3)
                return RC_INVALID;
            int hi = text_hex_value(s[i + 1]);
            int lo = text_hex_value(s[i + 2]);
            if (hi < 0 || lo < 0)
                return RC_INVALID;
            c = (char)(hi * 16 + lo);
            if (c == '\0')
                return RC_INVALID;
            i += 2;
        } else if (c == '\0') {
            return RC_INVALID;
        }
        if (j + 1 >= size)
            return RC_TOO_LARGE;
        out[j++] = c;
    }
    out[j] = '\0';
    if (out_len)
        *out_len = j;
    return RC_OK;
}

/* 1 when every '%' of (s, len) starts a valid escape of a byte other than NUL. */
static int escapes_valid(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\0')
            return 0;
        if (s[i] != '%')
            continue;
        if (len - i < 3 || text_hex_value(s[i + 1]) < 0 || text_hex_value(s[i + 2]) < 0 ||
            (s[i + 1] == '0' && s[i + 2] == '0'))
            return 0;
        i += 2;
    }
    return 1;
}

/* 1 when the encoded names a (alen) and b (blen) decode to the same bytes. */
static int same_name(const char *a, size_t alen, const char *b, size_t blen)
{
    char da[128], db[128];
    if (form_decode(a, alen, da, sizeof da, NULL) != RC_OK ||
        form_decode(b, blen, db, sizeof db, NULL) != RC_OK)
        return 0;
    return strcmp(da, db) == 0;
}

enum rc form_check(const char *body, size_t len, char *err, size_t errlen)
{
    struct form_field fields[FORM_MAX_FIELDS];
    size_t n = 0, pos = 0;
    struct form_field f;
    char name[128];
    while (form_next(body, len, &pos, &f) == RC_OK) {
        if (n == FORM_MAX_FIELDS) {
            snprintf(err, errlen, "too many form fields (at most %d)", FORM_MAX_FIELDS);
            return RC_INVALID;
        }
        if (form_decode(f.name, f.name_len, name, sizeof name, NULL) != RC_OK) {
            snprintf(err, errlen, "malformed form field name");
            return RC_INVALID;
        }
        /* A value's length is the caller's business (form_get says RC_TOO_LARGE for its
         * buffer); here only its escapes are checked. */
        if (!escapes_valid(f.value, f.value_len)) {
            snprintf(err, errlen, "malformed value of form field \"%.64s\"", name);
            return RC_INVALID;
        }
        for (size_t i = 0; i < n; i++)
            if (same_name(fields[i].name, fields[i].name_len, f.name, f.name_len)) {
                snprintf(err, errlen, "form field \"%.64s\" appears twice", name);
                return RC_INVALID;
            }
        fields[n++] = f;
    }
    return RC_OK;
}

enum rc form_get(const char *body, size_t len, const char *name, char *out, size_t size)
{
    size_t pos = 0, nlen = strlen(name);
    struct form_field f;
    char decoded[128];
    while (form_next(body, len, &pos, &f) == RC_OK) {
        size_t dlen;
        if (form_decode(f.name, f.name_len, decoded, sizeof decoded, &dlen) != RC_OK)
            continue;
        if (dlen == nlen && memcmp(decoded, name, nlen) == 0)
            return form_decode(f.value, f.value_len, out, size, NULL);
    }
    return RC_NOT_FOUND;
}
