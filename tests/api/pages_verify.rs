//! `/verify`: a pasted record checked against this platform's own keys and status lists.

use serde_json::Value;

use crate::records_helpers::issued_record;

async fn verify(app: &crate::helpers::TestApp, record: &str) -> (u16, String) {
    let res = app
        .client
        .post(app.url("/verify?lang=en"))
        .form(&[("record", record)])
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.text().await.unwrap())
}

#[tokio::test]
async fn a_record_is_genuine_a_tampered_one_is_not_and_a_revoked_one_says_so() {
    let r = issued_record().await;
    let app = &r.w.app;
    let view = r.read().await;
    let credential = view["credential"].to_string();
    let (status, body) = verify(app, &credential).await;
    assert_eq!(status, 200);
    assert!(
        body.contains("Genuine and valid") && body.contains(&r.record_id),
        "{body}"
    );
    let jwt = r.read_as_jwt().await.text().await.unwrap();
    let (_, body) = verify(app, &jwt).await;
    assert!(body.contains("Genuine and valid"), "{body}");

    let mut tampered: Value = view["credential"].clone();
    tampered["credentialSubject"]["name"] = "Someone Else".into();
    let (_, body) = verify(app, &tampered.to_string()).await;
    assert!(
        body.contains("Not valid") && !body.contains("Genuine"),
        "{body}"
    );

    let mut foreign: Value = view["credential"].clone();
    foreign["issuer"] = "did:web:elsewhere.example".into();
    let (_, body) = verify(app, &foreign.to_string()).await;
    assert!(body.contains("Not issued by this platform"), "{body}");

    let (_, body) = verify(app, "not a record").await;
    assert!(body.contains("Not a record"), "{body}");
    let (status, body) = verify(app, "").await;
    assert_eq!(status, 400);
    assert!(body.contains("Paste the record to check"), "{body}");
    let (status, body) = verify(app, &"x".repeat(64 * 1024 + 1)).await;
    assert_eq!(status, 413);
    assert!(body.contains("larger than 64 KB"), "{body}");

    assert_eq!(r.admin_action("revoke", "forged").await.status(), 200);
    let (_, body) = verify(app, &credential).await;
    assert!(
        body.contains("Not valid") && body.contains("revoked"),
        "{body}"
    );

    let res = app.client.get(app.url("/verify")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("核验记录文件"));
}
