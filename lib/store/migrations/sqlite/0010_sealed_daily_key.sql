-- 0010_sealed_daily_key: three fixes of stored state.
--
-- 1. The Daily API key of an organization is stored sealed (crypto_secretbox under a key
--    derived from the server secret, as secret values are), in daily_api_key. Sealing needs the
--    server secret, which SQL cannot reach: this migration only moves a key stored in plaintext
--    by an earlier pccd aside into daily_api_key_legacy, and every pccd command seals it into
--    daily_api_key right after migrating (auth_daily_keys_seal_legacy) and empties the column.
ALTER TABLE organizations ADD COLUMN daily_api_key_legacy TEXT NOT NULL DEFAULT '';
UPDATE organizations SET daily_api_key_legacy = daily_api_key, daily_api_key = ''
    WHERE daily_api_key <> '';

-- 2. A secret set holds at least one key: unsetting the last key deletes the set. Sets that an
--    earlier pccd left empty are removed here.
DELETE FROM secret_sets WHERE kind = 'secret'
    AND NOT EXISTS (SELECT 1 FROM secrets WHERE secrets.set_id = secret_sets.id);

-- 3. API keys list in creation order, ties (the same second) broken by the order of insertion:
--    on SQLite that is the rowid every table already has, so there is nothing to add.
