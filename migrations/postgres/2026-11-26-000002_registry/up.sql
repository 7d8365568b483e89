-- The list of recognized overseas occupational qualifications, its versions and the
-- bodies that issue the certificates.
CREATE TABLE list_versions (
    version TEXT PRIMARY KEY NOT NULL,
    title TEXT NOT NULL,
    published_on DATE NULL,
    effective_on DATE NULL,
    notes TEXT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE issuing_bodies (
    id TEXT PRIMARY KEY NOT NULL,
    code TEXT NOT NULL UNIQUE,
    name_en TEXT NOT NULL,
    name_zh TEXT NULL,
    country TEXT NOT NULL,
    website TEXT NULL,
    verification_mode TEXT NOT NULL CHECK (verification_mode IN ('api', 'manual')),
    api_base_url TEXT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'suspended')),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- An issuing body's Ed25519 public keys; a retired key no longer verifies.
CREATE TABLE issuing_body_keys (
    issuing_body_id TEXT NOT NULL REFERENCES issuing_bodies (id),
    kid TEXT NOT NULL,
    x TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'retired')),
    created_at TIMESTAMP NOT NULL,
    retired_at TIMESTAMP NULL,
    PRIMARY KEY (issuing_body_id, kid)
);

CREATE TABLE qualifications (
    id TEXT PRIMARY KEY NOT NULL,
    code TEXT NOT NULL UNIQUE,
    name_en TEXT NOT NULL,
    name_zh TEXT NULL,
    abbreviation TEXT NULL,
    issuing_body_id TEXT NOT NULL REFERENCES issuing_bodies (id),
    field TEXT NOT NULL,
    -- One flag per category: a qualification can stand in several (FCCA is in A, B and C).
    category_a BOOLEAN NOT NULL,
    category_b BOOLEAN NOT NULL,
    category_c BOOLEAN NOT NULL,
    category_d BOOLEAN NOT NULL,
    title_series TEXT NULL,
    title_level TEXT NULL CHECK (title_level IN ('junior', 'intermediate', 'associate_senior')),
    equivalences TEXT NOT NULL,
    list_version TEXT NOT NULL REFERENCES list_versions (version),
    status TEXT NOT NULL CHECK (status IN ('listed', 'removed')),
    removed_in_version TEXT NULL REFERENCES list_versions (version),
    removed_on DATE NULL,
    removal_reason TEXT NULL,
    demo BOOLEAN NOT NULL,
    -- Lower-cased names, code and abbreviation, so that free-text search folds case the
    -- same way (Unicode, in Rust) on both backends.
    search_text TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX qualifications_status ON qualifications (status, id);
CREATE INDEX qualifications_issuing_body ON qualifications (issuing_body_id);

-- Append-only: every change to the registry, who made it, and the state before and after.
CREATE TABLE registry_changes (
    id TEXT PRIMARY KEY NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    at TIMESTAMP NOT NULL,
    before_state TEXT NULL,
    after_state TEXT NULL
);
CREATE INDEX registry_changes_entity ON registry_changes (entity, entity_id, id);
