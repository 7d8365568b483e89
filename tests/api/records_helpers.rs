//! A world with an issued record, and the checks every record test needs.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use certverify::db::schema::records;
use certverify::records::{multikey, proof, status_list};
use certverify::sim::Mode;
use diesel::prelude::*;
use ed25519_dalek::VerifyingKey;
use serde_json::Value;

use crate::requests_helpers::{world, World};

pub struct Issued {
    pub w: World,
    pub record_id: String,
    pub request_id: String,
    /// An agency token with records:read.
    pub agency: String,
}

/// A holder's certificate confirmed by the simulator, and its record.
pub async fn issued_record() -> Issued {
    let w = world(&[], Some((Mode::Sync, 0.0))).await;
    let request_id = w.submit_ok("FCCA-1001", "Ana Lima").await;
    w.wait_for(&request_id, "issued").await;
    let record_id = record_of(&w, &request_id);
    let (client, secret) = w.app.agency(&w.admin, &["records:read"]).await;
    let agency = w.app.client_token(&client, &secret).await;
    Issued {
        w,
        record_id,
        request_id,
        agency,
    }
}

pub fn record_of(w: &World, request_id: &str) -> String {
    w.app.with_db(|conn| {
        records::table
            .filter(records::request_id.eq(request_id))
            .select(records::id)
            .first(conn)
            .expect("a record for the request")
    })
}

impl Issued {
    pub async fn read(&self) -> Value {
        self.w
            .app
            .get_json_as(&format!("/v1/records/{}", self.record_id), &self.agency)
            .await
    }

    /// The record read as an agency asking for the VC-JOSE form.
    pub async fn read_as_jwt(&self) -> reqwest::Response {
        self.w
            .app
            .client
            .get(self.w.app.url(&format!("/v1/records/{}", self.record_id)))
            .bearer_auth(&self.agency)
            .header("accept", "application/vc+jwt")
            .send()
            .await
            .unwrap()
    }

    pub async fn admin_action(&self, action: &str, reason: &str) -> reqwest::Response {
        self.w
            .app
            .post_json(
                &format!("/v1/admin/records/{}/{action}", self.record_id),
                &serde_json::json!({"reason": reason}),
                Some(&self.w.admin),
            )
            .await
    }

    /// The bit for this record on its list of `purpose`, read from the served list.
    pub async fn status_bit(&self, purpose: &str) -> bool {
        let record = self.read().await;
        let entry = record["credential"]["credentialStatus"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["statusPurpose"] == purpose)
            .unwrap()
            .clone();
        let url = entry["statusListCredential"].as_str().unwrap();
        let path = url
            .split_once("/v1/")
            .map(|(_, p)| format!("/v1/{p}"))
            .unwrap();
        let list = self.w.app.get_json(&path).await;
        let keys = did_keys(&self.w.app.get_json("/.well-known/did.json").await);
        proof::verify(&list, "assertionMethod", |m| keys.get(m).copied())
            .expect("the status list verifies");
        assert_eq!(list["credentialSubject"]["statusPurpose"], purpose);
        let bits = status_list::decode(list["credentialSubject"]["encodedList"].as_str().unwrap())
            .unwrap();
        assert!(bits.len() * 8 >= 131_072);
        let index: u64 = entry["statusListIndex"].as_str().unwrap().parse().unwrap();
        status_list::is_set(&bits, index)
    }
}

/// The verification methods of a DID document, by id.
pub fn did_keys(doc: &Value) -> std::collections::HashMap<String, VerifyingKey> {
    doc["verificationMethod"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["id"].as_str().unwrap().to_owned(),
                multikey::decode_public_key(m["publicKeyMultibase"].as_str().unwrap()).unwrap(),
            )
        })
        .collect()
}

/// What an agency holding the passport computes to match identityDocument.digest.
pub fn identity_digest(salt_b64: &str, canonical: &str) -> String {
    use sha2::{Digest, Sha256};
    let salt = URL_SAFE_NO_PAD.decode(salt_b64).unwrap();
    let mut h = Sha256::new();
    h.update(&salt);
    h.update(canonical.as_bytes());
    URL_SAFE_NO_PAD.encode(h.finalize())
}
