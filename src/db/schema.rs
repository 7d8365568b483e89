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

diesel::joinable!(issuing_body_keys -> issuing_bodies (issuing_body_id));
diesel::joinable!(qualifications -> issuing_bodies (issuing_body_id));

diesel::allow_tables_to_appear_in_same_query!(
    holders,
    service_accounts,
    list_versions,
    issuing_bodies,
    issuing_body_keys,
    qualifications,
    registry_changes,
);
