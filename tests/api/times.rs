//! Every JSON answer the integration suite reads passes through [`JsonBody::json_checked`],
//! which fails the test on a timestamp without an offset (DESIGN.md "Times": RFC 3339 with
//! an offset, never a bare local time).

use serde::de::DeserializeOwned;
use serde_json::Value;

pub trait JsonBody {
    /// `reqwest::Response::json`, after checking every string in the body.
    fn json_checked<T: DeserializeOwned>(
        self,
    ) -> impl std::future::Future<Output = Result<T, serde_json::Error>>;
}

impl JsonBody for reqwest::Response {
    async fn json_checked<T: DeserializeOwned>(self) -> Result<T, serde_json::Error> {
        let url = self.url().clone();
        let bytes = self.bytes().await.unwrap_or_default();
        let value: Value = serde_json::from_slice(&bytes)?;
        if let Some(bare) = bare_time(&value) {
            panic!("{url} answered a time without an offset: {bare:?} in {value}");
        }
        serde_json::from_value(value)
    }
}

/// The first string of `value` that reads as a date and time with no offset.
pub fn bare_time(value: &Value) -> Option<&str> {
    match value {
        Value::String(s) if is_bare_time(s) => Some(s),
        Value::Array(items) => items.iter().find_map(bare_time),
        Value::Object(map) => map.values().find_map(bare_time),
        _ => None,
    }
}

/// `YYYY-MM-DDTHH:MM[:SS[.fff]]` (or with a space for the `T`) and nothing after it.
fn is_bare_time(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |range: std::ops::Range<usize>| b[range].iter().all(u8::is_ascii_digit);
    if b.len() < 16 || !(b[10] == b'T' || b[10] == b' ') {
        return false;
    }
    let stamp = digits(0..4) && b[4] == b'-' && digits(5..7) && b[7] == b'-' && digits(8..10);
    let clock = digits(11..13) && b[13] == b':' && digits(14..16);
    let rest = &s[16..];
    let fraction = rest.trim_start_matches(|c: char| c.is_ascii_digit() || c == ':' || c == '.');
    stamp && clock && fraction.is_empty()
}

#[test]
fn times_with_an_offset_pass_and_bare_ones_are_caught() {
    for ok in [
        "2026-12-02T18:55:43.265Z",
        "2026-12-02T18:55:43+08:00",
        "2026-12-02",
        "abc",
    ] {
        assert!(!is_bare_time(ok), "{ok}");
    }
    for bare in [
        "2026-12-02T18:55:43.265628285",
        "2026-12-02T18:55",
        "2026-12-02 18:55:43",
    ] {
        assert!(is_bare_time(bare), "{bare}");
    }
    let nested = serde_json::json!({"items": [{"at": "2026-12-02T18:55:43"}]});
    assert_eq!(bare_time(&nested), Some("2026-12-02T18:55:43"));
}
