/* credfile_test.c: the CLI credentials file on a real filesystem (a fresh temp dir per test):
 * permission repair, directory creation, atomic save, data we do not know kept on rewrite,
 * and the reference client's update_user_config semantics (bytes checked against Python toml).
 * Run from the repo root, or -DPCC_SOURCE_DIR. */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE 1 /* mkdtemp, lstat, scandir */
#endif
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "credfile.h"

#include "banned.h"

#ifndef PCC_SOURCE_DIR
#define PCC_SOURCE_DIR "."
#endif
#define FIXTURE_DIR PCC_SOURCE_DIR "/tests/unit/fixtures/toml/"

/* Each Criterion test runs in its own process, so this is per test. */
static char tmpdir[64];

static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/pcc-credfile-XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
    umask(022);
}

static void remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        chmod(path, 0700);
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char child[1024];
            snprintf(child, sizeof(child), "%s/%s", path, e->d_name);
            remove_tree(child);
        }
        if (d)
            closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static void cleanup(void) { remove_tree(tmpdir); }

TestSuite(credfile, .init = make_tmpdir, .fini = cleanup);

static const char *in_tmp(const char *name)
{
    static char bufs[4][512];
    static int next;
    char *p = bufs[next++ % 4];
    snprintf(p, 512, "%s/%s", tmpdir, name);
    return p;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    fputs(text, f);
    fclose(f);
    cr_assert_eq(chmod(path, mode), 0);
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    char *data = calloc(1, 1 << 16);
    size_t n = fread(data, 1, (1 << 16) - 1, f);
    data[n] = '\0';
    fclose(f);
    return data;
}

static mode_t mode_of(const char *path)
{
    struct stat st;
    cr_assert_eq(stat(path, &st), 0, "%s: %s", path, strerror(errno));
    return st.st_mode & 07777;
}

/* Visible names and temp files in dir, sorted, one per line: "pipecatcloud.toml\n". */
static char *list_dir(const char *dir)
{
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    cr_assert_geq(n, 0);
    size_t size = 4096, used = 0;
    char *out = calloc(1, size);
    for (int i = 0; i < n; i++) {
        const char *name = names[i]->d_name;
        if (name[0] != '.' || strncmp(name, ".pipecatcloud_", 14) == 0)
            used += (size_t)snprintf(out + used, size - used, "%s\n", name);
        cr_assert_lt(used, size);
        free(names[i]);
    }
    free(names);
    return out;
}

static struct credfile *load_ok(const char *path, int *repaired)
{
    struct credfile *cf = NULL;
    char err[512] = "";
    enum rc rc = credfile_load(path, &cf, repaired, err, sizeof(err));
    cr_assert_eq(rc, RC_OK, "load %s: %s (%s)", path, err, rc_name(rc));
    cr_assert_not_null(cf);
    return cf;
}

static void save_ok(struct credfile *cf)
{
    char err[512] = "";
    enum rc rc = credfile_save(cf, err, sizeof(err));
    cr_assert_eq(rc, RC_OK, "save: %s (%s)", err, rc_name(rc));
}

Test(credfile, missing_file_is_an_empty_document)
{
    int repaired = 7;
    double at = 1;
    struct credfile *cf = load_ok(in_tmp("no/such/dir/pipecatcloud.toml"), &repaired);
    cr_assert_eq(repaired, 0);
    cr_assert_null(credfile_get(cf, "token"));
    cr_assert_null(credfile_get(cf, "org"));
    cr_assert_not(credfile_token_expires_at(cf, &at));
    cr_assert_null(credfile_org_get(cf, "default_public_key"));
    credfile_free(cf);
    credfile_free(NULL);
    free(list_dir(tmpdir));
    cr_assert_eq(access(in_tmp("no"), F_OK), -1, "loading creates nothing");
}

