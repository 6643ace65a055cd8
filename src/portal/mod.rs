//! The users' self-service portal at `/me/` on the phone listener (the one users' browsers
//! reach). It reuses the console's machinery (cookies and CSRF checks, strict headers, the
//! stylesheet, form parsing, language choice) under a `__Host-` cookie name of its own, so a
//! console cookie never opens it and its cookie never opens the console. Pages call
//! `ops::portal` and `ops::links`, never the store.

pub mod texts;

use std::net::IpAddr;

use askama::Template;
use bytes::Bytes;
use http::header::{self, HeaderMap};
use http::request::Parts;
use http::{Method, StatusCode};

use crate::app::App;
use crate::console::form::Form;
use crate::console::reply::{html, plain, secure, see_other};
use crate::console::{assets, session};
use crate::domain::Secret;
use crate::model::{LinkRecord, PortalSession, UserRecord};
use crate::ops::{Actor, links, portal, portal_mail};
use crate::respond::HttpResponse;
use texts::PortalTexts;

pub const SESSION_COOKIE: &str = "__Host-deskprov-portal";
/// Protects the forms shown before a session exists (login, one-time link).
pub const FORM_COOKIE: &str = "__Host-deskprov-portal-form";
const PREFIX: &str = "/me";
/// The console's stylesheet, under the portal's prefix on the phone listener.
static CSS: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("{PREFIX}{}", assets::CSS_PATH.as_str()));

/// Whether the path is the portal's.
pub fn owns(path: &str) -> bool {
    path == PREFIX || path.starts_with("/me/")
}

pub async fn handle<B>(app: &App, parts: &Parts, body: B, address: IpAddr) -> HttpResponse
where
    B: hyper::body::Body<Data = Bytes> + Send,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let allowed = app.config.portal.allow_networks.is_empty()
        || app
            .config
            .portal
            .allow_networks
            .iter()
            .any(|n| n.contains(&address));
    if !app.config.portal.enabled || !allowed {
        return plain(StatusCode::NOT_FOUND, "not found\n");
    }
    let mut response = match route(app, parts, body, address).await {
        Ok(response) => response,
        Err(e) => {
            tracing::error!(error = %e, "portal request failed");
            plain(StatusCode::INTERNAL_SERVER_ERROR, "internal error\n")
        }
    };
    secure(response.headers_mut());
    response
}

type PageResult = Result<HttpResponse, crate::ops::OpError>;

fn texts(
    session: Option<&PortalSession>,
    user: Option<&UserRecord>,
    parts: &Parts,
) -> &'static PortalTexts {
    let query = parts.uri.query().unwrap_or("");
    let asked = crate::console::form::query_value(query, "lang")
        .filter(|l| crate::console::LANGUAGES.contains(l));
    let header = parts
        .headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    let chosen = asked
        .or(session.and_then(|s| s.language.as_deref()))
        .or(user
            .and_then(|u| u.language.as_deref())
            .filter(|l| crate::console::LANGUAGES.contains(l)));
    texts::of(chosen.unwrap_or_else(|| crate::console::texts::from_accept_language(header)))
}

#[derive(Template)]
#[template(path = "portal/login.html")]
struct LoginPage<'a> {
    t: &'static PortalTexts,
    css: &'a str,
    csrf: &'a str,
    message: Option<&'a str>,
    /// Whether "forgot password" can send a mail.
    forgot: bool,
}

#[derive(Template)]
#[template(path = "portal/forgot.html")]
struct ForgotPage<'a> {
    t: &'static PortalTexts,
    css: &'a str,
    csrf: &'a str,
    message: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "portal/home.html")]
struct HomePage<'a> {
    t: &'static PortalTexts,
    css: &'a str,
    csrf: &'a str,
    message: Option<&'a str>,
    name: String,
    extension: String,
    phones: Vec<String>,
    hotdesk: Option<String>,
    forced: bool,
    pin_required: bool,
    password_required: bool,
}

