//! A holder whose name is markup: every page that shows the name shows it as text.

use serde_json::{json, Value};

use crate::helpers::holder_body;
use crate::portal_helpers::sign_in;
use crate::requests_helpers::world;
use crate::times::JsonBody;
use certverify::sim::Mode;

const NAME: &str = "<script>alert(1)</script> Ana";
/// As askama writes it (numeric character references).
const ESCAPED: &str = "&#60;script&#62;alert(1)";

#[tokio::test]
async fn a_name_containing_a_script_tag_is_escaped_on_the_portal_record_and_check_pages() {
    let w = world(&[], Some((Mode::Sync, 0.0))).await;
    let app = &w.app;
    let email = "markup@example.org";
    let mut body = holder_body(email);
    body["full_name"] = NAME.into();
    assert_eq!(
        app.post_json("/v1/holders", &body, None).await.status(),
        202
    );
    let token = app.holder_token_after_registration(email).await;
    // The body knows the certificate by the name printed on it; the record names the holder.
    let res = app
        .client
        .post(app.url("/v1/verification-requests"))
        .bearer_auth(&token)
        .header("idempotency-key", uuid::Uuid::new_v4().to_string())
        .json(&w.request_body("FCCA-1001", "Ana Lima"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let id = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut record_id = None;
    for _ in 0..200 {
        let r = app
            .get_json_as(&format!("/v1/verification-requests/{id}"), &token)
            .await;
        if let Some(rid) = r["record_id"].as_str() {
            record_id = Some(rid.to_owned());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let record_id = record_id.expect("the record is issued");
    let code = app
        .post_json(
            &format!("/v1/records/{record_id}/share-codes"),
            &json!({"expires_in_days": 7}),
            Some(&token),
        )
        .await
        .json_checked::<Value>()
        .await
        .unwrap()["code"]
        .as_str()
        .unwrap()
        .to_owned();

    let b = sign_in(app, email);
    for path in [
        format!("/portal/records/{record_id}"),
        format!("/check/{code}"),
    ] {
        for lang in ["en", "zh-CN"] {
            let page = b.get(&format!("{path}?lang={lang}")).await;
            assert_eq!(page.status, 200, "{path}");
            assert!(page.body.contains(ESCAPED), "{path} shows the name escaped");
            assert!(!page.body.contains(NAME), "{path} never shows it raw");
        }
    }
}
