use crate::times::JsonBody;
use certverify::sim::Mode;
use serde_json::{json, Value};

use crate::helpers::assert_problem;
use crate::requests_helpers::world;

const NO_DISPATCHER: &[(&str, &str)] = &[("CERTVERIFY_DISPATCHER_CONCURRENCY", "0")];

#[tokio::test]
async fn a_request_needs_an_idempotency_key_and_a_repeat_returns_the_first_answer() {
    let w = world(NO_DISPATCHER, None).await;
    let body = w.request_body("FCCA-1001", "Ana Lima");
    let res = w
        .app
        .post_json("/v1/verification-requests", &body, Some(&w.holder))
        .await;
    assert_problem(res, 400, "idempotency_key_missing").await;
    let first = w.submit("key-1", &body).await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json_checked().await.unwrap();
    assert_eq!(first["state"], "submitted");
    assert_eq!(first["history"][0]["state"], "submitted");
    let again = w.submit("key-1", &body).await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers().get("idempotent-replayed").unwrap(), "true");
    assert_eq!(again.json_checked::<Value>().await.unwrap(), first);
    let mut other = body.clone();
    other["note"] = json!("changed");
    assert_problem(
        w.submit("key-1", &other).await,
        422,
        "idempotency_key_reused",
    )
    .await;
    assert_problem(w.submit("key-2", &body).await, 409, "open_request_exists").await;
    let list = w
        .app
        .get_json_as("/v1/verification-requests", &w.holder)
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_holder_sees_only_their_own_requests_and_can_withdraw_an_open_one() {
    let w = world(NO_DISPATCHER, None).await;
    let id = w.submit_ok("FCCA-1001", "Ana Lima").await;
    let other = w.app.holder_token("bob@example.org").await;
    assert_problem(
        w.app
            .get(&format!("/v1/verification-requests/{id}"), Some(&other))
            .await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(
        w.app.get_json_as("/v1/verification-requests", &other).await["items"],
        json!([])
    );
    let res = w.withdraw_as(&id, &other).await;
    assert_problem(res, 404, "not_found").await;
    let res = w.withdraw_as(&id, &w.holder).await;
    assert_eq!(res.status(), 200);
    let r = w.request(&id).await;
    assert_eq!(r["state"], "withdrawn");
    assert_eq!(r["history"].as_array().unwrap().len(), 2);
    let res = w.withdraw_as(&id, &w.holder).await;
    assert_problem(res, 409, "invalid_transition").await;
    // Once closed, the same certificate may be asked about again.
    w.submit_ok("FCCA-1001", "Ana Lima").await;
}

#[tokio::test]
async fn evidence_is_checked_from_its_bytes_and_stored_by_its_hash() {
    let w = world(NO_DISPATCHER, None).await;
    let id = w.submit_ok("FCCA-1001", "Ana Lima").await;
    let png = [
        &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A][..],
        &[0u8; 64][..],
    ]
    .concat();
    let put = |bytes: Vec<u8>, content_type: &'static str| {
        w.app
            .client
            .put(
                w.app
                    .url(&format!("/v1/verification-requests/{id}/evidence")),
            )
            .bearer_auth(&w.holder)
            .header("content-type", content_type)
            .body(bytes)
            .send()
    };
    let res = put(png.clone(), "application/pdf").await.unwrap();
    assert_eq!(res.status(), 200);
    let r: Value = res.json_checked().await.unwrap();
    assert_eq!(r["evidence"]["content_type"], "image/png");
    assert_eq!(r["evidence"]["sha256"].as_str().unwrap().len(), 64);
    assert_problem(
        put(b"just text".to_vec(), "image/png").await.unwrap(),
        415,
        "unsupported_media_type",
    )
    .await;
    let huge = [&png[..], &vec![0u8; 5 * 1024 * 1024][..]].concat();
    assert_problem(
        put(huge, "image/png").await.unwrap(),
        413,
        "payload_too_large",
    )
    .await;
}

