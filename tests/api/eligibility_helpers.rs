//! A record to decide on, an agency to ask, and the database edits that put the holder and
//! the qualification in the shape a rule needs (the rules read both live).

use crate::times::JsonBody;
use std::time::Duration;

use certverify::db::schema::{holders, qualifications, records};
use certverify::records as record_queries;
use certverify::sim::Mode;
use chrono::NaiveDate;
use diesel::prelude::*;
use serde_json::{json, Value};

use crate::requests_helpers::{world, World};

pub struct Fixture {
    pub w: World,
    pub agency: String,
    pub record_id: String,
}

/// A holder (Ana Lima, foreign national) with a record of acca-fcca (categories A, B, C;
/// accounting up to associate senior), confirmed by the simulator, and an agency with
/// eligibility:check.
pub async fn fixture() -> Fixture {
    let w = world(&[], Some((Mode::Sync, 0.0))).await;
    let request_id = w.submit_ok("FCCA-1001", "Ana Lima").await;
    let record_id = issued_record(&w, &request_id).await;
    let (client_id, secret) = w.app.agency(&w.admin, &["eligibility:check"]).await;
    let agency = w.app.client_token(&client_id, &secret).await;
    Fixture {
        w,
        agency,
        record_id,
    }
}

/// The record the confirmation issued.
pub async fn issued_record(w: &World, request_id: &str) -> String {
    for _ in 0..200 {
        let found = w
            .app
            .with_db(|conn| record_queries::find_by_request(conn, request_id))
            .expect("record look-up");
        if let Some(record) = found {
            return record.id;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "request {request_id} never got a record: {}",
        w.request(request_id).await
    );
}

impl Fixture {
    pub async fn ask(&self, service: &str, facts: &Value) -> reqwest::Response {
        self.ask_as(service, facts, Some(&self.agency)).await
    }

    pub async fn ask_as(
        &self,
        service: &str,
        facts: &Value,
        token: Option<&str>,
    ) -> reqwest::Response {
        let body = json!({"record_id": self.record_id, "service": service, "facts": facts});
        self.w.app.post_json("/v1/eligibility", &body, token).await
    }

    /// The decision, which must be a 200.
    pub async fn decide(&self, service: &str, facts: &Value) -> Value {
        let res = self.ask(service, facts).await;
        let status = res.status();
        let body: Value = res.json_checked().await.expect("json");
        assert_eq!(status, 200, "{service}: {body}");
        body
    }

    pub fn set_holder(&self, kind: &str, hukou: bool, born: NaiveDate) {
        let record = self.record_id.clone();
        self.w.app.with_db(|conn| {
            let holder: String = records::table
                .find(&record)
                .select(records::holder_id)
                .first(conn)
                .unwrap();
            diesel::update(holders::table.find(holder))
                .set((
                    holders::identity_kind.eq(kind),
                    holders::shanghai_hukou.eq(hukou),
                    holders::date_of_birth.eq(born),
                ))
                .execute(conn)
                .unwrap();
        });
    }

    /// Categories as four flags, the listing status, and the equivalences.
    pub fn set_qualification(&self, categories: [bool; 4], status: &str, equivalences: &Value) {
        let id = self.w.qualification_id.clone();
        let [a, b, c, d] = categories;
        self.w.app.with_db(|conn| {
            diesel::update(qualifications::table.find(id))
                .set((
                    qualifications::category_a.eq(a),
                    qualifications::category_b.eq(b),
                    qualifications::category_c.eq(c),
                    qualifications::category_d.eq(d),
                    qualifications::status.eq(status),
                    qualifications::equivalences.eq(equivalences.to_string()),
                ))
                .execute(conn)
                .unwrap();
        });
    }

    /// The stored status (valid, suspended, revoked) and validUntil.
    pub fn set_record(&self, status: &str, valid_until: chrono::NaiveDateTime) {
        let id = self.record_id.clone();
        self.w.app.with_db(|conn| {
            diesel::update(records::table.find(id))
                .set((
                    records::status.eq(status),
                    records::valid_until.eq(valid_until),
                ))
                .execute(conn)
                .unwrap();
        });
    }

    /// What every passing case starts from: a foreign national of 40 without Shanghai
    /// household registration, a listed qualification in all four categories with an
    /// equivalence, and a valid record.
    pub fn reset(&self) {
        self.set_holder("foreign_national", false, years_ago(40));
        self.set_qualification([true; 4], "listed", &equivalences());
        self.set_record("valid", in_a_year());
    }
}

pub fn equivalences() -> Value {
    json!([{"domestic": "Certified Public Accountant (CPA)", "domestic_kind": "qualification",
            "benefits": ["fewer_exam_subjects"], "detail": "Exempt from Accounting and Audit"}])
}

pub fn today() -> NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive()
}

/// Born on this day `years` years ago (29 February becomes 28 February).
pub fn years_ago(years: i32) -> NaiveDate {
    use chrono::Datelike;
    let t = today();
    NaiveDate::from_ymd_opt(t.year() - years, t.month(), t.day())
        .or_else(|| NaiveDate::from_ymd_opt(t.year() - years, t.month(), t.day() - 1))
        .unwrap()
}

pub fn in_a_year() -> chrono::NaiveDateTime {
    chrono::Utc::now().naive_utc() + chrono::Duration::days(365)
}

pub fn a_second_ago() -> chrono::NaiveDateTime {
    chrono::Utc::now().naive_utc() - chrono::Duration::seconds(1)
}

/// A value that meets every rule for each fact the table names. A fact without a value
/// here stops the tests, so a new fact cannot enter the table untested.
pub fn passing_fact(name: &str) -> Value {
    match name {
        "degree" => json!("master"),
        "relevant_experience_years" => json!(10),
        "shanghai_experience_years" => json!(2),
        "science_or_engineering_degree" => json!(true),
        "title_series" => json!("accounting"),
        "title_level" => json!("intermediate"),
        "employer_type" => json!("enterprise"),
        "permit_category" => json!("B"),
        other => panic!("no passing value for the fact {other}: add one"),
    }
}

/// Passing facts for a service of `GET /v1/policy/services`.
pub fn passing_facts(service: &Value) -> Value {
    let mut facts = serde_json::Map::new();
    for name in service["facts"].as_array().expect("facts") {
        let name = name.as_str().expect("fact name");
        facts.insert(name.to_owned(), passing_fact(name));
    }
    Value::Object(facts)
}

pub fn reason_codes(decision: &Value) -> Vec<String> {
    decision["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .map(|r| r["code"].as_str().unwrap().to_owned())
        .collect()
}
