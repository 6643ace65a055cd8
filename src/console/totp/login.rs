//! The login's second step: after the right password, an account with a second factor gets
//! this form instead of a session. The waiting login is named by the login cookie's new value
//! (never shown in the page; the form carries a CSRF token of its own), and only the right
//! code opens the session.

use std::net::IpAddr;

use askama::Template;
use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::request::Parts;
use http::{Method, StatusCode};

use super::views::CodePage;
use crate::app::App;
use crate::console::form::Form;
use crate::console::reply::{bad_request, html, refused, see_other};
use crate::console::session::{self, LOGIN_COOKIE, SESSION_COOKIE};
use crate::console::texts::Texts;
use crate::console::visit::texts_for;
use crate::console::{MAX_FORM_BYTES, PageResult, assets, login_page, method_not_allowed};
use crate::domain::Secret;
use crate::ops::totp::{self, CodeOutcome, PendingLogin};
use crate::respond::HttpResponse;

/// The code form; `cookie`, when the login has just begun, names it from now on.
pub fn code_page(
    t: &'static Texts,
    status: StatusCode,
    pending: &PendingLogin,
    cookie: Option<&Secret>,
    message: Option<&str>,
) -> HttpResponse {
    let page = CodePage {
        t,
        css: assets::CSS_PATH.as_str(),
        who: None,
        csrf: pending.csrf.expose(),
        message,
    };
    let mut response = html(status, page.render());
    if let Some(cookie) = cookie {
        response
            .headers_mut()
            .append(header::SET_COOKIE, session::set(LOGIN_COOKIE, cookie));
    }
    response
}

/// `/login/code`: the form again (GET), or the code checked (POST).
pub async fn second_step<B>(app: &App, parts: &Parts, body: B, address: IpAddr) -> PageResult
where
    B: hyper::body::Body<Data = Bytes> + Send,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let t = texts_for(None, &parts.headers, parts.uri.query().unwrap_or(""));
    let cookie = session::cookie(&parts.headers, LOGIN_COOKIE).unwrap_or("");
    let pending = app.pending_logins.get(cookie, app.clock.now());
    match parts.method {
        Method::GET | Method::HEAD => Ok(match pending {
            Some(pending) => code_page(t, StatusCode::OK, &pending, None, None),
            None => see_other("/login"),
        }),
        Method::POST => {
            let timeout = app.config.limits.body_read_timeout();
            let read = crate::body::read(&parts.headers, body, MAX_FORM_BYTES, timeout).await;
            let Some(form) = read.ok().and_then(|bytes| Form::parse(&bytes)) else {
                return Ok(bad_request(t, None));
            };
            let Some(pending) = pending else {
                return Ok(login_page(
                    t,
                    StatusCode::UNAUTHORIZED,
                    "",
                    Some(t.totp.code_gone),
                ));
            };
            if !session::csrf_matches(pending.csrf.expose(), form.get("csrf")) {
                return Ok(refused(t, None));
            }
            check(app, t, cookie, &pending, form.get("code"), address).await
        }
        _ => Ok(method_not_allowed("GET, HEAD, POST")),
    }
}

async fn check(
    app: &App,
    t: &'static Texts,
    cookie: &str,
    pending: &PendingLogin,
    code: &str,
    address: IpAddr,
) -> PageResult {
    Ok(
        match totp::log_in_with_code(app, cookie, code, address).await? {
            CodeOutcome::LoggedIn { cookie, account } => {
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
            CodeOutcome::Wrong(true) => {
                let message = Some(t.totp.wrong_code);
                code_page(t, StatusCode::UNAUTHORIZED, pending, None, message)
            }
            CodeOutcome::Wrong(false) | CodeOutcome::Gone => {
                login_page(t, StatusCode::UNAUTHORIZED, "", Some(t.totp.code_gone))
            }
            CodeOutcome::Throttled(seconds) => {
                let message = Some(t.login_throttled);
                let mut response =
                    code_page(t, StatusCode::TOO_MANY_REQUESTS, pending, None, message);
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
                response
            }
        },
    )
}