#[tokio::test]
async fn a_removed_qualification_or_suspended_body_is_refused() {
    let w = world(NO_DISPATCHER, None).await;
    w.app
        .patch_json(
            "/v1/admin/issuing-bodies/acca",
            &json!({"status": "suspended"}),
            &w.admin,
        )
        .await;
    assert_problem(
        w.submit("k1", &w.request_body("FCCA-1001", "Ana Lima"))
            .await,
        422,
        "issuing_body_suspended",
    )
    .await;
    w.app
        .patch_json(
            "/v1/admin/issuing-bodies/acca",
            &json!({"status": "active"}),
            &w.admin,
        )
        .await;
    w.app
        .post_json(
            "/v1/admin/qualifications/acca-fcca/remove",
            &json!({"list_version": "3.0", "reason": "gone"}),
            Some(&w.admin),
        )
        .await;
    assert_problem(
        w.submit("k2", &w.request_body("FCCA-1001", "Ana Lima"))
            .await,
        422,
        "qualification_not_listed",
    )
    .await;
    let mut bad = w.request_body("FCCA-1001", "Ana Lima");
    bad["applying_from"] = json!("Brazil");
    assert_problem(w.submit("k3", &bad).await, 422, "validation_failed").await;
}

#[tokio::test]
async fn a_body_in_manual_mode_goes_to_review_and_an_admin_decides() {
    let w = world(&[], None).await;
    let id = w.submit_ok("FCCA-1001", "Ana Lima").await;
    w.wait_for(&id, "manual_review").await;
    let queue: Value = w.app.get_json_as("/v1/admin/review-queue", &w.admin).await;
    assert_eq!(queue["items"][0]["id"], id.as_str());
    assert_eq!(queue["items"][0]["issuing_body_code"], "acca");
    assert_problem(
        w.app.get("/v1/admin/review-queue", Some(&w.holder)).await,
        403,
        "wrong_principal",
    )
    .await;
    let path = format!("/v1/admin/verification-requests/{id}/decision");
    let res = w
        .app
        .post_json(
            &path,
            &json!({"decision": "confirmed", "note": "Checked with ACCA by phone"}),
            Some(&w.admin),
        )
        .await;
    assert_eq!(res.status(), 200);
    let decided: Value = res.json_checked().await.unwrap();
    assert_eq!(
        decided["state"], "issued",
        "a confirmation issues the record at once"
    );
    assert!(decided["decided_by"].is_string());
    assert_eq!(decided["verification_method"], "manual_review");
    assert_eq!(w.request(&id).await["state"], "issued");
    let again = w
        .app
        .post_json(
            &path,
            &json!({"decision": "rejected", "note": "x"}),
            Some(&w.admin),
        )
        .await;
    assert_problem(again, 409, "not_in_review").await;
}