#[derive(Template)]
#[template(path = "portal/link.html")]
struct LinkPage<'a> {
    t: &'static PortalTexts,
    css: &'a str,
    csrf: &'a str,
    message: Option<&'a str>,
    token: &'a str,
    valid: bool,
    needs_pin: bool,
}

async fn read_form<B>(app: &App, headers: &HeaderMap, body: B) -> Option<Form>
where
    B: hyper::body::Body<Data = Bytes> + Send,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let timeout = app.config.limits.body_read_timeout();
    let bytes = crate::body::read(headers, body, crate::console::MAX_FORM_BYTES, timeout)
        .await
        .ok()?;
    Form::parse(&bytes)
}

fn forbidden() -> HttpResponse {
    plain(StatusCode::FORBIDDEN, "forbidden\n")
}

async fn route<B>(app: &App, parts: &Parts, body: B, address: IpAddr) -> PageResult
where
    B: hyper::body::Body<Data = Bytes> + Send,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let path = parts.uri.path();
    let reading = parts.method == Method::GET || parts.method == Method::HEAD;
    if reading && path.strip_prefix(PREFIX) == Some(assets::CSS_PATH.as_str()) {
        return Ok(assets::answer(&assets::CSS_PATH).expect("the stylesheet"));
    }
    if let Some(token) = path.strip_prefix("/me/link/") {
        return link(app, parts, body, address, token, reading).await;
    }
    let visit = match session::cookie(&parts.headers, SESSION_COOKIE) {
        Some(cookie) => portal::resume(app, cookie).await?,
        None => None,
    };
    if path == "/me/login" && parts.method == Method::POST {
        return log_in(app, parts, body, address).await;
    }
    if path == "/me/forgot" {
        return forgot(app, parts, body, address, reading).await;
    }
    let Some((session, user)) = visit else {
        return Ok(match reading {
            true => form_page(app, texts(None, None, parts), StatusCode::OK, None),
            false => forbidden(),
        });
    };
    let t = texts(Some(&session), Some(&user), parts);
    if reading {
        return match path {
            "/me" | "/me/" | "/me/login" => {
                home(app, t, &session, &user, StatusCode::OK, None).await
            }
            _ => Ok(plain(StatusCode::NOT_FOUND, "not found\n")),
        };
    }
    let Some(form) = read_form(app, &parts.headers, body).await else {
        return Ok(plain(StatusCode::BAD_REQUEST, "bad request\n"));
    };
    if !session::csrf_matches(session.csrf.expose(), form.get("csrf")) {
        return Ok(forbidden());
    }
    submit(app, t, path, &form, &session, &user, address).await
}

async fn submit(
    app: &App,
    t: &'static PortalTexts,
    path: &str,
    form: &Form,
    session: &PortalSession,
    user: &UserRecord,
    address: IpAddr,
) -> PageResult {
    let actor = Actor::user(&user.extension, address);
    let forced = user.password_change_required || user.pin_change_required;
    let outcome = match path {
        "/me/logout" => {
            portal::log_out(app, session, address).await?;
            let mut response = see_other("/me/");
            let cleared = session::clear(SESSION_COOKIE);
            response.headers_mut().append(header::SET_COOKIE, cleared);
            return Ok(response);
        }
        "/me/language" => {
            let language = form.get("language");
            return match portal::set_language(app, &actor, &user.extension, language).await {
                Ok(()) => Ok(see_other("/me/")),
                Err(crate::ops::OpError::Invalid(_)) => {
                    Ok(plain(StatusCode::BAD_REQUEST, "bad request\n"))
                }
                Err(e) => Err(e),
            };
        }
        "/me/hotdesk-logout" if !forced => {
            portal::log_out_hotdesk(app, &actor, &user.extension).await?;
            Ok(())
        }
        "/me/pin" if !user.password_change_required => {
            portal::change_pin(app, &actor, session, form.get("password"), form.get("pin")).await?
        }
        "/me/password" => {
            let (current, new) = (form.get("current_password"), form.get("new_password"));
            portal::change_password(app, &actor, session, current, new).await?
        }
        _ => return Ok(forbidden()),
    };
    let after = crate::ops::users::existing(app.store.reads(), &user.extension).await?;
    let (status, message) = match outcome {
        Ok(()) => (StatusCode::OK, t.saved),
        Err(portal::Refusal::WrongPassword) => (StatusCode::BAD_REQUEST, t.wrong_password),
        Err(portal::Refusal::Pin(_)) => (StatusCode::BAD_REQUEST, t.weak_pin),
        Err(_) => (StatusCode::BAD_REQUEST, t.weak_password),
    };
    home(app, t, session, &after, status, Some(message)).await
}

