//! The settings of holders' accounts and of the mail outbox: where data lives, how mail
//! leaves, and every lifetime DESIGN.md names for links and sessions.

use std::path::PathBuf;
use std::time::Duration;

use super::{ConfigError, Env, Secret};

/// How mail leaves the platform.
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// `smtp://` or `smtps://` (lettre's URL form); unset: `.eml` files in `outbox_dir`.
    pub smtp_url: Option<Secret>,
    pub outbox_dir: PathBuf,
    /// The `From:` address; its domain is also the right-hand side of every Message-ID.
    pub from: String,
    /// How often the sender looks for due messages.
    pub poll: Duration,
    /// The first retry's delay; each further one doubles it, up to an hour.
    pub retry_base: Duration,
    /// A message still unsent this long after it was queued is given up.
    pub give_up_after: Duration,
}

impl MailSettings {
    /// The domain of the `From:` address (checked to exist when the settings were read).
    pub fn from_domain(&self) -> &str {
        self.from
            .rsplit_once('@')
            .map(|(_, d)| d.trim_end_matches('>'))
            .unwrap_or("localhost")
    }
}

/// Lifetimes of the emailed links and of page sessions.
#[derive(Debug, Clone, Copy)]
pub struct AccountSettings {
    pub verify_email_ttl: Duration,
    pub password_reset_ttl: Duration,
    pub session_idle: Duration,
    pub session_absolute: Duration,
}

/// `CERTVERIFY_DATA_DIR` (default `data`): the SQLite default database and the outbox.
pub(super) fn data_dir(env: &Env<'_>) -> Result<PathBuf, ConfigError> {
    match env.get("CERTVERIFY_DATA_DIR") {
        None => Ok(PathBuf::from("data")),
        Some(v) if v.trim().is_empty() => {
            Err(ConfigError::new("CERTVERIFY_DATA_DIR", "must not be empty"))
        }
        Some(v) => Ok(PathBuf::from(v)),
    }
}

pub(super) fn mail(env: &Env<'_>, data_dir: &std::path::Path) -> Result<MailSettings, ConfigError> {
    let smtp_url = env.secret("CERTVERIFY_SMTP_URL")?;
    if let Some(url) = &smtp_url {
        // The URL's text may hold a password: the message names the setting only.
        let ok = url::Url::parse(&url.0)
            .map(|u| matches!(u.scheme(), "smtp" | "smtps") && u.host().is_some())
            .unwrap_or(false);
        if !ok {
            return Err(ConfigError::new(
                "CERTVERIFY_SMTP_URL",
                "expected smtp://host[:port] or smtps://host[:port] (user and password optional)",
            ));
        }
    }
    let from = env
        .get("CERTVERIFY_MAIL_FROM")
        .unwrap_or("certverify <no-reply@localhost>")
        .trim()
        .to_owned();
    if from.parse::<lettre::message::Mailbox>().is_err() {
        return Err(ConfigError::new(
            "CERTVERIFY_MAIL_FROM",
            "expected an address such as \"certverify <no-reply@example.org>\"",
        ));
    }
    Ok(MailSettings {
        smtp_url,
        outbox_dir: data_dir.join("outbox"),
        from,
        poll: Duration::from_millis(env.bounded("CERTVERIFY_MAIL_POLL_MS", 2_000, 10, 600_000)?),
        retry_base: Duration::from_secs(env.bounded(
            "CERTVERIFY_MAIL_RETRY_BASE_SECONDS",
            30,
            1,
            86_400,
        )?),
        give_up_after: Duration::from_secs(env.bounded(
            "CERTVERIFY_MAIL_GIVE_UP_SECONDS",
            3 * 86_400,
            60,
            30 * 86_400,
        )?),
    })
}

pub(super) fn accounts(env: &Env<'_>) -> Result<AccountSettings, ConfigError> {
    let secs = |name, default, min, max| {
        env.bounded(name, default, min, max)
            .map(Duration::from_secs)
    };
    let s = AccountSettings {
        verify_email_ttl: secs(
            "CERTVERIFY_EMAIL_VERIFY_TTL_SECONDS",
            86_400,
            1,
            30 * 86_400,
        )?,
        password_reset_ttl: secs("CERTVERIFY_PASSWORD_RESET_TTL_SECONDS", 3_600, 1, 86_400)?,
        session_idle: secs("CERTVERIFY_SESSION_IDLE_SECONDS", 1_800, 1, 86_400)?,
        session_absolute: secs(
            "CERTVERIFY_SESSION_ABSOLUTE_SECONDS",
            43_200,
            1,
            30 * 86_400,
        )?,
    };
    if s.session_idle > s.session_absolute {
        return Err(ConfigError::new(
            "CERTVERIFY_SESSION_IDLE_SECONDS",
            "must not be longer than CERTVERIFY_SESSION_ABSOLUTE_SECONDS",
        ));
    }
    Ok(s)
}
