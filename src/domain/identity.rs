//! Identity documents: normalization and the keyed hash that replaces the number.

use hmac::{Hmac, Mac};
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
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.0) else {
            return String::new();
        };
        mac.update(doc.canonical().as_bytes());
        hex::encode(mac.finalize().into_bytes())
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
    fn short_numbers_show_what_they_have() {
        assert_eq!(
            IdentityDocument::new("passport", "BR", "AB1").last4(),
            "AB1"
        );
    }
}
