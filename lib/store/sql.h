/* sql.h: the statements both backends run with the same text, one definition for the two, and
 * the column lists they select. Each backend's own table holds the statements that differ. */
#ifndef PCC_STORE_SQL_H
#define PCC_STORE_SQL_H

/* Each table is X(Q_NAME, kind, "sql"). The kind, READ or WRITE, is for pg.c, which never
 * retries a write once it may have reached the server; sqlite.c ignores it. The texts use
 * PostgreSQL's $N placeholders, which sqlite.c binds by name (see param() there). */
#define SHARED_SQL_TABLE(X)                                                                        \
    CORE_SQL_TABLE(X)                                                                              \
    PLATFORM_SQL_TABLE(X)                                                                          \
    LIFECYCLE_SQL_TABLE(X)                                                                         \
    DASHBOARD_SQL_TABLE(X)                                                                         \
    OAUTH_SQL_TABLE(X)                                                                             \
    OAUTH_DEVICE_SQL_TABLE(X)                                                                      \
    SEALED_DAILY_KEY_SQL_TABLE(X)                                                                  \
    INVITATION_SQL_TABLE(X)

/* The statements of users, organizations, tokens and audit (migration 0001). */
#define CORE_SQL_TABLE(X)                                                                          \
    X(Q_MEMBER_PUT, WRITE,                                                                         \
      "INSERT INTO memberships (user_id, org_id, role, created_at, position) VALUES ($1, $2, "     \
      "$3, $4, (SELECT coalesce(max(position), 0) + 1 FROM memberships WHERE user_id = $1)) "      \
      "ON CONFLICT (user_id, org_id) DO UPDATE SET role = EXCLUDED.role")                          \
    X(Q_USER_INSERT, WRITE,                                                                        \
      "INSERT INTO users (id, email, name, created_at, kind) VALUES ($1, $2, $3, $4, $5)")         \
    X(Q_USER_BY_EMAIL, READ,                                                                       \
      "SELECT id, email, name, created_at, kind FROM users WHERE email = $1")                      \
    X(Q_USER_BY_ID, READ, "SELECT id, email, name, created_at, kind FROM users WHERE id = $1")     \
    X(Q_ORG_INSERT, WRITE,                                                                         \
      "INSERT INTO organizations (id, name, verbose_name, daily_api_key, created_at) "             \
      "VALUES ($1, $2, $3, $4, $5)")                                                               \
    X(Q_ORG_BY_NAME, READ,                                                                         \
      "SELECT id, name, verbose_name, daily_api_key, created_at, '' "                              \
      "FROM organizations WHERE name = $1")                                                        \
    X(Q_ORG_SET_DAILY, WRITE,                                                                      \
      "UPDATE organizations SET daily_api_key = $2, daily_api_key_legacy = '' WHERE id = $1")      \
    X(Q_ORGS_FOR_USER, READ,                                                                       \
      "SELECT o.id, o.name, o.verbose_name, o.daily_api_key, o.created_at, m.role "                \
      "FROM memberships m JOIN organizations o ON o.id = m.org_id "                                \
      "WHERE m.user_id = $1 ORDER BY m.position, o.name")                                          \
    X(Q_ORG_FOR_MEMBER, READ,                                                                      \
      "SELECT o.id, o.name, o.verbose_name, o.daily_api_key, o.created_at, "                       \
      "m.role, " POLICY_COLUMNS " FROM memberships m JOIN organizations o ON o.id = m.org_id "     \
      "LEFT JOIN org_token_policies p ON p.org_id = o.id "                                         \
      "WHERE m.user_id = $1 AND o.name = $2")                                                      \
    X(Q_TOKEN_INSERT, WRITE,                                                                       \
      "INSERT INTO tokens (id, user_id, kind, name, display, digest, scopes, org_id, "             \
      "created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")                  \
    X(Q_TOKEN_LOOKUP, READ, TOKEN_LOOKUP_SQL)                                                      \
    X(Q_TOKEN_BY_ID, READ,                                                                         \
      "SELECT " TOKEN_COLUMNS " FROM tokens t WHERE t.user_id = $1 AND t.id = $2")                 \
    X(Q_TOKENS_FOR_USER, READ,                                                                     \
      "SELECT " TOKEN_COLUMNS " FROM tokens t WHERE t.user_id = $1 AND t.revoked_at = 0 "          \
      "ORDER BY t.created_at, t.id")                                                               \
    X(Q_TOKEN_REVOKE, WRITE,                                                                       \
      "UPDATE tokens SET revoked_at = $3 WHERE user_id = $1 AND id = $2 AND revoked_at = 0")       \
    X(Q_TOKEN_TOUCH, WRITE,                                                                        \
      "UPDATE tokens SET last_used_at = $2, last_used_ip = $3, last_used_agent = $4 "              \
      "WHERE id = $1")                                                                             \
    X(Q_TOKEN_COUNT, READ, "SELECT count(*) FROM tokens")                                          \
    X(Q_AUDIT_FOR_USER, READ,                                                                      \
      "SELECT id, at, event, user_id, token_id, org_id, ip, detail FROM audit_events "             \
      "WHERE user_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3")