async fn home(
    app: &App,
    t: &'static PortalTexts,
    session: &PortalSession,
    user: &UserRecord,
    status: StatusCode,
    message: Option<&str>,
) -> PageResult {
    let phones = crate::ops::user_list::phones_of(app, &user.extension).await?;
    let phones = phones
        .iter()
        .flat_map(|d| {
            let model = d.model.as_ref().map(|m| m.to_string()).unwrap_or_default();
            d.lines
                .iter()
                .filter(|(_, e)| **e == user.extension)
                .map(move |(line, _)| format!("{model} {} · {line}", d.mac))
        })
        .collect();
    let hotdesk = crate::ops::user_list::login_of(app, user).await?.map(|l| {
        format!(
            "{} · {} · {}",
            l.mac,
            l.slot,
            crate::clock::rfc3339(l.since)
        )
    });
    let forced = user.password_change_required || user.pin_change_required;
    let page = HomePage {
        t,
        css: &CSS,
        csrf: session.csrf.expose(),
        message: message.or(forced.then_some(t.must_change)),
        name: user.display_name.to_string(),
        extension: user.extension.to_string(),
        phones,
        hotdesk,
        forced,
        pin_required: user.pin_change_required && !user.password_change_required,
        password_required: user.password_change_required,
    };
    Ok(html(status, page.render()))
}

/// The login form with a fresh form cookie its hidden field repeats.
fn form_page(
    app: &App,
    t: &'static PortalTexts,
    status: StatusCode,
    message: Option<&str>,
) -> HttpResponse {
    let forgot = app.config.mail.is_some();
    with_form(status, |csrf| {
        let page = LoginPage {
            t,
            css: &CSS,
            csrf,
            message,
            forgot,
        };
        page.render()
    })
}

fn forgot_page(t: &'static PortalTexts, status: StatusCode, message: Option<&str>) -> HttpResponse {
    with_form(status, |csrf| {
        let page = ForgotPage {
            t,
            css: &CSS,
            csrf,
            message,
        };
        page.render()
    })
}

/// `/me/forgot`: the form, and its POST, which answers the same whether the name is a user's
/// (`ops::portal_mail::forgot` also takes the same time for both).
async fn forgot<B>(app: &App, parts: &Parts, body: B, address: IpAddr, reading: bool) -> PageResult
where
    B: hyper::body::Body<Data = Bytes> + Send,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let t = texts(None, None, parts);
    if reading {
        return Ok(forgot_page(t, StatusCode::OK, None));
    }
    let Some(form) = read_form(app, &parts.headers, body).await else {
        return Ok(plain(StatusCode::BAD_REQUEST, "bad request\n"));
    };
    let expected = session::cookie(&parts.headers, FORM_COOKIE).unwrap_or("");
    if !session::csrf_matches(expected, form.get("csrf")) {
        return Ok(forbidden());
    }
    Ok(
        match portal_mail::forgot(app, form.get("login"), address).await? {
            portal_mail::Forgot::Accepted => forgot_page(t, StatusCode::OK, Some(t.forgot_sent)),
            portal_mail::Forgot::Throttled(seconds) => retry_after(
                forgot_page(t, StatusCode::TOO_MANY_REQUESTS, Some(t.throttled)),
                seconds,
            ),
        },
    )
}

fn retry_after(mut response: HttpResponse, seconds: i64) -> HttpResponse {
    let retry = http::HeaderValue::from(seconds.max(1));
    response.headers_mut().insert(header::RETRY_AFTER, retry);
    response
}

