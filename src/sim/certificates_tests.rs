use super::*;

fn request(number: &str, name: &str) -> VerificationRequest {
    VerificationRequest {
        iss: "https://certverify.test".into(),
        aud: "demo-hk-institute".into(),
        iat: 0,
        exp: 60,
        jti: "j1".into(),
        request_id: "r1".into(),
        qualification_code: "demo-financial-analyst".into(),
        certificate_number: number.into(),
        holder_name: name.into(),
        holder_date_of_birth: "1985-03-14".into(),
        issued_on: "2019-06-30".into(),
        callback_url: "https://certverify.test/v1/issuer-callbacks".into(),
    }
}

const FILE: &str = r#"[
  {"certificate_number": "DCFA-1001", "qualification_code": "demo-financial-analyst",
   "holder_name": "José Álvarez", "date_of_birth": "1985-03-14", "issued_on": "2019-06-30",
   "expires_on": null, "status": "valid"},
  {"certificate_number": "DCFA-1002", "holder_name": "Ana Lima", "issued_on": "2019-06-30",
   "expires_on": "2029-06-30", "status": "valid"},
  {"certificate_number": "DCFA-1003", "qualification_code": "demo-financial-analyst",
   "holder_name": "Wei Zhang", "issued_on": "2019-06-30", "expires_on": null,
   "status": "revoked"}
]"#;

static BOOK: std::sync::LazyLock<Certificates> =
    std::sync::LazyLock::new(|| Certificates::parse(FILE).unwrap());

fn book() -> &'static Certificates {
    &BOOK
}

fn outcome(req: &VerificationRequest) -> Outcome {
    book().check(req).outcome
}

#[test]
fn a_matching_valid_certificate_is_confirmed_and_reported() {
    let req = request("DCFA-1001", "José Álvarez");
    let verdict = book().check(&req);
    assert_eq!(verdict.outcome, Outcome::Confirmed);
    let facts = verdict.certificate.unwrap().facts(&req.qualification_code);
    assert_eq!(facts.holder_name, "José Álvarez");
    assert_eq!(facts.issued_on, "2019-06-30");
    assert_eq!(facts.expires_on, None);
    assert_eq!(facts.status, "valid");
}

#[test]
fn an_unknown_number_is_not_found_and_reports_no_certificate() {
    let verdict = book().check(&request("DCFA-9999", "José Álvarez"));
    assert_eq!(verdict.outcome, Outcome::NotFound);
    assert!(verdict.certificate.is_none());
}

#[test]
fn numbers_ignore_surrounding_whitespace_but_not_case() {
    assert_eq!(
        outcome(&request("  DCFA-1001 ", "José Álvarez")),
        Outcome::Confirmed
    );
    assert_eq!(
        outcome(&request("dcfa-1001", "José Álvarez")),
        Outcome::NotFound
    );
}

#[test]
fn names_are_compared_without_case_accents_or_spacing() {
    for typed in [
        "JOSE  alvarez",
        "jose alvarez",
        "José Álvarez",
        " JoséÁlvarez ",
    ] {
        assert_eq!(
            outcome(&request("DCFA-1001", typed)),
            Outcome::Confirmed,
            "{typed}"
        );
    }
    assert_eq!(fold_name("Ｊｏｓé"), "jose", "compatibility forms fold too");
    assert_eq!(
        outcome(&request("DCFA-1001", "Jose Alvares")),
        Outcome::Mismatch
    );
}

#[test]
fn a_given_date_of_birth_that_differs_is_a_mismatch() {
    let mut req = request("DCFA-1001", "José Álvarez");
    req.holder_date_of_birth = "1985-03-15".into();
    assert_eq!(outcome(&req), Outcome::Mismatch);
    req.holder_date_of_birth = String::new();
    assert_eq!(outcome(&req), Outcome::Mismatch);
}

#[test]
fn a_different_issue_date_or_qualification_is_a_mismatch() {
    let mut req = request("DCFA-1001", "José Álvarez");
    req.issued_on = "2019-07-01".into();
    assert_eq!(outcome(&req), Outcome::Mismatch);
    let mut req = request("DCFA-1001", "José Álvarez");
    req.qualification_code = "acca-fcca".into();
    let verdict = book().check(&req);
    assert_eq!(verdict.outcome, Outcome::Mismatch);
    assert_eq!(
        verdict
            .certificate
            .unwrap()
            .facts(&req.qualification_code)
            .qualification_code,
        "demo-financial-analyst",
        "the body reports its own qualification, not the one asked about"
    );
}

