//! Identity documents: normalization and the keyed hash that replaces the number.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chacha20poly1305::aead::Aead;
use chacha20poly1305::KeyInit as _;
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand_core::{OsRng, RngCore};
use sha2::Sha256;

/// The server secret under which document numbers are hashed for look-up.
#[derive(Clone)]
pub struct PiiKey([u8; 32]);

impl PiiKey {
    pub fn new(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// HMAC-SHA-256 over `TYPE:NATIONALITY:NUMBER` (normalized), hex-encoded. The type and
    /// nationality are part of the input so equal numbers of different documents differ.
    pub fn document_digest(&self, doc: &IdentityDocument) -> String {
        // A 32-byte key is always a valid HMAC key; the fallback is unreachable.
        let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(&self.0) else {
            return String::new();
        };
        mac.update(doc.canonical().as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Encrypts the canonical document string (XChaCha20-Poly1305 under a key derived from
    /// this one), so a record's salted digest can be made when it is issued without the
    /// number ever being stored in clear. Output: base64url(nonce ‖ ciphertext).
    pub fn seal(&self, doc: &IdentityDocument) -> String {
        let mut nonce = [0u8; 24];
        OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .cipher()
            .encrypt(&XNonce::from(nonce), doc.canonical().as_bytes())
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        URL_SAFE_NO_PAD.encode(out)
    }

    /// The canonical document string back, or None when it was sealed under another key
    /// or altered.
    pub fn open(&self, sealed: &str) -> Option<String> {
        let bytes = URL_SAFE_NO_PAD.decode(sealed).ok()?;
        if bytes.len() < 24 {
            return None;
        }
        let (nonce, body) = bytes.split_at(24);
        let nonce: [u8; 24] = nonce.try_into().ok()?;
        let plain = self.cipher().decrypt(&XNonce::from(nonce), body).ok()?;
        String::from_utf8(plain).ok()
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        // Separate keys for separate uses: the sealing key is an HMAC of a fixed label.
        let mut key = [0u8; 32];
        if let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(&self.0) {
            mac.update(b"certverify identity seal v1");
            key.copy_from_slice(&mac.finalize().into_bytes());
        }
        XChaCha20Poly1305::new(&key.into())
    }
}

/// A normalized identity document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityDocument {
    pub doc_type: String,
    pub nationality: String,
    pub number: String,
}

impl IdentityDocument {
    /// Upper-cases and strips spaces and hyphens from the number, so `fz 123-4567` and
    /// `FZ1234567` are the same document.
    pub fn new(doc_type: &str, nationality: &str, number: &str) -> Self {
        Self {
            doc_type: doc_type.trim().to_ascii_lowercase(),
            nationality: nationality.trim().to_ascii_uppercase(),
            number: normalize_number(number),
        }
    }

    /// `PASSPORT:BR:FZ1234567`, the form DESIGN.md fixes for digests.
    pub fn canonical(&self) -> String {
        format!(
            "{}:{}:{}",
            self.doc_type.to_ascii_uppercase(),
            self.nationality,
            self.number
        )
    }

    pub fn last4(&self) -> String {
        let chars: Vec<char> = self.number.chars().collect();
        chars[chars.len().saturating_sub(4)..].iter().collect()
    }
}

pub fn normalize_number(number: &str) -> String {
    number
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_compared_without_case_spaces_or_hyphens() {
        let a = IdentityDocument::new("passport", "br", "fz 123-4567");
        let b = IdentityDocument::new("PASSPORT", "BR", "FZ1234567");
        assert_eq!(a, b);
        assert_eq!(a.canonical(), "PASSPORT:BR:FZ1234567");
        assert_eq!(a.last4(), "4567");
    }

    #[test]
    fn the_digest_depends_on_key_type_and_nationality() {
        let key = PiiKey::new([7; 32]);
        let doc = IdentityDocument::new("passport", "BR", "FZ1234567");
        let digest = key.document_digest(&doc);
        assert_eq!(digest.len(), 64);
        assert!(!digest.contains("1234567"));
        assert_ne!(digest, PiiKey::new([8; 32]).document_digest(&doc));
        assert_ne!(
            digest,
            key.document_digest(&IdentityDocument::new("passport", "PT", "FZ1234567"))
        );
        assert_ne!(
            digest,
            key.document_digest(&IdentityDocument::new("id_card", "BR", "FZ1234567"))
        );
    }

    #[test]
    fn a_sealed_document_opens_only_under_its_own_key() {
        let doc = IdentityDocument::new("passport", "br", "fz 123-4567");
        let key = PiiKey::new([7; 32]);
        let sealed = key.seal(&doc);
        assert!(!sealed.contains("FZ1234567"));
        assert_ne!(sealed, key.seal(&doc), "every seal has its own nonce");
        assert_eq!(key.open(&sealed).as_deref(), Some("PASSPORT:BR:FZ1234567"));
        assert_eq!(PiiKey::new([8; 32]).open(&sealed), None);
        let mut tampered = sealed.into_bytes();
        let last = tampered.len() - 1;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(key.open(&String::from_utf8(tampered).unwrap()), None);
    }

    #[test]
    fn short_numbers_show_what_they_have() {
        assert_eq!(
            IdentityDocument::new("passport", "BR", "AB1").last4(),
            "AB1"
        );
    }
}
