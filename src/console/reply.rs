//! The answers console pages give: rendered pages, messages, redirects, and the headers every
//! answer carries.

use askama::Template;
use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Response, StatusCode};

use super::CSP;
use super::assets;
use super::pages::{self, Who};
use super::texts::Texts;
use crate::respond::HttpResponse;

pub fn refused(t: &'static Texts, who: Option<Who>) -> HttpResponse {
    message(t, who, StatusCode::FORBIDDEN, t.forbidden)
}

pub fn bad_request(t: &'static Texts, who: Option<Who>) -> HttpResponse {
    message(t, who, StatusCode::BAD_REQUEST, t.bad_request)
}

pub fn message(
    t: &'static Texts,
    who: Option<Who>,
    status: StatusCode,
    text: &str,
) -> HttpResponse {
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

pub fn html(status: StatusCode, rendered: askama::Result<String>) -> HttpResponse {
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

pub fn plain(status: StatusCode, text: &'static str) -> HttpResponse {
    crate::respond::text(status, text)
}

pub fn see_other(location: &str) -> HttpResponse {
    let mut response = Response::new(Default::default());
    *response.status_mut() = StatusCode::SEE_OTHER;
    response
        .headers_mut()
        .insert(header::LOCATION, location_value(location));
    response
}

/// The headers every console answer carries.
pub fn secure(headers: &mut HeaderMap) {
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

/// A redirect target is always a path of the console's own, built from its page table.
fn location_value(location: &str) -> HeaderValue {
    debug_assert!(location.starts_with('/') && !location.starts_with("//"));
    HeaderValue::from_str(location).unwrap_or_else(|_| HeaderValue::from_static("/"))
}
