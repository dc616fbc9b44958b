/* toml_fuzz.c: libFuzzer target for the TOML parser, which reads the user-editable credentials
 * and deploy files: anything it accepts must serialize, re-parse and re-serialize identically. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "toml.h"

#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Copy into an exact-size heap block so ASan catches any read past len. */
    char *text = malloc(size ? size : 1);
    struct toml_table *first = NULL, *second = NULL;
    struct buf out1 = BUF_INIT, out2 = BUF_INIT;
    char err[256];

    if (!text)
        return 0;
    memcpy(text, data, size);
    enum rc rc = toml_parse(text, size, &first, err, sizeof(err));
    if (rc != RC_OK) {
        /* every rejection names its line */
        if (rc == RC_PARSE && strncmp(err, "line ", 5) != 0)
            abort();
        goto out;
    }
    rc = toml_dump(first, &out1);
    if (rc == RC_TOO_LARGE)
        goto out; /* escaping grew it past TOML_MAX_SIZE: refused rather than unreadable */
    if (rc != RC_OK)
        abort();
    if (toml_parse(buf_str(&out1), out1.len, &second, err, sizeof(err)) != RC_OK)
        abort(); /* we wrote something we cannot read back */
    if (toml_dump(second, &out2) != RC_OK)
        abort();
    if (out1.len != out2.len || memcmp(buf_str(&out1), buf_str(&out2), out1.len) != 0)
        abort(); /* not a fixed point: a value or the layout changed on the way */
out:
    buf_release(&out1);
    buf_release(&out2);
    toml_free(first);
    toml_free(second);
    free(text);
    return 0;
}