Test(credfile, reads_the_reference_clients_files)
{
    const char *path = in_tmp("pipecatcloud.toml");
    char *pat = read_file(FIXTURE_DIR "credentials_pat.toml");
    write_file(path, pat, 0600);
    int repaired = 7;
    double at = -1;
    struct credfile *cf = load_ok(path, &repaired);
    cr_assert_eq(repaired, 0, "0600 needs no repair");
    cr_assert_str_eq(credfile_get(cf, "token"), "pcc_pat_0123456789abcdef0123456789abcdef");
    cr_assert_str_eq(credfile_get(cf, "org"), "acme");
    cr_assert_str_eq(credfile_get(cf, "refresh_token"), "");
    cr_assert(credfile_token_expires_at(cf, &at), "an integer 0 is accepted");
    cr_assert_eq(at, 0.0);
    cr_assert_str_eq(credfile_org_get(cf, "default_public_key"), "pk_7f3c9a");
    cr_assert_str_eq(credfile_org_get(cf, "default_public_key_name"), "Pipecat Key");
    cr_assert_null(credfile_org_get(cf, "token"));
    cr_assert_null(credfile_get(cf, "acme"), "a table is not a string");
    credfile_free(cf);
    free(pat);

    char *oauth = read_file(FIXTURE_DIR "credentials_oauth.toml");
    write_file(path, oauth, 0600);
    cf = load_ok(path, NULL);
    cr_assert(credfile_token_expires_at(cf, &at));
    cr_assert_eq(at, 1732700000.123456);
    cr_assert_str_eq(credfile_get(cf, "org"), "my org");
    cr_assert_str_eq(credfile_org_get(cf, "default_public_key"), "pk_2", "the file's org");
    credfile_free(cf);
    free(oauth);

    write_file(path, "token_expires_at = \"soon\"\n", 0600);
    cf = load_ok(path, NULL);
    cr_assert_not(credfile_token_expires_at(cf, &at), "a string is not a time");
    credfile_free(cf);
}

Test(credfile, loose_permissions_are_repaired_and_reported)
{
    const mode_t loose[] = {0644, 0640, 0604, 0660, 0666, 0700, 0610};
    const char *path = in_tmp("pipecatcloud.toml");
    for (size_t i = 0; i < sizeof(loose) / sizeof(loose[0]); i++) {
        write_file(path, "token = \"t\"\n", loose[i]);
        int repaired = 0;
        struct credfile *cf = load_ok(path, &repaired);
        int expect = (loose[i] & 077) != 0;
        cr_assert_eq(repaired, expect, "mode %o", (unsigned)loose[i]);
        cr_assert_eq(mode_of(path), expect ? 0600 : loose[i], "mode %o", (unsigned)loose[i]);
        cr_assert_str_eq(credfile_get(cf, "token"), "t");
        credfile_free(cf);
    }
    /* also repaired when the content is then rejected: the token is exposed either way */
    write_file(path, "token = \n", 0644);
    struct credfile *cf = NULL;
    int repaired = 0;
    char err[256];
    cr_assert_eq(credfile_load(path, &cf, &repaired, err, sizeof(err)), RC_PARSE);
    cr_assert_eq(repaired, 1);
    cr_assert_eq(mode_of(path), 0600);
}

Test(credfile, invalid_toml_is_rejected_and_the_file_left_alone)
{
    const char *path = in_tmp("pipecatcloud.toml");
    const char *text = "token = \"a\"\n\ntoken = \"b\"\n";
    write_file(path, text, 0600);
    struct credfile *cf = (struct credfile *)&cf;
    char err[256] = "";
    cr_assert_eq(credfile_load(path, &cf, NULL, err, sizeof(err)), RC_PARSE);
    cr_assert_null(cf);
    cr_assert(strstr(err, "line 3: duplicate key \"token\"") != NULL, "%s", err);
    char *after = read_file(path);
    cr_assert_str_eq(after, text);
    cr_assert_eq(mode_of(path), 0600);
    free(after);
}

Test(credfile, top_level_values_other_than_the_four_are_rejected)
{
    const char *path = in_tmp("pipecatcloud.toml");
    write_file(path, "token = \"t\"\ndashboard_host = \"x\"\n[acme]\nk = 1\n", 0600);
    struct credfile *cf = NULL;
    char err[256] = "";
    cr_assert_eq(credfile_load(path, &cf, NULL, err, sizeof(err)), RC_PARSE);
    cr_assert_null(cf);
    cr_assert(strstr(err, "\"dashboard_host\"") != NULL, "%s", err);
    cr_assert(strstr(err, "must be a table") != NULL, "%s", err);

    /* the four known keys and any table are fine, whatever they hold */
    write_file(path, "org = \"o\"\ntoken_expires_at = 1.5\n[anything]\n[x.y]\nz = [1]\n", 0600);
    cf = load_ok(path, NULL);
    credfile_free(cf);
}

