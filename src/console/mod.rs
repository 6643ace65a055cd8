//! The admin console: server-rendered pages on the admin listener, next to `/api/v1`, in German
//! and English. A page is a thin edge like a JSON handler: it reads its form, calls the
//! operations layer (`ops::accounts`, `ops::overview`) and renders a compiled template.
//!
//! The console and the API share the listener, not their credentials: pages know only the
//! session cookie, the API only bearer tokens. Every state-changing form carries the session's
//! CSRF token (the login form: the login cookie's), and every answer the strict headers of
//! [`secure`]: no script, no inline style, no framing, no referrer.

mod assets;
mod form;
pub mod pages;
mod session;
pub mod texts;

use std::net::IpAddr;
use std::sync::Arc;

use askama::Template;
use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::request::Parts;
use http::{Method, Response, StatusCode};

use crate::admin::roles::role_permits;
use crate::app::App;
use crate::clock::rfc3339;
use crate::domain::Secret;
use crate::model::{AccountRecord, ConsoleSession};
use crate::ops::Actor;
use crate::ops::accounts::{self, LoginOutcome, PasswordRefusal};
use crate::respond::HttpResponse;
use form::Form;
use pages::{Page, PageDef, Who};
use session::{LOGIN_COOKIE, SESSION_COOKIE};
use texts::Texts;

pub use texts::LANGUAGES;

/// Largest form the console takes.
const MAX_FORM_BYTES: usize = 16 * 1024;
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

type PageResult = Result<HttpResponse, crate::ops::OpError>;

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
            _ => Ok(crate::respond::method_not_allowed("GET, HEAD, POST")),
        };
    }
    let def = match Page::parse(&parts.method, path) {
        Ok(Some(def)) => def,
        Ok(None) => return Ok(not_found(app, parts).await?),
        Err(allow) => return Ok(crate::respond::method_not_allowed(allow)),
    };
    let Some(visit) = Visit::of(app, parts, address).await? else {
        return Ok(match reading {
            true => see_other("/login"),
            false => refused(texts_for(None, &parts.headers, ""), None),
        });
    };
    if !role_permits(visit.account.role, def.access) {
        return Ok(refused(visit.texts, Some(visit.who())));
    }
    if visit.account.password_change_required && !def.page.before_password_change() {
        return Ok(see_other("/password"));
    }
    if reading {
        return show(app, &visit, def).await;
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
    submit(app, &visit, def, &form).await
}

/// A logged-in request: its session, account, language and who acts.
struct Visit {
    session: ConsoleSession,
    account: AccountRecord,
    texts: &'static Texts,
    actor: Actor,
}

impl Visit {
    async fn of(
        app: &App,
        parts: &Parts,
        address: IpAddr,
    ) -> Result<Option<Visit>, crate::store::StoreError> {
        let Some(cookie) = session::cookie(&parts.headers, SESSION_COOKIE) else {
            return Ok(None);
        };
        let Some((session, account)) = accounts::resume(app, cookie).await? else {
            return Ok(None);
        };
        Ok(Some(Visit {
            texts: texts_for(account.language.as_deref(), &parts.headers, ""),
            actor: Actor::account(&account, address),
            session,
            account,
        }))
    }

    fn who(&self) -> Who {
        Who {
            username: self.account.username.to_string(),
            role: self.account.role.as_str(),
            csrf: self.session.csrf.expose().to_string(),
        }
    }
}

/// The account's language, else `?lang=` of the query, else the browser's.
fn texts_for(chosen: Option<&str>, headers: &HeaderMap, query: &str) -> &'static Texts {
    let asked = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("lang="))
        .filter(|lang| LANGUAGES.contains(lang));
    let header = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    texts::of(
        chosen
            .or(asked)
            .unwrap_or_else(|| texts::from_accept_language(header)),
    )
}

async fn show(app: &App, visit: &Visit, def: &PageDef) -> PageResult {
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
        Page::ChangePassword | Page::SetLanguage | Page::LogOut => {
            crate::respond::method_not_allowed("POST")
        }
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

async fn submit(app: &App, visit: &Visit, def: &PageDef, form: &Form) -> PageResult {
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
                    let mut changed = Visit {
                        ..clone_visit(visit)
                    };
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
        Page::Dashboard | Page::PasswordForm => Ok(crate::respond::method_not_allowed("GET, HEAD")),
    }
}

fn clone_visit(visit: &Visit) -> Visit {
    Visit {
        session: visit.session.clone(),
        account: visit.account.clone(),
        texts: visit.texts,
        actor: visit.actor.clone(),
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

fn login_page(
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
            LoginOutcome::LoggedIn {
                cookie, account, ..
            } => {
                let target = match account.password_change_required {
                    true => "/password",
                    false => "/",
                };
                let mut response = see_other(target);
                let headers = response.headers_mut();
                headers.append(header::SET_COOKIE, session::set(SESSION_COOKIE, &cookie));
                headers.append(header::SET_COOKIE, session::clear(LOGIN_COOKIE));
                response
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

fn refused(t: &'static Texts, who: Option<Who>) -> HttpResponse {
    message(t, who, StatusCode::FORBIDDEN, t.forbidden)
}

fn bad_request(t: &'static Texts, who: Option<Who>) -> HttpResponse {
    message(t, who, StatusCode::BAD_REQUEST, t.bad_request)
}

fn message(t: &'static Texts, who: Option<Who>, status: StatusCode, text: &str) -> HttpResponse {
    let (link, link_text) = match who {
        Some(_) => ("/", t.back_to_dashboard),
        None => ("/login", t.log_in),
    };
    let page = pages::MessagePage {
        t,
        css: assets::CSS_PATH.as_str(),
        who,
        heading: t.error_heading,
        text,
        link,
        link_text,
    };
    html(status, page.render())
}

fn html(status: StatusCode, rendered: askama::Result<String>) -> HttpResponse {
    let Ok(body) = rendered else {
        tracing::error!("a console template failed to render");
        return plain(StatusCode::INTERNAL_SERVER_ERROR, "internal error\n");
    };
    let mut response = Response::new(Bytes::from(body).into());
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn plain(status: StatusCode, text: &'static str) -> HttpResponse {
    crate::respond::text(status, text)
}

fn see_other(location: &'static str) -> HttpResponse {
    let mut response = Response::new(Default::default());
    *response.status_mut() = StatusCode::SEE_OTHER;
    response
        .headers_mut()
        .insert(header::LOCATION, HeaderValue::from_static(location));
    response
}

/// The headers every console answer carries.
fn secure(headers: &mut HeaderMap) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
}
