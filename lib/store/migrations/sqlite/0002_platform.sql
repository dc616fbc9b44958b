-- 0002_platform: organization properties, API keys, secret sets (values encrypted by pccd before
-- they reach the database), services (agents) and their deployments (one row per revision).
CREATE TABLE org_properties (
    org_id      TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    value       TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (org_id, name)
);

-- Public keys keep their full value (the reference client lists and reuses them); private keys
-- only their digest. Both are looked up by digest. Revocation is soft: the row stays.
CREATE TABLE api_keys (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    kind          TEXT NOT NULL CHECK (kind IN ('public', 'private')),
    name          TEXT NOT NULL,
    public_value  TEXT NOT NULL DEFAULT '',
    display       TEXT NOT NULL,
    digest        TEXT NOT NULL UNIQUE,
    created_by    TEXT NOT NULL DEFAULT '',
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT NOT NULL DEFAULT 0,
    revoked_at    BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX api_keys_org ON api_keys(org_id, created_at);

CREATE TABLE secret_sets (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('secret', 'imagePullSecret')),
    region      TEXT NOT NULL,
    host        TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (org_id, name)
);

-- nonce and ciphertext are hex: crypto_secretbox under a key derived from the server secret.
CREATE TABLE secrets (
    set_id      TEXT NOT NULL REFERENCES secret_sets(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    nonce       TEXT NOT NULL,
    ciphertext  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (set_id, name)
);

CREATE TABLE services (
    id                    TEXT PRIMARY KEY,
    org_id                TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name                  TEXT NOT NULL,
    region                TEXT NOT NULL,
    min_agents            INTEGER NOT NULL,
    max_agents            INTEGER NOT NULL,
    active_deployment_id  TEXT NOT NULL DEFAULT '',
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL,
    UNIQUE (org_id, name)
);

CREATE TABLE deployments (
    id                     TEXT PRIMARY KEY,
    service_id             TEXT NOT NULL REFERENCES services(id) ON DELETE CASCADE,
    revision               INTEGER NOT NULL,
    image                  TEXT NOT NULL DEFAULT '',
    build_id               TEXT NOT NULL DEFAULT '',
    secret_set             TEXT NOT NULL DEFAULT '',
    image_pull_secret_set  TEXT NOT NULL DEFAULT '',
    agent_profile          TEXT NOT NULL,
    krisp_viva_filter      TEXT NOT NULL DEFAULT '',
    enable_krisp           INTEGER NOT NULL DEFAULT 0,
    websocket_auth         TEXT NOT NULL,
    max_session_duration   INTEGER NOT NULL,
    created_by             TEXT NOT NULL DEFAULT '',
    created_at             BIGINT NOT NULL,
    UNIQUE (service_id, revision)
);