Test(credfile, not_a_regular_file_is_an_error)
{
    struct credfile *cf = NULL;
    char err[256] = "";
    cr_assert_eq(mkdir(in_tmp("dir.toml"), 0700), 0);
    cr_assert_eq(credfile_load(in_tmp("dir.toml"), &cf, NULL, err, sizeof(err)), RC_IO);
    cr_assert(strstr(err, "not a regular file") != NULL, "%s", err);
    cr_assert_null(cf);
}

Test(credfile, save_creates_missing_directories_0700_and_the_file_0600)
{
    umask(0); /* the modes must not depend on the caller's umask */
    const char *path = in_tmp("home/.config/pipecatcloud/pipecatcloud.toml");
    struct credfile *cf = load_ok(path, NULL);
    cr_assert_eq(credfile_set_token(cf, "pcc_pat_x"), RC_OK);
    save_ok(cf);
    cr_assert_eq(mode_of(in_tmp("home")), 0700);
    cr_assert_eq(mode_of(in_tmp("home/.config")), 0700);
    cr_assert_eq(mode_of(in_tmp("home/.config/pipecatcloud")), 0700);
    cr_assert_eq(mode_of(path), 0600);
    char *text = read_file(path);
    cr_assert_str_eq(text, "token = \"pcc_pat_x\"\n");
    free(text);
    credfile_free(cf);
}

Test(credfile, save_leaves_an_existing_directory_mode_alone)
{
    const char *dir = in_tmp("shared");
    cr_assert_eq(mkdir(dir, 0755), 0);
    cr_assert_eq(chmod(dir, 0755), 0);
    struct credfile *cf = load_ok(in_tmp("shared/pipecatcloud.toml"), NULL);
    cr_assert_eq(credfile_set_token(cf, "t"), RC_OK);
    save_ok(cf);
    cr_assert_eq(mode_of(dir), 0755);
    cr_assert_eq(mode_of(in_tmp("shared/pipecatcloud.toml")), 0600);
    credfile_free(cf);
}

Test(credfile, save_is_atomic_and_leaves_no_temp_file)
{
    const char *path = in_tmp("pipecatcloud.toml");
    write_file(path, "token = \"old\"\n", 0644);
    struct credfile *cf = load_ok(path, NULL);
    for (int i = 0; i < 3; i++) {
        char token[32];
        snprintf(token, sizeof(token), "tok%d", i);
        cr_assert_eq(credfile_set_token(cf, token), RC_OK);
        save_ok(cf);
        char *names = list_dir(tmpdir);
        cr_assert_str_eq(names, "pipecatcloud.toml\n");
        free(names);
    }
    cr_assert_eq(mode_of(path), 0600, "the replacement file is 0600");
    char *text = read_file(path);
    cr_assert_str_eq(text, "token = \"tok2\"\n");
    free(text);
    credfile_free(cf);
}

Test(credfile, unknown_tables_and_keys_survive_a_rewrite)
{
    const char *path = in_tmp("pipecatcloud.toml");
    write_file(path,
               "# my creds\norg = \"acme\"   # active\ntoken = 'pcc_pat_abc'\n\n[other-tool]\n"
               "setting = [1, 2]\nnested.key = \"kept\"\n\n[acme]\ndefault_public_key = \"pk_1\"\n",
               0600);
    struct credfile *cf = load_ok(path, NULL);
    cr_assert_eq(credfile_set_token(cf, "pcc_pat_new"), RC_OK);
    save_ok(cf);
    credfile_free(cf);
    /* Python: d = toml.loads(src); d["token"] = "pcc_pat_new"; toml.dumps(d) */
    char *text = read_file(path);
    cr_assert_str_eq(text, "org = \"acme\"\ntoken = \"pcc_pat_new\"\n\n[other-tool]\n"
                           "setting = [ 1, 2,]\n\n[acme]\ndefault_public_key = \"pk_1\"\n\n"
                           "[other-tool.nested]\nkey = \"kept\"\n");
    free(text);

    /* the reference client's own file comes back byte for byte after a no-op rewrite */
    char *oauth = read_file(FIXTURE_DIR "credentials_oauth.toml");
    write_file(path, oauth, 0600);
    cf = load_ok(path, NULL);
    save_ok(cf);
    credfile_free(cf);
    text = read_file(path);
    cr_assert_str_eq(text, oauth);
    free(text);
    free(oauth);
}

