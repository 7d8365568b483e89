-- Accounts for people: a holder's address is verified by an emailed link before a request
-- is accepted. Holders who exist when this lands registered before there was a link to
-- follow, so they count as verified from their registration.
ALTER TABLE holders ADD COLUMN email_verified_at TIMESTAMP NULL;
UPDATE holders SET email_verified_at = created_at;

-- Emailed one-use tokens (email verification, password reset), kept only as SHA-256.
CREATE TABLE holder_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    holder_id TEXT NOT NULL REFERENCES holders (id),
    purpose TEXT NOT NULL CHECK (purpose IN ('verify_email', 'reset_password')),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP NULL
);
CREATE INDEX holder_tokens_holder ON holder_tokens (holder_id, purpose);

-- Page sessions: the id is kept only as SHA-256; the CSRF token is not a credential on its
-- own (it is useless without the session cookie), so it is kept as given.
CREATE TABLE holder_sessions (
    id_hash TEXT PRIMARY KEY NOT NULL,
    holder_id TEXT NOT NULL REFERENCES holders (id),
    csrf_token TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL
);
CREATE INDEX holder_sessions_holder ON holder_sessions (holder_id);

-- The mail outbox: a message is queued in the transaction that causes it and sent at least
-- once by the background sender; `message_id` is fixed at queueing, so a resend after a
-- crash carries the same Message-ID. `next_attempt_at` doubles as the claim's lease.
CREATE TABLE mail_outbox (
    id TEXT PRIMARY KEY NOT NULL,
    message_id TEXT NOT NULL UNIQUE,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    last_error TEXT NULL,
    sent_at TIMESTAMP NULL,
    failed_at TIMESTAMP NULL
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;
