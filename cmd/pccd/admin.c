/* admin.c: pccd's bootstrap subcommands (init, migrate, user, org, token), for operators and
 * scripts. Secrets go to stdout alone; everything else goes to stderr. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sodium.h>

#include "admin_options.h"
#include "pccd.h"
#include "text.h"
#include "timefmt.h"
#include "web.h"
#include "banned.h"

void die_msg(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "pccd %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

void settings_from_env(struct pccd_settings *s)
{
    memset(s, 0, sizeof *s);
    s->data_dir = env_or("PCCD_DATA", NULL);
    s->db_url = env_or("PCCD_DATABASE_URL", NULL);
    s->secret_file = env_or("PCCD_SECRET_FILE", NULL);
}

int settings_finish(struct pccd_settings *s, const char *cmd)
{
    if (!s->data_dir && (!s->db_url || !s->secret_file)) {
        die_msg(cmd, "no data directory: give --data DIR (or PCCD_DATA), or both --db and "
                     "--secret-file");
        return 2;
    }
    if (!s->db_url) {
        snprintf(s->db_default, sizeof s->db_default, "sqlite:%s/pcc.db", s->data_dir);
        s->db_url = s->db_default;
    }
    if (!s->secret_file) {
        snprintf(s->secret_default, sizeof s->secret_default, "%s/secret", s->data_dir);
        s->secret_file = s->secret_default;
    }
    return 0;
}

int open_backend(struct pccd_settings *s, struct store **st, struct digest_key *key)
{
    char err[512];
    enum rc rc = auth_key_load(s->secret_file, key, err, sizeof err);
    if (rc != RC_OK) {
        fprintf(stderr, "pccd: %s%s\n", err, rc == RC_NOT_FOUND ? " (run `pccd init` first)" : "");
        return 1;
    }
    if ((rc = store_open(s->db_url, st, err, sizeof err)) != RC_OK) {
        fprintf(stderr, "pccd: cannot open the database: %s\n", err);
        return 1;
    }
    int applied = 0;
    if ((rc = store_migrate(*st, &applied, err, sizeof err)) != RC_OK) {
        fprintf(stderr, "pccd: migration failed: %s\n", err);
        store_close(*st);
        *st = NULL;
        return 1;
    }
    if (applied)
        fprintf(stderr, "pccd: applied %d migration(s)\n", applied);
    /* Migration 0010 set aside the Daily API keys an earlier pccd stored in plaintext; only
     * a process holding the server secret can seal them, so every command does it here. */
    int sealed = 0;
    if ((rc = auth_daily_keys_seal_legacy(*st, key, &sealed)) != RC_OK) {
        fprintf(stderr, "pccd: cannot seal the stored Daily API keys: %s\n", store_last_error(*st));
        sodium_memzero(key, sizeof *key);
        store_close(*st);
        *st = NULL;
        return 1;
    }
    if (sealed)
        fprintf(stderr,
                "pccd: sealed %d Daily API key(s) stored in plaintext by an earlier "
                "version\n",
                sealed);
    return 0;
}

int common_option(int c, struct pccd_settings *s)
{
    switch (c) {
    case OPT_DATA: s->data_dir = optarg; return 1;
    case OPT_DB: s->db_url = optarg; return 1;
    case OPT_SECRET: s->secret_file = optarg; return 1;
    default: return 0;
    }
}

static int64_t now(void) { return (int64_t)time(NULL); }

