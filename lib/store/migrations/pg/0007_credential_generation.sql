-- 0007_credential_generation: one counter that changes with every write that can change how an
-- authenticated request is decided (tokens, users, organizations, memberships, token policies).
-- pccd caches those reads in each process and trusts an entry only while this value is the one
-- it read before the entry's query (lib/store/cache.c): one tiny read per request instead of
-- the lookups, exact across nodes, and across writes made with psql as well.
CREATE TABLE credential_generation (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    value  BIGINT NOT NULL
);
INSERT INTO credential_generation (id, value) VALUES (1, 1);

CREATE FUNCTION bump_credential_generation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE credential_generation SET value = value + 1 WHERE id = 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER users_generation AFTER INSERT OR UPDATE OR DELETE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION bump_credential_generation();
CREATE TRIGGER organizations_generation AFTER INSERT OR UPDATE OR DELETE ON organizations
    FOR EACH STATEMENT EXECUTE FUNCTION bump_credential_generation();
CREATE TRIGGER memberships_generation AFTER INSERT OR UPDATE OR DELETE ON memberships
    FOR EACH STATEMENT EXECUTE FUNCTION bump_credential_generation();
CREATE TRIGGER org_token_policies_generation AFTER INSERT OR UPDATE OR DELETE
    ON org_token_policies FOR EACH STATEMENT EXECUTE FUNCTION bump_credential_generation();
CREATE TRIGGER tokens_generation_delete AFTER DELETE ON tokens
    FOR EACH STATEMENT EXECUTE FUNCTION bump_credential_generation();
-- Not the last-use stamp, written once a minute per token in use: it decides nothing.
CREATE TRIGGER tokens_generation_update AFTER UPDATE ON tokens FOR EACH ROW
    WHEN ((OLD.user_id, OLD.kind, OLD.name, OLD.digest, OLD.scopes, OLD.org_id, OLD.expires_at,
           OLD.revoked_at, OLD.previous_digest, OLD.previous_expires_at, OLD.rotated_at)
          IS DISTINCT FROM
          (NEW.user_id, NEW.kind, NEW.name, NEW.digest, NEW.scopes, NEW.org_id, NEW.expires_at,
           NEW.revoked_at, NEW.previous_digest, NEW.previous_expires_at, NEW.rotated_at))
    EXECUTE FUNCTION bump_credential_generation();
