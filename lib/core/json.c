/* json.c: strict JSON parsing and field validation (see json.h). */
#include "json.h"

#include <stdio.h>
#include <string.h>
#include "banned.h"


/* jansson caps depth only at compile time (2048); ours is far lower. Counts brackets outside
 * strings; an unbalanced document is left for jansson to reject with a precise message. */
static int depth_exceeds(const char *data, size_t len, int max)
{
    int depth = 0, in_string = 0;
    for (size_t i = 0; i < len; i++) {
        char c = data[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = 0;
        } else if (c == '"') {
            in_string = 1;
        } else if (c == '{' || c == '[') {
            if (++depth > max)
                return 1;
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return 0;
}

enum rc json_parse_object(const char *data, size_t len, json_t **out, char *err, size_t errlen)
{
    *out = NULL;
    if (depth_exceeds(data, len, JSON_MAX_DEPTH)) {
        snprintf(err, errlen, "malformed JSON: nesting deeper than %d levels", JSON_MAX_DEPTH);
        return RC_BAD_JSON;
    }
    json_error_t jerr;
    json_t *v = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!v) {
        /* jansson names its own flag here; say what is wrong with the input instead. */
        const char *why = strstr(jerr.text, "JSON_ALLOW_NUL") ? "\\u0000 is not allowed in strings"
                                                              : jerr.text;
        snprintf(err, errlen, "malformed JSON at line %d, column %d: %s", jerr.line, jerr.column,
                 why);
        return RC_BAD_JSON;
    }
    if (!json_is_object(v)) {
        json_decref(v);
        snprintf(err, errlen, "request body must be a JSON object");
        return RC_INVALID;
    }
    *out = v;
    return RC_OK;
}

enum rc json_check_fields(const json_t *obj, const char *const allowed[], char *err, size_t errlen)
{
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)obj, key, value)
    {
        (void)value;
        int known = 0;
        for (size_t i = 0; allowed[i]; i++)
            if (strcmp(key, allowed[i]) == 0)
                known = 1;
        if (!known) {
            snprintf(err, errlen, "unknown field \"%.64s\"", key);
            return RC_INVALID;
        }
    }
    return RC_OK;
}

enum rc json_get_string(const json_t *obj, const char *key, int optional, size_t max_len,
                        const char **out, char *err, size_t errlen)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) {
        if (optional)
            return RC_NOT_FOUND;
        snprintf(err, errlen, "field \"%s\" is required", key);
        return RC_INVALID;
    }
    if (!json_is_string(v)) {
        snprintf(err, errlen, "field \"%s\" must be a string", key);
        return RC_INVALID;
    }
    size_t len = json_string_length(v);
    if (len == 0 || len > max_len) {
        snprintf(err, errlen, "field \"%s\" must be 1 to %zu characters", key, max_len);
        return RC_INVALID;
    }
    *out = json_string_value(v);
    return RC_OK;
}

char *json_to_string(const json_t *v) { return json_dumps(v, JSON_COMPACT); }
