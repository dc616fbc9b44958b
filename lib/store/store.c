/* store.c: backend selection by database URL, and helpers shared by every backend. */
#include "store.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
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
        enum rc rc = store_pg_open(url, out, err, errlen);
        char why[256];
        if (rc == RC_OK && store_cache_attach(*out, NULL, why, sizeof why) != RC_OK)
            log_warn("store: credential cache off: %s", why);
        return rc;
    }
    const char *path = strncmp(url, "sqlite:", 7) == 0 ? url + 7 : url;
    enum rc rc = store_sqlite_open(path, out, err, errlen);
    if (rc != RC_OK)
        return rc;
    /* Every process using this file shares the generation word beside it (cache.c). Without
     * it (say, a read-only directory) reads simply all go to the database. */
    char gen_path[4096], why[256];
    int n = snprintf(gen_path, sizeof gen_path, "%s-generation", path);
    if (n < 0 || (size_t)n >= sizeof gen_path ||
        store_cache_attach(*out, gen_path, why, sizeof why) != RC_OK)
        log_warn("store: credential cache off: %s",
                 n > 0 && (size_t)n < sizeof gen_path ? why : "database path too long");
    return RC_OK;
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

/* A thread's error buffer is freed when the thread exits (the key's destructor). */
static void error_free(void *buf) { free(buf); }

enum rc store_error_init(struct store *st)
{
    return pthread_key_create(&st->error_key, error_free) == 0 ? RC_OK : RC_NOMEM;
}

void store_error_release(struct store *st)
{
    /* The closing thread's buffer; the other threads' went with them (pccd stops its
     * workers before it closes the store). */
    free(pthread_getspecific(st->error_key));
    pthread_setspecific(st->error_key, NULL);
    pthread_key_delete(st->error_key);
}

void store_set_error(struct store *st, const char *fmt, ...)
{
    char *buf = pthread_getspecific(st->error_key);
    if (!buf) {
        if (!(buf = malloc(STORE_ERROR_SIZE)) || pthread_setspecific(st->error_key, buf) != 0) {
            free(buf);
            return; /* the detail is lost; the return code still says what failed */
        }
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, STORE_ERROR_SIZE, fmt, ap);
    va_end(ap);
}

const char *store_last_error(struct store *st)
{
    const char *buf = st ? pthread_getspecific(st->error_key) : NULL;
    return buf ? buf : "";
}
