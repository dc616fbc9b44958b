-- 0003_token_lifecycle: token rotation (a second, expiring digest), service accounts, per-org
-- token policies, the addresses each token was used from, and the audit log by organization.

-- Rotation keeps the token's identity and gives it a new secret; the previous secret keeps
-- working until previous_expires_at (the grace period), then never again.
ALTER TABLE tokens ADD COLUMN previous_digest TEXT;
ALTER TABLE tokens ADD COLUMN previous_expires_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tokens ADD COLUMN rotated_at BIGINT NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX tokens_previous_digest ON tokens(previous_digest);

-- Service accounts are users of kind 'service', owned by one organization.
ALTER TABLE users ADD COLUMN kind TEXT NOT NULL DEFAULT 'human'
    CHECK (kind IN ('human', 'service'));

CREATE TABLE service_accounts (
    user_id     TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    org_id      TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    created_by  TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    UNIQUE (org_id, name)
);

-- What an organization demands of the tokens acting in it (checked on every request there).
CREATE TABLE org_token_policies (
    org_id             TEXT PRIMARY KEY REFERENCES organizations(id) ON DELETE CASCADE,
    require_expiry     INTEGER NOT NULL DEFAULT 0,
    max_lifetime_days  INTEGER NOT NULL DEFAULT 0,
    require_binding    INTEGER NOT NULL DEFAULT 0,
    updated_at         BIGINT NOT NULL
);

-- Each address a token was used from, for the "first use from a new address" audit event.
CREATE TABLE token_ips (
    token_id    TEXT NOT NULL REFERENCES tokens(id) ON DELETE CASCADE,
    ip          TEXT NOT NULL,
    first_seen  BIGINT NOT NULL,
    PRIMARY KEY (token_id, ip)
);

CREATE INDEX audit_org ON audit_events(org_id, id);