#[test]
fn missing_optional_fields_are_not_checked() {
    let mut req = request("DCFA-1002", "ana LIMA");
    req.holder_date_of_birth = "2001-01-01".into();
    req.qualification_code = "acca-fcca".into();
    let verdict = book().check(&req);
    assert_eq!(verdict.outcome, Outcome::Confirmed);
    assert_eq!(
        verdict
            .certificate
            .unwrap()
            .facts(&req.qualification_code)
            .qualification_code,
        "acca-fcca",
        "an entry without a qualification reports the one asked about"
    );
}

#[test]
fn a_revoked_certificate_is_a_mismatch_even_when_everything_matches() {
    let verdict = book().check(&request("DCFA-1003", "Wei Zhang"));
    assert_eq!(verdict.outcome, Outcome::Mismatch);
    assert_eq!(
        verdict.certificate.unwrap().status,
        CertificateStatus::Revoked
    );
}

#[test]
fn one_number_under_two_qualifications_answers_about_the_one_asked() {
    let book = Certificates::parse(
        r#"[
      {"certificate_number": "X1", "qualification_code": "acca-fcca", "holder_name": "A B",
       "issued_on": "2019-06-30", "expires_on": null, "status": "revoked"},
      {"certificate_number": "X1", "qualification_code": "demo-financial-analyst",
       "holder_name": "A B", "issued_on": "2019-06-30", "expires_on": null, "status": "valid"}
    ]"#,
    )
    .unwrap();
    assert_eq!(
        book.check(&request("X1", "a b")).outcome,
        Outcome::Confirmed
    );
}

#[test]
fn the_sample_file_loads() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/issuer-sim-certificates.json");
    let book = Certificates::load(&path).unwrap();
    assert!(book
        .entries()
        .iter()
        .any(|c| c.status == CertificateStatus::Revoked));
    assert!(book
        .entries()
        .iter()
        .any(|c| c.holder_name != fold_name(&c.holder_name) && !c.holder_name.is_ascii()));
}

fn load_error(text: &str) -> String {
    Certificates::parse(text).unwrap_err().to_string()
}

#[test]
fn loading_errors_name_the_entry() {
    assert!(load_error(r#"{"certificate_number": "X"}"#).contains("JSON array"));
    let missing = load_error(
        r#"[{"certificate_number": "A1", "holder_name": "A", "issued_on": "2019-06-30", "expires_on": null, "status": "valid"},
            {"certificate_number": "A2", "holder_name": "B", "expires_on": null, "status": "valid"}]"#,
    );
    assert!(missing.contains("entry 1"), "{missing}");
    assert!(missing.contains("A2"), "{missing}");
    assert!(missing.contains("issued_on"), "{missing}");
    let bad_date = load_error(
        r#"[{"certificate_number": "A1", "holder_name": "A", "issued_on": "30/06/2019", "expires_on": null, "status": "valid"}]"#,
    );
    assert!(
        bad_date.contains("entry 0 (certificate_number \"A1\")"),
        "{bad_date}"
    );
    let bad_status = load_error(
        r#"[{"certificate_number": "A1", "holder_name": "A", "issued_on": "2019-06-30", "expires_on": null, "status": "lapsed"}]"#,
    );
    assert!(bad_status.contains("lapsed"), "{bad_status}");
    let typo = load_error(
        r#"[{"certificate_number": "A1", "holder_name": "A", "issued_on": "2019-06-30", "expires_on": null, "status": "valid", "date_of_bith": "1980-01-01"}]"#,
    );
    assert!(typo.contains("date_of_bith"), "{typo}");
    let blank = load_error(
        r#"[{"certificate_number": " ", "holder_name": "A", "issued_on": "2019-06-30", "expires_on": null, "status": "valid"}]"#,
    );
    assert!(
        blank.contains("entry 0") && blank.contains("blank"),
        "{blank}"
    );
    let twice = load_error(
        r#"[{"certificate_number": "A1", "holder_name": "A", "issued_on": "2019-06-30", "expires_on": null, "status": "valid"},
            {"certificate_number": " A1", "holder_name": "B", "issued_on": "2019-06-30", "expires_on": null, "status": "valid"}]"#,
    );
    assert!(
        twice.contains("entry 1") && twice.contains("repeats entry 0"),
        "{twice}"
    );
}