#[tokio::test]
async fn the_simulator_confirms_a_matching_certificate_synchronously() {
    let w = world(&[], Some((Mode::Sync, 0.0))).await;
    let id = w.submit_ok("FCCA-1001", "ANA  LIMA").await;
    let r = w.wait_for(&id, "issued").await;
    let states: Vec<&str> = r["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["state"].as_str().unwrap())
        .collect();
    assert_eq!(
        states,
        ["submitted", "awaiting_issuer", "confirmed", "issued"]
    );
    assert_eq!(
        w.outcome(&id),
        (Some("confirmed".into()), Some("issuer_api".into()))
    );
}

#[tokio::test]
async fn the_simulator_confirms_through_a_callback() {
    let w = world(&[], Some((Mode::Callback, 0.0))).await;
    let id = w.submit_ok("FCCA-1001", "Ana Lima").await;
    w.wait_for(&id, "issued").await;
    assert_eq!(
        w.outcome(&id),
        (Some("confirmed".into()), Some("issuer_callback".into()))
    );
}

#[tokio::test]
async fn a_holder_sees_not_confirmed_where_admins_see_not_found_or_mismatch() {
    let w = world(&[], Some((Mode::Sync, 0.0))).await;
    let unknown = w.submit_ok("NO-SUCH-1", "Ana Lima").await;
    let wrong_name = w.submit_ok("FCCA-2002", "Ana Lima").await;
    for id in [&unknown, &wrong_name] {
        let r = w.wait_for(id, "rejected").await;
        assert_eq!(
            r["history"].as_array().unwrap().last().unwrap()["reason"],
            "not_confirmed"
        );
        assert!(!r.to_string().contains("not_found") && !r.to_string().contains("mismatch"));
    }
    assert_eq!(w.outcome(&unknown).0.as_deref(), Some("not_found"));
    assert_eq!(w.outcome(&wrong_name).0.as_deref(), Some("mismatch"));
}

#[tokio::test]
async fn a_body_that_never_answers_goes_to_manual_review_when_the_retry_budget_is_spent() {
    let w = world(
        &[("CERTVERIFY_RETRY_BUDGET_SECONDS", "1")],
        Some((Mode::Sync, 1.0)),
    )
    .await;
    let id = w.submit_ok("FCCA-1001", "Ana Lima").await;
    let r = w.wait_for(&id, "manual_review").await;
    assert_eq!(
        r["history"].as_array().unwrap().last().unwrap()["reason"],
        "retry_budget_spent"
    );
}

#[tokio::test]
async fn a_body_that_is_down_and_comes_back_still_confirms() {
    let w = world(&[], None).await;
    // Reserve a port, point the body at it while nothing listens, then start the simulator there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let patch = json!({"verification_mode": "api", "api_base_url": format!("http://{port}")});
    assert_eq!(
        w.app
            .patch_json("/v1/admin/issuing-bodies/acca", &patch, &w.admin)
            .await
            .status(),
        200
    );
    let id = w.submit_ok("FCCA-1001", "Ana Lima").await;
    w.wait_for(&id, "awaiting_issuer").await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        w.request(&id).await["state"],
        "awaiting_issuer",
        "unreachable is not a rejection"
    );
    let sim = crate::requests_helpers::start_sim(&w.app, Mode::Sync, 0.0, Some(port)).await;
    let body_id = w.app.get_json("/v1/issuing-bodies/acca").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = w
        .app
        .post_json(
            &format!("/v1/admin/issuing-bodies/{body_id}/keys"),
            &serde_json::to_value(&sim.public_jwk).unwrap(),
            Some(&w.admin),
        )
        .await;
    assert_eq!(res.status(), 201);
    w.wait_for(&id, "issued").await;
}

#[tokio::test]
async fn two_instances_on_one_database_share_the_queue_and_send_each_request_once() {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};
    // A body that counts what it is asked, by request id, and answers 202.
    let seen: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let counter = seen.clone();
    let body = actix_web::HttpServer::new(move || {
        let counter = counter.clone();
        actix_web::App::new().default_service(actix_web::web::to(move |jwt: String| {
            let counter = counter.clone();
            async move {
                let claims: Value =
                    jsonwebtoken::dangerous::insecure_decode_claims(jwt.trim()).unwrap();
                *counter
                    .lock()
                    .unwrap()
                    .entry(claims["request_id"].as_str().unwrap().to_owned())
                    .or_default() += 1;
                actix_web::HttpResponse::Accepted().finish()
            }
        }))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let port = body.addrs()[0].port();
    tokio::spawn(body.run());
    let w = world(&[("CERTVERIFY_REASK_AFTER_SECONDS", "3600")], None).await;
    let patch =
        json!({"verification_mode": "api", "api_base_url": format!("http://127.0.0.1:{port}")});
    assert_eq!(
        w.app
            .patch_json("/v1/admin/issuing-bodies/acca", &patch, &w.admin)
            .await
            .status(),
        200
    );
    w.app.another_instance().await;
    let mut ids = Vec::new();
    for i in 0..30 {
        ids.push(w.submit_ok(&format!("CERT-{i}"), "Ana Lima").await);
    }
    for id in &ids {
        w.wait_for(id, "awaiting_issuer").await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), ids.len(), "every request was sent");
    assert!(
        seen.values().all(|n| *n == 1),
        "a request was sent twice: {seen:?}"
    );
}