int cmd_init(int argc, char **argv)
{
    static const struct option opts[] = {COMMON_OPTIONS, {0, 0, 0, 0}};
    static const char help[] = "usage: pccd init --data DIR\n\n"
                               "Create DIR (mode 0700) with a server secret (0600) and an "
                               "initialised database.\nSafe to run again: existing files are "
                               "kept and pending migrations applied.\n\n" COMMON_HELP;
    struct pccd_settings s;
    settings_from_env(&s);
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == OPT_HELP) {
            fputs(help, stdout);
            return 0;
        }
        if (!common_option(c, &s)) {
            fputs(help, stderr);
            return 2;
        }
    }
    if (settings_finish(&s, "init"))
        return 2;
    if (s.data_dir && mkdir(s.data_dir, 0700) != 0 && errno != EEXIST) {
        die_msg("init", "cannot create %s: %s", s.data_dir, strerror(errno));
        return 1;
    }
    char err[512];
    enum rc rc = auth_key_create(s.secret_file, err, sizeof err);
    if (rc == RC_CONFLICT)
        fprintf(stderr, "pccd init: keeping the existing server secret %s\n", s.secret_file);
    else if (rc != RC_OK) {
        die_msg("init", "%s", err);
        return 1;
    } else
        fprintf(stderr, "pccd init: created the server secret %s\n", s.secret_file);
    struct store *st;
    struct digest_key key;
    if (open_backend(&s, &st, &key))
        return 1;
    sodium_memzero(&key, sizeof key);
    store_close(st);
    /* Not the URL itself: a PostgreSQL URL can carry a password. */
    fprintf(stderr, "pccd init: ready (%s)\n",
            strncmp(s.db_url, "postgres", 8) == 0 ? "PostgreSQL" : s.db_url);
    return 0;
}

int cmd_migrate(int argc, char **argv)
{
    static const struct option opts[] = {COMMON_OPTIONS, {0, 0, 0, 0}};
    static const char help[] = "usage: pccd migrate --data DIR\n\n"
                               "Apply pending database migrations (pccd serve also does this "
                               "on start).\n\n" COMMON_HELP;
    struct pccd_settings s;
    settings_from_env(&s);
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == OPT_HELP) {
            fputs(help, stdout);
            return 0;
        }
        if (!common_option(c, &s)) {
            fputs(help, stderr);
            return 2;
        }
    }
    if (settings_finish(&s, "migrate"))
        return 2;
    struct store *st;
    struct digest_key key;
    if (open_backend(&s, &st, &key))
        return 1;
    sodium_memzero(&key, sizeof key);
    store_close(st);
    fprintf(stderr, "pccd migrate: schema is up to date\n");
    return 0;
}


/* user add for someone already in the organization: nothing to do when --role is absent or
 * equal; otherwise the role changes (refused when it would leave the organization without an
 * admin). Returns the exit status. */
static int keep_or_change_role(struct store *st, struct auth *auth, const char *email,
                               const struct store_user *user, const struct store_org *current,
                               const char *role)
{
    if (!role || strcmp(role, current->role) == 0) {
        fprintf(stderr, "pccd user add: %s is already %s of organization %s\n", email,
                current->role, current->name);
        return 0;
    }
    enum rc rc = store_membership_change(st, current->id, user->id, role);
    if (rc == RC_FORBIDDEN) {
        die_msg("user add",
                "%s is the last admin of organization %s; make another member "
                "admin first",
                email, current->name);
        return 1;
    }
    if (rc != RC_OK) {
        die_msg("user add", "cannot change the role: %s", store_last_error(st));
        return 1;
    }
    char detail[128];
    snprintf(detail, sizeof detail, "{\"userId\":\"%s\",\"role\":\"%s\",\"was\":\"%s\"}", user->id,
             role, current->role);
    auth_audit(auth, "membership.role_changed", user->id, NULL, current->id, "admin-cli", detail);
    fprintf(stderr, "pccd user add: %s is now %s of organization %s (was %s)\n", email, role,
            current->name, current->role);
    return 0;
}

/* Find or create the organization slug; *created tells which. */
static enum rc ensure_org(struct store *st, const char *slug, const char *verbose,
                          struct store_org *org, int *created)
{
    *created = 0;
    enum rc rc = store_org_by_name(st, slug, org);
    if (rc != RC_NOT_FOUND)
        return rc;
    memset(org, 0, sizeof *org);
    token_new_id("org_", org->id);
    store_copy_field(org->name, sizeof org->name, slug);
    store_copy_field(org->verbose_name, sizeof org->verbose_name, verbose ? verbose : slug);
    org->created_at = now();
    rc = store_org_create(st, org);
    if (rc == RC_OK)
        *created = 1;
    return rc;
}

