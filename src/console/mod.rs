//! The admin console: server-rendered pages on the admin listener, next to `/api/v1`, in German
//! and English. A page is a thin edge like a JSON handler: it reads its form, calls the
//! operations layer (`ops::accounts`, `ops::overview`) and renders a compiled template.
//!
//! The console and the API share the listener, not their credentials: pages know only the
//! session cookie, the API only bearer tokens. Every state-changing form carries the session's
//! CSRF token (the login form: the login cookie's), and every answer the strict headers of
//! [`secure`]: no script, no inline style, no framing, no referrer.

// `accounts` is taken by the operations' module this file uses for logins.
#[path = "accounts/mod.rs"]
mod account_pages;
pub(crate) mod assets;
mod audit;
mod bulk;
mod devices;
mod event_kinds;
pub(crate) mod form;
mod import;
mod keys;
mod mail;
mod multipart;
pub mod pages;
pub(crate) mod reply;
pub(crate) mod session;
mod settings;
pub mod texts;
mod totp;
mod users;
mod visit;

use std::net::IpAddr;
use std::sync::Arc;

use askama::Template;
use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::request::Parts;
use http::{Method, StatusCode};

use crate::admin::endpoint::Access;
use crate::admin::roles::role_permits;
use crate::app::App;
use crate::clock::rfc3339;
use crate::domain::Secret;
use crate::ops::accounts::{self, LoginOutcome, PasswordRefusal};
use crate::respond::HttpResponse;
use form::Form;
use pages::{Page, PageDef};
use reply::{bad_request, html, message, plain, refused, secure, see_other};
use session::{LOGIN_COOKIE, SESSION_COOKIE};
use texts::Texts;
use visit::{Visit, texts_for};

pub use texts::LANGUAGES;

/// Largest form the console takes.
pub(crate) const MAX_FORM_BYTES: usize = 16 * 1024;
const CSRF_LEN: usize = 32;

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// Answers a request on the admin listener outside `/api/` and the health checks.
pub async fn handle<B>(app: &Arc<App>, parts: &Parts, body: B, address: IpAddr) -> HttpResponse
where
    B: hyper::body::Body<Data = Bytes> + Send,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let mut response = match route(app, parts, body, address).await {
        Ok(response) => response,
        Err(e) => {
            tracing::error!(error = %e, "console request failed");
            plain(StatusCode::INTERNAL_SERVER_ERROR, "internal error\n")
        }
    };
    secure(response.headers_mut());
    response
}

pub(crate) type PageResult = Result<HttpResponse, crate::ops::OpError>;

async fn route<B>(app: &Arc<App>, parts: &Parts, body: B, address: IpAddr) -> PageResult
where
    B: hyper::body::Body<Data = Bytes> + Send,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let path = parts.uri.path();
    let reading = parts.method == Method::GET || parts.method == Method::HEAD;
    if reading && let Some(asset) = assets::answer(path) {
        return Ok(asset);
    }
    if path == "/login" {
        return match parts.method {
            Method::GET | Method::HEAD => login_form(app, parts).await,
            Method::POST => log_in(app, parts, body, address).await,
            _ => Ok(method_not_allowed("GET, HEAD, POST")),
        };
    }
    if path == "/login/code" {
        return totp::second_step(app, parts, body, address).await;
    }
    let (def, params) = match Page::parse(&parts.method, path) {
        Ok(Some(matched)) => (matched.def, matched.params),
        Ok(None) => return Ok(not_found(app, parts).await?),
        Err(allow) => return Ok(method_not_allowed(&allow)),
    };
    let Some(visit) = Visit::of(app, parts, address).await? else {
        return Ok(match reading {
            true => see_other("/login"),
            false => refused(texts_for(None, &parts.headers, ""), None),
        });
    };
    if !account_permits(&visit.account, def.access) {
        return Ok(refused(visit.texts, Some(visit.who())));
    }
    if visit.account.password_change_required && !def.page.before_password_change() {
        return Ok(see_other("/password"));
    }
    if visit.account.must_enrol_totp() && !def.page.before_totp_enrolment() {
        return Ok(see_other("/totp"));
    }
    let query = parts.uri.query().unwrap_or("");
    let request = Request {
        app,
        visit: &visit,
        params: &params,
        query,
    };
    if reading {
        return show(&request, def).await;
    }
    if def.page == Page::Import(import::ImportPage::Upload) {
        return import::upload(&request, &parts.headers, body).await;
    }
    let limit = MAX_FORM_BYTES;
    let timeout = app.config.limits.body_read_timeout();
    let Ok(bytes) = crate::body::read(&parts.headers, body, limit, timeout).await else {
        return Ok(bad_request(visit.texts, Some(visit.who())));
    };
    let Some(form) = Form::parse(&bytes) else {
        return Ok(bad_request(visit.texts, Some(visit.who())));
    };
    if !session::csrf_matches(visit.session.csrf.expose(), form.get("csrf")) {
        return Ok(refused(visit.texts, Some(visit.who())));
    }
    submit(&request, def, &form).await
}

