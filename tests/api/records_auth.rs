//! Who may call the record routes: every principal against every route of the records
//! issue that the lead owns (reads, status changes, public documents).

use serde_json::json;

use crate::records_helpers::issued_record;

#[tokio::test]
async fn every_record_route_answers_each_principal_as_it_should() {
    let r = issued_record().await;
    let app = &r.w.app;
    let (client, secret) = app.agency(&r.w.admin, &["eligibility:check"]).await;
    let unscoped = app.client_token(&client, &secret).await;
    let holder = r.w.holder.clone();
    let read = format!("/v1/records/{}", r.record_id);
    let principals: [(&str, Option<&str>); 5] = [
        ("anyone", None),
        ("holder", Some(&holder)),
        ("agency without records:read", Some(&unscoped)),
        ("agency", Some(&r.agency)),
        ("admin", Some(&r.w.admin)),
    ];
    let expected_read = [401, 403, 403, 200, 403];
    for ((who, token), want) in principals.iter().zip(expected_read) {
        let res = app.get(&read, *token).await;
        assert_eq!(res.status().as_u16(), want, "GET {read} as {who}");
        if want != 200 {
            let ct = res.headers()["content-type"].to_str().unwrap().to_owned();
            assert_eq!(ct, "application/problem+json", "{who}");
        }
    }
    // Status changes: admins only. Suspend then reinstate, so each admin call succeeds.
    let expected_admin = [401, 403, 403, 403, 200];
    for action in ["suspend", "reinstate"] {
        let path = format!("/v1/admin/records/{}/{action}", r.record_id);
        for ((who, token), want) in principals.iter().zip(expected_admin) {
            let res = app
                .post_json(&path, &json!({"reason": "matrix"}), *token)
                .await;
            assert_eq!(res.status().as_u16(), want, "POST {path} as {who}");
        }
    }
    let revoke = format!("/v1/admin/records/{}/revoke", r.record_id);
    for ((who, token), want) in principals.iter().zip(expected_admin) {
        if want == 200 {
            continue;
        }
        let res = app
            .post_json(&revoke, &json!({"reason": "matrix"}), *token)
            .await;
        assert_eq!(res.status().as_u16(), want, "POST {revoke} as {who}");
    }
    assert_eq!(
        r.read().await["status"],
        "valid",
        "no refused call changed the record"
    );
    // Public documents need no token.
    for path in ["/.well-known/did.json", "/.well-known/jwks.json"] {
        assert_eq!(app.get(path, None).await.status(), 200, "{path}");
    }
}

#[tokio::test]
async fn malformed_status_change_bodies_are_problems_not_errors() {
    let r = issued_record().await;
    let path =
        r.w.app
            .url(&format!("/v1/admin/records/{}/suspend", r.record_id));
    for (body, content_type) in [
        ("{", "application/json"),
        ("{\"reason\": 5}", "application/json"),
        ("reason=x", "text/plain"),
    ] {
        let res =
            r.w.app
                .client
                .post(&path)
                .bearer_auth(&r.w.admin)
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .unwrap();
        let status = res.status().as_u16();
        assert!((400..500).contains(&status), "{body}: {status}");
        assert_eq!(
            res.headers()["content-type"],
            "application/problem+json",
            "{body}"
        );
    }
    assert_eq!(r.read().await["status"], "valid");
}