static int user_add(int argc, char **argv)
{
    enum { OPT_EMAIL = 1, OPT_NAME, OPT_ORG, OPT_ORG_NAME, OPT_ROLE, OPT_JOIN };
    static const struct option opts[] = {COMMON_OPTIONS,
                                         {"email", required_argument, NULL, OPT_EMAIL},
                                         {"name", required_argument, NULL, OPT_NAME},
                                         {"org", required_argument, NULL, OPT_ORG},
                                         {"org-name", required_argument, NULL, OPT_ORG_NAME},
                                         {"role", required_argument, NULL, OPT_ROLE},
                                         {"join", no_argument, NULL, OPT_JOIN},
                                         {0, 0, 0, 0}};
    static const char help[] =
        "usage: pccd user add --data DIR --email EMAIL [--name NAME] [--org SLUG [--join]]\n"
        "                     [--org-name NAME] [--role admin|member]\n\n"
        "Create a user (or reuse the one with that email) and, with --org, make them a member\n"
        "of organization SLUG, creating it (named --org-name) if missing. The creator of a new\n"
        "organization is its admin. Adding someone to an organization that exists already\n"
        "needs --join (so a typo or a slug someone else took is not joined by accident), and\n"
        "uses --role (default member). Someone already in the organization keeps their role\n"
        "unless --role names another (never leaving the organization without an admin).\n"
        "Users made here count as having verified their address. An account made by open\n"
        "sign-up is added to an organization only once its owner has verified the address.\n\n"
        "  --email EMAIL       the user's email address\n"
        "  --name NAME         display name\n"
        "  --org SLUG          organization slug: lowercase letters, digits and '-'\n"
        "  --join              SLUG may exist already: join it\n"
        "  --org-name NAME     the organization's display name (default: the slug)\n"
        "  --role ROLE         admin or member\n" COMMON_HELP;
    struct pccd_settings s;
    settings_from_env(&s);
    const char *email = NULL, *name = "", *org_slug = NULL, *org_name = NULL, *role = NULL;
    int c, join = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case OPT_HELP: fputs(help, stdout); return 0;
        case OPT_JOIN: join = 1; break;
        case OPT_EMAIL: email = optarg; break;
        case OPT_NAME: name = optarg; break;
        case OPT_ORG: org_slug = optarg; break;
        case OPT_ORG_NAME: org_name = optarg; break;
        case OPT_ROLE: role = optarg; break;
        default:
            if (!common_option(c, &s)) {
                fputs(help, stderr);
                return 2;
            }
        }
    }
    if (!email || !text_is_email(email)) {
        die_msg("user add", email ? "'%s' is not an email address" : "--email is required", email);
        return 2;
    }
    if (org_slug && !text_is_slug(org_slug)) {
        die_msg("user add",
                "organization slug '%s' must be 1-63 lowercase letters, digits or "
                "'-', starting with a letter or digit",
                org_slug);
        return 2;
    }
    if (role && strcmp(role, "admin") != 0 && strcmp(role, "member") != 0) {
        die_msg("user add", "--role must be admin or member");
        return 2;
    }
    if (strlen(name) > 100 || !text_is_clean_utf8(name, strlen(name)) ||
        (org_name && (strlen(org_name) > 100 || !text_is_clean_utf8(org_name, strlen(org_name))))) {
        die_msg("user add", "names must be at most 100 characters of text");
        return 2;
    }
    if (settings_finish(&s, "user add"))
        return 2;
    struct store *st;
    struct digest_key key;
    if (open_backend(&s, &st, &key))
        return 1;
    struct auth auth;
    if (auth_init(&auth, st, &key, NULL) != RC_OK) {
        sodium_memzero(&key, sizeof key);
        store_close(st);
        return 1;
    }
    sodium_memzero(&key, sizeof key);
    int status = 1;
    struct store_user user;
    enum rc rc = store_user_by_email(st, email, &user);
    if (rc == RC_NOT_FOUND) {
        memset(&user, 0, sizeof user);
        token_new_id("usr_", user.id);
        store_copy_field(user.email, sizeof user.email, email);
        store_copy_field(user.name, sizeof user.name, name);
        user.created_at = now();
        rc = store_user_create(st, &user);
        if (rc == RC_OK)
            fprintf(stderr, "pccd user add: created user %s (%s)\n", email, user.id);
    } else if (rc == RC_OK) {
        fprintf(stderr, "pccd user add: user %s already exists (%s)\n", email, user.id);
    }
    if (rc != RC_OK) {
        die_msg("user add", "cannot create the user: %s", store_last_error(st));
        goto out;
    }
    if (org_slug) {
        struct store_org org, current;
        int created = 0;
        rc = store_org_by_name(st, org_slug, &org);
        if (rc != RC_OK && rc != RC_NOT_FOUND) {
            die_msg("user add", "cannot read the organization: %s", store_last_error(st));
            goto out;
        }
        /* Already a member: keep the role unless --role asks for another, and change it
         * through the path that keeps the organization's last admin. Running the same
         * `user add` twice (make run does) must not demote anyone. */
        if (rc == RC_OK && store_org_for_member(st, user.id, org.name, &current) == RC_OK) {
            status = keep_or_change_role(st, &auth, email, &user, &current, role);
            goto out;
        }
        if (rc == RC_OK && !join) {
            die_msg("user add",
                    "organization %s exists already: add --join to make %s a "
                    "member of it",
                    org.name, email);
            goto out;
        }
        int verified = 0;
        if ((rc = store_user_email_verified(st, user.id, &verified)) != RC_OK) {
            die_msg("user add", "cannot read the user: %s", store_last_error(st));
            goto out;
        }
        if (!verified) {
            die_msg("user add",
                    "%s signed up on the dashboard and has not verified that address "
                    "yet; it can join an organization once its owner has (the dashboard's "
                    "Invitations page sends a new link)",
                    email);
            goto out;
        }
        if ((rc = ensure_org(st, org_slug, org_name, &org, &created)) != RC_OK) {
            die_msg("user add", "cannot create the organization: %s", store_last_error(st));
            goto out;
        }
        const char *r = role ? role : created ? "admin" : "member";
        if ((rc = store_membership_put(st, user.id, org.id, r, now())) != RC_OK) {
            die_msg("user add", "cannot add the membership: %s", store_last_error(st));
            goto out;
        }
        char detail[96];
        snprintf(detail, sizeof detail, "{\"userId\":\"%s\",\"role\":\"%s\"}", user.id, r);
        auth_audit(&auth, "membership.added", user.id, NULL, org.id, "admin-cli", detail);
        fprintf(stderr, "pccd user add: %s is %s of organization %s%s\n", email, r, org.name,
                created ? " (created)" : "");
    }
    status = 0;