/* `pcc auth use-pat` then `pcc keys use` through the setters, in the reference's order, gives
 * exactly the file the reference client writes (fixture made with Python toml). */
Test(credfile, setters_follow_update_user_config)
{
    const char *path = in_tmp("pipecatcloud.toml");
    struct credfile *cf = load_ok(path, NULL);
    cr_assert_eq(credfile_set_token(cf, "pcc_pat_0123456789abcdef0123456789abcdef"), RC_OK);
    cr_assert_eq(credfile_set_active_org(cf, "acme"), RC_OK);
    cr_assert_eq(credfile_set_refresh_token(cf, ""), RC_OK);
    cr_assert_eq(credfile_set_token_expires_at(cf, 0), RC_OK);
    cr_assert_eq(credfile_org_set(cf, "acme", "default_public_key", "pk_7f3c9a"), RC_OK);
    cr_assert_eq(credfile_org_set(cf, "acme", "default_public_key_name", "Pipecat Key"), RC_OK);
    save_ok(cf);
    char *want = read_file(FIXTURE_DIR "credentials_pat.toml");
    char *text = read_file(path);
    cr_assert_str_eq(text, want);
    free(text);
    free(want);

    /* falsy token and NULLs change nothing; "" and 0 are written */
    cr_assert_eq(credfile_set_token(cf, ""), RC_OK);
    cr_assert_eq(credfile_set_token(cf, NULL), RC_OK);
    cr_assert_eq(credfile_set_refresh_token(cf, NULL), RC_OK);
    cr_assert_eq(credfile_set_active_org(cf, ""), RC_OK);
    cr_assert_eq(credfile_set_active_org(cf, NULL), RC_OK);
    cr_assert_str_eq(credfile_get(cf, "token"), "pcc_pat_0123456789abcdef0123456789abcdef");
    cr_assert_str_eq(credfile_get(cf, "org"), "acme");

    /* an OAuth login: float expiry, refresh token, second org appended after the first */
    cr_assert_eq(credfile_set_token(cf, "oat_1"), RC_OK);
    cr_assert_eq(credfile_set_refresh_token(cf, "ort_1"), RC_OK);
    cr_assert_eq(credfile_set_token_expires_at(cf, 1732700000.123456), RC_OK);
    cr_assert_eq(credfile_set_active_org(cf, "beta org"), RC_OK);
    cr_assert_eq(credfile_org_set(cf, "acme", "default_public_key_name", NULL), RC_OK);
    save_ok(cf);
    text = read_file(path);
    /* Python: the dict above with those updates and the key deleted, through toml.dumps */
    cr_assert_str_eq(text, "token = \"oat_1\"\norg = \"beta org\"\nrefresh_token = \"ort_1\"\n"
                           "token_expires_at = 1732700000.123456\n\n[acme]\n"
                           "default_public_key = \"pk_7f3c9a\"\n\n[\"beta org\"]\n");
    free(text);
    double at;
    cr_assert(credfile_token_expires_at(cf, &at));
    cr_assert_eq(at, 1732700000.123456);
    cr_assert_null(credfile_org_get(cf, "default_public_key"), "beta org has no key yet");
    credfile_free(cf);
}

