//! The one schema shared by both backends: only portable types (Text ids and JSON,
//! UTC Timestamp, Date, Bool, BigInt).

diesel::table! {
    holders (id) {
        id -> Text,
        email -> Text,
        email_normalized -> Text,
        password_hash -> Text,
        full_name -> Text,
        nationality -> Text,
        identity_kind -> Text,
        date_of_birth -> Date,
        identity_document_type -> Text,
        identity_document_hmac -> Text,
        identity_document_last4 -> Text,
        residence_country -> Text,
        shanghai_hukou -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        identity_document_sealed -> Nullable<Text>,
        email_verified_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    holder_tokens (token_hash) {
        token_hash -> Text,
        holder_id -> Text,
        purpose -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    holder_sessions (id_hash) {
        id_hash -> Text,
        holder_id -> Text,
        csrf_token -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
    }
}

diesel::table! {
    mail_outbox (id) {
        id -> Text,
        message_id -> Text,
        recipient -> Text,
        subject -> Text,
        body -> Text,
        created_at -> Timestamp,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        last_error -> Nullable<Text>,
        sent_at -> Nullable<Timestamp>,
        failed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    service_accounts (id) {
        id -> Text,
        client_id -> Text,
        secret_hash -> Text,
        name -> Text,
        kind -> Text,
        scopes -> Text,
        created_at -> Timestamp,
        created_by -> Nullable<Text>,
        disabled_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    list_versions (version) {
        version -> Text,
        title -> Text,
        published_on -> Nullable<Date>,
        effective_on -> Nullable<Date>,
        notes -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    issuing_bodies (id) {
        id -> Text,
        code -> Text,
        name_en -> Text,
        name_zh -> Nullable<Text>,
        country -> Text,
        website -> Nullable<Text>,
        verification_mode -> Text,
        api_base_url -> Nullable<Text>,
        status -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    issuing_body_keys (issuing_body_id, kid) {
        issuing_body_id -> Text,
        kid -> Text,
        x -> Text,
        status -> Text,
        created_at -> Timestamp,
        retired_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    qualifications (id) {
        id -> Text,
        code -> Text,
        name_en -> Text,
        name_zh -> Nullable<Text>,
        abbreviation -> Nullable<Text>,
        issuing_body_id -> Text,
        field -> Text,
        category_a -> Bool,
        category_b -> Bool,
        category_c -> Bool,
        category_d -> Bool,
        title_series -> Nullable<Text>,
        title_level -> Nullable<Text>,
        equivalences -> Text,
        list_version -> Text,
        status -> Text,
        removed_in_version -> Nullable<Text>,
        removed_on -> Nullable<Date>,
        removal_reason -> Nullable<Text>,
        demo -> Bool,
        search_text -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    registry_changes (id) {
        id -> Text,
        entity -> Text,
        entity_id -> Text,
        action -> Text,
        actor -> Text,
        at -> Timestamp,
        before_state -> Nullable<Text>,
        after_state -> Nullable<Text>,
    }
}

diesel::table! {
    verification_requests (id) {
        id -> Text,
        holder_id -> Text,
        qualification_id -> Text,
        issuing_body_id -> Text,
        certificate_number -> Text,
        name_on_certificate -> Text,
        issued_on -> Date,
        expires_on -> Nullable<Date>,
        applying_from -> Text,
        note -> Nullable<Text>,
        state -> Text,
        outcome -> Nullable<Text>,
        verification_method -> Nullable<Text>,
        certificate_facts -> Nullable<Text>,
        evidence_sha256 -> Nullable<Text>,
        evidence_type -> Nullable<Text>,
        first_sent_at -> Nullable<Timestamp>,
        last_request_jti -> Nullable<Text>,
        decided_by -> Nullable<Text>,
        decision_note -> Nullable<Text>,
        open_key -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    request_events (id) {
        id -> Text,
        request_id -> Text,
        state -> Text,
        reason -> Nullable<Text>,
        actor -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    idempotency_keys (principal, idem_key) {
        principal -> Text,
        idem_key -> Text,
        fingerprint -> Text,
        response_status -> Nullable<Integer>,
        response_body -> Nullable<Text>,
        created_at -> Timestamp,
        claim_token -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    jobs (id) {
        id -> Text,
        kind -> Text,
        request_id -> Text,
        run_at -> Timestamp,
        attempts -> Integer,
        lease_until -> Nullable<Timestamp>,
        lease_owner -> Nullable<Text>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    issuer_messages (issuing_body_id, jti) {
        issuing_body_id -> Text,
        jti -> Text,
        sha256 -> Text,
        message_type -> Text,
        request_id -> Nullable<Text>,
        claims -> Text,
        received_at -> Timestamp,
    }
}

diesel::table! {
    evidence (sha256) {
        sha256 -> Text,
        content_type -> Text,
        size -> BigInt,
        content -> Binary,
        created_at -> Timestamp,
    }
}

diesel::table! {
    platform_keys (kid) {
        kid -> Text,
        public_key -> Text,
        state -> Text,
        created_at -> Timestamp,
        retired_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    status_lists (id) {
        id -> Text,
        purpose -> Text,
        size -> BigInt,
        updated_at -> Timestamp,
        created_at -> Timestamp,
    }
}

diesel::table! {
    records (id) {
        id -> Text,
        request_id -> Text,
        holder_id -> Text,
        qualification_id -> Text,
        identity_document_hmac -> Text,
        nationality -> Text,
        status -> Text,
        status_reason -> Nullable<Text>,
        kid -> Text,
        credential -> Text,
        valid_from -> Timestamp,
        valid_until -> Timestamp,
        revocation_list -> Text,
        revocation_index -> BigInt,
        suspension_list -> Text,
        suspension_index -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    share_codes (code_hash) {
        code_hash -> Text,
        record_id -> Text,
        holder_id -> Text,
        hint -> Text,
        expires_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    record_access (id) {
        id -> Text,
        record_id -> Text,
        holder_id -> Text,
        agency_id -> Text,
        agency_name -> Text,
        via -> Text,
        purpose -> Nullable<Text>,
        at -> Timestamp,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Text,
        at -> Timestamp,
        actor -> Text,
        action -> Text,
        subject -> Nullable<Text>,
        details -> Text,
        seq -> Nullable<BigInt>,
        prev_hash -> Nullable<Text>,
        hash -> Nullable<Text>,
    }
}

diesel::joinable!(request_events -> verification_requests (request_id));
diesel::joinable!(jobs -> verification_requests (request_id));
diesel::joinable!(verification_requests -> qualifications (qualification_id));
diesel::joinable!(verification_requests -> holders (holder_id));
diesel::joinable!(issuing_body_keys -> issuing_bodies (issuing_body_id));
diesel::joinable!(qualifications -> issuing_bodies (issuing_body_id));
diesel::joinable!(records -> verification_requests (request_id));
diesel::joinable!(records -> holders (holder_id));
diesel::joinable!(records -> qualifications (qualification_id));
diesel::joinable!(share_codes -> records (record_id));
diesel::joinable!(record_access -> records (record_id));
diesel::joinable!(holder_tokens -> holders (holder_id));
diesel::joinable!(holder_sessions -> holders (holder_id));

diesel::allow_tables_to_appear_in_same_query!(
    holders,
    holder_tokens,
    holder_sessions,
    mail_outbox,
    service_accounts,
    list_versions,
    issuing_bodies,
    issuing_body_keys,
    qualifications,
    registry_changes,
    verification_requests,
    request_events,
    idempotency_keys,
    jobs,
    issuer_messages,
    evidence,
    platform_keys,
    status_lists,
    records,
    share_codes,
    record_access,
    audit_log,
);
