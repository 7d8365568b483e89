//! `/account/register` and its "check your email" page, `/account/resend`, and the page of
//! the emailed link, `/account/verify-email/{token}`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::super::render::Chrome;
use super::{
    anonymous, anonymous_allowed, bad_form, failure, read_form, refused, with_cookie, Done,
    Problems,
};
use crate::app::AppState;
use crate::holders::email;
use crate::holders::types::{IdentityDocumentInput, RegisterHolder};

/// The form's fields as typed, kept to fill the form again after an error. The names are
/// the API's field paths with `_` for `.`, so its field errors find their inputs.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Typed {
    csrf: String,
    email: String,
    /// Never shown again: the form after an error asks for it anew.
    password: String,
    full_name: String,
    nationality: String,
    identity_kind: String,
    date_of_birth: String,
    identity_document_type: String,
    identity_document_number: String,
    residence_country: String,
    /// Present (`yes`) when ticked: an unticked box sends nothing.
    shanghai_hukou: Option<String>,
}

/// The order of the form's fields, which the error summary follows.
const FIELDS: &[&str] = &[
    "email",
    "password",
    "full_name",
    "date_of_birth",
    "nationality",
    "identity_kind",
    "identity_document_type",
    "identity_document_number",
    "residence_country",
    "shanghai_hukou",
];

type Choices = &'static [(&'static str, &'static str)];

/// `IdentityKind`'s values and their labels.
const KINDS: Choices = &[
    ("foreign_national", "account-kind-foreign_national"),
    ("hk_mo_tw", "account-kind-hk_mo_tw"),
    ("mainland", "account-kind-mainland"),
];

/// The document types a holder usually has; the API takes any slug, the form offers these.
const DOCUMENTS: Choices = &[
    ("passport", "account-document-passport"),
    ("id_card", "account-document-id_card"),
    ("hk_mo_permit", "account-document-hk_mo_permit"),
    ("tw_permit", "account-document-tw_permit"),
];

#[derive(Template)]
#[template(path = "account_register.html")]
struct Form<'a> {
    c: &'a Chrome,
    csrf: String,
    v: Typed,
    p: Problems,
    kinds: Choices,
    documents: Choices,
}

impl<'a> Form<'a> {
    fn new(c: &'a Chrome, csrf: String, v: Typed, p: Problems) -> Self {
        Form {
            c,
            csrf,
            v,
            p,
            kinds: KINDS,
            documents: DOCUMENTS,
        }
    }
}

pub async fn form(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let c = Chrome::new(&req);
    let (csrf, cookie) = anonymous(&req, &state);
    let page = Form::new(&c, csrf, Typed::default(), Problems::default());
    with_cookie(c.respond(StatusCode::OK, &page), cookie)
}

/// `holders::email::register`, as `POST /v1/holders`: its field errors on the form, and
/// otherwise the same page whether or not the address was taken.
pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> HttpResponse {
    let c = Chrome::new(&req);
    let Some(typed) = read_form::<Typed>(payload).await else {
        return bad_form(&c);
    };
    if !anonymous_allowed(&req, &state, &typed.csrf) {
        return refused(&req, &state);
    }
    let input = RegisterHolder {
        email: typed.email.clone(),
        password: typed.password.clone(),
        full_name: typed.full_name.clone(),
        nationality: typed.nationality.clone(),
        identity_kind: typed.identity_kind.clone(),
        date_of_birth: typed.date_of_birth.clone(),
        identity_document: IdentityDocumentInput {
            doc_type: typed.identity_document_type.clone(),
            number: typed.identity_document_number.clone(),
        },
        residence_country: typed.residence_country.clone(),
        shanghai_hukou: typed.shanghai_hukou.is_some(),
    };
    match email::register(state.clone(), input).await {
        Ok(()) => {
            let text = c.fill("account-sent-register", &[("email", typed.email.trim())]);
            sent(&c, text, typed.email.trim(), typed.csrf, "/account/resend")
        }
        Err(e) if !e.errors.is_empty() => {
            let p = Problems::from_fields(&c, &e.errors, FIELDS);
            let page = Form::new(&c, typed.csrf.clone(), typed, p);
            c.respond(StatusCode::BAD_REQUEST, &page)
        }
        Err(e) => failure(&c, e),
    }
}

/// "Check your email": after a registration, a resend or a reset request, the same for
/// every address. `again_action` is the form that sends another mail.
#[derive(Template)]
#[template(path = "account_sent.html")]
pub(super) struct Sent<'a> {
    c: &'a Chrome,
    text: String,
    email: String,
    csrf: String,
    again_action: &'static str,
}

pub(super) fn sent(
    c: &Chrome,
    text: String,
    email: &str,
    csrf: String,
    again_action: &'static str,
) -> HttpResponse {
    let page = Sent {
        c,
        text,
        email: email.to_owned(),
        csrf,
        again_action,
    };
    c.respond(StatusCode::OK, &page)
}

/// A form of one email address: the resend and the reset request.
#[derive(Template)]
#[template(path = "account_email.html")]
pub(super) struct EmailForm<'a> {
    pub c: &'a Chrome,
    pub title: String,
    pub lead: String,
    pub submit: String,
    pub action: &'static str,
    pub csrf: String,
    pub email: String,
    pub p: Problems,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct EmailTyped {
    pub csrf: String,
    pub email: String,
}

