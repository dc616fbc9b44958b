-- 0001_init: users, organizations, memberships, tokens (digests only) and the audit log.
-- The same schema as migrations/sqlite/0001_init.sql; times are BIGINT epoch seconds.
CREATE TABLE users (
    id          TEXT PRIMARY KEY,
    email       TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL
);

CREATE TABLE organizations (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL UNIQUE,
    verbose_name   TEXT NOT NULL,
    daily_api_key  TEXT NOT NULL DEFAULT '',
    created_at     BIGINT NOT NULL
);

CREATE TABLE memberships (
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    org_id      TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    role        TEXT NOT NULL CHECK (role IN ('admin', 'member')),
    created_at  BIGINT NOT NULL,
    position    INTEGER NOT NULL DEFAULT 0, -- join order per user: the first is the default org
    PRIMARY KEY (user_id, org_id)
);
CREATE INDEX memberships_org ON memberships(org_id);

CREATE TABLE tokens (
    id               TEXT PRIMARY KEY,
    user_id          TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind             INTEGER NOT NULL,
    name             TEXT NOT NULL,
    display          TEXT NOT NULL,
    digest           TEXT NOT NULL UNIQUE,
    scopes           TEXT NOT NULL DEFAULT 'full',
    org_id           TEXT REFERENCES organizations(id) ON DELETE CASCADE,
    created_at       BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL DEFAULT 0,
    last_used_at     BIGINT NOT NULL DEFAULT 0,
    last_used_ip     TEXT NOT NULL DEFAULT '',
    last_used_agent  TEXT NOT NULL DEFAULT '',
    revoked_at       BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX tokens_user ON tokens(user_id, created_at);
CREATE INDEX tokens_org ON tokens(org_id);

CREATE TABLE audit_events (
    id        BIGSERIAL PRIMARY KEY,
    at        BIGINT NOT NULL,
    event     TEXT NOT NULL,
    user_id   TEXT NOT NULL DEFAULT '',
    token_id  TEXT NOT NULL DEFAULT '',
    org_id    TEXT NOT NULL DEFAULT '',
    ip        TEXT NOT NULL DEFAULT '',
    detail    TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_user ON audit_events(user_id, id);

-- The audit log is append-only: the database itself refuses edits and deletions (TRUNCATE
-- too, which row triggers would not see).
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only' USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
