//! Settings: every variable parsed, bounded and named in its errors.

use super::*;

fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
    Settings::from_vars(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())))
}

#[test]
fn nothing_set_gives_the_sqlite_development_defaults() {
    let s = settings(&[]).unwrap();
    assert_eq!(
        s.database_url,
        DatabaseUrl::Sqlite(DEFAULT_DATABASE_PATH.into())
    );
    assert_eq!(s.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(s.key_file, PathBuf::from(DEFAULT_KEY_FILE));
    assert!(s.generate_missing_secrets);
    assert_eq!(s.token_ttl, Duration::from_secs(900));
}

#[test]
fn database_urls_are_recognised_by_scheme() {
    assert_eq!(
        DatabaseUrl::parse("sqlite:///abs/dir/f.db"),
        Ok(DatabaseUrl::Sqlite("/abs/dir/f.db".into()))
    );
    assert_eq!(
        DatabaseUrl::parse("sqlite://rel/f.db"),
        Ok(DatabaseUrl::Sqlite("rel/f.db".into()))
    );
    assert_eq!(
        DatabaseUrl::parse("plain/file.db"),
        Ok(DatabaseUrl::Sqlite("plain/file.db".into()))
    );
    assert!(matches!(
        DatabaseUrl::parse("postgres://u@h/db"),
        Ok(DatabaseUrl::Postgres(_))
    ));
    assert!(matches!(
        DatabaseUrl::parse("postgresql://u@h/db"),
        Ok(DatabaseUrl::Postgres(_))
    ));
}

#[test]
fn other_schemes_and_key_value_strings_are_never_file_names() {
    for bad in [
        "mysql://h/db",
        "host=localhost password=secret",
        "sqlite://:memory:",
        "",
        "http://x",
    ] {
        assert!(
            DatabaseUrl::parse(bad).is_err(),
            "{bad:?} should be refused"
        );
    }
}

#[test]
fn debug_output_hides_the_database_password() {
    let url = DatabaseUrl::parse("postgres://user:hunter2@localhost/db").unwrap();
    assert!(!format!("{url:?}").contains("hunter2"));
}

#[test]
fn an_unknown_certverify_variable_is_named() {
    let err = settings(&[("CERTVERIFY_LISTNE", "x")]).unwrap_err();
    assert_eq!(err.setting, "CERTVERIFY_LISTNE");
}

#[test]
fn malformed_values_name_their_setting() {
    for (name, value) in [
        ("CERTVERIFY_LISTEN", "not-an-address"),
        ("CERTVERIFY_PUBLIC_URL", "ftp://x"),
        ("CERTVERIFY_TOKEN_TTL_SECONDS", "0"),
        ("CERTVERIFY_LOG_FORMAT", "xml"),
        ("CERTVERIFY_ALLOW_HTTP_ISSUERS", "yes please"),
        ("CERTVERIFY_PII_KEY", "abcd"),
        ("DATABASE_URL", "mysql://x"),
        ("CERTVERIFY_IDEMPOTENCY_LEASE_SECONDS", "0"),
        ("CERTVERIFY_IDEMPOTENCY_LEASE_SECONDS", "a minute"),
        ("CERTVERIFY_DB_POOL_TIMEOUT_MS", "5"),
        ("CERTVERIFY_SQLITE_BUSY_TIMEOUT_MS", "-1"),
    ] {
        let err = settings(&[(name, value)]).unwrap_err();
        assert_eq!(err.setting, name, "{err}");
    }
}

#[test]
fn the_idempotency_lease_outlasts_the_storage_timeouts() {
    let defaults = settings(&[]).unwrap();
    assert_eq!(defaults.idempotency_lease, Duration::from_secs(60));
    assert_eq!(defaults.storage, StorageTimeouts::default());
    let err = settings(&[
        ("CERTVERIFY_IDEMPOTENCY_LEASE_SECONDS", "10"),
        ("CERTVERIFY_DB_POOL_TIMEOUT_MS", "6000"),
        ("CERTVERIFY_SQLITE_BUSY_TIMEOUT_MS", "4000"),
    ])
    .unwrap_err();
    assert_eq!(err.setting, "CERTVERIFY_IDEMPOTENCY_LEASE_SECONDS");
    let short = settings(&[
        ("CERTVERIFY_IDEMPOTENCY_LEASE_SECONDS", "2"),
        ("CERTVERIFY_DB_POOL_TIMEOUT_MS", "500"),
        ("CERTVERIFY_SQLITE_BUSY_TIMEOUT_MS", "500"),
    ])
    .unwrap();
    assert_eq!(short.idempotency_lease, Duration::from_secs(2));
}

#[test]
fn postgres_requires_the_shared_key_file_and_pii_key() {
    let err = settings(&[("DATABASE_URL", "postgres://p@h/db")]).unwrap_err();
    assert_eq!(err.setting, "CERTVERIFY_KEY_FILE");
    let err = settings(&[
        ("DATABASE_URL", "postgres://p@h/db"),
        ("CERTVERIFY_KEY_FILE", "k.pem"),
    ])
    .unwrap_err();
    assert_eq!(err.setting, "CERTVERIFY_PII_KEY");
    let key = "ab".repeat(32);
    let s = settings(&[
        ("DATABASE_URL", "postgres://p@h/db"),
        ("CERTVERIFY_KEY_FILE", "k.pem"),
        ("CERTVERIFY_PII_KEY", &key),
    ])
    .unwrap();
    assert!(!s.generate_missing_secrets);
}

#[test]
fn secrets_can_come_from_a_file_but_not_from_both_places() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pii");
    std::fs::write(&path, format!("{}\n", "cd".repeat(32))).unwrap();
    let path = path.to_str().unwrap();
    let s = settings(&[("CERTVERIFY_PII_KEY_FILE", path)]).unwrap();
    assert_eq!(s.pii_key, Some(Secret("cd".repeat(32))));
    let err = settings(&[
        ("CERTVERIFY_PII_KEY_FILE", path),
        ("CERTVERIFY_PII_KEY", "x"),
    ])
    .unwrap_err();
    assert_eq!(err.setting, "CERTVERIFY_PII_KEY");
    let err = settings(&[("DATABASE_URL_FILE", "/nonexistent/file")]).unwrap_err();
    assert_eq!(err.setting, "DATABASE_URL_FILE");
}

