/* credfile.h: the CLI credentials file (pipecatcloud.toml), compatible with the reference Python
 * client 0.6.0: load with permission repair, update_user_config-style setters, atomic save.
 * File I/O only: it never prints, exits or reads the environment; the caller picks the path. */
#ifndef PCC_CREDFILE_H
#define PCC_CREDFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "rc.h"

struct credfile; /* the whole document plus the path it came from */

/* Read the file at path into a new *out (credfile_free it). A missing file gives an empty
 * document. If group/other may access the file it is chmod'ed to 0600 and *perms_repaired
 * (may be NULL) set to 1. RC_PARSE for invalid TOML or a top-level key other than token, org,
 * refresh_token and token_expires_at that is not a table; RC_IO, RC_TOO_LARGE, RC_NOMEM.
 * err gets a message without the path, e.g. "line 3: duplicate key \"org\"". */
enum rc credfile_load(const char *path, struct credfile **out, int *perms_repaired, char *err,
                      size_t errlen);
/* Free the document, wiping the tokens it holds; NULL is a no-op. */
void credfile_free(struct credfile *cf);

/* The top-level string key ("token", "org", "refresh_token"), or NULL if absent or not a
 * string. Valid until the next change to cf. */
const char *credfile_get(const struct credfile *cf, const char *key);
/* token_expires_at (an integer or a float in the file) into *out; false if absent or not a
 * number. */
bool credfile_token_expires_at(const struct credfile *cf, double *out);
/* A string from the table named by the file's own `org` (e.g. "default_public_key"), or NULL
 * if there is no org, no such table or no such string. */
const char *credfile_org_get(const struct credfile *cf, const char *key);
/* A string from the table named org (whatever the file's own `org` is), or NULL if there is no
 * such table or string: what a command run with -o ORG reads, e.g. ORG's default_public_key. */
const char *credfile_org_get_in(const struct credfile *cf, const char *org, const char *key);

/* Set token; NULL or "" leaves it unchanged, as the reference client does. RC_INVALID (not
 * UTF-8), RC_NOMEM. */
enum rc credfile_set_token(struct credfile *cf, const char *token);
/* Set refresh_token, "" included (a PAT stores ""); NULL leaves it unchanged. */
enum rc credfile_set_refresh_token(struct credfile *cf, const char *refresh_token);
/* Set token_expires_at: 0 (no expiry, as for a PAT) is written as the integer 0, anything else
 * as float epoch seconds, like the reference client. */
enum rc credfile_set_token_expires_at(struct credfile *cf, double epoch_seconds);
/* Make org the active org: sets top-level `org` and appends an empty [org] table unless the
 * key exists. NULL or "" leaves everything unchanged. */
enum rc credfile_set_active_org(struct credfile *cf, const char *org);
/* Set key = value in the [org] table, appending the table if missing; value NULL removes
 * the key. RC_INVALID for an empty org, RC_CONFLICT if org names a non-table key. */
enum rc credfile_org_set(struct credfile *cf, const char *org, const char *key, const char *value);

/* Write the whole document back to the path it was loaded from: temp file
 * .pipecatcloud_XXXXXX.tmp (0600) in the same directory, fsync, rename, fsync the directory.
 * Creates a missing directory (and parents) with mode 0700. On failure the old file is intact
 * and no temp file is left; RC_INVALID if the path has no directory component, else RC_IO. */
enum rc credfile_save(struct credfile *cf, char *err, size_t errlen);
/* Delete the file at path; a missing file is fine. RC_IO otherwise. */
enum rc credfile_remove_file(const char *path, char *err, size_t errlen);

#endif
