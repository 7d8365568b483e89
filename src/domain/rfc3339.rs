//! Timestamps as the API sends them: RFC 3339 in UTC with the `Z` offset (DESIGN.md
//! "Times"), e.g. `2026-12-02T18:55:43.265628285Z`. Rows keep UTC as a plain
//! `NaiveDateTime` (both backends store it so); a field that leaves the service says
//! `#[serde(with = "crate::domain::rfc3339")]` (or `rfc3339::option`).

use chrono::{DateTime, NaiveDateTime, SecondsFormat};
use serde::{Deserialize, Deserializer, Serializer};

/// The RFC 3339 text of a UTC time, with as many fractional digits as it has.
pub fn format(at: &NaiveDateTime) -> String {
    at.and_utc().to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// An RFC 3339 time with any offset, as UTC; None for anything else.
pub fn parse(text: &str) -> Option<NaiveDateTime> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.naive_utc())
}

pub fn serialize<S: Serializer>(at: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format(at))
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDateTime, D::Error> {
    let text = String::deserialize(d)?;
    parse(&text).ok_or_else(|| serde::de::Error::custom("not an RFC 3339 time with an offset"))
}

/// The same for `Option<NaiveDateTime>` (null when absent).
pub mod option {
    use super::*;

    pub fn serialize<S: Serializer>(at: &Option<NaiveDateTime>, s: S) -> Result<S::Ok, S::Error> {
        match at {
            Some(at) => s.serialize_str(&format(at)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDateTime>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(text) => parse(&text)
                .map(Some)
                .ok_or_else(|| serde::de::Error::custom("not an RFC 3339 time with an offset")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_utc_time_is_written_with_the_z_offset_and_read_back() {
        let at = NaiveDateTime::parse_from_str("2026-12-02 18:55:43.265", "%Y-%m-%d %H:%M:%S%.f")
            .unwrap();
        assert_eq!(format(&at), "2026-12-02T18:55:43.265Z");
        assert_eq!(parse("2026-12-02T18:55:43.265Z"), Some(at));
        assert_eq!(parse("2026-12-03T02:55:43.265+08:00"), Some(at));
    }

    #[test]
    fn a_bare_local_time_is_not_read() {
        assert_eq!(parse("2026-12-02T18:55:43.265"), None);
        assert_eq!(parse("2026-12-02"), None);
    }
}
