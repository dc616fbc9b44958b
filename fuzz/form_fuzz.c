/* form_fuzz.c: libFuzzer target for application/x-www-form-urlencoded bodies (dashboard form
 * posts): the whole-body check, field iteration, decoding and lookup. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "form.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size ? size : 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    char err[128], out[64];
    form_check(s, size, err, sizeof err);
    size_t pos = 0, n = 0, used;
    struct form_field f;
    while (form_next(s, size, &pos, &f) == RC_OK) {
        if (pos > size || f.name < s || f.value + f.value_len > s + size || ++n > size)
            abort();
        if (form_decode(f.value, f.value_len, out, sizeof out, &used) == RC_OK &&
            (used >= sizeof out || used > f.value_len || strlen(out) != used))
            abort();
    }
    if (form_get(s, size, "name", out, sizeof out) == RC_OK && strlen(out) >= sizeof out)
        abort();
    free(s);
    return 0;
}