/// A page with a form shown before a session exists: `render` puts a fresh token in the form,
/// and the form cookie, which the POST must repeat, carries it too.
fn with_form(
    status: StatusCode,
    render: impl FnOnce(&str) -> askama::Result<String>,
) -> HttpResponse {
    let csrf = Secret::generate(32);
    let mut response = html(status, render(csrf.expose()));
    let cookie = session::set(FORM_COOKIE, &csrf);
    response.headers_mut().append(header::SET_COOKIE, cookie);
    response
}

async fn log_in<B>(app: &App, parts: &Parts, body: B, address: IpAddr) -> PageResult
where
    B: hyper::body::Body<Data = Bytes> + Send,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let t = texts(None, None, parts);
    let Some(form) = read_form(app, &parts.headers, body).await else {
        return Ok(plain(StatusCode::BAD_REQUEST, "bad request\n"));
    };
    let expected = session::cookie(&parts.headers, FORM_COOKIE).unwrap_or("");
    if !session::csrf_matches(expected, form.get("csrf")) {
        return Ok(forbidden());
    }
    Ok(
        match portal::log_in(app, form.get("login"), form.get("password"), address).await? {
            portal::LoginOutcome::LoggedIn { cookie, .. } => {
                let mut response = see_other("/me/");
                let headers = response.headers_mut();
                headers.append(header::SET_COOKIE, session::set(SESSION_COOKIE, &cookie));
                headers.append(header::SET_COOKIE, session::clear(FORM_COOKIE));
                response
            }
            portal::LoginOutcome::Refused => {
                form_page(app, t, StatusCode::UNAUTHORIZED, Some(t.refused))
            }
            portal::LoginOutcome::Throttled(seconds) => retry_after(
                form_page(app, t, StatusCode::TOO_MANY_REQUESTS, Some(t.throttled)),
                seconds,
            ),
        },
    )
}

/// `/me/link/{token}`: the GET shows the form and consumes nothing (mail scanners fetch it);
/// only the form's POST uses the link.
async fn link<B>(
    app: &App,
    parts: &Parts,
    body: B,
    address: IpAddr,
    token: &str,
    reading: bool,
) -> PageResult
where
    B: hyper::body::Body<Data = Bytes> + Send,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let t = texts(None, None, parts);
    let token: String = token
        .chars()
        .take(64)
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    if reading {
        let valid = links::valid(app, &token).await?;
        return Ok(link_page(t, StatusCode::OK, &token, valid.as_ref(), None));
    }
    let Some(form) = read_form(app, &parts.headers, body).await else {
        return Ok(plain(StatusCode::BAD_REQUEST, "bad request\n"));
    };
    let expected = session::cookie(&parts.headers, FORM_COOKIE).unwrap_or("");
    if !session::csrf_matches(expected, form.get("csrf")) {
        return Ok(forbidden());
    }
    let actor = Actor::phone(address);
    let outcome = links::consume(
        app,
        &actor,
        &token,
        form.get("new_password"),
        form.get("pin"),
    )
    .await?;
    let message = match outcome {
        Ok(_) => return Ok(form_page(app, t, StatusCode::OK, Some(t.saved))),
        Err(links::LinkRefusal::Invalid) => t.link_invalid,
        Err(links::LinkRefusal::Password(_)) => t.weak_password,
        Err(links::LinkRefusal::Pin(_)) => t.weak_pin,
    };
    let valid = links::valid(app, &token).await?;
    let status = StatusCode::BAD_REQUEST;
    Ok(link_page(t, status, &token, valid.as_ref(), Some(message)))
}

fn link_page(
    t: &'static PortalTexts,
    status: StatusCode,
    token: &str,
    valid: Option<&(LinkRecord, UserRecord)>,
    message: Option<&str>,
) -> HttpResponse {
    with_form(status, |csrf| {
        let page = LinkPage {
            t,
            css: &CSS,
            csrf,
            message: message.or(valid.is_none().then_some(t.link_invalid)),
            token,
            valid: valid.is_some(),
            needs_pin: valid.is_some_and(|(link, user)| links::asks_for_pin(link, user)),
        };
        page.render()
    })
}
