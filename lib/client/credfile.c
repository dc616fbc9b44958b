/* credfile.c: the CLI credentials file (see credfile.h): load, permission repair, setters with
 * the reference client's update_user_config semantics, and an atomic, fsync'ed save. */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE 1 /* mkstemps, strdup */
#endif
#include "credfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "buf.h"
#include "toml.h"

#include "banned.h"

#define TEMP_PREFIX "/.pipecatcloud_"
#define TEMP_SUFFIX ".tmp"

struct credfile {
    char *path;
    struct toml_table *doc;
};

/* The only top-level keys that may hold values; every other one must be a table. */
static const char *const top_level_values[] = {"token", "org", "refresh_token", "token_expires_at"};

static bool is_top_level_value(const char *key)
{
    for (size_t i = 0; i < sizeof(top_level_values) / sizeof(top_level_values[0]); i++)
        if (strcmp(key, top_level_values[i]) == 0)
            return true;
    return false;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Read all of fd (at most TOML_MAX_SIZE bytes) into one exact-size allocation, so wiping it
 * wipes the only copy. */
static enum rc read_all(int fd, off_t size, char **out, size_t *len, char *err, size_t errlen)
{
    if (size < 0 || (uint64_t)size > TOML_MAX_SIZE) {
        set_err(err, errlen, "the file is larger than %zu bytes", TOML_MAX_SIZE);
        return RC_TOO_LARGE;
    }
    size_t want = (size_t)size;
    char *data = malloc(want + 1); /* one spare byte tells a file that grew meanwhile */
    size_t got = 0;
    if (!data)
        return RC_NOMEM;
    while (got < want + 1) {
        ssize_t n = read(fd, data + got, want + 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            set_err(err, errlen, "cannot read it: %s", strerror(errno));
            sodium_memzero(data, got);
            free(data);
            return RC_IO;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    if (got > want) {
        set_err(err, errlen, "the file changed while it was being read");
        sodium_memzero(data, got);
        free(data);
        return RC_IO;
    }
    *out = data;
    *len = got;
    return RC_OK;
}

enum rc credfile_load(const char *path, struct credfile **out, int *perms_repaired, char *err,
                      size_t errlen)
{
    struct credfile *cf = NULL;
    char *raw = NULL;
    size_t rawlen = 0;
    int fd = -1;
    enum rc rc = RC_OK;

    *out = NULL;
    if (perms_repaired)
        *perms_repaired = 0;
    if (err && errlen)
        err[0] = '\0';
    if (!(cf = calloc(1, sizeof(*cf))) || !(cf->path = strdup(path))) {
        rc = RC_NOMEM;
        goto out;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0 && (errno == ENOENT || errno == ENOTDIR)) {
        if (!(cf->doc = toml_new()))
            rc = RC_NOMEM;
        goto out;
    }
    if (fd < 0) {
        set_err(err, errlen, "cannot open it: %s", strerror(errno));
        rc = RC_IO;
        goto out;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        set_err(err, errlen, "cannot stat it: %s", strerror(errno));
        rc = RC_IO;
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        set_err(err, errlen, "it is not a regular file");
        rc = RC_IO;
        goto out;
    }
    /* The reference client repairs the mode on every read: the file holds a bearer token. */
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        if (fchmod(fd, S_IRUSR | S_IWUSR) != 0) {
            set_err(err, errlen,
                    "it is accessible to other users and its permissions could not be reset "
                    "to 0600 (%s): the token may be compromised",
                    strerror(errno));
            rc = RC_IO;
            goto out;
        }
        if (perms_repaired)
            *perms_repaired = 1;
    }
    if ((rc = read_all(fd, st.st_size, &raw, &rawlen, err, errlen)) != RC_OK)
        goto out;
    char perr[256];
    if ((rc = toml_parse(raw, rawlen, &cf->doc, perr, sizeof(perr))) != RC_OK) {
        set_err(err, errlen, "invalid TOML: %s", perr);
        goto out;
    }
    for (size_t i = 0; i < toml_count(cf->doc); i++) {
        const char *key = toml_key_at(cf->doc, i);
        if (toml_type_of(cf->doc, key) != TOML_TABLE && !is_top_level_value(key)) {
            set_err(err, errlen,
                    "unexpected top-level key \"%.64s\": only token, org, refresh_token and "
                    "token_expires_at may be top-level values, everything else must be a table",
                    key);
            rc = RC_PARSE;
            goto out;
        }
    }
out:
    if (fd >= 0)
        close(fd);
    if (raw) {
        sodium_memzero(raw, rawlen);
        free(raw);
    }
    if (rc != RC_OK) {
        credfile_free(cf);
        return rc;
    }
    *out = cf;
    return RC_OK;
}

void credfile_free(struct credfile *cf)
{
    if (!cf)
        return;
    toml_free(cf->doc);
    free(cf->path);
    free(cf);
}

const char *credfile_get(const struct credfile *cf, const char *key)
{
    return cf ? toml_get_string(cf->doc, key) : NULL;
}

bool credfile_token_expires_at(const struct credfile *cf, double *out)
{
    return cf && toml_get_double(cf->doc, "token_expires_at", out) == RC_OK;
}

const char *credfile_org_get(const struct credfile *cf, const char *key)
{
    const char *org = credfile_get(cf, "org");
    return org ? toml_get_string(toml_get_table(cf->doc, org), key) : NULL;
}

const char *credfile_org_get_in(const struct credfile *cf, const char *org, const char *key)
{
    return org && *org ? toml_get_string(toml_get_table(cf->doc, org), key) : NULL;
}

enum rc credfile_set_token(struct credfile *cf, const char *token)
{
    if (!token || !*token)
        return RC_OK;
    return toml_set_string(cf->doc, "token", token);
}

enum rc credfile_set_refresh_token(struct credfile *cf, const char *refresh_token)
{
    if (!refresh_token)
        return RC_OK;
    return toml_set_string(cf->doc, "refresh_token", refresh_token);
}

enum rc credfile_set_token_expires_at(struct credfile *cf, double epoch_seconds)
{
    if (epoch_seconds == 0)
        return toml_set_int(cf->doc, "token_expires_at", 0);
    return toml_set_double(cf->doc, "token_expires_at", epoch_seconds);
}

enum rc credfile_set_active_org(struct credfile *cf, const char *org)
{
    struct toml_table *section;
    enum rc rc;

    if (!org || !*org)
        return RC_OK;
    if ((rc = toml_set_string(cf->doc, "org", org)) != RC_OK)
        return rc;
    /* Like the reference: a section only when the name is free (an org called "token" gets
     * none rather than clobbering the token). */
    if (toml_type_of(cf->doc, org) != TOML_NONE)
        return RC_OK;
    return toml_ensure_table(cf->doc, org, &section);
}

enum rc credfile_org_set(struct credfile *cf, const char *org, const char *key, const char *value)
{
    struct toml_table *section;
    enum rc rc;

    if (!org || !*org || !key)
        return RC_INVALID;
    if (!value) {
        struct toml_table *t = (struct toml_table *)toml_get_table(cf->doc, org);
        if (!t && toml_type_of(cf->doc, org) != TOML_NONE)
            return RC_CONFLICT;
        if (t)
            toml_remove(t, key);
        return RC_OK;
    }
    if ((rc = toml_ensure_table(cf->doc, org, &section)) != RC_OK)
        return rc;
    return toml_set_string(section, key, value);
}

/* mkdir -p with mode 0700 for every directory it creates. */
static enum rc make_dirs(const char *dir, char *err, size_t errlen)
{
    char *p = strdup(dir);
    enum rc rc = RC_OK;

    if (!p)
        return RC_NOMEM;
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char saved = *s;
        *s = '\0';
        if (mkdir(p, S_IRWXU) != 0 && errno != EEXIST) {
            set_err(err, errlen, "cannot create the configuration directory %s: %s", p,
                    strerror(errno));
            rc = RC_IO;
            goto out;
        }
        *s = saved;
        if (!saved)
            break;
    }
out:
    free(p);
    return rc;
}

/* The directory must exist afterwards; an existing one keeps its mode. */
static enum rc ensure_dir(const char *dir, char *err, size_t errlen)
{
    struct stat st;
    if (stat(dir, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return RC_OK;
        set_err(err, errlen, "%s is not a directory", dir);
        return RC_IO;
    }
    if (errno != ENOENT) {
        set_err(err, errlen, "cannot use the configuration directory %s: %s", dir, strerror(errno));
        return RC_IO;
    }
    enum rc rc = make_dirs(dir, err, errlen);
    if (rc == RC_OK && (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))) {
        set_err(err, errlen, "%s is not a directory", dir);
        rc = RC_IO;
    }
    return rc;
}

static enum rc write_all(int fd, const char *data, size_t len, char *err, size_t errlen)
{
    while (len) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            set_err(err, errlen, "cannot write the temporary file: %s",
                    n < 0 ? strerror(errno) : "no progress");
            return RC_IO;
        }
        data += n;
        len -= (size_t)n;
    }
    return RC_OK;
}

