//! Record status: admin actions, delisting and restoring, an issuing body's revocation,
//! and the status-list bits that must always match the live status.

use crate::times::JsonBody;
use certverify::sim::Revocation;
use serde_json::{json, Value};

use crate::helpers::assert_problem;
use crate::records_helpers::issued_record;

#[tokio::test]
async fn status_list_bits_follow_suspend_reinstate_and_revoke() {
    let r = issued_record().await;
    assert!(!r.status_bit("suspension").await);
    assert!(!r.status_bit("revocation").await);

    let res = r.admin_action("suspend", "under investigation").await;
    assert_eq!(res.status(), 200);
    let view: Value = res.json_checked().await.unwrap();
    assert_eq!(view["status"], "suspended");
    assert_eq!(view["status_reason"], "under investigation");
    assert!(r.status_bit("suspension").await);
    assert!(!r.status_bit("revocation").await);
    assert_problem(r.admin_action("suspend", "again").await, 409, "not_valid").await;

    assert_eq!(r.admin_action("reinstate", "cleared").await.status(), 200);
    assert_eq!(r.read().await["status"], "valid");
    assert!(!r.status_bit("suspension").await);

    assert_eq!(r.admin_action("suspend", "again").await.status(), 200);
    assert_eq!(r.admin_action("revoke", "forged").await.status(), 200);
    let view = r.read().await;
    assert_eq!(view["status"], "revoked");
    assert_eq!(view["status_reason"], "forged");
    assert!(r.status_bit("revocation").await);
    assert!(
        !r.status_bit("suspension").await,
        "revoking a suspended record clears its suspension bit"
    );
    assert_problem(
        r.admin_action("reinstate", "x").await,
        409,
        "record_revoked",
    )
    .await;
}

#[tokio::test]
async fn a_status_change_needs_a_reason_and_an_existing_record() {
    let r = issued_record().await;
    let problem = assert_problem(
        r.admin_action("suspend", "  ").await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "reason");
    let res =
        r.w.app
            .post_json(
                "/v1/admin/records/no-such-record/revoke",
                &json!({"reason": "x"}),
                Some(&r.w.admin),
            )
            .await;
    assert_problem(res, 404, "not_found").await;
    assert_eq!(r.read().await["status"], "valid");
}

#[tokio::test]
async fn delisting_suspends_the_records_and_restoring_reinstates_them() {
    let r = issued_record().await;
    let path = format!("/v1/admin/qualifications/{}", r.w.qualification_id);
    let res =
        r.w.app
            .post_json(
                &format!("{path}/remove"),
                &json!({"list_version": "3.0", "reason": "no longer recognized"}),
                Some(&r.w.admin),
            )
            .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let view = r.read().await;
    assert_eq!(view["status"], "suspended");
    assert_eq!(view["status_reason"], "delisted");
    assert!(r.status_bit("suspension").await);

    let res =
        r.w.app
            .post_json(&format!("{path}/restore"), &json!({}), Some(&r.w.admin))
            .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    assert_eq!(r.read().await["status"], "valid");
    assert!(!r.status_bit("suspension").await);
}

#[tokio::test]
async fn restoring_a_qualification_leaves_an_admin_suspension_in_place() {
    let r = issued_record().await;
    assert_eq!(
        r.admin_action("suspend", "fraud inquiry").await.status(),
        200
    );
    let path = format!("/v1/admin/qualifications/{}", r.w.qualification_id);
    let remove = json!({"list_version": "3.0", "reason": "x"});
    r.w.app
        .post_json(&format!("{path}/remove"), &remove, Some(&r.w.admin))
        .await;
    r.w.app
        .post_json(&format!("{path}/restore"), &json!({}), Some(&r.w.admin))
        .await;
    let view = r.read().await;
    assert_eq!(view["status"], "suspended");
    assert_eq!(view["status_reason"], "fraud inquiry");
}

#[tokio::test]
async fn an_issuing_body_reporting_the_certificate_revoked_revokes_the_record() {
    let r = issued_record().await;
    let sim = r.w.sim.as_ref().unwrap();
    let message = sim
        .revocation_message(
            "acca",
            &r.w.app.url(""),
            &Revocation {
                certificate_number: "fcca 1001".into(),
                qualification_code: "acca-fcca".into(),
                revoked_on: "2026-11-20".into(),
                reason: Some("membership ended".into()),
            },
        )
        .unwrap();
    let res =
        r.w.app
            .client
            .post(r.w.app.url("/v1/issuer-callbacks"))
            .header("content-type", "application/jwt")
            .body(message)
            .send()
            .await
            .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let view = r.read().await;
    assert_eq!(view["status"], "revoked");
    assert_eq!(view["status_reason"], "membership ended");
    assert!(r.status_bit("revocation").await);
}

#[tokio::test]
async fn a_status_list_is_cacheable_and_answers_304_until_a_bit_changes() {
    let r = issued_record().await;
    let record = r.read().await;
    let url = record["credential"]["credentialStatus"][1]["statusListCredential"]
        .as_str()
        .unwrap()
        .to_owned();
    let first = r.w.app.client.get(&url).send().await.unwrap();
    assert_eq!(first.headers()["cache-control"], "public, max-age=300");
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    let revalidate = || {
        r.w.app
            .client
            .get(&url)
            .header("if-none-match", &etag)
            .send()
    };
    assert_eq!(revalidate().await.unwrap().status(), 304);
    r.admin_action("suspend", "x").await;
    assert_eq!(revalidate().await.unwrap().status(), 200);
    assert_problem(
        r.w.app.get("/v1/status-lists/nope", None).await,
        404,
        "not_found",
    )
    .await;
}
