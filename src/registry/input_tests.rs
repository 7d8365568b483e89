use serde_json::json;

use super::*;

const ALLOW: UrlPolicy = UrlPolicy { allow_http: true };
const STRICT: UrlPolicy = UrlPolicy { allow_http: false };

fn body() -> IssuingBodyInput {
    serde_json::from_value(json!({
        "code": "acca", "name_en": "ACCA", "name_zh": "英国特许公认会计师公会", "country": "gb",
        "website": "https://www.accaglobal.com", "verification_mode": "api",
        "api_base_url": "https://verify.example.org/",
        "public_keys": [{"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "kid": "k1"}]
    }))
    .unwrap()
}

fn qualification() -> QualificationInput {
    serde_json::from_value(json!({
        "code": "acca-fcca", "name_en": "FCCA", "issuing_body_id": "b1", "field": "accounting",
        "categories": ["C", "a", "B"], "title_series": "accounting", "title_level": "associate_senior",
        "list_version": "1.0"
    }))
    .unwrap()
}

fn fields<T>(r: Result<T, Vec<FieldError>>) -> Vec<String> {
    match r {
        Ok(_) => vec![],
        Err(errors) => errors.into_iter().map(|e| e.field).collect(),
    }
}

#[test]
fn a_valid_body_is_normalized() {
    let b = body().validate("", STRICT).unwrap();
    assert_eq!(b.country, "GB");
    assert_eq!(
        b.api_base_url.as_deref(),
        Some("https://verify.example.org")
    );
    assert_eq!(b.status.as_deref(), Some("active"));
}

#[test]
fn an_api_body_needs_an_https_url_unless_http_issuers_are_allowed_for_loopback() {
    let mut b = body();
    b.api_base_url = None;
    assert_eq!(fields(b.validate("", STRICT)), ["api_base_url"]);
    for (url, policy, ok) in [
        ("http://verify.example.org", ALLOW, false),
        ("http://127.0.0.1:9000", STRICT, false),
        ("http://127.0.0.1:9000", ALLOW, true),
        ("http://localhost:9000", ALLOW, true),
        ("https://127.0.0.1:9000", STRICT, false),
        ("https://verify.example.org?x=1", STRICT, false),
        ("ftp://verify.example.org", ALLOW, false),
    ] {
        assert_eq!(check_api_url(url, policy).is_ok(), ok, "{url}");
    }
}

#[test]
fn a_manual_body_needs_no_url() {
    let mut b = body();
    b.verification_mode = "manual".into();
    b.api_base_url = None;
    assert!(b.validate("", STRICT).is_ok());
}

#[test]
fn keys_must_be_ed25519_with_distinct_kids() {
    let mut b = body();
    let mut rsa = b.public_keys[0].clone();
    rsa.kty = "RSA".into();
    let dup = b.public_keys[0].clone();
    let mut short = b.public_keys[0].clone();
    short.kid = "k2".into();
    short.x = "AAAA".into();
    b.public_keys.extend([rsa, dup, short]);
    assert_eq!(
        fields(b.validate("bodies[0].", STRICT)),
        [
            "bodies[0].public_keys[1]",
            "bodies[0].public_keys[2].kid",
            "bodies[0].public_keys[3]"
        ]
    );
}

#[test]
fn categories_are_sorted_and_deduplicated() {
    let (q, cats) = qualification().validate("").unwrap();
    assert_eq!(cats, [Category::A, Category::B, Category::C]);
    assert_eq!(q.categories, ["A", "B", "C"]);
}

#[test]
fn category_c_needs_its_title_mapping_and_only_c_has_one() {
    let mut q = qualification();
    q.title_series = None;
    q.title_level = Some("senior".into());
    assert_eq!(fields(q.validate("")), ["title_series", "title_level"]);
    let mut q = qualification();
    q.categories = vec!["A".into()];
    assert_eq!(fields(q.validate("")), ["title_series", "title_level"]);
}

#[test]
fn category_d_needs_equivalences_and_only_d_has_them() {
    let mut q = qualification();
    q.categories.push("D".into());
    assert_eq!(fields(q.validate("")), ["equivalences"]);
    let mut q = qualification();
    q.equivalences = vec![Equivalence {
        domestic: "x".into(),
        domestic_kind: "title".into(),
        benefits: vec![],
        detail: None,
    }];
    assert_eq!(fields(q.validate("")), ["equivalences", "equivalences[0]"]);
}

#[test]
fn every_bad_field_of_a_row_is_named_with_its_position() {
    let q: QualificationInput = serde_json::from_value(json!({
        "code": "Bad Code", "name_en": "", "field": "Information Technology", "categories": ["E"], "list_version": ""
    }))
    .unwrap();
    assert_eq!(
        fields(q.validate("qualifications[4].")),
        [
            "qualifications[4].code",
            "qualifications[4].name_en",
            "qualifications[4].issuing_body_id",
            "qualifications[4].field",
            "qualifications[4].categories[0]",
            "qualifications[4].list_version"
        ]
    );
}

#[test]
fn a_removed_row_needs_its_removal() {
    let mut q = qualification();
    q.status = Some("removed".into());
    assert_eq!(fields(q.validate("")), ["removal"]);
}

#[test]
fn list_versions_are_dotted_numbers() {
    let v = |version: &str| ListVersionInput {
        version: version.into(),
        title: "t".into(),
        published_on: None,
        effective_on: None,
        notes: None,
    };
    assert!(v("3.0").validate("").is_ok());
    assert_eq!(fields(v("v3").validate("")), ["version"]);
}

#[test]
fn merge_patch_follows_rfc_7396() {
    let mut doc = json!({"a": "b", "c": {"d": "e", "f": "g"}});
    merge_patch(&mut doc, &json!({"a": "z", "c": {"f": null}}));
    assert_eq!(doc, json!({"a": "z", "c": {"d": "e"}}));
    merge_patch(&mut doc, &json!(["x"]));
    assert_eq!(doc, json!(["x"]));
}