/* Make the rename durable. Best effort: by now the new file is in place, and reporting a
 * failure would wrongly suggest the old one is still there. */
static void sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

enum rc credfile_save(struct credfile *cf, char *err, size_t errlen)
{
    struct buf text;
    char *dir = NULL, *tmp = NULL;
    bool tmp_exists = false; /* created and not yet renamed over the target */
    int fd = -1;
    enum rc rc = RC_OK;

    buf_init(&text, 0);
    if (err && errlen)
        err[0] = '\0';
    const char *slash = strrchr(cf->path, '/');
    if (!slash) {
        set_err(err, errlen,
                "cannot create the configuration directory: the path has no "
                "directory component");
        rc = RC_INVALID;
        goto out;
    }
    size_t dirlen = slash == cf->path ? 1 : (size_t)(slash - cf->path);
    size_t tmplen = dirlen + sizeof(TEMP_PREFIX "XXXXXX" TEMP_SUFFIX);
    if (!(dir = strndup(cf->path, dirlen)) || !(tmp = malloc(tmplen))) {
        rc = RC_NOMEM;
        goto out;
    }
    snprintf(tmp, tmplen, "%s%s", strcmp(dir, "/") == 0 ? "" : dir,
             TEMP_PREFIX "XXXXXX" TEMP_SUFFIX);
    if ((rc = ensure_dir(dir, err, errlen)) != RC_OK)
        goto out;
    if ((rc = toml_dump(cf->doc, &text)) != RC_OK) {
        set_err(err, errlen, "cannot serialize the credentials: %s", rc_message(rc));
        goto out;
    }
    /* mkstemps creates the file with mode 0600 and O_EXCL: no window where others can read. */
    if ((fd = mkstemps(tmp, (int)strlen(TEMP_SUFFIX))) < 0) {
        set_err(err, errlen, "cannot create a temporary file in %s: %s", dir, strerror(errno));
        rc = RC_IO;
        goto out;
    }
    tmp_exists = true;
    if ((rc = write_all(fd, buf_str(&text), text.len, err, errlen)) != RC_OK)
        goto out;
    if (fsync(fd) != 0) {
        set_err(err, errlen, "cannot sync the temporary file: %s", strerror(errno));
        rc = RC_IO;
        goto out;
    }
    int closed = close(fd);
    fd = -1;
    if (closed != 0) {
        set_err(err, errlen, "cannot close the temporary file: %s", strerror(errno));
        rc = RC_IO;
        goto out;
    }
    if (rename(tmp, cf->path) != 0) {
        set_err(err, errlen, "cannot replace the file: %s", strerror(errno));
        rc = RC_IO;
        goto out;
    }
    tmp_exists = false;
    sync_dir(dir);
out:
    if (fd >= 0)
        close(fd);
    if (tmp_exists)
        (void)unlink(tmp);
    free(tmp);
    buf_release_secret(&text);
    free(dir);
    return rc;
}

enum rc credfile_remove_file(const char *path, char *err, size_t errlen)
{
    if (unlink(path) == 0 || errno == ENOENT)
        return RC_OK;
    set_err(err, errlen, "cannot remove it: %s", strerror(errno));
    return RC_IO;
}
