//! `/registry` and `/registry/{id}`: the recognized list for people, over the registry's
//! own search and read operations.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::render::{date, service_key, Chrome};
use crate::app::AppState;
use crate::db;
use crate::domain::qualification::Category;
use crate::error::ApiError;
use crate::policy::PolicyTable;
use crate::registry::search::{self, SearchParams};
use crate::registry::types::{IssuingBodySummary, QualificationView};

/// What the form shows back: the reader's own values.
#[derive(Default)]
struct Filled {
    q: String,
    issuing_body: String,
    category: String,
    field: String,
    country: String,
    all: bool,
}

struct Row {
    href: String,
    name: String,
    other_name: Option<String>,
    body: String,
    country: String,
    categories: String,
    removed: bool,
}

#[derive(Template)]
#[template(path = "registry.html")]
struct Search<'a> {
    c: &'a Chrome,
    f: Filled,
    bodies: Vec<(String, String)>,
    errors: Vec<(String, String)>,
    rows: Vec<Row>,
    next_href: Option<String>,
    searched: bool,
}

pub async fn search(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let c = Chrome::new(&req);
    let mut errors = Vec::new();
    let params: SearchParams =
        serde_urlencoded::from_str(req.query_string()).unwrap_or_else(|_| {
            errors.push(("q".to_owned(), c.t("registry-error-query")));
            SearchParams::default()
        });
    let all = params.status.as_deref() == Some("all");
    let f = Filled {
        q: params.q.clone().unwrap_or_default(),
        issuing_body: params.issuing_body.clone().unwrap_or_default(),
        category: params.category.clone().unwrap_or_default(),
        field: params.field.clone().unwrap_or_default(),
        country: params.country.clone().unwrap_or_default(),
        all,
    };
    let checked = params.check().map_err(|e| {
        for field in e.errors {
            let key = format!("registry-error-{}", field.field);
            let text = if c.strings.has(&key) {
                c.t(&key)
            } else {
                c.t("registry-error-query")
            };
            errors.push((field.field, text));
        }
    });
    let loaded = db::run_retrying(&state.pool, move |conn| {
        let bodies = crate::registry::body_summaries(conn)?;
        let page = match &checked {
            Ok(s) => Some(search::run(conn, s)?),
            Err(()) => None,
        };
        Ok::<_, ApiError>((bodies, page))
    })
    .await;
    let (bodies, page) = match loaded {
        Ok(found) => found,
        Err(e) => return c.failure(e),
    };
    let rows = page
        .as_ref()
        .map(|p| p.items.iter().map(|q| row(&c, q)).collect())
        .unwrap_or_default();
    let next_href = page
        .and_then(|p| p.next_cursor)
        .map(|cursor| next_page(&req, &cursor));
    let page = Search {
        bodies: bodies.iter().map(|b| body_option(&c, b)).collect(),
        searched: !req.query_string().is_empty(),
        c: &c,
        f,
        errors,
        rows,
        next_href,
    };
    c.respond(StatusCode::OK, &page)
}

fn body_option(c: &Chrome, b: &IssuingBodySummary) -> (String, String) {
    (
        b.code.clone(),
        c.pick(&b.name_en, b.name_zh.as_deref()).to_owned(),
    )
}

fn row(c: &Chrome, q: &QualificationView) -> Row {
    let name = c.pick(&q.name_en, q.name_zh.as_deref()).to_owned();
    let other_name = if name == q.name_en {
        q.name_zh.clone().filter(|n| !n.is_empty())
    } else {
        Some(q.name_en.clone())
    };
    Row {
        href: format!("/registry/{}", q.id),
        name,
        other_name,
        body: c
            .pick(&q.issuing_body.name_en, q.issuing_body.name_zh.as_deref())
            .to_owned(),
        country: q.issuing_body.country.clone(),
        categories: categories_text(&q.categories),
        removed: q.status == "removed",
    }
}

fn categories_text(categories: &[Category]) -> String {
    categories
        .iter()
        .map(|c| format!("{c:?}"))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// The same search, one page on.
fn next_page(req: &HttpRequest, cursor: &str) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in url::form_urlencoded::parse(req.query_string().as_bytes()) {
        if k != "cursor" && k != "lang" {
            query.append_pair(&k, &v);
        }
    }
    query.append_pair("cursor", cursor);
    format!("/registry?{}", query.finish())
}

struct CategoryPart {
    letter: String,
    name: String,
    text: String,
    services: Vec<String>,
}

struct Change {
    what: String,
    at: String,
    at_iso: String,
}

#[derive(Template)]
#[template(path = "qualification.html")]
struct Detail<'a> {
    c: &'a Chrome,
    q: QualificationView,
    name: String,
    other_name: Option<String>,
    body: String,
    removal: Option<String>,
    categories: Vec<CategoryPart>,
    history: Vec<Change>,
}

pub async fn detail(
    req: HttpRequest,
    state: web::Data<AppState>,
    policy: web::Data<PolicyTable>,
    id: web::Path<String>,
) -> HttpResponse {
    let c = Chrome::new(&req);
    let id = id.into_inner();
    let found = db::run_retrying(&state.pool, move |conn| {
        crate::registry::qualification_detail(conn, &id)
    })
    .await;
    let detail = match found {
        Ok(detail) => detail,
        Err(e) => return c.failure(e),
    };
    let q = detail.qualification;
    let categories = q
        .categories
        .iter()
        .map(|&cat| {
            let letter = format!("{cat:?}");
            CategoryPart {
                name: c.t(&format!("category-{letter}-name")),
                text: c.t(&format!("category-{letter}-text")),
                services: policy
                    .services_in(cat)
                    .map(|s| match c.lang {
                        super::i18n::Lang::En => s.title.clone(),
                        super::i18n::Lang::Zh => c.t(&service_key(s.code.as_str())),
                    })
                    .collect(),
                letter,
            }
        })
        .collect();
    let removal = q.removal.as_ref().map(|r| {
        c.fill(
            "qualification-removed",
            &[
                ("date", &date(c.lang, &r.removed_on.to_string())),
                ("version", &r.list_version),
                ("reason", &r.reason),
            ],
        )
    });
    let history = detail
        .history
        .iter()
        .map(|h| {
            let key = format!("history-{}", h.action);
            Change {
                what: if c.strings.has(&key) {
                    c.t(&key)
                } else {
                    h.action.clone()
                },
                at: date(c.lang, &h.at.to_string()),
                at_iso: h
                    .at
                    .and_utc()
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            }
        })
        .collect();
    let name = c.pick(&q.name_en, q.name_zh.as_deref()).to_owned();
    let other_name = if name == q.name_en {
        q.name_zh.clone().filter(|n| !n.is_empty())
    } else {
        Some(q.name_en.clone())
    };
    let page = Detail {
        body: c
            .pick(&q.issuing_body.name_en, q.issuing_body.name_zh.as_deref())
            .to_owned(),
        c: &c,
        name,
        other_name,
        removal,
        categories,
        history,
        q,
    };
    c.respond(StatusCode::OK, &page)
}
