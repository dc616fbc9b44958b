/* json_body_fuzz.c: libFuzzer target for request-body parsing: the depth guard, jansson with
 * duplicate-key rejection, and unknown-field checking. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size ? size : 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    json_t *v = NULL;
    char err[256];
    enum rc rc = json_parse_object(s, size, &v, err, sizeof err);
    if ((rc == RC_OK) != (v != NULL))
        abort();
    if (v) {
        static const char *const allowed[] = {"name", "scopes", NULL};
        json_check_fields(v, allowed, err, sizeof err);
        const char *name;
        json_get_string(v, "name", 1, 100, &name, err, sizeof err);
        char *text = json_to_string(v);
        free(text);
        json_decref(v);
    }
    free(s);
    return 0;
}
