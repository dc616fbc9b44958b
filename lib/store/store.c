/* store.c: backend selection by database URL, and helpers shared by every backend. */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_backend.h"
#include "banned.h"

enum rc store_open(const char *url, struct store **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!url || !*url) {
        snprintf(err, errlen, "no database given");
        return RC_INVALID;
    }
    if (strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0) {
        return store_pg_open(url, out, err, errlen);
    }
    const char *path = strncmp(url, "sqlite:", 7) == 0 ? url + 7 : url;
    return store_sqlite_open(path, out, err, errlen);
}

void store_close(struct store *st)
{
    if (st)
        st->ops->close(st);
}

void store_free_list(void *list) { free(list); }

void store_copy_field(char *dst, size_t size, const char *src)
{
    if (!src)
        src = "";
    size_t n = strnlen(src, size - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}