/// The resend form: one address, one answer for any address.
const RESEND: EmailOnly = EmailOnly {
    kind: "resend",
    action: "/account/resend",
};

pub async fn resend_form(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    RESEND.form(&req, &state)
}

/// `holders::email::resend`, as `POST /v1/holders/resend-verification`: one answer for
/// any address.
pub async fn resend(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> HttpResponse {
    let (r, st) = (&req, state.clone());
    RESEND
        .submit(r, &state, payload, move |address| async move {
            email::resend(r, st, &address).await
        })
        .await
}

/// A form of one email address (the resend and the reset request): its words are the
/// `account-{kind}-…` keys, its answer `account-sent-{kind}`.
pub(super) struct EmailOnly {
    pub kind: &'static str,
    pub action: &'static str,
}

impl EmailOnly {
    fn page<'a>(&self, c: &'a Chrome, csrf: String, email: String, p: Problems) -> EmailForm<'a> {
        let kind = self.kind;
        EmailForm {
            c,
            title: c.t(&format!("account-{kind}-title")),
            lead: c.t(&format!("account-{kind}-lead")),
            submit: c.t(&format!("account-{kind}-submit")),
            action: self.action,
            csrf,
            email,
            p,
        }
    }

    pub fn form(&self, req: &HttpRequest, state: &AppState) -> HttpResponse {
        let c = Chrome::new(req);
        let (csrf, cookie) = anonymous(req, state);
        let page = self.page(&c, csrf, String::new(), Problems::default());
        with_cookie(c.respond(StatusCode::OK, &page), cookie)
    }

    /// Reads and checks the form, requires an address, runs `operation` on it, and answers
    /// the "sent" page (the same for every address).
    pub async fn submit<F, Fut>(
        &self,
        req: &HttpRequest,
        state: &AppState,
        payload: web::Payload,
        operation: F,
    ) -> HttpResponse
    where
        F: FnOnce(String) -> Fut,
        Fut: std::future::Future<Output = Result<(), crate::error::ApiError>>,
    {
        let c = Chrome::new(req);
        let Some(typed) = read_form::<EmailTyped>(payload).await else {
            return bad_form(&c);
        };
        if !anonymous_allowed(req, state, &typed.csrf) {
            return refused(req, state);
        }
        let address = typed.email.trim().to_owned();
        if address.is_empty() {
            let p = Problems::one("email", c.t("account-error-email-missing"));
            let page = self.page(&c, typed.csrf, address, p);
            return c.respond(StatusCode::BAD_REQUEST, &page);
        }
        match operation(address.clone()).await {
            Ok(()) => {
                let text = c.fill(
                    &format!("account-sent-{}", self.kind),
                    &[("email", &address)],
                );
                sent(&c, text, &address, typed.csrf, self.action)
            }
            Err(e) => failure(&c, e),
        }
    }
}

/// Tokens are base64url; anything else cannot be one and is not put into a form action.
pub(super) fn token_shaped(token: &str) -> bool {
    (20..=128).contains(&token.len())
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[derive(Template)]
#[template(path = "account_confirm.html")]
struct Confirm<'a> {
    c: &'a Chrome,
    csrf: String,
    action: String,
}

fn bad_verify_link(c: &Chrome) -> HttpResponse {
    let page = Done::new(
        c,
        "account-link-bad-title",
        "account-verify-bad-text",
        "/account/resend",
        "account-login-resend",
    );
    c.respond(StatusCode::BAD_REQUEST, &page)
}

/// The link's page: a button, not the verification itself, because mail scanners open
/// links and would use the token up.
pub async fn confirm(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> HttpResponse {
    let c = Chrome::new(&req);
    if !token_shaped(&token) {
        return bad_verify_link(&c);
    }
    let (csrf, cookie) = anonymous(&req, &state);
    let page = Confirm {
        c: &c,
        csrf,
        action: format!("/account/verify-email/{token}"),
    };
    with_cookie(c.respond(StatusCode::OK, &page), cookie)
}

/// `holders::email::verify`, as `POST /v1/holders/verify-email`.
pub async fn verify(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    payload: web::Payload,
) -> HttpResponse {
    let c = Chrome::new(&req);
    let Some(typed) = read_form::<EmailTyped>(payload).await else {
        return bad_form(&c);
    };
    if !anonymous_allowed(&req, &state, &typed.csrf) {
        return refused(&req, &state);
    }
    match email::verify(&state, token.into_inner()).await {
        Ok(()) => {
            let page = if c.signed_in {
                Done::new(
                    &c,
                    "account-verified-title",
                    "account-verified-text",
                    "/portal",
                    "nav-portal",
                )
            } else {
                Done::new(
                    &c,
                    "account-verified-title",
                    "account-verified-text",
                    "/account/login",
                    "account-login-link",
                )
            };
            c.respond(StatusCode::OK, &page)
        }
        Err(e) if e.code == "invalid_email_token" => bad_verify_link(&c),
        Err(e) => failure(&c, e),
    }
}
