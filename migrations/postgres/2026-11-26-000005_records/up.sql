-- Signed verification records and what hangs off them: the platform's keys, status lists,
-- share codes, the holder-visible access log and the hash-chained audit log.

-- The identity string (TYPE:NATIONALITY:NUMBER), sealed with a key derived from the PII key,
-- so a record's salted digest can be made later without keeping the number in clear.
ALTER TABLE holders ADD COLUMN identity_document_sealed TEXT NULL;

-- Public halves only: private keys live in key files, never in the database.
CREATE TABLE platform_keys (
    kid TEXT PRIMARY KEY NOT NULL,
    public_key TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('active', 'retired', 'revoked')),
    created_at TIMESTAMP NOT NULL,
    retired_at TIMESTAMP NULL,
    revoked_at TIMESTAMP NULL
);
-- At most one key signs.
CREATE UNIQUE INDEX platform_keys_one_active ON platform_keys (state) WHERE state = 'active';

CREATE TABLE status_lists (
    id TEXT PRIMARY KEY NOT NULL,
    purpose TEXT NOT NULL CHECK (purpose IN ('revocation', 'suspension')),
    size BIGINT NOT NULL,
    -- Bumped by every status change of a record on this list: the list credential's
    -- validFrom, so the served document only changes when a bit does.
    updated_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX status_lists_newest ON status_lists (purpose, created_at);

CREATE TABLE records (
    id TEXT PRIMARY KEY NOT NULL,
    request_id TEXT NOT NULL UNIQUE REFERENCES verification_requests (id),
    holder_id TEXT NOT NULL REFERENCES holders (id),
    qualification_id TEXT NOT NULL REFERENCES qualifications (id),
    identity_document_hmac TEXT NOT NULL,
    nationality TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('valid', 'suspended', 'revoked')),
    status_reason TEXT NULL,
    kid TEXT NOT NULL,
    credential TEXT NOT NULL,
    valid_from TIMESTAMP NOT NULL,
    valid_until TIMESTAMP NOT NULL,
    revocation_list TEXT NOT NULL REFERENCES status_lists (id),
    revocation_index BIGINT NOT NULL,
    suspension_list TEXT NOT NULL REFERENCES status_lists (id),
    suspension_index BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (revocation_list, revocation_index),
    UNIQUE (suspension_list, suspension_index)
);
CREATE INDEX records_holder ON records (holder_id, id);
CREATE INDEX records_identity ON records (identity_document_hmac);
CREATE INDEX records_qualification ON records (qualification_id, status);
CREATE INDEX records_kid ON records (kid);

CREATE TABLE share_codes (
    code_hash TEXT PRIMARY KEY NOT NULL,
    record_id TEXT NOT NULL REFERENCES records (id),
    holder_id TEXT NOT NULL REFERENCES holders (id),
    -- The last four characters, so a holder can tell their codes apart.
    hint TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX share_codes_record ON share_codes (record_id);

-- Every agency read of a record, for the holder to see.
CREATE TABLE record_access (
    id TEXT PRIMARY KEY NOT NULL,
    record_id TEXT NOT NULL REFERENCES records (id),
    holder_id TEXT NOT NULL REFERENCES holders (id),
    agency_id TEXT NOT NULL,
    agency_name TEXT NOT NULL,
    via TEXT NOT NULL,
    purpose TEXT NULL,
    at TIMESTAMP NOT NULL
);
CREATE INDEX record_access_holder ON record_access (holder_id, at);

-- Append-only. Rows are written with seq, prev_hash and hash NULL inside the transaction
-- that causes them; the chain linker fills them in after commit, in seq order.
CREATE TABLE audit_log (
    id TEXT PRIMARY KEY NOT NULL,
    at TIMESTAMP NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NULL,
    details TEXT NOT NULL,
    seq BIGINT NULL UNIQUE,
    prev_hash TEXT NULL,
    hash TEXT NULL
);
CREATE INDEX audit_log_unchained ON audit_log (at, id) WHERE seq IS NULL;
CREATE INDEX audit_log_subject ON audit_log (subject);
