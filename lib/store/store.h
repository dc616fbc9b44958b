/* store.h: the storage interface. Handlers and auth code see only these row structs and calls;
 * SQL lives in the backends (sqlite.c, and pg.c later). Every backend passes one conformance
 * suite (tests/unit/store/). All calls are safe from several threads at once. */
#ifndef PCC_STORE_H
#define PCC_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "digest.h"
#include "rc.h"
#include "token.h"

#define STORE_EMAIL_SIZE 256
#define STORE_NAME_SIZE 128     /* token names, display names: at most 100 bytes accepted */
#define STORE_SLUG_SIZE 64      /* organization slugs: [a-z0-9][a-z0-9-]* up to 63 */
#define STORE_ROLE_SIZE 16      /* "admin" | "member" */
#define STORE_SCOPES_SIZE 128   /* space-separated scope names */
#define STORE_IP_SIZE 64
#define STORE_AGENT_SIZE 128
#define STORE_SECRET_SIZE 256   /* org settings such as the Daily API key */
#define STORE_EVENT_SIZE 48
#define STORE_DETAIL_SIZE 512

struct store_user {
    char id[ID_BUF_SIZE];
    char email[STORE_EMAIL_SIZE];
    char name[STORE_NAME_SIZE];
    int64_t created_at;
};

struct store_org {
    char id[ID_BUF_SIZE];
    char name[STORE_SLUG_SIZE];          /* the slug used in URLs */
    char verbose_name[STORE_NAME_SIZE];  /* the human name */
    char daily_api_key[STORE_SECRET_SIZE]; /* "" when none is configured */
    char role[STORE_ROLE_SIZE];          /* the member's role, when read through a membership */
    int64_t created_at;
};

/* A credential row: PATs now, OAuth tokens later. Never holds the secret, only its digest. */
struct store_token {
    char id[ID_BUF_SIZE];
    char user_id[ID_BUF_SIZE];
    int kind; /* enum token_kind */
    char name[STORE_NAME_SIZE];
    char display[TOKEN_DISPLAY_SIZE];
    char digest[DIGEST_HEX_SIZE];
    char scopes[STORE_SCOPES_SIZE];
    char org_id[ID_BUF_SIZE]; /* "" when not bound to one organization */
    int64_t created_at;
    int64_t expires_at;   /* 0: never */
    int64_t last_used_at; /* 0: never */
    int64_t revoked_at;   /* 0: active */
    char last_used_ip[STORE_IP_SIZE];
    char last_used_agent[STORE_AGENT_SIZE];
};

/* One append-only audit record. detail is a short JSON object; never a secret. */
struct store_audit {
    int64_t id; /* assigned by the store */
    int64_t at;
    char event[STORE_EVENT_SIZE]; /* e.g. "token.created", "auth.failed" */
    char user_id[ID_BUF_SIZE];    /* the affected user, "" if unknown */
    char token_id[ID_BUF_SIZE];   /* the credential involved, "" if none */
    char org_id[ID_BUF_SIZE];
    char ip[STORE_IP_SIZE];
    char detail[STORE_DETAIL_SIZE];
};

struct store;

/* The operations a backend implements. Return codes: RC_OK; RC_NOT_FOUND when the row does not
 * exist (or is not visible to that user); RC_CONFLICT on a uniqueness violation; RC_STORE on a
 * storage failure; RC_UNAVAILABLE when the database cannot be reached. */
struct store_ops {
    void (*close)(struct store *st);
    enum rc (*migrate)(struct store *st, int *applied, char *err, size_t errlen);

    enum rc (*user_create)(struct store *st, struct store_user *user);
    enum rc (*user_by_email)(struct store *st, const char *email, struct store_user *out);
    enum rc (*user_by_id)(struct store *st, const char *id, struct store_user *out);

