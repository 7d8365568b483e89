//! Where a message goes: an SMTP relay (lettre over rustls) or an `.eml` file in the
//! outbox directory. Both are blocking; the sender runs them on the blocking pool.

use std::path::PathBuf;

use lettre::message::header::ContentType;
use lettre::message::{Body, Mailbox};
use lettre::{Message, SmtpTransport, Transport as _};

use super::queries::Outgoing;
use crate::config::MailSettings;

pub enum Transport {
    Smtp(Box<SmtpTransport>),
    Files(PathBuf),
}

impl Transport {
    pub fn from_settings(settings: &MailSettings) -> anyhow::Result<Self> {
        match &settings.smtp_url {
            // The URL may hold a password: the error names the setting, not the value.
            Some(url) => SmtpTransport::from_url(&url.0)
                .map(|b| Self::Smtp(Box::new(b.build())))
                .map_err(|e| anyhow::anyhow!("CERTVERIFY_SMTP_URL: unusable: {e}")),
            None => {
                std::fs::create_dir_all(&settings.outbox_dir).map_err(|e| {
                    anyhow::anyhow!(
                        "CERTVERIFY_DATA_DIR: cannot create {}: {e}",
                        settings.outbox_dir.display()
                    )
                })?;
                Ok(Self::Files(settings.outbox_dir.clone()))
            }
        }
    }

    /// Sends one message. The `.eml` file is named after the outbox id and written
    /// through a temporary name, so a resend replaces it whole and a reader never sees
    /// half a message.
    pub fn send(&self, from: &str, m: &Outgoing) -> Result<(), String> {
        let message = build(from, m)?;
        match self {
            Self::Smtp(smtp) => smtp.send(&message).map(drop).map_err(|e| e.to_string()),
            Self::Files(dir) => {
                let tmp = dir.join(format!(".{}.eml.tmp", m.id));
                let path = dir.join(format!("{}.eml", m.id));
                std::fs::write(&tmp, message.formatted())
                    .and_then(|()| std::fs::rename(&tmp, &path))
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))
            }
        }
    }
}

fn build(from: &str, m: &Outgoing) -> Result<Message, String> {
    let from: Mailbox = from.parse().map_err(|e| format!("From: {e}"))?;
    let to: Mailbox = m.recipient.parse().map_err(|e| format!("To: {e}"))?;
    // lettre picks the transfer encoding: 8bit only for lines under 76 bytes, which a
    // link with a 43-character token never is, so bilingual mail is base64 in practice.
    let body = Body::new(m.body.clone());
    Message::builder()
        .from(from)
        .to(to)
        .subject(m.subject.clone())
        // Fixed at queueing, with the Date: a resend is the same message.
        .message_id(Some(format!("<{}>", m.message_id)))
        .date(std::time::SystemTime::from(m.created_at.and_utc()))
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .map_err(|e| e.to_string())
}
