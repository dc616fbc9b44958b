/* store_backend.h: what backends share privately: constructors and small helpers. */
#ifndef PCC_STORE_BACKEND_H
#define PCC_STORE_BACKEND_H

#include "store.h"

/* Prepare st's per-thread error detail (store_last_error); RC_NOMEM. Backends call it
 * first in their open and store_error_release last in their close. */
enum rc store_error_init(struct store *st);
void store_error_release(struct store *st);
/* Record the detail of a failure for the calling thread (store_last_error). */
void store_set_error(struct store *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Open (creating if missing) the SQLite database at path. */
enum rc store_sqlite_open(const char *path, struct store **out, char *err, size_t errlen);


/* Connect to the PostgreSQL database at url ("postgres://..."). */
enum rc store_pg_open(const char *url, struct store **out, char *err, size_t errlen);

/* Put the exact cache of cache.c in front of st's bearer lookup and organization reads, with
 * its generation word in the file at generation_path (created 0600 if missing), or, with
 * generation_path NULL, the value the database keeps (st->ops->credential_generation). On
 * failure st is unchanged and err says why. */
enum rc store_cache_attach(struct store *st, const char *generation_path, char *err, size_t errlen);

/* The migrations built into the binary (generated from migrations/<backend>/NNNN_*.sql). */
extern const char *const sqlite_migrations[];
extern const char *const sqlite_migrations_names[];
extern const char *const pg_migrations[];
extern const char *const pg_migrations_names[];

#endif
