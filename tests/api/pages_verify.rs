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

/// Posts `bytes` as the upload form's file (multipart, as a browser sends it).
async fn upload(app: &crate::helpers::TestApp, filename: &str, bytes: &[u8]) -> (u16, String) {
    let mut body =
        b"--b0und\r\nContent-Disposition: form-data; name=\"file\"; filename=\"".to_vec();
    body.extend_from_slice(filename.as_bytes());
    body.extend_from_slice(b"\"\r\nContent-Type: application/octet-stream\r\n\r\n");
    body.extend_from_slice(bytes);
    body.extend_from_slice(b"\r\n--b0und--\r\n");
    let res = app
        .client
        .post(app.url("/verify?lang=en"))
        .header("content-type", "multipart/form-data; boundary=b0und")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.text().await.unwrap())
}

#[tokio::test]
async fn an_uploaded_record_file_gets_the_same_verdict_as_a_pasted_one() {
    let r = issued_record().await;
    let app = &r.w.app;
    let view = r.read().await;
    // The holder's downloaded file ({id, status, credential}) and the bare vc+jwt both work.
    let (status, body) = upload(app, "record.json", view.to_string().as_bytes()).await;
    assert_eq!(status, 200);
    assert!(body.contains("Genuine and valid"), "{body}");
    let jwt = r.read_as_jwt().await.text().await.unwrap();
    let (_, body) = upload(app, "record.jwt", jwt.as_bytes()).await;
    assert!(body.contains("Genuine and valid"), "{body}");

    let mut tampered: Value = view.clone();
    tampered["credential"]["credentialSubject"]["name"] = "Someone Else".into();
    let (_, body) = upload(app, "record.json", tampered.to_string().as_bytes()).await;
    assert!(body.contains("Not valid"), "{body}");

    // A picture named like a record, no file at all, and a file over 64 KB: clear answers.
    let (status, body) = upload(app, "record.json", b"\x89PNG\r\n\x1a\n\xff\xfe").await;
    assert_eq!(status, 400);
    assert!(
        body.contains("not a record") && body.contains("href=\"#file\""),
        "{body}"
    );
    let (status, body) = upload(app, "empty.json", b"").await;
    assert_eq!(status, 400);
    assert!(body.contains("Choose a record file"), "{body}");
    let (status, body) = upload(app, "big.json", &vec![b'x'; 64 * 1024 + 1]).await;
    assert_eq!(status, 413);
    assert!(body.contains("larger than 64 KB"), "{body}");
}
