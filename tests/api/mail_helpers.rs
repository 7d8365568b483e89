//! The mail outbox as tests read it: the real `.eml` files the server wrote into its data
//! directory, decoded, and the links in them followed through the API.

use serde_json::json;

use crate::helpers::TestApp;

impl TestApp {
    /// Follows the newest verification link mailed to `email` through the API.
    pub async fn verify_email(&self, email: &str) {
        let mail = self.wait_for_mail(email, "/account/verify-email/").await;
        let token = link_token(&mail, "/account/verify-email/");
        let res = self
            .post_json("/v1/holders/verify-email", &json!({ "token": token }), None)
            .await;
        assert_eq!(res.status(), 204, "verify-email");
    }

    pub fn outbox_dir(&self) -> std::path::PathBuf {
        self.data_dir().join("outbox")
    }

    /// Every `.eml` file in the outbox addressed to `email`, oldest first (files are
    /// named after time-ordered ids).
    pub fn mails_to(&self, email: &str) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.outbox_dir()) else {
            return Vec::new();
        };
        let mut files: Vec<_> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        files.sort();
        let to = format!("To: {email}");
        files
            .into_iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .filter(|m| m.lines().any(|l| l.eq_ignore_ascii_case(&to)))
            .map(|m| decode_mail(&m))
            .collect()
    }

    /// Waits (up to 10 s) for a mail to `email` containing `needle`; the newest such.
    pub async fn wait_for_mail(&self, email: &str, needle: &str) -> String {
        for _ in 0..500 {
            if let Some(m) = self
                .mails_to(email)
                .into_iter()
                .rev()
                .find(|m| m.contains(needle))
            {
                return m;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let files: Vec<_> = std::fs::read_dir(self.outbox_dir())
            .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        panic!("no mail to {email} containing {needle} in {files:?}");
    }
}

/// A message file with its body decoded (lettre writes bilingual bodies as base64): the
/// headers as they are, a blank line, the text.
pub fn decode_mail(raw: &str) -> String {
    use base64::Engine;
    let Some((head, body)) = raw.split_once("\r\n\r\n") else {
        return raw.to_owned();
    };
    let text = if head
        .lines()
        .any(|l| l.eq_ignore_ascii_case("Content-Transfer-Encoding: base64"))
    {
        let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(compact)
            .expect("base64 body");
        String::from_utf8(bytes).expect("UTF-8 body")
    } else {
        body.to_owned()
    };
    format!("{head}\r\n\r\n{text}")
}

/// The token after `path` in a mail's link.
pub fn link_token(mail: &str, path: &str) -> String {
    let at = mail.find(path).expect("link in mail") + path.len();
    mail[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}
