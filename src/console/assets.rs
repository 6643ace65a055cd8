//! The console's stylesheet, embedded in the binary and served under a name that carries a hash
//! of its content: it may be cached for a year, and a new release's file has a new name.

use std::sync::LazyLock;

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use http::{Response, StatusCode};

use crate::respond::HttpResponse;

const CSS: &str = include_str!("assets/console.css");

/// `/assets/console-<12 hex digits>.css`.
pub static CSS_PATH: LazyLock<String> = LazyLock::new(|| {
    let hash = crate::ops::tokens::sha256_hex(CSS);
    format!("/assets/console-{}.css", &hash[..12])
});

/// The asset at `path`, if it is one.
pub fn answer(path: &str) -> Option<HttpResponse> {
    if path != CSS_PATH.as_str() {
        return None;
    }
    let mut response = Response::new(Bytes::from_static(CSS.as_bytes()).into());
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    headers.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    Some(response)
}
