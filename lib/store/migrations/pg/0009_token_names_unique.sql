-- 0009_token_names_unique: a user's active personal access tokens have distinct names, held by
-- the schema (a partial unique index) rather than by a check before the insert, which two
-- concurrent creates could both pass. OAuth access tokens (kind 1) are left out: every token of
-- one login carries the login's name. Active duplicates made before this index keep the newest
-- under its name; the older ones get their id appended (shortened to stay within 100 bytes).
UPDATE tokens
SET name = CASE WHEN octet_length(name) <= 77 THEN name ELSE left(name, 19) END
           || ' (' || id || ')'
WHERE kind = 0 AND revoked_at = 0 AND EXISTS (
    SELECT 1 FROM tokens n
    WHERE n.user_id = tokens.user_id AND n.name = tokens.name AND n.kind = 0
      AND n.revoked_at = 0
      AND (n.created_at > tokens.created_at
           OR (n.created_at = tokens.created_at AND n.id > tokens.id)));

CREATE UNIQUE INDEX tokens_active_name ON tokens(user_id, name) WHERE kind = 0 AND revoked_at = 0;
