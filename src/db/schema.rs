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

diesel::allow_tables_to_appear_in_same_query!(holders, service_accounts);
