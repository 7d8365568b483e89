//! `/portal`: the holder's requests, records and who looked at them.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::super::render::{date, Chrome};
use crate::app::AppState;
use crate::records::holder_ops as records;
use crate::records::lookup_routes::ShareCodeCheck;
use crate::requests::holder_ops as requests;

/// How many of each the home page lists (a holder has a handful).
const SHOWN: i64 = 50;

pub struct RequestLine {
    pub href: String,
    pub qualification: String,
    pub certificate_number: String,
    pub state: String,
    pub open: bool,
    pub submitted_on: String,
}

pub struct RecordLine {
    pub href: String,
    pub qualification: String,
    pub status: String,
    pub class: &'static str,
    pub valid_until: String,
}

pub struct AccessLine {
    pub agency: String,
    pub at: String,
    pub via: String,
    pub purpose: Option<String>,
    pub record_href: String,
}

#[derive(Template)]
#[template(path = "portal_home.html")]
struct Page<'a> {
    c: &'a Chrome,
    /// For the logout form.
    csrf: String,
    unverified: bool,
    requests: Vec<RequestLine>,
    records: Vec<RecordLine>,
    access: Vec<AccessLine>,
}

pub async fn page(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let (signed, c) = match super::enter(&req, &state).await {
        Ok(entered) => entered,
        Err(response) => return response,
    };
    let id = signed.holder_id.clone();
    let unverified = match requests::require_verified(&state, &id).await {
        Ok(()) => false,
        Err(e) if e.code == "email_unverified" => true,
        Err(e) => return c.failure(e),
    };
    let found = async {
        let list = requests::list(&state, id.clone(), None, SHOWN).await?;
        let rows = records::records(&state, id.clone(), None, SHOWN).await?;
        let log = records::access_log(&state, id.clone(), None, SHOWN).await?;
        Ok::<_, crate::error::ApiError>((list.items, rows, log))
    }
    .await;
    let (list, rows, log) = match found {
        Ok(found) => found,
        Err(e) => return c.failure(e),
    };
    let mut request_lines = Vec::new();
    for r in list {
        request_lines.push(RequestLine {
            href: format!("/portal/requests/{}", r.id),
            qualification: super::qualification_name(&state, &c, &r.qualification_code).await,
            certificate_number: r.certificate_number,
            state: c.t(&super::state_key(r.state)),
            open: r.state.is_open(),
            submitted_on: date(c.lang, &r.created_at.date().to_string()),
        });
    }
    let records = rows.iter().map(|row| record_line(&c, row)).collect();
    let access = log.into_iter().map(|a| access_line(&c, a)).collect();
    let page = Page {
        c: &c,
        csrf: signed.csrf.clone(),
        unverified,
        requests: request_lines,
        records,
        access,
    };
    c.respond(StatusCode::OK, &page)
}

fn record_line(c: &Chrome, row: &crate::records::RecordRow) -> RecordLine {
    let check = ShareCodeCheck::of(row);
    let (status, class) = super::record_status(check.status);
    let q = &check.qualification;
    RecordLine {
        href: format!("/portal/records/{}", row.id),
        qualification: c.pick(&q.name, q.name_zh.as_deref()).to_owned(),
        status: c.t(status),
        class,
        valid_until: date(c.lang, &check.valid_until),
    }
}

/// One agency read, in words.
pub fn access_line(c: &Chrome, a: records::AccessRow) -> AccessLine {
    let via_key = format!("portal-via-{}", a.via);
    AccessLine {
        agency: a.agency_name,
        at: super::date_time(c, &a.at),
        via: match c.strings.has(&via_key) {
            true => c.t(&via_key),
            false => a.via,
        },
        purpose: a.purpose,
        record_href: format!("/portal/records/{}", a.record_id),
    }
}