out:
    auth_release(&auth);
    store_close(st);
    return status;
}

/* pccd user passwd: set a user's dashboard password from the first line of stdin (never from
 * argv, where other users of the machine could read it), hashed like sign-up (Argon2id). */
static int user_passwd(int argc, char **argv)
{
    enum { OPT_EMAIL = 1 };
    static const struct option opts[] = {
        COMMON_OPTIONS, {"email", required_argument, NULL, OPT_EMAIL}, {0, 0, 0, 0}};
    static const char help[] =
        "usage: pccd user passwd --data DIR --email EMAIL < password-file\n\n"
        "Set the dashboard password of the user with that email. The password is the first line\n"
        "of standard input (its newline removed), never an argument; 8 to 1024 characters.\n"
        "It is stored as an Argon2id hash, as at sign-up.\n\n"
        "  --email EMAIL       the user's email address\n" COMMON_HELP;
    struct pccd_settings s;
    settings_from_env(&s);
    const char *email = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case OPT_HELP: fputs(help, stdout); return 0;
        case OPT_EMAIL: email = optarg; break;
        default:
            if (!common_option(c, &s)) {
                fputs(help, stderr);
                return 2;
            }
        }
    }
    if (optind < argc) {
        die_msg("user passwd", "unexpected argument (the password is read from stdin)");
        return 2;
    }
    if (!email || !text_is_email(email)) {
        die_msg("user passwd", email ? "'%s' is not an email address" : "--email is required",
                email);
        return 2;
    }
    if (settings_finish(&s, "user passwd"))
        return 2;
    char pw[WEB_PASSWORD_MAX + 3];
    int status = 1;
    if (!fgets(pw, sizeof pw, stdin)) {
        die_msg("user passwd", "no password on standard input");
        sodium_memzero(pw, sizeof pw);
        return 2;
    }
    size_t len = strcspn(pw, "\r\n");
    int whole_line = pw[len] == '\n' || pw[len] == '\r' || feof(stdin);
    pw[len] = '\0';
    if (!whole_line || len < WEB_PASSWORD_MIN || len > WEB_PASSWORD_MAX ||
        !text_is_clean_utf8(pw, len)) {
        die_msg("user passwd", "the password must be one line of %d to %d characters of text",
                WEB_PASSWORD_MIN, WEB_PASSWORD_MAX);
        sodium_memzero(pw, sizeof pw);
        return 2;
    }
    char hash[STORE_PASSWORD_HASH_SIZE];
    if (crypto_pwhash_str(hash, pw, len, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
        sodium_memzero(pw, sizeof pw);
        die_msg("user passwd", "cannot hash the password (out of memory)");
        return 1;
    }
    sodium_memzero(pw, sizeof pw);
    struct store *st;
    struct digest_key key;
    if (open_backend(&s, &st, &key))
        return 1;
    struct auth auth;
    if (auth_init(&auth, st, &key, NULL) != RC_OK) {
        sodium_memzero(&key, sizeof key);
        store_close(st);
        return 1;
    }
    sodium_memzero(&key, sizeof key);
    struct store_user user;
    enum rc rc = store_user_by_email(st, email, &user);
    if (rc != RC_OK) {
        die_msg("user passwd",
                rc == RC_NOT_FOUND ? "no user %s (create one with `pccd user add`)"
                                   : "cannot read user %s",
                email);
        goto out;
    }
    if ((rc = store_user_set_password(st, user.id, hash)) != RC_OK) {
        die_msg("user passwd", "cannot store the password: %s", store_last_error(st));
        goto out;
    }
    auth_audit(&auth, "user.password_set", user.id, NULL, NULL, "admin-cli", NULL);
    fprintf(stderr, "pccd user passwd: password set for %s\n", email);
    status = 0;
out:
    sodium_memzero(hash, sizeof hash);
    auth_release(&auth);
    store_close(st);
    return status;
}

