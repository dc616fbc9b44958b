/* json.h: strict helpers over jansson for untrusted request bodies and for building replies.
 * Parsing rejects duplicate keys, invalid UTF-8, deep nesting and unknown fields. */
#ifndef PCC_JSON_H
#define PCC_JSON_H

#include <stddef.h>

#include <jansson.h>

#include "rc.h"

#define JSON_MAX_DEPTH 32

/* Parse (data, len) as one JSON object. RC_BAD_JSON with a message naming the line, column and
 * problem; RC_INVALID when the value is not an object. *out is a new reference. */
enum rc json_parse_object(const char *data, size_t len, json_t **out, char *err, size_t errlen);

/* RC_INVALID naming the first key of obj that is not in the NULL-terminated allowed list. */
enum rc json_check_fields(const json_t *obj, const char *const allowed[], char *err, size_t errlen);

/* Read obj[key] as a string of 1..max_len bytes. Missing: RC_NOT_FOUND when optional is set
 * (out untouched), else RC_INVALID. Wrong type or length: RC_INVALID naming the field. */
enum rc json_get_string(const json_t *obj, const char *key, int optional, size_t max_len,
                        const char **out, char *err, size_t errlen);

/* Serialize v compactly; the caller free()s the result. NULL on allocation failure. */
char *json_to_string(const json_t *v);

#endif
