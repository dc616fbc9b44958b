/* form.h: application/x-www-form-urlencoded bodies (HTML form posts), parsed from untrusted
 * bytes as (ptr, len) without relying on NUL; pure code, fuzzed by fuzz/form_fuzz.c. */
#ifndef PCC_FORM_H
#define PCC_FORM_H

#include <stddef.h>

#include "rc.h"

#define FORM_MAX_FIELDS 32 /* a body with more fields is refused */

/* One name=value pair as it appears in the body (still percent-encoded). */
struct form_field {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
};

/* The next field of (s, len) starting at *pos (0 to begin), skipping empty pairs ("a=1&&b=2").
 * RC_OK fills f and advances *pos; RC_NOT_FOUND at the end. Never fails otherwise. */
enum rc form_next(const char *s, size_t len, size_t *pos, struct form_field *f);

/* Decode percent-encoding and '+' of (s, len) into out (size bytes, NUL-terminated); *out_len
 * (may be NULL) gets the decoded length. RC_INVALID for a malformed escape or an encoded NUL,
 * RC_TOO_LARGE when the result does not fit. */
enum rc form_decode(const char *s, size_t len, char *out, size_t size, size_t *out_len);

/* Check the whole body: at most FORM_MAX_FIELDS fields, every name and value decodes, no
 * name appears twice. RC_INVALID (err names the field) otherwise. */
enum rc form_check(const char *body, size_t len, char *err, size_t errlen);

/* Decode the value of field name into out (size bytes). RC_NOT_FOUND when absent,
 * RC_INVALID / RC_TOO_LARGE as form_decode. */
enum rc form_get(const char *body, size_t len, const char *name, char *out, size_t size);

#endif