/// Whether the account's role may open pages of `access`; secrets also need the owner's leave
/// for an admin account.
pub fn account_permits(account: &crate::model::AccountRecord, access: Access) -> bool {
    role_permits(account.role, access) && (access != Access::Secrets || account.may_read_secrets())
}

/// What a page's handler gets: the app, who visits, the values of the path's `{...}` segments
/// and the query.
pub struct Request<'a> {
    pub app: &'a Arc<App>,
    pub visit: &'a Visit,
    pub params: &'a [String],
    pub query: &'a str,
}

pub(crate) fn method_not_allowed(allow: &str) -> HttpResponse {
    let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
    if let Ok(value) = HeaderValue::from_str(allow) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}

async fn show(request: &Request<'_>, def: &PageDef) -> PageResult {
    let (app, visit) = (request.app, request.visit);
    let t = visit.texts;
    let css = assets::CSS_PATH.as_str();
    let csrf = visit.session.csrf.expose();
    Ok(match def.page {
        Page::Dashboard => {
            let overview = crate::ops::overview::overview(app).await?;
            let events = crate::ops::overview::security_events(app)
                .await?
                .into_iter()
                .map(|r| pages::EventRow {
                    at: rfc3339(r.at),
                    kind: t.event_kind(&r.kind).to_string(),
                    source: r.source.unwrap_or_default(),
                    subject: r.subject.unwrap_or_default(),
                })
                .collect();
            let page = pages::DashboardPage {
                t,
                css,
                who: Some(visit.who()),
                overview,
                events,
            };
            html(StatusCode::OK, page.render())
        }
        Page::PasswordForm => password_page(visit, StatusCode::OK, None, false, csrf),
        Page::Audit(page) => return audit::show(request, page).await,
        Page::Devices(page) => return devices::show(request, page).await,
        Page::Import(page) => return import::show(request, page).await,
        Page::Settings(page) => return settings::show(request, page).await,
        Page::Users(page) => return users::show(request, page).await,
        Page::Totp(page) => return totp::show(request, page).await,
        Page::Accounts(page) => return account_pages::show(request, page).await,
        Page::Mail(page) => return mail::show(request, page).await,
        Page::Keys(page) => return keys::show(request, page).await,
        Page::ChangePassword | Page::SetLanguage | Page::LogOut => method_not_allowed("POST"),
    })
}

fn password_page(
    visit: &Visit,
    status: StatusCode,
    message: Option<&str>,
    done: bool,
    csrf: &str,
) -> HttpResponse {
    let page = pages::PasswordPage {
        t: visit.texts,
        css: assets::CSS_PATH.as_str(),
        who: Some(visit.who()),
        csrf,
        required: visit.account.password_change_required && !done,
        done,
        message,
    };
    html(status, page.render())
}

async fn submit(request: &Request<'_>, def: &PageDef, form: &Form) -> PageResult {
    let (app, visit) = (request.app, request.visit);
    let t = visit.texts;
    match def.page {
        Page::ChangePassword => {
            let (current, new) = (form.get("current_password"), form.get("new_password"));
            let csrf = visit.session.csrf.expose();
            if new != form.get("repeat_password") {
                return Ok(password_page(
                    visit,
                    StatusCode::BAD_REQUEST,
                    Some(t.passwords_differ),
                    false,
                    csrf,
                ));
            }
            let outcome =
                accounts::change_own_password(app, &visit.actor, &visit.session, current, new)
                    .await?;
            Ok(match outcome {
                Ok(()) => {
                    let mut changed = visit.clone();
                    changed.account.password_change_required = false;
                    password_page(&changed, StatusCode::OK, None, true, csrf)
                }
                Err(refusal) => {
                    let message = refusal_text(t, refusal);
                    password_page(visit, StatusCode::BAD_REQUEST, Some(message), false, csrf)
                }
            })
        }
        Page::SetLanguage => {
            let language = form.get("language");
            if !LANGUAGES.contains(&language) {
                return Ok(bad_request(t, Some(visit.who())));
            }
            accounts::set_language(app, &visit.actor, &visit.account.username, language).await?;
            Ok(see_other("/"))
        }
        Page::LogOut => {
            let source = visit
                .actor
                .source()
                .expect("a console request has a source");
            accounts::log_out(app, &visit.session, source).await?;
            let mut response = see_other("/login");
            response
                .headers_mut()
                .append(header::SET_COOKIE, session::clear(SESSION_COOKIE));
            Ok(response)
        }
        Page::Devices(page) => devices::submit(request, page, form).await,
        Page::Import(page) => import::submit(request, page, form).await,
        Page::Settings(page) => settings::submit(request, page, form).await,
        Page::Users(page) => users::submit(request, page, form).await,
        Page::Totp(page) => totp::submit(request, page, form).await,
        Page::Accounts(page) => account_pages::submit(request, page, form).await,
        Page::Mail(page) => mail::submit(request, page, form).await,
        Page::Keys(page) => keys::submit(request, page, form).await,
        Page::Dashboard | Page::PasswordForm | Page::Audit(_) => {
            Ok(method_not_allowed("GET, HEAD"))
        }
    }
}

