-- Holders: certificate holders with their own accounts. The identity document number is
-- kept only as a keyed hash (for look-up) and its last four characters (for display).
CREATE TABLE holders (
    id TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL,
    email_normalized TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    full_name TEXT NOT NULL,
    nationality TEXT NOT NULL,
    identity_kind TEXT NOT NULL CHECK (identity_kind IN ('foreign_national', 'hk_mo_tw', 'mainland')),
    date_of_birth DATE NOT NULL,
    identity_document_type TEXT NOT NULL,
    identity_document_hmac TEXT NOT NULL,
    identity_document_last4 TEXT NOT NULL,
    residence_country TEXT NOT NULL,
    shanghai_hukou BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX holders_identity_document ON holders (identity_document_hmac);

-- Service accounts: agencies and admins, authenticated with OAuth2 client credentials.
CREATE TABLE service_accounts (
    id TEXT PRIMARY KEY NOT NULL,
    client_id TEXT NOT NULL UNIQUE,
    secret_hash TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('admin', 'agency')),
    scopes TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    created_by TEXT NULL REFERENCES service_accounts (id),
    disabled_at TIMESTAMP NULL
);
