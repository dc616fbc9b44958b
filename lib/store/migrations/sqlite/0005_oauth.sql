-- 0005_oauth: OAuth for the CLI. Authorization codes and device codes (single use, short-lived,
-- stored by the keyed digest of their secret), refresh tokens grouped in families (one family
-- per login; reuse of a spent refresh token revokes the family) and the link from each OAuth
-- access token (a row of tokens) to its family.
CREATE TABLE oauth_codes (
    digest          TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    client_id       TEXT NOT NULL,
    redirect_uri    TEXT NOT NULL,
    code_challenge  TEXT NOT NULL,
    scopes          TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    used_at         BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE oauth_device_codes (
    digest        TEXT PRIMARY KEY,
    user_code     TEXT NOT NULL UNIQUE,
    client_id     TEXT NOT NULL,
    scopes        TEXT NOT NULL,
    user_id       TEXT NOT NULL DEFAULT '',
    status        TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'approved', 'denied', 'used')),
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    interval_s    INTEGER NOT NULL,
    last_poll_at  BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE oauth_refresh_tokens (
    digest      TEXT PRIMARY KEY,
    family_id   TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    client_id   TEXT NOT NULL,
    scopes      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT NOT NULL DEFAULT 0,
    revoked_at  BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX oauth_refresh_family ON oauth_refresh_tokens(family_id);

CREATE TABLE oauth_access_tokens (
    token_id   TEXT PRIMARY KEY REFERENCES tokens(id) ON DELETE CASCADE,
    family_id  TEXT NOT NULL
);
CREATE INDEX oauth_access_family ON oauth_access_tokens(family_id);
