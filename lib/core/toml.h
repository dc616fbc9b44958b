/* toml.h: a small TOML reader/writer for the CLI credentials and deploy files. The document
 * keeps keys in file order and keeps every key it does not understand, so a read-modify-write
 * loses nothing; it is written back the way Python's toml 0.10.2 `toml.dumps` writes it. */
#ifndef PCC_TOML_H
#define PCC_TOML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "rc.h"

#define TOML_MAX_SIZE ((size_t)1 << 20) /* bytes of input toml_parse accepts */
#define TOML_MAX_DEPTH 32               /* nesting of tables, and of arrays / inline tables */
#define TOML_MAX_KEYS 10000             /* keys in one table (lookups are linear scans) */
#define TOML_MAX_NUMBER 128             /* characters in one number literal */

enum toml_type {
    TOML_NONE, /* no such key / index */
    TOML_STRING,
    TOML_INT,
    TOML_FLOAT,
    TOML_BOOL,
    TOML_ARRAY,
    TOML_TABLE,
};

struct toml_table; /* ordered key -> value map; the root owns every table and array below it */
struct toml_array;

/* Parse len bytes of TOML (no NUL terminator needed) into a new root table in *out, which the
 * caller frees with toml_free. RC_PARSE with "line N: ..." in err on malformed input,
 * RC_TOO_LARGE past TOML_MAX_SIZE, RC_NOMEM. Dates/times, arrays of tables and "\u0000" are
 * rejected as unsupported. */
enum rc toml_parse(const char *text, size_t len, struct toml_table **out, char *err, size_t errlen);
/* A new empty root table (free with toml_free), or NULL when memory runs out. */
struct toml_table *toml_new(void);
/* Free a root and everything below it, wiping every key and string first; NULL is a no-op.
 * Only for roots: sub-tables belong to their root. */
void toml_free(struct toml_table *root);
/* Append the document laid out as Python's toml.dumps lays out a re-read file: values, then
 * tables breadth first. Wiping out afterwards wipes every copy. RC_TOO_LARGE (out unchanged)
 * past out's cap or past TOML_MAX_SIZE, which toml_parse would refuse to read back; RC_NOMEM. */
enum rc toml_dump(const struct toml_table *root, struct buf *out);

/* Number of keys in t, in insertion (file) order. */
size_t toml_count(const struct toml_table *t);
/* The i-th key of t, or NULL past the end; valid until t is next modified. */
const char *toml_key_at(const struct toml_table *t, size_t i);
/* Type of the value under key, TOML_NONE if absent. */
enum toml_type toml_type_of(const struct toml_table *t, const char *key);

/* The string under key, or NULL if absent or not a string; valid until t is next modified. */
const char *toml_get_string(const struct toml_table *t, const char *key);
/* Read an integer into *out: RC_OK, RC_NOT_FOUND if absent, RC_INVALID if of another type. */
enum rc toml_get_int(const struct toml_table *t, const char *key, int64_t *out);
/* Like toml_get_int for a float; an integer is accepted and converted (writers drop ".0"). */
enum rc toml_get_double(const struct toml_table *t, const char *key, double *out);
/* Like toml_get_int for a boolean. */
enum rc toml_get_bool(const struct toml_table *t, const char *key, bool *out);
/* The sub-table under key, or NULL if absent or not a table. */
const struct toml_table *toml_get_table(const struct toml_table *t, const char *key);
/* The array under key, or NULL if absent or not an array. */
const struct toml_array *toml_get_array(const struct toml_table *t, const char *key);

/* Number of elements of a (0 for NULL). */
size_t toml_array_len(const struct toml_array *a);
/* Type of element i, TOML_NONE past the end. Arrays may nest and mix types. */
enum toml_type toml_array_type(const struct toml_array *a, size_t i);
/* Element i if it is a string, else NULL: the string-array getter for lists like patterns. */
const char *toml_array_string(const struct toml_array *a, size_t i);

/* Set key in t to a copy of value, replacing any value (of any type) in place or appending.
 * RC_INVALID if key or value is not valid UTF-8, RC_TOO_LARGE past TOML_MAX_KEYS, RC_NOMEM. */
enum rc toml_set_string(struct toml_table *t, const char *key, const char *value);
/* As toml_set_string, for an integer. */
enum rc toml_set_int(struct toml_table *t, const char *key, int64_t value);
/* As toml_set_string, for a float (inf and nan included). */
enum rc toml_set_double(struct toml_table *t, const char *key, double value);
/* As toml_set_string, for a boolean. */
enum rc toml_set_bool(struct toml_table *t, const char *key, bool value);
/* As toml_set_string, for an array of copies of the n strings in items. */
enum rc toml_set_strings(struct toml_table *t, const char *key, const char *const *items, size_t n);
/* Remove key (wiping its strings); returns whether it was there. */
bool toml_remove(struct toml_table *t, const char *key);
/* Point *out at the sub-table under key, appending an empty one if absent. RC_CONFLICT if key
 * holds a non-table, RC_TOO_LARGE past TOML_MAX_DEPTH/TOML_MAX_KEYS, RC_INVALID, RC_NOMEM. */
enum rc toml_ensure_table(struct toml_table *t, const char *key, struct toml_table **out);

#endif
