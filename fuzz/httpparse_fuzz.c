/* httpparse_fuzz.c: libFuzzer target for the CLI's HTTP/1.1 response parsing (bytes from the
 * network): the head, then a chunked body when the head says so. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "httpparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size ? size : 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    struct httpparse_head head;
    enum rc rc = httpparse_head(s, size, &head);
    if (rc == RC_OK) {
        if (head.head_len > size || head.status < 100 || head.status > 599)
            abort();
        struct buf body;
        buf_init(&body, 1 << 16);
        size_t used = 0;
        if (httpparse_chunked(s + head.head_len, size - head.head_len, &body, &used) == RC_OK &&
            used > size - head.head_len)
            abort();
        buf_release(&body);
    }
    free(s);
    return 0;
}