fn refusal_text(t: &'static Texts, refusal: PasswordRefusal) -> &'static str {
    use crate::domain::PasswordProblem as P;
    match refusal {
        PasswordRefusal::WrongCurrent => t.password_wrong_current,
        PasswordRefusal::Unchanged => t.password_unchanged,
        PasswordRefusal::Problem(P::Length) => t.password_length,
        PasswordRefusal::Problem(P::ContainsName) => t.password_contains_name,
        PasswordRefusal::Problem(P::ControlCharacters) => t.password_control_characters,
    }
}

/// The login form, with a fresh login cookie whose value the form repeats. A browser that is
/// logged in already goes to the dashboard.
async fn login_form(app: &App, parts: &Parts) -> PageResult {
    if let Some(cookie) = session::cookie(&parts.headers, SESSION_COOKIE)
        && accounts::resume(app, cookie).await?.is_some()
    {
        return Ok(see_other("/"));
    }
    let t = texts_for(None, &parts.headers, parts.uri.query().unwrap_or(""));
    Ok(login_page(t, StatusCode::OK, "", None))
}

pub(crate) fn login_page(
    t: &'static Texts,
    status: StatusCode,
    username: &str,
    message: Option<&str>,
) -> HttpResponse {
    let csrf = Secret::generate(CSRF_LEN);
    let page = pages::LoginPage {
        t,
        css: assets::CSS_PATH.as_str(),
        who: None,
        csrf: csrf.expose(),
        username,
        message,
    };
    let mut response = html(status, page.render());
    response
        .headers_mut()
        .append(header::SET_COOKIE, session::set(LOGIN_COOKIE, &csrf));
    response
}

async fn log_in<B>(app: &App, parts: &Parts, body: B, address: IpAddr) -> PageResult
where
    B: hyper::body::Body<Data = Bytes> + Send,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let t = texts_for(None, &parts.headers, parts.uri.query().unwrap_or(""));
    let timeout = app.config.limits.body_read_timeout();
    let Ok(bytes) = crate::body::read(&parts.headers, body, MAX_FORM_BYTES, timeout).await else {
        return Ok(bad_request(t, None));
    };
    let Some(form) = Form::parse(&bytes) else {
        return Ok(bad_request(t, None));
    };
    let expected = session::cookie(&parts.headers, LOGIN_COOKIE).unwrap_or("");
    if !session::csrf_matches(expected, form.get("csrf")) {
        return Ok(refused(t, None));
    }
    let username = form.get("username");
    Ok(
        match accounts::log_in(app, username, form.get("password"), address).await? {
            LoginOutcome::LoggedIn { cookie, account } => {
                let target = match account.password_change_required {
                    true => "/password",
                    false if account.must_enrol_totp() => "/totp",
                    false => "/",
                };
                let mut response = see_other(target);
                let headers = response.headers_mut();
                headers.append(header::SET_COOKIE, session::set(SESSION_COOKIE, &cookie));
                headers.append(header::SET_COOKIE, session::clear(LOGIN_COOKIE));
                response
            }
            LoginOutcome::CodeNeeded { cookie, pending } => {
                totp::code_page(t, StatusCode::OK, &pending, Some(&cookie), None)
            }
            LoginOutcome::Refused => {
                let shown: String = username.chars().take(64).collect();
                login_page(t, StatusCode::UNAUTHORIZED, &shown, Some(t.login_refused))
            }
            LoginOutcome::Throttled(seconds) => {
                let mut response = login_page(
                    t,
                    StatusCode::TOO_MANY_REQUESTS,
                    "",
                    Some(t.login_throttled),
                );
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
                response
            }
        },
    )
}

async fn not_found(app: &App, parts: &Parts) -> Result<HttpResponse, crate::store::StoreError> {
    let address: IpAddr = [0, 0, 0, 0].into();
    let visit = Visit::of(app, parts, address).await?;
    let t = visit
        .as_ref()
        .map_or_else(|| texts_for(None, &parts.headers, ""), |v| v.texts);
    let who = visit.as_ref().map(Visit::who);
    Ok(message(t, who, StatusCode::NOT_FOUND, t.not_found))
}
