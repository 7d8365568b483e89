-- Holders' verification requests, their history, and the durable work that follows them.
CREATE TABLE verification_requests (
    id TEXT PRIMARY KEY NOT NULL,
    holder_id TEXT NOT NULL REFERENCES holders (id),
    qualification_id TEXT NOT NULL REFERENCES qualifications (id),
    issuing_body_id TEXT NOT NULL REFERENCES issuing_bodies (id),
    certificate_number TEXT NOT NULL,
    name_on_certificate TEXT NOT NULL,
    issued_on DATE NOT NULL,
    expires_on DATE NULL,
    applying_from TEXT NOT NULL,
    note TEXT NULL,
    state TEXT NOT NULL,
    -- What the body said (confirmed, not_found, mismatch): admins see it, holders do not.
    outcome TEXT NULL,
    verification_method TEXT NULL,
    -- The certificate as the body knows it (JSON), once it answered.
    certificate_facts TEXT NULL,
    evidence_sha256 TEXT NULL,
    evidence_type TEXT NULL,
    first_sent_at TIMESTAMP NULL,
    last_request_jti TEXT NULL,
    decided_by TEXT NULL,
    decision_note TEXT NULL,
    -- Set while the request is open, NULL once it is closed: the unique index allows at
    -- most one open request per holder, qualification and certificate number.
    open_key TEXT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX verification_requests_holder ON verification_requests (holder_id, id);
CREATE INDEX verification_requests_state ON verification_requests (state, id);

CREATE TABLE request_events (
    id TEXT PRIMARY KEY NOT NULL,
    request_id TEXT NOT NULL REFERENCES verification_requests (id),
    state TEXT NOT NULL,
    reason TEXT NULL,
    actor TEXT NOT NULL,
    at TIMESTAMP NOT NULL
);
CREATE INDEX request_events_request ON request_events (request_id, id);

-- Idempotency-Key state, scoped to the principal that sent the key; kept 24 hours.
CREATE TABLE idempotency_keys (
    principal TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    response_status INTEGER NULL,
    response_body TEXT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (principal, idem_key)
);

-- Durable jobs for the dispatcher. A claimed job holds a lease; an expired lease means the
-- worker died and the job is claimed again.
CREATE TABLE jobs (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    request_id TEXT NOT NULL REFERENCES verification_requests (id),
    run_at TIMESTAMP NOT NULL,
    attempts INTEGER NOT NULL,
    lease_until TIMESTAMP NULL,
    lease_owner TEXT NULL,
    last_error TEXT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX jobs_due ON jobs (run_at);

-- Every verified message an issuing body sent, by (body, jti): replays are recognised.
CREATE TABLE issuer_messages (
    issuing_body_id TEXT NOT NULL REFERENCES issuing_bodies (id),
    jti TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    message_type TEXT NOT NULL,
    request_id TEXT NULL,
    claims TEXT NOT NULL,
    received_at TIMESTAMP NOT NULL,
    PRIMARY KEY (issuing_body_id, jti)
);

CREATE TABLE evidence (
    sha256 TEXT PRIMARY KEY NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    content BYTEA NOT NULL,
    created_at TIMESTAMP NOT NULL
);