/* The statements of the platform tables (migration 0002). */
#define PLATFORM_SQL_TABLE(X)                                                                      \
    X(Q_PROPERTY_PUT, WRITE,                                                                       \
      "INSERT INTO org_properties (org_id, name, value, updated_at) VALUES ($1, $2, $3, $4) "      \
      "ON CONFLICT (org_id, name) DO UPDATE SET value = EXCLUDED.value, "                          \
      "updated_at = EXCLUDED.updated_at")                                                          \
    X(Q_SECRET_PUT, WRITE,                                                                         \
      "INSERT INTO secrets (set_id, name, nonce, ciphertext, created_at, updated_at) "             \
      "VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (set_id, name) DO UPDATE SET "                  \
      "nonce = EXCLUDED.nonce, ciphertext = EXCLUDED.ciphertext, "                                 \
      "updated_at = EXCLUDED.updated_at")                                                          \
    X(Q_PROPERTIES_FOR_ORG, READ,                                                                  \
      "SELECT name, value, updated_at FROM org_properties WHERE org_id = $1 ORDER BY name")        \
    X(Q_APIKEY_INSERT, WRITE,                                                                      \
      "INSERT INTO api_keys (id, org_id, kind, name, public_value, display, digest, created_by, "  \
      "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")                                   \
    X(Q_APIKEY_LOOKUP, READ, "SELECT " APIKEY_COLUMNS " FROM api_keys WHERE digest = $1")          \
    X(Q_APIKEY_REVOKE, WRITE,                                                                      \
      "UPDATE api_keys SET revoked_at = $3 WHERE org_id = $1 AND id = $2 AND revoked_at = 0")      \
    X(Q_APIKEY_TOUCH, WRITE, "UPDATE api_keys SET last_used_at = $2 WHERE id = $1")                \
    X(Q_SETS_FOR_ORG, READ,                                                                        \
      "SELECT " SET_COLUMNS " FROM secret_sets WHERE org_id = $1 AND ($2 = '' OR region = $2) "    \
      "ORDER BY name")                                                                             \
    X(Q_SET_BY_NAME, READ,                                                                         \
      "SELECT " SET_COLUMNS " FROM secret_sets WHERE org_id = $1 AND name = $2")                   \
    X(Q_SET_INSERT, WRITE,                                                                         \
      "INSERT INTO secret_sets (" SET_COLUMNS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "         \
      "ON CONFLICT (org_id, name) DO NOTHING")                                                     \
    X(Q_SET_TOUCH, WRITE, "UPDATE secret_sets SET host = $2, updated_at = $3 WHERE id = $1")       \
    X(Q_SET_DELETE, WRITE, "DELETE FROM secret_sets WHERE org_id = $1 AND name = $2")              \
    X(Q_SECRET_NAMES, READ,                                                                        \
      "SELECT " SECRET_COLUMNS " FROM secrets WHERE set_id = $1 ORDER BY name")                    \
    X(Q_SECRET_GET, READ,                                                                          \
      "SELECT " SECRET_COLUMNS ", ciphertext FROM secrets WHERE set_id = $1 AND name = $2")        \
    X(Q_SECRET_DELETE, WRITE, "DELETE FROM secrets WHERE set_id = $1 AND name = $2")               \
    X(Q_SERVICE_INSERT, WRITE,                                                                     \
      "INSERT INTO services (" SERVICE_COLUMNS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")    \
    X(Q_SERVICE_UPDATE, WRITE,                                                                     \
      "UPDATE services SET min_agents = $2, max_agents = $3, active_deployment_id = $4, "          \
      "updated_at = $5 WHERE id = $1")                                                             \
    X(Q_SERVICE_BY_NAME, READ,                                                                     \
      "SELECT " SERVICE_COLUMNS " FROM services WHERE org_id = $1 AND name = $2")                  \
    X(Q_SERVICES_FOR_ORG, READ,                                                                    \
      "SELECT " SERVICE_COLUMNS " FROM services WHERE org_id = $1 "                                \
      "AND ($2 = '' OR region = $2) ORDER BY name")                                                \
    X(Q_SERVICE_DELETE, WRITE, "DELETE FROM services WHERE org_id = $1 AND name = $2")             \
    X(Q_DEPLOYMENT_INSERT, WRITE,                                                                  \
      "INSERT INTO deployments (" DEPLOYMENT_COLUMNS ") VALUES ($1, $2, "                          \
      "(SELECT coalesce(max(revision), 0) + 1 FROM deployments WHERE service_id = $2), $3, $4, "   \
      "$5, $6, $7, $8, $9, $10, $11, $12, $13)")                                                   \
    X(Q_DEPLOYMENT_REVISION, READ, "SELECT revision FROM deployments WHERE id = $1")               \
    X(Q_DEPLOYMENT_BY_ID, READ,                                                                    \
      "SELECT " DEPLOYMENT_COLUMNS " FROM deployments WHERE service_id = $1 AND id = $2")          \
    X(Q_DEPLOYMENTS_FOR_SERVICE, READ,                                                             \
      "SELECT " DEPLOYMENT_COLUMNS " FROM deployments WHERE service_id = $1 "                      \
      "ORDER BY revision DESC")

/* The statements of token lifecycle (migration 0003). */
#define LIFECYCLE_SQL_TABLE(X)                                                                     \
    X(Q_POLICY_PUT, WRITE,                                                                         \
      "INSERT INTO org_token_policies (org_id, require_expiry, max_lifetime_days, "                \
      "require_binding, updated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (org_id) DO UPDATE "   \
      "SET require_expiry = EXCLUDED.require_expiry, "                                             \
      "max_lifetime_days = EXCLUDED.max_lifetime_days, "                                           \
      "require_binding = EXCLUDED.require_binding, updated_at = EXCLUDED.updated_at")              \
    X(Q_TOKEN_ROTATE, WRITE,                                                                       \
      "UPDATE tokens SET digest = $2, display = $3, previous_digest = $4, "                        \
      "previous_expires_at = $5, rotated_at = $6 WHERE id = $1 AND revoked_at = 0 "                \
      "AND digest = $7")                                                                           \
    X(Q_TOKEN_ACTIVE, READ, "SELECT count(*) FROM tokens WHERE id = $1 AND revoked_at = 0")        \
    X(Q_TOKEN_IP_ADD, WRITE,                                                                       \
      "INSERT INTO token_ips (token_id, ip, first_seen) VALUES ($1, $2, $3) "                      \
      "ON CONFLICT (token_id, ip) DO NOTHING")                                                     \
    X(Q_TOKENS_FOR_ORG, READ,                                                                      \
      "SELECT " TOKEN_COLUMNS ", u.id, u.email, u.kind FROM tokens t "                             \
      "JOIN memberships m ON m.user_id = t.user_id AND m.org_id = $1 "                             \
      "JOIN users u ON u.id = t.user_id WHERE t.revoked_at = 0 "                                   \
      "AND (t.org_id IS NULL OR t.org_id = $1) ORDER BY t.created_at, t.id")                       \
    X(Q_AUDIT_FOR_ORG, READ,                                                                       \
      "SELECT id, at, event, user_id, token_id, org_id, ip, detail FROM audit_events "             \
      "WHERE org_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3")                                   \
    X(Q_SA_INSERT, WRITE,                                                                          \
      "INSERT INTO service_accounts (user_id, org_id, name, created_by, created_at) "              \
      "VALUES ($1, $2, $3, $4, $5)")                                                               \
    X(Q_SA_MEMBER, WRITE,                                                                          \
      "INSERT INTO memberships (user_id, org_id, role, created_at, position) "                     \
      "VALUES ($1, $2, 'member', $3, 1)")                                                          \
    X(Q_SAS_FOR_ORG, READ,                                                                         \
      "SELECT " SA_COLUMNS " FROM service_accounts WHERE org_id = $1 ORDER BY name")               \
    X(Q_SA_BY_NAME, READ,                                                                          \
      "SELECT " SA_COLUMNS " FROM service_accounts WHERE org_id = $1 AND name = $2")               \
    X(Q_SA_DELETE, WRITE,                                                                          \
      "DELETE FROM users WHERE kind = 'service' AND id = "                                         \
      "(SELECT user_id FROM service_accounts WHERE org_id = $1 AND name = $2)")

/* The statements of the dashboard (migration 0004): passwords, web sessions, members. */
#define DASHBOARD_SQL_TABLE(X)                                                                     \
    X(Q_USER_SET_PASSWORD, WRITE, "UPDATE users SET password_hash = $2 WHERE id = $1")             \
    X(Q_USER_PASSWORD, READ, "SELECT password_hash FROM users WHERE id = $1")                      \
    X(Q_WS_INSERT, WRITE,                                                                          \
      "INSERT INTO web_sessions (id, user_id, active_org, created_at, last_seen_at, "              \
      "expires_at) VALUES ($1, $2, $3, $4, $5, $6)")                                               \
    X(Q_WS_LOOKUP, READ,                                                                           \
      "SELECT id, user_id, active_org, created_at, last_seen_at, expires_at "                      \
      "FROM web_sessions WHERE id = $1")                                                           \
    X(Q_WS_TOUCH, WRITE, "UPDATE web_sessions SET last_seen_at = $2 WHERE id = $1")                \
    X(Q_WS_SET_ORG, WRITE, "UPDATE web_sessions SET active_org = $2 WHERE id = $1")                \
    X(Q_WS_DELETE, WRITE, "DELETE FROM web_sessions WHERE id = $1")                                \
    X(Q_MEMBERS_OF_ORG, READ,                                                                      \
      "SELECT u.id, u.email, u.name, u.created_at, m.role, m.created_at "                          \
      "FROM memberships m JOIN users u ON u.id = m.user_id "                                       \
      "WHERE m.org_id = $1 ORDER BY m.role = 'admin' DESC, u.email")                               \
    X(Q_MEMBER_SET_ROLE, WRITE,                                                                    \
      "UPDATE memberships SET role = $3 WHERE org_id = $1 AND user_id = $2")                       \
    X(Q_MEMBER_DELETE, WRITE, "DELETE FROM memberships WHERE org_id = $1 AND user_id = $2")

/* The statements of OAuth (migration 0005). */
#define OAUTH_SQL_TABLE(X)                                                                         \
    X(Q_OAUTH_CODE_INSERT, WRITE,                                                                  \
      "INSERT INTO oauth_codes (" OAUTH_CODE_COLUMNS ") "                                          \
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9)")                                            \
    X(Q_OAUTH_CODE_GET, READ, "SELECT " OAUTH_CODE_COLUMNS " FROM oauth_codes WHERE digest = $1")  \
    X(Q_OAUTH_RT_INSERT, WRITE,                                                                    \
      "INSERT INTO oauth_refresh_tokens (" OAUTH_REFRESH_COLUMNS ") "                              \
      "VALUES ($1, $2, $3, $4, $5, $6, $7, 0, 0)")                                                 \
    X(Q_OAUTH_RT_GET, READ,                                                                        \
      "SELECT " OAUTH_REFRESH_COLUMNS " FROM oauth_refresh_tokens WHERE digest = $1")              \
    X(Q_OAUTH_ACCESS_LINK, WRITE,                                                                  \
      "INSERT INTO oauth_access_tokens (token_id, family_id) VALUES ($1, $2)")                     \
    X(Q_OAUTH_FAMILY_RT_REVOKE, WRITE,                                                             \
      "UPDATE oauth_refresh_tokens SET revoked_at = $2 WHERE family_id = $1 "                      \
      "AND revoked_at = 0")                                                                        \
    X(Q_OAUTH_FAMILY_AT_REVOKE, WRITE,                                                             \
      "UPDATE tokens SET revoked_at = $2 WHERE revoked_at = 0 AND id IN "                          \
      "(SELECT token_id FROM oauth_access_tokens WHERE family_id = $1)")                           \
    X(Q_OAUTH_FAMILY_OF, READ, "SELECT family_id FROM oauth_access_tokens WHERE token_id = $1")

/* The statements of the device flow and of OAuth logins (migration 0006), and the purges of
 * expired codes and sessions. */
#define OAUTH_DEVICE_SQL_TABLE(X)                                                                  \
    X(Q_OAUTH_DEVICE_INSERT, WRITE,                                                                \
      "INSERT INTO oauth_device_codes (digest, user_code, client_id, scopes, created_at, "         \
      "expires_at, interval_s) VALUES ($1, $2, $3, $4, $5, $6, $7)")                               \
    X(Q_OAUTH_DEVICE_GET, READ,                                                                    \
      "SELECT " OAUTH_DEVICE_COLUMNS " FROM oauth_device_codes WHERE digest = $1")                 \
    X(Q_OAUTH_DEVICE_POLL, WRITE,                                                                  \
      "UPDATE oauth_device_codes SET last_poll_at = $2, interval_s = $3 WHERE digest = $1")        \
    X(Q_OAUTH_DEVICE_BY_USER_CODE, READ,                                                           \
      "SELECT " OAUTH_DEVICE_COLUMNS " FROM oauth_device_codes WHERE user_code = $1")              \
    X(Q_OAUTH_DEVICE_DECIDE, WRITE,                                                                \
      "UPDATE oauth_device_codes SET user_id = $2, status = $3 "                                   \
      "WHERE user_code = $1 AND status = 'pending' AND expires_at > $4")                           \
    X(Q_OAUTH_LOGINS_FOR_USER, READ,                                                               \
      "SELECT family_id, min(client_id), min(scopes), min(created_at), max(created_at), "          \
      "max(expires_at) FROM oauth_refresh_tokens WHERE user_id = $1 AND revoked_at = 0 "           \
      "GROUP BY family_id HAVING max(expires_at) > $2 ORDER BY 4, 1")                              \
    X(Q_OAUTH_USER_RT_REVOKE, WRITE,                                                               \
      "UPDATE oauth_refresh_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at = 0")     \
    X(Q_OAUTH_USER_AT_REVOKE, WRITE,                                                               \
      "UPDATE tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at = 0 AND id IN "         \
      "(SELECT token_id FROM oauth_access_tokens)")                                                \
    X(Q_WS_DELETE_USER, WRITE, "DELETE FROM web_sessions WHERE user_id = $1")                      \
    X(Q_PURGE_CODES, WRITE, "DELETE FROM oauth_codes WHERE expires_at < $1")                       \
    X(Q_PURGE_DEVICE_CODES, WRITE, "DELETE FROM oauth_device_codes WHERE expires_at < $1")         \
    X(Q_PURGE_WEB_SESSIONS, WRITE, "DELETE FROM web_sessions WHERE expires_at < $1")

/* The statements of migration 0010: Daily API keys left in plaintext by an earlier pccd, and
 * the removal of a secret set with its last key. */
#define SEALED_DAILY_KEY_SQL_TABLE(X)                                                              \
    X(Q_DAILY_LEGACY_LIST, READ,                                                                   \
      "SELECT id, daily_api_key_legacy FROM organizations WHERE daily_api_key_legacy <> '' "       \
      "AND length(daily_api_key_legacy) <= 255 ORDER BY id")                                       \
    X(Q_DAILY_LEGACY_SEAL, WRITE,                                                                  \
      "UPDATE organizations SET daily_api_key = $2, daily_api_key_legacy = '' "                    \
      "WHERE id = $1 AND daily_api_key_legacy <> ''")                                              \
    X(Q_SET_STAMP, WRITE, "UPDATE secret_sets SET updated_at = $2 WHERE id = $1")                  \
    X(Q_SET_DELETE_IF_EMPTY, WRITE,                                                                \
      "DELETE FROM secret_sets WHERE id = $1 "                                                     \
      "AND NOT EXISTS (SELECT 1 FROM secrets WHERE set_id = $1)")
/* The statements of email verification and invitations (migration 0008). */
#define INVITATION_SQL_TABLE(X)                                                                    \
    X(Q_SIGNUP_USER_INSERT, WRITE,                                                                 \
      "INSERT INTO users (id, email, name, created_at, kind, password_hash, email_verified) "      \
      "VALUES ($1, $2, $3, $4, 'human', $5, 0)")                                                   \
    X(Q_USER_VERIFIED, READ, "SELECT email_verified, email FROM users WHERE id = $1")              \
    X(Q_EMAIL_CODE_INSERT, WRITE,                                                                  \
      "INSERT INTO email_verifications (digest, user_id, created_at, expires_at) "                 \
      "VALUES ($1, $2, $3, $4)")                                                                   \
    X(Q_EMAIL_CODE_GET, READ,                                                                      \
      "SELECT " EMAIL_CODE_COLUMNS " FROM email_verifications WHERE digest = $1")                  \
    X(Q_EMAIL_CODE_USE, WRITE,                                                                     \
      "UPDATE email_verifications SET used_at = $2 WHERE digest = $1 AND used_at = 0 "             \
      "AND expires_at > $2")                                                                       \
    X(Q_USER_SET_VERIFIED, WRITE,                                                                  \
      "UPDATE users SET email_verified = 1 WHERE id = $1 AND email_verified = 0")                  \
    X(Q_INVITATIONS_SUPERSEDE, WRITE,                                                              \
      "UPDATE invitations SET status = 'revoked', decided_at = $3 WHERE org_id = $1 "              \
      "AND lower(email) = lower($2) AND status = 'pending'")                                       \
    X(Q_INVITATION_INSERT, WRITE,                                                                  \
      "INSERT INTO invitations (id, org_id, email, role, invited_by, created_at, expires_at) "     \
      "VALUES ($1, $2, $3, $4, $5, $6, $7)")                                                       \
    X(Q_INVITATIONS_FOR_ORG, READ,                                                                 \
      INVITATION_SELECT " WHERE i.org_id = $1 AND i.status = 'pending' AND i.expires_at > $2 "     \
                        "ORDER BY i.created_at, i.id")                                             \
    X(Q_INVITATIONS_FOR_EMAIL, READ,                                                               \
      INVITATION_SELECT " WHERE lower(i.email) = lower($1) AND i.status = 'pending' "              \
                        "AND i.expires_at > $2 ORDER BY i.created_at, i.id")                       \
    X(Q_INVITATION_DECIDED, WRITE,                                                                 \
      "UPDATE invitations SET status = $2, decided_at = $3 WHERE id = $1 "                         \
      "AND status = 'pending'")                                                                    \
    X(Q_MEMBER_JOIN, WRITE,                                                                        \
      "INSERT INTO memberships (user_id, org_id, role, created_at, position) VALUES ($1, $2, "     \
      "$3, $4, (SELECT coalesce(max(position), 0) + 1 FROM memberships WHERE user_id = $1)) "      \
      "ON CONFLICT (user_id, org_id) DO NOTHING")                                                  \
    X(Q_INVITATION_REVOKE, WRITE,                                                                  \
      "UPDATE invitations SET status = 'revoked', decided_at = $3 WHERE org_id = $1 "              \
      "AND id = $2 AND status = 'pending'")                                                        \
    X(Q_PURGE_EMAIL_CODES, WRITE, "DELETE FROM email_verifications WHERE expires_at < $1")

/* The bearer lookup, the hottest statement: the current secret first, and only when that finds
 * nothing the previous one of a rotated token. One UNION ALL with LIMIT 1 stops after the first
 * branch in the common case, where "digest = $1 OR previous_digest = $1" always searched both
 * indexes. */
#define TOKEN_LOOKUP_BRANCH(column)                                                                \
    "SELECT " TOKEN_COLUMNS ", u.id, u.email, u.name, u.created_at, u.kind "                       \
    "FROM tokens t JOIN users u ON u.id = t.user_id WHERE t." column " = $1"
#define TOKEN_LOOKUP_SQL                                                                           \
    TOKEN_LOOKUP_BRANCH("digest") " UNION ALL " TOKEN_LOOKUP_BRANCH("previous_digest") " LIMIT 1"

/* The column lists, in the order the backends' row readers take them. */
#define TOKEN_COLUMNS                                                                              \
    "t.id, t.user_id, t.kind, t.name, t.display, t.digest, t.scopes, coalesce(t.org_id, ''), "     \
    "t.created_at, t.expires_at, t.last_used_at, t.revoked_at, t.last_used_ip, "                   \
    "t.last_used_agent, coalesce(t.previous_digest, ''), t.previous_expires_at, t.rotated_at"
#define TOKEN_COLUMN_COUNT 17
#define POLICY_COLUMNS                                                                             \
    "coalesce(p.require_expiry, 0), coalesce(p.max_lifetime_days, 0), "                            \
    "coalesce(p.require_binding, 0), coalesce(p.updated_at, 0)"
#define SA_COLUMNS "user_id, org_id, name, created_by, created_at"
#define APIKEY_COLUMNS                                                                             \
    "id, org_id, kind, name, public_value, display, digest, created_by, created_at, "              \
    "last_used_at, revoked_at"
#define SET_COLUMNS "id, org_id, name, kind, region, host, created_at, updated_at"
#define SECRET_COLUMNS "set_id, name, nonce, created_at, updated_at"
#define SERVICE_COLUMNS                                                                            \
    "id, org_id, name, region, min_agents, max_agents, active_deployment_id, created_at, "         \
    "updated_at"
#define DEPLOYMENT_COLUMNS                                                                         \
    "id, service_id, revision, image, build_id, secret_set, image_pull_secret_set, "               \
    "agent_profile, krisp_viva_filter, enable_krisp, websocket_auth, max_session_duration, "       \
    "created_by, created_at"
#define OAUTH_CODE_COLUMNS                                                                         \
    "digest, user_id, client_id, redirect_uri, code_challenge, scopes, created_at, "               \
    "expires_at, used_at, family_id"
#define OAUTH_DEVICE_COLUMNS                                                                       \
    "digest, user_code, client_id, scopes, user_id, status, created_at, expires_at, "              \
    "interval_s, last_poll_at"
#define OAUTH_REFRESH_COLUMNS                                                                      \
    "digest, family_id, user_id, client_id, scopes, created_at, expires_at, used_at, "             \
    "revoked_at"

#define EMAIL_CODE_COLUMNS "digest, user_id, created_at, expires_at, used_at"
#define INVITATION_COLUMNS                                                                         \
    "i.id, i.org_id, i.email, i.role, i.invited_by, i.created_at, i.expires_at, i.status, "        \
    "i.decided_at, o.name, o.verbose_name, coalesce(u.email, '')"
#define INVITATION_SELECT                                                                          \
    "SELECT " INVITATION_COLUMNS " FROM invitations i JOIN organizations o ON o.id = i.org_id "    \
    "LEFT JOIN users u ON u.id = i.invited_by"

#endif
