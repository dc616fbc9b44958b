-- 0006_oauth_device: what the device flow, code replay and "sign out everywhere" need. Each
-- authorization code names the refresh family its exchange starts, so a replayed code can end
-- that login (RFC 6749 4.1.2); refresh tokens are found by user to list and revoke logins.
ALTER TABLE oauth_codes ADD COLUMN family_id TEXT NOT NULL DEFAULT '';
CREATE INDEX oauth_refresh_user ON oauth_refresh_tokens(user_id);
CREATE INDEX oauth_device_expiry ON oauth_device_codes(expires_at);
