/* timefmt_fuzz.c: libFuzzer target for ISO-8601 parsing (expiry dates come from users). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "timefmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size ? size : 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    int64_t t;
    if (timefmt_parse(s, size, &t) == RC_OK) {
        /* Whatever parses must format and parse back to the same instant (whole seconds). */
        char out[TIMEFMT_SIZE];
        int64_t back;
        timefmt_iso8601(t, out);
        if (t >= 0 && t < 253402300800LL &&
            (timefmt_parse(out, strlen(out), &back) != RC_OK || back != t))
            abort();
    }
    free(s);
    return 0;
}