Test(credfile, org_names_that_clash_with_top_level_keys)
{
    struct credfile *cf = load_ok(in_tmp("pipecatcloud.toml"), NULL);
    cr_assert_eq(credfile_set_token(cf, "t"), RC_OK);
    /* like the reference: org = "token" is recorded, but no section replaces the token */
    cr_assert_eq(credfile_set_active_org(cf, "token"), RC_OK);
    cr_assert_str_eq(credfile_get(cf, "token"), "t");
    cr_assert_str_eq(credfile_get(cf, "org"), "token");
    cr_assert_null(credfile_org_get(cf, "default_public_key"));
    cr_assert_eq(credfile_org_set(cf, "token", "k", "v"), RC_CONFLICT);
    cr_assert_eq(credfile_org_set(cf, "token", "k", NULL), RC_CONFLICT);
    cr_assert_eq(credfile_org_set(cf, "", "k", "v"), RC_INVALID);
    cr_assert_eq(credfile_org_set(cf, "ghost", "k", NULL), RC_OK, "removing from nothing");
    cr_assert_eq(credfile_set_token(cf, "bad \xff"), RC_INVALID);
    credfile_free(cf);
}

Test(credfile, failed_write_keeps_the_old_file_and_no_temp_file)
{
    const char *path = in_tmp("pipecatcloud.toml");
    const char *old = "token = \"old\"\n";
    write_file(path, old, 0600);
    struct credfile *cf = load_ok(path, NULL);
    cr_assert_eq(credfile_set_token(cf, "a-token-long-enough-to-pass-the-file-size-limit"), RC_OK);
    /* files may not grow past 16 bytes in this process: the temp file write fails */
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit lim = {16, 16};
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
    char err[256] = "";
    cr_assert_eq(credfile_save(cf, err, sizeof(err)), RC_IO);
    cr_assert(strstr(err, "cannot write the temporary file") != NULL, "%s", err);
    char *text = read_file(path);
    cr_assert_str_eq(text, old);
    free(text);
    char *names = list_dir(tmpdir);
    cr_assert_str_eq(names, "pipecatcloud.toml\n", "the temp file was removed");
    free(names);
    credfile_free(cf);
}

Test(credfile, failed_rename_leaves_no_temp_file)
{
    const char *path = in_tmp("pipecatcloud.toml");
    struct credfile *cf = load_ok(path, NULL);
    cr_assert_eq(credfile_set_token(cf, "t"), RC_OK);
    cr_assert_eq(mkdir(path, 0700), 0); /* something that cannot be replaced by a file */
    char err[256] = "";
    cr_assert_eq(credfile_save(cf, err, sizeof(err)), RC_IO);
    cr_assert(strstr(err, "cannot replace the file") != NULL, "%s", err);
    char *names = list_dir(tmpdir);
    cr_assert_str_eq(names, "pipecatcloud.toml\n");
    free(names);
    credfile_free(cf);
}

Test(credfile, save_needs_a_directory_component_and_a_directory)
{
    struct credfile *cf = load_ok("pcc-credfile-test-no-such-file.toml", NULL);
    char err[256] = "";
    cr_assert_eq(credfile_save(cf, err, sizeof(err)), RC_INVALID);
    cr_assert(strstr(err, "cannot create the configuration directory") != NULL, "%s", err);
    cr_assert_eq(access("pcc-credfile-test-no-such-file.toml", F_OK), -1);
    credfile_free(cf);

    write_file(in_tmp("plain"), "", 0600);
    cf = load_ok(in_tmp("plain/sub/pipecatcloud.toml"), NULL);
    cr_assert_eq(credfile_save(cf, err, sizeof(err)), RC_IO);
    cr_assert(strstr(err, "plain") != NULL, "%s", err);
    credfile_free(cf);
}

Test(credfile, remove_file)
{
    const char *path = in_tmp("pipecatcloud.toml");
    char err[256] = "";
    write_file(path, "token = \"t\"\n", 0600);
    cr_assert_eq(credfile_remove_file(path, err, sizeof(err)), RC_OK);
    cr_assert_eq(access(path, F_OK), -1);
    cr_assert_eq(credfile_remove_file(path, err, sizeof(err)), RC_OK, "already gone is fine");
    cr_assert_eq(mkdir(path, 0700), 0);
    cr_assert_eq(credfile_remove_file(path, err, sizeof(err)), RC_IO);
    cr_assert(strstr(err, "cannot remove it") != NULL, "%s", err);
}
