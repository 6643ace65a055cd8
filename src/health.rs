//! `/healthz` and `/readyz` on both listeners, for load balancers and service managers: no
//! authentication and no detail, so they tell an outsider nothing but up or down.
//!
//! `/healthz`: the process answers. `/readyz`: the store answers a read and templates are
//! loaded. A certificate close to its end is not unreadiness (it would take every node out at
//! once): it is a warning in the log and in `GET /api/v1/status`.

use http::header::{CACHE_CONTROL, HeaderValue};
use http::{Method, StatusCode};

use crate::app::App;
use crate::respond::{self, HttpResponse};

pub const HEALTH_PATH: &str = "/healthz";
pub const READY_PATH: &str = "/readyz";

/// The answer for a health path, or `None` for any other path.
pub async fn answer(app: &App, method: &Method, path: &str) -> Option<HttpResponse> {
    if path != HEALTH_PATH && path != READY_PATH {
        return None;
    }
    let mut response = if method != Method::GET && method != Method::HEAD {
        respond::method_not_allowed("GET, HEAD")
    } else if path == HEALTH_PATH || ready(app).await {
        respond::text(StatusCode::OK, "ok\n")
    } else {
        respond::text(StatusCode::SERVICE_UNAVAILABLE, "not ready\n")
    };
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Some(response)
}

async fn ready(app: &App) -> bool {
    let store = app.store.probe().await;
    if let Err(e) = &store {
        tracing::warn!(error = %e, "readiness: the store does not answer");
    }
    store.is_ok() && app.templates.current().names().next().is_some()
}