#[test]
fn the_data_dir_holds_the_default_database_and_the_outbox() {
    let s = settings(&[]).unwrap();
    assert_eq!(s.data_dir, PathBuf::from("data"));
    assert_eq!(s.mail.outbox_dir, PathBuf::from("data/outbox"));
    assert!(s.mail.smtp_url.is_none());
    let s = settings(&[("CERTVERIFY_DATA_DIR", "/srv/cv")]).unwrap();
    assert_eq!(
        s.database_url,
        DatabaseUrl::Sqlite("/srv/cv/certverify.db".into())
    );
    assert_eq!(s.mail.outbox_dir, PathBuf::from("/srv/cv/outbox"));
    assert_eq!(s.mail.from_domain(), "localhost");
    assert_eq!(s.accounts.verify_email_ttl, Duration::from_secs(86_400));
    assert_eq!(s.accounts.password_reset_ttl, Duration::from_secs(3_600));
}

#[test]
fn mail_settings_are_checked_without_showing_the_smtp_password() {
    let err = settings(&[("CERTVERIFY_SMTP_URL", "http://user:hunter2@mail")]).unwrap_err();
    assert_eq!(err.setting, "CERTVERIFY_SMTP_URL");
    assert!(!err.to_string().contains("hunter2"));
    assert!(settings(&[("CERTVERIFY_SMTP_URL", "smtps://u:p@mail.example.org:465")]).is_ok());
    let err = settings(&[("CERTVERIFY_MAIL_FROM", "not an address")]).unwrap_err();
    assert_eq!(err.setting, "CERTVERIFY_MAIL_FROM");
    let s = settings(&[("CERTVERIFY_MAIL_FROM", "Bureau <no-reply@cv.example.org>")]).unwrap();
    assert_eq!(s.mail.from_domain(), "cv.example.org");
    let err = settings(&[("CERTVERIFY_MAIL_POLL_MS", "0")]).unwrap_err();
    assert_eq!(err.setting, "CERTVERIFY_MAIL_POLL_MS");
    let err = settings(&[
        ("CERTVERIFY_SESSION_IDLE_SECONDS", "7200"),
        ("CERTVERIFY_SESSION_ABSOLUTE_SECONDS", "3600"),
    ])
    .unwrap_err();
    assert_eq!(err.setting, "CERTVERIFY_SESSION_IDLE_SECONDS");
    assert_eq!(
        settings(&[("CERTVERIFY_MAIL_FORM", "x")])
            .unwrap_err()
            .message,
        "unknown setting"
    );
}
