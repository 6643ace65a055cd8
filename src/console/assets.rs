//! The console's stylesheet and its one script, embedded in the binary and served under names
//! that carry a hash of their content: they may be cached for a year, and a new release's file
//! has a new name.

use std::sync::LazyLock;

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use http::{Response, StatusCode};

use crate::respond::HttpResponse;

const CSS: &str = include_str!("assets/console.css");
/// The import's progress page polls its job with it (`import/mod.rs`).
const IMPORT_JS: &str = include_str!("assets/import.js");

/// `/assets/console-<12 hex digits>.css`.
pub static CSS_PATH: LazyLock<String> = LazyLock::new(|| hashed("console", "css", CSS));
/// `/assets/import-<12 hex digits>.js`.
pub static JS_PATH: LazyLock<String> = LazyLock::new(|| hashed("import", "js", IMPORT_JS));

fn hashed(name: &str, extension: &str, content: &str) -> String {
    let hash = crate::ops::tokens::sha256_hex(content);
    format!("/assets/{name}-{}.{extension}", &hash[..12])
}

/// The asset at `path`, if it is one.
pub fn answer(path: &str) -> Option<HttpResponse> {
    let (content, kind) = if path == CSS_PATH.as_str() {
        (CSS, "text/css; charset=utf-8")
    } else if path == JS_PATH.as_str() {
        (IMPORT_JS, "text/javascript; charset=utf-8")
    } else {
        return None;
    };
    let mut response = Response::new(Bytes::from_static(content.as_bytes()).into());
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(kind));
    headers.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    Some(response)
}
