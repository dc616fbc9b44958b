/* tls_test.c: loading an HTTPS certificate/key pair: the key file's permission rule, and each
 * refusal naming the file at fault without printing key material. Pairs are made with GnuTLS
 * in a temporary directory for each test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "http.h"

static char dir[64];

static void write_file(const char *name, const void *data, size_t len, mode_t mode)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    cr_assert_eq(fclose(f), 0);
    cr_assert_eq(chmod(path, mode), 0);
}

/* A new EC key in name.key (0600) and, with cert_name, a self-signed certificate for it. */
static void make_pair(const char *key_name, const char *cert_name)
{
    gnutls_x509_privkey_t key;
    gnutls_datum_t out;
    cr_assert_eq(gnutls_x509_privkey_init(&key), 0);
    cr_assert_eq(gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
                                              GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0),
                 0);
    cr_assert_eq(gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &out), 0);
    write_file(key_name, out.data, out.size, 0600);
    gnutls_free(out.data);
    if (cert_name) {
        gnutls_x509_crt_t crt;
        time_t now = time(NULL);
        cr_assert_eq(gnutls_x509_crt_init(&crt), 0);
        gnutls_x509_crt_set_version(crt, 3);
        gnutls_x509_crt_set_serial(crt, "\x01", 1);
        gnutls_x509_crt_set_activation_time(crt, now - 60);
        gnutls_x509_crt_set_expiration_time(crt, now + 3600);
        gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, "127.0.0.1", 9);
        cr_assert_eq(gnutls_x509_crt_set_key(crt, key), 0);
        cr_assert_eq(gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0), 0);
        cr_assert_eq(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &out), 0);
        write_file(cert_name, out.data, out.size, 0644);
        gnutls_free(out.data);
        gnutls_x509_crt_deinit(crt);
    }
    gnutls_x509_privkey_deinit(key);
}

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/pcc-tls-test-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    make_pair("a.key", "a.pem");
    make_pair("b.key", NULL);
    static const char garbage[] =
        "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n";
    write_file("garbage.pem", garbage, strlen(garbage), 0644);
    write_file("text.key", "hello\n", 6, 0600);
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

static void path_of(const char *name, char *out, size_t size)
{
    snprintf(out, size, "%s/%s", dir, name);
}

TestSuite(http_tls, .init = setup, .fini = teardown);

Test(http_tls, loads_a_matching_pair_and_wipes_on_release)
{
    char cert[128], key[128], err[512] = "";
    path_of("a.pem", cert, sizeof cert);
    path_of("a.key", key, sizeof key);
    struct http_tls tls;
    cr_assert_eq(http_tls_load(&tls, cert, key, err, sizeof err), RC_OK, "%s", err);
    cr_assert(strstr(tls.cert_pem, "BEGIN CERTIFICATE"));
    cr_assert(strstr(tls.key_pem, "PRIVATE KEY"));
    cr_assert_eq(tls.key_len, strlen(tls.key_pem));
    http_tls_release(&tls);
    cr_assert_null(tls.key_pem);
    cr_assert_null(tls.cert_pem);
    cr_assert_eq(tls.key_len, 0);
    http_tls_release(&tls); /* twice is harmless */
}

/* The key file's mode: owner only, or group-read when root owns it. */
Test(http_tls, key_permissions)
{
    static const struct {
        mode_t mode;
        int ok_as_root, ok_as_user;
    } cases[] = {
        {0600, 1, 1}, {0400, 1, 1}, {0640, 1, 0}, {0644, 0, 0},
        {0604, 0, 0}, {0660, 0, 0}, {0620, 0, 0}, {0606, 0, 0},
    };
    char cert[128], key[128];
    path_of("a.pem", cert, sizeof cert);
    path_of("a.key", key, sizeof key);
    int root = geteuid() == 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cr_assert_eq(chmod(key, cases[i].mode), 0);
        char err[512] = "";
        struct http_tls tls;
        enum rc rc = http_tls_load(&tls, cert, key, err, sizeof err);
        int ok = root ? cases[i].ok_as_root : cases[i].ok_as_user;
        cr_assert_eq(rc, ok ? RC_OK : RC_FORBIDDEN, "mode %o: %s", (unsigned)cases[i].mode, err);
        if (!ok) {
            cr_assert(strstr(err, key), "%s", err);
            cr_assert(strstr(err, "must not be readable by group or others (chmod 600 it)"));
            cr_assert_null(tls.key_pem);
        }
        http_tls_release(&tls);
    }
}

Test(http_tls, refusals_name_the_file)
{
    static const struct {
        const char *cert, *key;
        enum rc rc;
        const char *says, *names;
    } cases[] = {
        {"missing.pem", "a.key", RC_NOT_FOUND, "cannot read the TLS certificate", "missing.pem"},
        {"a.pem", "missing.key", RC_NOT_FOUND, "cannot read the TLS key", "missing.key"},
        {"garbage.pem", "a.key", RC_INVALID, "holds no valid PEM certificate", "garbage.pem"},
        {"a.key", "a.key", RC_INVALID, "holds no valid PEM certificate", "a.key"},
        {"a.pem", "text.key", RC_INVALID, "is not an unencrypted PEM private key", "text.key"},
        {"a.pem", "b.key", RC_INVALID, "does not belong to the certificate", "b.key"},
        {".", "a.key", RC_INVALID, "is not a regular file", "/."},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char cert[128], key[128], err[512] = "";
        path_of(cases[i].cert, cert, sizeof cert);
        path_of(cases[i].key, key, sizeof key);
        struct http_tls tls;
        enum rc rc = http_tls_load(&tls, cert, key, err, sizeof err);
        cr_assert_eq(rc, cases[i].rc, "case %zu: %s", i, err);
        cr_assert(strstr(err, cases[i].says), "case %zu: %s", i, err);
        cr_assert(strstr(err, cases[i].names), "case %zu: %s", i, err);
        cr_assert_null(strstr(err, "PRIVATE KEY"), "case %zu: %s", i, err);
        cr_assert_null(tls.cert_pem);
        cr_assert_null(tls.key_pem);
    }
}
