-- 0008_invitations: joining an organization takes the invitee's consent (an invitation, which
-- expires), and an account made by open sign-up proves its email address before anyone can
-- invite it (a one-time link, stored as the keyed digest of its code like a token).
ALTER TABLE users ADD COLUMN email_verified INTEGER NOT NULL DEFAULT 1;
-- Accounts the operator made (pccd user add) count as verified; those made by open sign-up
-- before this migration have proved nothing yet.
UPDATE users SET email_verified = 0
    WHERE id IN (SELECT user_id FROM audit_events WHERE event = 'web.signup');

CREATE TABLE email_verifications (
    digest      TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX email_verifications_user ON email_verifications(user_id);
CREATE INDEX email_verifications_expiry ON email_verifications(expires_at);

CREATE TABLE invitations (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    email       TEXT NOT NULL, -- as the inviter typed it; matched without regard to case
    role        TEXT NOT NULL CHECK (role IN ('admin', 'member')),
    invited_by  TEXT NOT NULL DEFAULT '', -- a user id; kept when that user is gone
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'accepted', 'declined', 'revoked')),
    decided_at  BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX invitations_email ON invitations(lower(email), status);
CREATE INDEX invitations_org ON invitations(org_id, status);