    enum rc (*org_create)(struct store *st, struct store_org *org);
    enum rc (*org_by_name)(struct store *st, const char *name, struct store_org *out);
    enum rc (*org_set_daily_key)(struct store *st, const char *org_id, const char *key);
    enum rc (*membership_put)(struct store *st, const char *user_id, const char *org_id,
                              const char *role, int64_t now);
    enum rc (*orgs_for_user)(struct store *st, const char *user_id, struct store_org **list,
                             size_t *count);
    enum rc (*org_for_member)(struct store *st, const char *user_id, const char *org_name,
                              struct store_org *out);

    enum rc (*token_insert)(struct store *st, const struct store_token *tok);
    enum rc (*token_lookup)(struct store *st, const char *digest, struct store_token *tok,
                            struct store_user *owner);
    enum rc (*token_by_id)(struct store *st, const char *user_id, const char *token_id,
                           struct store_token *out);
    enum rc (*tokens_for_user)(struct store *st, const char *user_id, struct store_token **list,
                               size_t *count);
    enum rc (*token_revoke)(struct store *st, const char *user_id, const char *token_id,
                            int64_t now);
    enum rc (*token_touch)(struct store *st, const char *token_id, int64_t now, const char *ip,
                           const char *agent);
    enum rc (*token_count)(struct store *st, int64_t *count);

    enum rc (*audit_append)(struct store *st, struct store_audit *ev);
    enum rc (*audit_for_user)(struct store *st, const char *user_id, int64_t before_id,
                              size_t limit, struct store_audit **list, size_t *count);
};

struct store {
    const struct store_ops *ops;
    char last_error[256]; /* detail for the log; never shown to API callers */
};

/* Open the database named by url: "sqlite:PATH" (or a bare path) for SQLite. Does not migrate.
 * On failure returns an error and writes the reason into err. *out is freed by store_close. */
enum rc store_open(const char *url, struct store **out, char *err, size_t errlen);
/* Close and free; store_close(NULL) is a no-op. */
void store_close(struct store *st);
/* Copy src (NULL as "") into a row field of size bytes, truncating; always NUL-terminates. */
void store_copy_field(char *dst, size_t size, const char *src);
/* Free a list returned by the *_for_user calls (rows hold no pointers). */
void store_free_list(void *list);

/* Thin wrappers so callers read as store_user_by_email(st, ...). */
#define store_migrate(st, ...) ((st)->ops->migrate((st), __VA_ARGS__))
#define store_user_create(st, ...) ((st)->ops->user_create((st), __VA_ARGS__))
#define store_user_by_email(st, ...) ((st)->ops->user_by_email((st), __VA_ARGS__))
#define store_user_by_id(st, ...) ((st)->ops->user_by_id((st), __VA_ARGS__))
#define store_org_create(st, ...) ((st)->ops->org_create((st), __VA_ARGS__))
#define store_org_by_name(st, ...) ((st)->ops->org_by_name((st), __VA_ARGS__))
#define store_org_set_daily_key(st, ...) ((st)->ops->org_set_daily_key((st), __VA_ARGS__))
#define store_membership_put(st, ...) ((st)->ops->membership_put((st), __VA_ARGS__))
#define store_orgs_for_user(st, ...) ((st)->ops->orgs_for_user((st), __VA_ARGS__))
#define store_org_for_member(st, ...) ((st)->ops->org_for_member((st), __VA_ARGS__))
#define store_token_insert(st, ...) ((st)->ops->token_insert((st), __VA_ARGS__))
#define store_token_lookup(st, ...) ((st)->ops->token_lookup((st), __VA_ARGS__))
#define store_token_by_id(st, ...) ((st)->ops->token_by_id((st), __VA_ARGS__))
#define store_tokens_for_user(st, ...) ((st)->ops->tokens_for_user((st), __VA_ARGS__))
#define store_token_revoke(st, ...) ((st)->ops->token_revoke((st), __VA_ARGS__))
#define store_token_touch(st, ...) ((st)->ops->token_touch((st), __VA_ARGS__))
#define store_token_count(st, ...) ((st)->ops->token_count((st), __VA_ARGS__))
#define store_audit_append(st, ...) ((st)->ops->audit_append((st), __VA_ARGS__))
#define store_audit_for_user(st, ...) ((st)->ops->audit_for_user((st), __VA_ARGS__))

#endif
