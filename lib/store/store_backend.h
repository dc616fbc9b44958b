/* store_backend.h: what backends share privately: constructors and small helpers. */
#ifndef PCC_STORE_BACKEND_H
#define PCC_STORE_BACKEND_H

#include "store.h"

/* Open (creating if missing) the SQLite database at path. */
enum rc store_sqlite_open(const char *path, struct store **out, char *err, size_t errlen);


/* Connect to the PostgreSQL database at url ("postgres://..."). */
enum rc store_pg_open(const char *url, struct store **out, char *err, size_t errlen);

/* Put the exact cache of cache.c in front of st's bearer lookup and organization reads, with
 * its generation word in the file at generation_path (created 0600 if missing), or, with
 * generation_path NULL, the value the database keeps (st->ops->credential_generation). On
 * failure st is unchanged and err says why. */
enum rc store_cache_attach(struct store *st, const char *generation_path, char *err,
                           size_t errlen);

/* The bearer lookup, the hottest statement: the current secret first, and only when that finds
 * nothing the previous one of a rotated token. One UNION ALL with LIMIT 1 stops after the first
 * branch in the common case, where "digest = $1 OR previous_digest = $1" always searched both
 * indexes. The column list is each backend's TOKEN_COLUMNS. */
#define TOKEN_LOOKUP_BRANCH(column)                                                            \
    "SELECT " TOKEN_COLUMNS ", u.id, u.email, u.name, u.created_at, u.kind "                   \
    "FROM tokens t JOIN users u ON u.id = t.user_id WHERE t." column " = $1"
#define TOKEN_LOOKUP_SQL                                                                       \
    TOKEN_LOOKUP_BRANCH("digest") " UNION ALL " TOKEN_LOOKUP_BRANCH("previous_digest") " LIMIT 1"

/* The migrations built into the binary (generated from migrations/<backend>/NNNN_*.sql). */
extern const char *const sqlite_migrations[];
extern const char *const sqlite_migrations_names[];
extern const char *const pg_migrations[];
extern const char *const pg_migrations_names[];

#endif