int cmd_user(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "passwd") == 0)
        return user_passwd(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "add") == 0)
        return user_add(argc - 1, argv + 1);
    fprintf(argc >= 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr,
            "usage: pccd user add --data DIR --email EMAIL [--org SLUG] ...\n"
            "       pccd user passwd --data DIR --email EMAIL < password-file\n"
            "Run `pccd user add --help` or `pccd user passwd --help` for details.\n");
    return argc >= 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2;
}

static int org_daily_key(int argc, char **argv)
{
    enum { OPT_ORG = 1, OPT_CLEAR };
    static const struct option opts[] = {COMMON_OPTIONS,
                                         {"org", required_argument, NULL, OPT_ORG},
                                         {"clear", no_argument, NULL, OPT_CLEAR},
                                         {0, 0, 0, 0}};
    static const char help[] =
        "usage: pccd org daily-key --data DIR --org SLUG [--clear] < keyfile\n\n"
        "Set the organization's Daily API key (read from the first line of standard input, so\n"
        "it never appears in a process list or shell history), or remove it with --clear.\n\n"
        "  --org SLUG          the organization\n"
        "  --clear             remove the key\n" COMMON_HELP;
    struct pccd_settings s;
    settings_from_env(&s);
    const char *slug = NULL;
    int clear = 0, c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case OPT_HELP: fputs(help, stdout); return 0;
        case OPT_ORG: slug = optarg; break;
        case OPT_CLEAR: clear = 1; break;
        default:
            if (!common_option(c, &s)) {
                fputs(help, stderr);
                return 2;
            }
        }
    }
    if (!slug) {
        die_msg("org daily-key", "--org is required");
        return 2;
    }
    if (settings_finish(&s, "org daily-key"))
        return 2;
    char keybuf[STORE_SECRET_SIZE] = "";
    if (!clear) {
        if (!fgets(keybuf, sizeof keybuf, stdin)) {
            die_msg("org daily-key", "no key on standard input");
            return 2;
        }
        keybuf[strcspn(keybuf, "\r\n")] = '\0';
        if (!*keybuf || !text_is_clean_utf8(keybuf, strlen(keybuf))) {
            die_msg("org daily-key", "the key must be one line of text");
            sodium_memzero(keybuf, sizeof keybuf);
            return 2;
        }
    }
    struct store *st;
    struct digest_key key;
    char sealed[STORE_SEALED_SIZE] = "";
    if (open_backend(&s, &st, &key)) {
        sodium_memzero(keybuf, sizeof keybuf);
        return 1;
    }
    /* Stored sealed under the server secret, never in plaintext. */
    enum rc rc = auth_daily_key_seal(&key, keybuf, sealed);
    sodium_memzero(&key, sizeof key);
    sodium_memzero(keybuf, sizeof keybuf);
    struct store_org org;
    int status = 1;
    if (rc == RC_OK)
        rc = store_org_by_name(st, slug, &org);
    if (rc == RC_OK)
        rc = store_org_set_daily_key(st, org.id, sealed);
    if (rc == RC_NOT_FOUND)
        die_msg("org daily-key", "no organization '%s'", slug);
    else if (rc != RC_OK)
        die_msg("org daily-key", "%s", store_last_error(st));
    else {
        fprintf(stderr, "pccd org daily-key: %s the Daily API key of %s\n",
                clear ? "removed" : "set", slug);
        status = 0;
    }
    sodium_memzero(keybuf, sizeof keybuf);
    store_close(st);
    return status;
}

