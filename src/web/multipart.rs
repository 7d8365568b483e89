//! Just enough of `multipart/form-data` (RFC 7578) for the evidence page and the record
//! upload of `/verify`: text fields and
//! one file, from a body already read (and bounded) by the caller. No crate for it: the
//! form is ours, its parts are few, and a part this cannot read is simply absent.

use std::collections::HashMap;

/// The parts of a form: text fields by name, and files as (field name → file).
#[derive(Debug, Default)]
pub struct Parts {
    pub fields: HashMap<String, String>,
    pub files: HashMap<String, File>,
}

#[derive(Debug, Default)]
pub struct File {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// The boundary a `Content-Type: multipart/form-data; boundary=…` names.
pub fn boundary(content_type: &str) -> Option<String> {
    let (kind, params) = content_type.split_once(';')?;
    if !kind.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.split(';').find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        let v = v.trim().trim_matches('"');
        (k.trim().eq_ignore_ascii_case("boundary") && !v.is_empty() && v.len() <= 70)
            .then(|| v.to_owned())
    })
}

/// Reads every complete part of `body`. A body cut short (too large) keeps the parts
/// before the cut, so the form's own fields, which come before the file, survive.
pub fn parse(body: &[u8], boundary: &str) -> Parts {
    let delimiter = format!("--{boundary}");
    let mut parts = Parts::default();
    let mut rest = match find(body, delimiter.as_bytes()) {
        Some(at) => &body[at + delimiter.len()..],
        None => return parts,
    };
    let next = format!("\r\n--{boundary}");
    while let Some(after) = rest.strip_prefix(b"\r\n") {
        let Some(end) = find(after, next.as_bytes()) else {
            break;
        };
        let part = &after[..end];
        rest = &after[end + next.len()..];
        let Some(split) = find(part, b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&part[..split]);
        let content = &part[split + 4..];
        let Some((name, filename)) = disposition(&head) else {
            continue;
        };
        match filename {
            Some(filename) => {
                parts.files.insert(
                    name,
                    File {
                        name: filename,
                        bytes: content.to_vec(),
                    },
                );
            }
            None => {
                parts
                    .fields
                    .insert(name, String::from_utf8_lossy(content).into_owned());
            }
        }
    }
    parts
}

/// `name` and `filename` of a part's `Content-Disposition: form-data` header.
fn disposition(head: &str) -> Option<(String, Option<String>)> {
    let line = head.lines().find(|l| {
        l.get(..20)
            .is_some_and(|p| p.eq_ignore_ascii_case("content-disposition:"))
    })?;
    let mut name = None;
    let mut filename = None;
    for param in line[20..].split(';').skip(1) {
        let Some((k, v)) = param.trim().split_once('=') else {
            continue;
        };
        let v = v.trim().trim_matches('"').to_owned();
        match k.trim().to_ascii_lowercase().as_str() {
            "name" => name = Some(v),
            "filename" => filename = Some(v),
            _ => {}
        }
    }
    Some((name?, filename))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = b"--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\ntok\r\n\
--XyZ\r\nContent-Disposition: form-data; name=\"evidence\"; filename=\"a.pdf\"\r\n\
Content-Type: application/pdf\r\n\r\n%PDF\r\n-1\r\n--XyZ--\r\n";

    #[test]
    fn fields_and_a_file_are_read() {
        assert_eq!(
            boundary("multipart/form-data; boundary=XyZ").as_deref(),
            Some("XyZ")
        );
        assert_eq!(boundary("application/x-www-form-urlencoded"), None);
        let parts = parse(BODY, "XyZ");
        assert_eq!(parts.fields["csrf"], "tok");
        assert_eq!(parts.files["evidence"].name, "a.pdf");
        assert_eq!(parts.files["evidence"].bytes, b"%PDF\r\n-1");
    }

    #[test]
    fn a_body_cut_short_keeps_the_parts_before_the_cut() {
        let parts = parse(&BODY[..BODY.len() - 20], "XyZ");
        assert_eq!(parts.fields["csrf"], "tok");
        assert!(parts.files.is_empty());
        assert!(parse(b"garbage", "XyZ").fields.is_empty());
    }
}
