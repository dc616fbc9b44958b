/* keyfile.c: the server secret that keys every credential digest, kept outside the database. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "auth.h"
#include "banned.h"

enum rc auth_key_create(const char *path, char *err, size_t errlen)
{
    unsigned char raw[DIGEST_KEY_LEN];
    char hex[DIGEST_KEY_LEN * 2 + 2];
    enum rc rc = RC_OK;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
        return errno == EEXIST ? RC_CONFLICT : RC_IO;
    }
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
    size_t len = strlen(hex);
    hex[len++] = '\n';
    if (write(fd, hex, len) != (ssize_t)len || fsync(fd) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        rc = RC_IO;
    }
    close(fd);
    if (rc != RC_OK)
        unlink(path);
    sodium_memzero(raw, sizeof raw);
    sodium_memzero(hex, sizeof hex);
    return rc;
}

enum rc auth_key_load(const char *path, struct digest_key *key, char *err, size_t errlen)
{
    char hex[DIGEST_KEY_LEN * 2 + 8];
    enum rc rc = RC_OK;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot read the server secret %s: %s", path, strerror(errno));
        return errno == ENOENT ? RC_NOT_FOUND : RC_IO;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || (sb.st_mode & 077)) {
        snprintf(err, errlen,
                 "the server secret %s must not be readable by group or others "
                 "(chmod 600 it)",
                 path);
        close(fd);
        return RC_FORBIDDEN;
    }
    ssize_t n = read(fd, hex, sizeof hex - 1);
    close(fd);
    size_t bin_len = 0;
    if (n < DIGEST_KEY_LEN * 2 ||
        sodium_hex2bin(key->bytes, sizeof key->bytes, hex, (size_t)n, "\n", &bin_len, NULL) != 0 ||
        bin_len != DIGEST_KEY_LEN) {
        snprintf(err, errlen, "the server secret %s is not %d hex-encoded bytes", path,
                 DIGEST_KEY_LEN);
        rc = RC_INVALID;
    }
    sodium_memzero(hex, sizeof hex);
    return rc;
}