int cmd_org(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "daily-key") == 0)
        return org_daily_key(argc - 1, argv + 1);
    int help = argc >= 2 && strcmp(argv[1], "--help") == 0;
    fprintf(help ? stdout : stderr, "usage: pccd org daily-key --data DIR --org SLUG [--clear]\n");
    return help ? 0 : 2;
}

static int token_command(const char *sub, int argc, char **argv)
{
    enum { OPT_USER = 1, OPT_NAME, OPT_ID, OPT_SCOPES, OPT_DAYS, OPT_ORG };
    static const struct option opts[] = {COMMON_OPTIONS,
                                         {"user", required_argument, NULL, OPT_USER},
                                         {"name", required_argument, NULL, OPT_NAME},
                                         {"id", required_argument, NULL, OPT_ID},
                                         {"scopes", required_argument, NULL, OPT_SCOPES},
                                         {"expires-in-days", required_argument, NULL, OPT_DAYS},
                                         {"org", required_argument, NULL, OPT_ORG},
                                         {0, 0, 0, 0}};
    static const char help[] =
        "usage: pccd token create --data DIR --user EMAIL --name NAME [--scopes LIST]\n"
        "                         [--expires-in-days N] [--org SLUG]\n"
        "       pccd token list   --data DIR --user EMAIL\n"
        "       pccd token revoke --data DIR --user EMAIL --id TOKEN_ID\n\n"
        "create prints the new personal access token on standard output, once; it cannot be\n"
        "shown again. list prints the user's active tokens (never their secrets).\n\n"
        "  --user EMAIL        the token's owner\n"
        "  --name NAME         a descriptive name, e.g. the pipeline that uses it\n"
        "  --scopes LIST       comma-separated scopes: read, deploy, secrets, full\n"
        "                      (default full)\n"
        "  --expires-in-days N the token expires N days from now (1-3650; default never)\n"
        "  --org SLUG          bind the token to organization SLUG (the user must be a\n"
        "                      member; the token must meet its token policy)\n"
        "  --id TOKEN_ID       the token to revoke (see list)\n" COMMON_HELP;
    struct pccd_settings s;
    settings_from_env(&s);
    const char *email = NULL, *name = NULL, *id = NULL, *scopes_arg = NULL, *org_slug = NULL;
    const char *days_arg = NULL;
    char cmdname[32];
    snprintf(cmdname, sizeof cmdname, "token %s", sub);
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case OPT_HELP: fputs(help, stdout); return 0;
        case OPT_USER: email = optarg; break;
        case OPT_NAME: name = optarg; break;
        case OPT_ID: id = optarg; break;
        case OPT_SCOPES: scopes_arg = optarg; break;
        case OPT_DAYS: days_arg = optarg; break;
        case OPT_ORG: org_slug = optarg; break;
        default:
            if (!common_option(c, &s)) {
                fputs(help, stderr);
                return 2;
            }
        }
    }
    int creating = strcmp(sub, "create") == 0, revoking = strcmp(sub, "revoke") == 0;
    if (!email || (creating && !name) || (revoking && !id)) {
        die_msg(cmdname, "missing option: %s", !email ? "--user" : creating ? "--name" : "--id");
        return 2;
    }
    if (!creating && (scopes_arg || days_arg || org_slug)) {
        die_msg(cmdname, "--scopes, --expires-in-days and --org only go with create");
        return 2;
    }
    /* Scopes: a comma-separated list, checked name by name as the API does. */
    char scopes[STORE_SCOPES_SIZE] = "";
    char err[256];
    if (scopes_arg) {
        size_t used = 0;
        const char *p = scopes_arg;
        while (*p) {
            size_t n = strcspn(p, ", ");
            if (n) {
                char one[48];
                snprintf(one, sizeof one, "%.*s", (int)(n < sizeof one - 1 ? n : sizeof one - 1),
                         p);
                if (auth_check_scope(one, err, sizeof err) != RC_OK) {
                    die_msg(cmdname, "%s", err);
                    return 2;
                }
                if (used + n + 2 > sizeof scopes) {
                    die_msg(cmdname, "--scopes: too many scopes");
                    return 2;
                }
                used += (size_t)snprintf(scopes + used, sizeof scopes - used, "%s%s",
                                         used ? " " : "", one);
            }
            p += n;
            while (*p == ',' || *p == ' ')
                p++;
        }
        if (!used) {
            die_msg(cmdname, "--scopes: give at least one scope (read, deploy, secrets, full)");
            return 2;
        }
    }
    long days = 0;
    if (days_arg) {
        char *end;
        errno = 0;
        days = strtol(days_arg, &end, 10);
        if (errno || end == days_arg || *end || days < 1 || days > AUTH_MAX_LIFETIME_DAYS) {
            die_msg(cmdname, "--expires-in-days: must be an integer from 1 to %d",
                    AUTH_MAX_LIFETIME_DAYS);
            return 2;
        }
    }
    if (org_slug && !text_is_slug(org_slug)) {
        die_msg(cmdname, "--org: '%s' is not an organization slug", org_slug);
        return 2;
    }
    if (settings_finish(&s, cmdname))
        return 2;
    struct store *st;
    struct digest_key key;
    if (open_backend(&s, &st, &key))
        return 1;
    struct auth auth;
    int status = 1;
    if (auth_init(&auth, st, &key, NULL) != RC_OK) {
        sodium_memzero(&key, sizeof key);
        store_close(st);
        return 1;
    }
    sodium_memzero(&key, sizeof key);
    struct store_user user;
    enum rc rc = store_user_by_email(st, email, &user);
    if (rc != RC_OK) {
        die_msg(cmdname,
                rc == RC_NOT_FOUND ? "no user %s (create one with `pccd user add`)"
                                   : "cannot read user %s",
                email);
        goto out;
    }
    if (creating) {
        char secret[TOKEN_BUF_SIZE];
        struct store_token row;
        /* The same checks and issuing as POST /v1/tokens: expiry range, membership and policy
         * of the bound organization, then auth_issue_pat_spec. */
        int64_t t = auth_now(&auth);
        struct auth_pat_spec spec = {.user_id = user.id, .name = name, .scopes = scopes};
        if (days)
            spec.expires_at = t + (int64_t)days * 86400;
        if (auth_check_expiry(spec.expires_at, t, "--expires-in-days", err, sizeof err) != RC_OK) {
            die_msg(cmdname, "%s", err);
            goto out;
        }
        struct store_org org;
        if (org_slug) {
            rc = store_org_for_member(st, user.id, org_slug, &org);
            if (rc != RC_OK) {
                die_msg(cmdname,
                        rc == RC_NOT_FOUND ? "--org: %s is not a member of '%s'"
                                           : "cannot read the organization of %s: %s",
                        email, org_slug);
                goto out;
            }
            struct store_token probe = {0};
            probe.created_at = t;
            probe.expires_at = spec.expires_at;
            store_copy_field(probe.org_id, sizeof probe.org_id, org.id);
            if (auth_check_policy(&probe, &org.token_policy, org.name, err, sizeof err) != RC_OK) {
                die_msg(cmdname, "%s", err);
                goto out;
            }
            spec.org_id = org.id;
        }
        rc = auth_issue_pat_spec(&auth, &spec, "admin-cli", secret, &row, err, sizeof err);
        if (rc != RC_OK) {
            die_msg(cmdname, "%s", err);
            goto out;
        }
        printf("%s\n", secret);
        fflush(stdout);
        sodium_memzero(secret, sizeof secret);
        char until[TIMEFMT_SIZE] = "never";
        if (row.expires_at)
            timefmt_iso8601(row.expires_at, until);
        fprintf(stderr,
                "pccd token create: token %s (%s) for %s, scopes %s, organization %s, expires "
                "%s; it is shown only this once\n",
                row.id, row.display, email, row.scopes, org_slug ? org_slug : "any", until);
    } else if (revoking) {
        char why[320];
        rc = auth_revoke(&auth, NULL, user.id, id, "admin-cli", why, sizeof why);
        if (rc != RC_OK) {
            die_msg(cmdname,
                    rc == RC_NOT_FOUND ? "%s has no active token %s"
                                       : "cannot revoke for %s token %s",
                    email, id);
            goto out;
        }
        fprintf(stderr, "pccd token revoke: revoked %s\n", id);
    } else {
        struct store_token *list = NULL;
        size_t n = 0;
        if ((rc = store_tokens_for_user(st, user.id, &list, &n)) != RC_OK) {
            die_msg(cmdname, "%s", store_last_error(st));
            goto out;
        }
        for (size_t i = 0; i < n; i++) {
            char created[TIMEFMT_SIZE];
            timefmt_iso8601(list[i].created_at, created);
            fprintf(stderr, "%s  %-24s %s  created %s\n", list[i].id, list[i].display, list[i].name,
                    created);
        }
        store_free_list(list);
    }
    status = 0;
out:
    auth_release(&auth);
    store_close(st);
    return status;
}

int cmd_token(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "create") == 0 || strcmp(argv[1], "revoke") == 0 ||
                      strcmp(argv[1], "list") == 0))
        return token_command(argv[1], argc - 1, argv + 1);
    int help = argc >= 2 && strcmp(argv[1], "--help") == 0;
    fprintf(help ? stdout : stderr,
            "usage: pccd token create|list|revoke --data DIR --user EMAIL ...\n"
            "Run `pccd token create --help` for details.\n");
    return help ? 0 : 2;
}
