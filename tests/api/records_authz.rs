//! Who may call the holder, share-code and search routes: every route against no token,
//! a holder, an agency without the scope, an agency with it, and an admin.

use crate::times::JsonBody;
use serde_json::{json, Value};

use crate::helpers::assert_problem;
use crate::sharing_helpers::{issued, Issued};

#[derive(Clone, Copy, Debug)]
enum Who {
    Nobody,
    Holder,
    AgencyWithoutScope,
    AgencyWithScope,
    Admin,
}

struct Principals {
    holder: String,
    unscoped: String,
    read: String,
    search: String,
    admin: String,
}

impl Principals {
    async fn new(it: &Issued) -> Self {
        Self {
            holder: it.w.holder.clone(),
            unscoped: it.agency(&["eligibility:check"]).await,
            read: it.agency(&["records:read"]).await,
            search: it.agency(&["records:search"]).await,
            admin: it.w.admin.clone(),
        }
    }

    /// The token `who` sends; "with scope" means the scope the route needs.
    fn token(&self, who: Who, needs_search: bool) -> Option<&str> {
        match who {
            Who::Nobody => None,
            Who::Holder => Some(&self.holder),
            Who::AgencyWithoutScope => Some(&self.unscoped),
            Who::AgencyWithScope if needs_search => Some(&self.search),
            Who::AgencyWithScope => Some(&self.read),
            Who::Admin => Some(&self.admin),
        }
    }
}

async fn call(
    it: &Issued,
    method: &str,
    path: &str,
    body: Option<&Value>,
    token: Option<&str>,
) -> reqwest::Response {
    let url = it.w.app.url(path);
    let mut req = match method {
        "GET" => it.w.app.client.get(url),
        "POST" => it.w.app.client.post(url),
        _ => it.w.app.client.delete(url),
    };
    if let Some(body) = body {
        req = req.json(body);
    }
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap()
}

/// Expected answer: a success status, or a problem (status, code).
enum Expect {
    Ok(u16),
    Problem(u16, &'static str),
}

const HOLDER_ONLY: [(Who, Expect); 5] = [
    (Who::Nobody, Expect::Problem(401, "missing_token")),
    (Who::Holder, Expect::Ok(0)),
    (
        Who::AgencyWithoutScope,
        Expect::Problem(403, "wrong_principal"),
    ),
    (
        Who::AgencyWithScope,
        Expect::Problem(403, "wrong_principal"),
    ),
    (Who::Admin, Expect::Problem(403, "wrong_principal")),
];

const AGENCY_SCOPED: [(Who, Expect); 5] = [
    (Who::Nobody, Expect::Problem(401, "missing_token")),
    (Who::Holder, Expect::Problem(403, "wrong_principal")),
    (
        Who::AgencyWithoutScope,
        Expect::Problem(403, "insufficient_scope"),
    ),
    (Who::AgencyWithScope, Expect::Ok(200)),
    (Who::Admin, Expect::Problem(403, "wrong_principal")),
];

struct Route<'a> {
    method: &'a str,
    path: &'a str,
    body: Option<&'a Value>,
    /// The holder's success status on a holder route.
    holder_ok: u16,
    /// The route needs records:search rather than records:read.
    needs_search: bool,
    table: &'static [(Who, Expect)],
}

impl<'a> Route<'a> {
    fn holder(method: &'a str, path: &'a str, body: Option<&'a Value>, ok: u16) -> Self {
        Self {
            method,
            path,
            body,
            holder_ok: ok,
            needs_search: false,
            table: &HOLDER_ONLY,
        }
    }

    fn agency(method: &'a str, path: &'a str, body: Option<&'a Value>, search: bool) -> Self {
        Self {
            method,
            path,
            body,
            holder_ok: 0,
            needs_search: search,
            table: &AGENCY_SCOPED,
        }
    }
}

#[tokio::test]
async fn every_record_route_answers_each_principal_with_the_right_status_and_problem() {
    let it = issued(&[]).await;
    let p = Principals::new(&it).await;
    let code = it.share_code().await["code"].as_str().unwrap().to_owned();
    let spare = it.share_code().await["code"].as_str().unwrap().to_owned();
    let search = Issued::search_body("FZ1234567");
    let share = json!({"expires_in_days": 7});
    let share_path = format!("/v1/records/{}/share-codes", it.record_id);
    let by_code = format!("/v1/records/by-share-code/{code}");
    let delete_path = format!("/v1/share-codes/{spare}");
    let routes = [
        Route::holder("GET", "/v1/me/records", None, 200),
        Route::holder("GET", "/v1/me/access-log", None, 200),
        Route::holder("POST", &share_path, Some(&share), 201),
        Route::holder("DELETE", &delete_path, None, 204),
        Route::agency("GET", &by_code, None, false),
        Route::agency("POST", "/v1/records/search", Some(&search), true),
    ];
    for Route {
        method,
        path,
        body,
        holder_ok,
        needs_search,
        table,
    } in routes
    {
        for (who, expect) in table {
            let res = call(&it, method, path, body, p.token(*who, needs_search)).await;
            match expect {
                Expect::Ok(status) => {
                    let status = if *status == 0 { holder_ok } else { *status };
                    assert_eq!(res.status().as_u16(), status, "{method} {path} as {who:?}");
                }
                Expect::Problem(status, code) => {
                    let problem = assert_problem(res, *status, code).await;
                    assert!(problem["detail"].is_string(), "{method} {path} as {who:?}");
                }
            }
        }
    }
}

#[tokio::test]
async fn the_public_share_code_check_answers_everyone_the_same() {
    let it = issued(&[]).await;
    let p = Principals::new(&it).await;
    let code = it.share_code().await["code"].as_str().unwrap().to_owned();
    let path = format!("/v1/share-codes/{code}");
    let anonymous = it.w.app.get_json(&path).await;
    for who in [
        Who::Holder,
        Who::AgencyWithoutScope,
        Who::AgencyWithScope,
        Who::Admin,
    ] {
        let res = it.w.app.get(&path, p.token(who, false)).await;
        assert_eq!(res.status(), 200, "{who:?}");
        assert_eq!(
            res.json_checked::<Value>().await.unwrap(),
            anonymous,
            "{who:?}"
        );
    }
}

#[tokio::test]
async fn a_bad_token_or_bad_paging_is_a_problem_never_a_500() {
    let it = issued(&[]).await;
    for path in ["/v1/me/records", "/v1/me/access-log"] {
        let res = it.w.app.get(path, Some("not-a-token")).await;
        assert_problem(res, 401, "invalid_token").await;
        for bad in ["limit=0", "limit=101", "limit=ten"] {
            let res =
                it.w.app
                    .get(&format!("{path}?{bad}"), Some(&it.w.holder))
                    .await;
            assert_problem(res, 400, "invalid_query").await;
        }
    }
}
