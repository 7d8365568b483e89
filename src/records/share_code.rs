//! Share codes: 80 random bits a holder hands to an agency, written as Crockford base32
//! `XXXX-XXXX-XXXX-XXXX`. Only a hash is stored; the clear code exists once, in the
//! response that creates it.

use std::sync::OnceLock;

use data_encoding::{Encoding, Specification};
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};

/// A code as given to the holder, and the hash it is stored and looked up by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareCode {
    pub display: String,
    pub hash: String,
    /// The last four characters, so a holder can tell their codes apart.
    pub hint: String,
}

impl ShareCode {
    pub fn generate() -> Self {
        let mut bits = [0u8; 10];
        OsRng.fill_bytes(&mut bits);
        let symbols = crockford().encode(&bits);
        Self::from_symbols(&symbols)
    }

    /// Reads a code as a person may type it: any case, with or without hyphens or spaces,
    /// with O for 0 and I or L for 1 (Crockford's aliases). None when it cannot be a code.
    pub fn parse(input: &str) -> Option<Self> {
        let compact: String = input
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        if compact.len() != 16 {
            return None;
        }
        let bits = crockford().decode(compact.as_bytes()).ok()?;
        Some(Self::from_symbols(&crockford().encode(&bits)))
    }

    fn from_symbols(symbols: &str) -> Self {
        let display = symbols
            .as_bytes()
            .chunks(4)
            .filter_map(|c| std::str::from_utf8(c).ok())
            .collect::<Vec<_>>()
            .join("-");
        Self {
            hash: hex::encode(Sha256::digest(symbols.as_bytes())),
            hint: symbols[symbols.len().saturating_sub(4)..].to_string(),
            display,
        }
    }
}

fn crockford() -> &'static Encoding {
    static ENCODING: OnceLock<Encoding> = OnceLock::new();
    ENCODING.get_or_init(|| {
        let mut spec = Specification::new();
        spec.symbols.push_str("0123456789ABCDEFGHJKMNPQRSTVWXYZ");
        spec.translate.from.push_str("abcdefghjkmnpqrstvwxyzoOiIlL");
        spec.translate.to.push_str("ABCDEFGHJKMNPQRSTVWXYZ001111");
        // The specification is a constant known to be valid (tested below).
        #[allow(clippy::expect_used)]
        spec.encoding()
            .expect("the Crockford base32 specification is valid")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_code_has_four_groups_of_four_crockford_symbols() {
        let code = ShareCode::generate();
        let groups: Vec<&str> = code.display.split('-').collect();
        assert_eq!(groups.len(), 4);
        assert!(groups.iter().all(|g| g.len() == 4));
        assert!(code
            .display
            .chars()
            .all(|c| c == '-' || "0123456789ABCDEFGHJKMNPQRSTVWXYZ".contains(c)));
        assert_ne!(code, ShareCode::generate());
    }

    #[test]
    fn codes_match_without_regard_to_case_hyphens_or_aliases() {
        let code = ShareCode::parse("0123-4567-89AB-CDEF").unwrap();
        for typed in [
            "0123456789abcdef",
            "o123-4567-89ab-cdef",
            "0l23 4567 89AB CDEF",
            "0I23-4567-89Ab-cDeF",
        ] {
            assert_eq!(ShareCode::parse(typed).as_ref(), Some(&code), "{typed}");
        }
        assert_eq!(code.hint, "CDEF");
    }

    #[test]
    fn anything_else_is_not_a_code() {
        for bad in [
            "",
            "0123-4567-89AB",
            "0123-4567-89AB-CDEFG",
            "0123-4567-89AB-CDEU",
        ] {
            assert_eq!(ShareCode::parse(bad), None, "{bad}");
        }
    }
}
