//! A holder with an issued record, agencies to read it, and share codes to read it by.

use crate::times::JsonBody;
use certverify::db::schema::records;
use certverify::sim::Mode;
use diesel::prelude::*;
use serde_json::{json, Value};

use crate::requests_helpers::{world, World};

pub struct Issued {
    pub w: World,
    pub record_id: String,
}

/// The world with the simulator confirming at once, and Ana's FCCA-1001 record issued.
pub async fn issued(extra: &[(&str, &str)]) -> Issued {
    let w = world(extra, Some((Mode::Sync, 0.0))).await;
    let request_id = w.submit_ok("FCCA-1001", "Ana Lima").await;
    let record_id = issue_and_find(&w, &request_id).await;
    Issued { w, record_id }
}

/// Waits for the request to be issued and returns its record's id.
pub async fn issue_and_find(w: &World, request_id: &str) -> String {
    w.wait_for(request_id, "issued").await;
    let request_id = request_id.to_owned();
    w.app.with_db(|conn| {
        records::table
            .filter(records::request_id.eq(request_id))
            .select(records::id)
            .first(conn)
            .unwrap()
    })
}

impl Issued {
    /// An agency token with these scopes.
    pub async fn agency(&self, scopes: &[&str]) -> String {
        let (id, secret) = self.w.app.agency(&self.w.admin, scopes).await;
        self.w.app.client_token(&id, &secret).await
    }

    /// A share code for the record (expiring in 30 days), as the holder got it.
    pub async fn share_code(&self) -> Value {
        let res = self
            .w
            .app
            .post_json(
                &format!("/v1/records/{}/share-codes", self.record_id),
                &json!({"expires_in_days": 30}),
                Some(&self.w.holder),
            )
            .await;
        assert_eq!(res.status(), 201);
        res.json_checked().await.unwrap()
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut req = self.w.app.client.delete(self.w.app.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }

    pub fn search_body(number: &str) -> Value {
        json!({"identity_document": {"type": "passport", "number": number, "nationality": "br"},
               "purpose": "work permit application WP-42"})
    }

    /// The holder's access log, newest first.
    pub async fn access_log(&self) -> Vec<Value> {
        self.w
            .app
            .get_json_as("/v1/me/access-log", &self.w.holder)
            .await["items"]
            .as_array()
            .unwrap()
            .clone()
    }
}
