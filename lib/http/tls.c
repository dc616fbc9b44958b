/* tls.c: the certificate and private key of an HTTPS listener: read from PEM files, checked
 * (permissions, parse, matching pair) with GnuTLS before libmicrohttpd sees them, then wiped. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include <sodium.h>

#include "http.h"
#include "banned.h"

int http_tls_supported(void) { return MHD_is_feature_supported(MHD_FEATURE_TLS) == MHD_YES; }

/* The key may be group-readable only when root owns it (0640 root:ssl-cert, Debian's
 * convention, as PostgreSQL allows); otherwise the server secret's rule: owner only. */
static int key_mode_ok(const struct stat *sb)
{
    if (sb->st_mode & 007)
        return 0;
    if (sb->st_mode & 070)
        return sb->st_uid == 0 && !(sb->st_mode & 030);
    return 1;
}

/* Read a whole regular file of at most HTTP_TLS_MAX_FILE_BYTES into a NUL-terminated malloc-ed
 * buffer. what names the file in errors ("certificate", "key"); is_key applies key_mode_ok. */
static enum rc read_pem(const char *path, const char *what, int is_key, char **out, size_t *len,
                        char *err, size_t errlen)
{
    enum rc rc = RC_OK;
    char *data = NULL;
    size_t used = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        snprintf(err, errlen, "cannot read the TLS %s %s: %s", what, path, strerror(errno));
        return errno == ENOENT ? RC_NOT_FOUND : RC_IO;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        snprintf(err, errlen, "the TLS %s %s is not a regular file", what, path);
        rc = RC_INVALID;
        goto out;
    }
    if (is_key && !key_mode_ok(&sb)) {
        snprintf(err, errlen,
                 "the TLS key %s must not be readable by group or others "
                 "(chmod 600 it)",
                 path);
        rc = RC_FORBIDDEN;
        goto out;
    }
    if ((size_t)sb.st_size > HTTP_TLS_MAX_FILE_BYTES) {
        snprintf(err, errlen, "the TLS %s %s is larger than %zu bytes", what, path,
                 HTTP_TLS_MAX_FILE_BYTES);
        rc = RC_INVALID;
        goto out;
    }
    /* One byte more than the size, so a file that grew meanwhile is seen, and for the NUL. */
    size_t cap = (size_t)sb.st_size + 1;
    if (!(data = malloc(cap + 1))) {
        rc = RC_NOMEM;
        goto out;
    }
    for (;;) {
        ssize_t n = read(fd, data + used, cap - used);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, errlen, "cannot read the TLS %s %s: %s", what, path, strerror(errno));
            rc = RC_IO;
            goto out;
        }
        if (n == 0)
            break;
        used += (size_t)n;
        if (used == cap) {
            snprintf(err, errlen, "the TLS %s %s changed while being read", what, path);
            rc = RC_IO;
            goto out;
        }
    }
    data[used] = '\0';
    if (used == 0 || strlen(data) != used) {
        snprintf(err, errlen, "the TLS %s %s is not a PEM file", what, path);
        rc = RC_INVALID;
        goto out;
    }
    *out = data;
    *len = used;
    data = NULL;
out:
    if (data) {
        sodium_memzero(data, cap + 1);
        free(data);
    }
    close(fd);
    return rc;
}

/* Parse both files on their own, then as a pair, so an error names the file at fault.
 * GnuTLS's messages describe the failure, never the bytes. */
static enum rc check_pair(const struct http_tls *tls, const char *cert_path, const char *key_path,
                          char *err, size_t errlen)
{
    enum rc rc = RC_OK;
    gnutls_datum_t cert = {(unsigned char *)tls->cert_pem, (unsigned)tls->cert_len};
    gnutls_datum_t key = {(unsigned char *)tls->key_pem, (unsigned)tls->key_len};
    gnutls_x509_crt_t *certs = NULL;
    unsigned cert_count = 0;
    gnutls_x509_privkey_t pk = NULL;
    gnutls_certificate_credentials_t cred = NULL;

    int g = gnutls_x509_crt_list_import2(&certs, &cert_count, &cert, GNUTLS_X509_FMT_PEM, 0);
    if (g < 0 || cert_count == 0) {
        snprintf(err, errlen, "the TLS certificate %s holds no valid PEM certificate: %s",
                 cert_path, g < 0 ? gnutls_strerror(g) : "none found");
        rc = RC_INVALID;
        goto out;
    }
    if (gnutls_x509_privkey_init(&pk) < 0) {
        rc = RC_NOMEM;
        goto out;
    }
    g = gnutls_x509_privkey_import2(pk, &key, GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN);
    if (g < 0) {
        snprintf(err, errlen, "the TLS key %s is not an unencrypted PEM private key: %s", key_path,
                 gnutls_strerror(g));
        rc = RC_INVALID;
        goto out;
    }
    if (gnutls_certificate_allocate_credentials(&cred) < 0) {
        rc = RC_NOMEM;
        goto out;
    }
    g = gnutls_certificate_set_x509_key_mem2(cred, &cert, &key, GNUTLS_X509_FMT_PEM, NULL, 0);
    if (g == GNUTLS_E_CERTIFICATE_KEY_MISMATCH) {
        snprintf(err, errlen, "the TLS key %s does not belong to the certificate %s", key_path,
                 cert_path);
        rc = RC_INVALID;
    } else if (g < 0) {
        snprintf(err, errlen, "the TLS certificate %s and key %s cannot be used together: %s",
                 cert_path, key_path, gnutls_strerror(g));
        rc = RC_INVALID;
    }
out:
    if (cred)
        gnutls_certificate_free_credentials(cred);
    if (pk)
        gnutls_x509_privkey_deinit(pk);
    for (unsigned i = 0; i < cert_count; i++)
        gnutls_x509_crt_deinit(certs[i]);
    gnutls_free(certs);
    return rc;
}

enum rc http_tls_load(struct http_tls *tls, const char *cert_path, const char *key_path, char *err,
                      size_t errlen)
{
    memset(tls, 0, sizeof *tls);
    enum rc rc = read_pem(cert_path, "certificate", 0, &tls->cert_pem, &tls->cert_len, err, errlen);
    if (rc == RC_OK)
        rc = read_pem(key_path, "key", 1, &tls->key_pem, &tls->key_len, err, errlen);
    if (rc == RC_OK)
        rc = check_pair(tls, cert_path, key_path, err, errlen);
    if (rc != RC_OK)
        http_tls_release(tls);
    return rc;
}

void http_tls_release(struct http_tls *tls)
{
    if (!tls)
        return;
    if (tls->key_pem) {
        sodium_memzero(tls->key_pem, tls->key_len);
        free(tls->key_pem);
    }
    free(tls->cert_pem);
    memset(tls, 0, sizeof *tls);
}
