//! `GET /metrics`: the server's metrics (crate::metrics) for Prometheus, in the OpenMetrics
//! text format, for an admin token or a scrape address (`metrics.allow_networks`).

use std::net::IpAddr;

use http::StatusCode;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};

use super::ApiResult;
use crate::app::App;

/// Who a scrape without a token is, should anything name it.
pub const SCRAPER: &str = "metrics scrape address";

/// The token a scrape from a scrape address acts as: a `metrics` one, which may read the
/// metrics and nothing else.
pub fn scraper() -> crate::model::TokenRecord {
    crate::model::TokenRecord {
        name: SCRAPER.to_string(),
        sha256: String::new(),
        created_at: 0,
        role: crate::domain::Role::Metrics,
        reads_secrets: false,
        expires_at: None,
        last_used_at: None,
    }
}

/// What Prometheus asks for and prometheus-client writes.
const CONTENT: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Whether `address` may scrape without a token.
pub fn scrape_address(app: &App, address: IpAddr) -> bool {
    // An IPv4 client on a dual-stack listener arrives as ::ffff:a.b.c.d.
    let address = address.to_canonical();
    app.config
        .metrics
        .allow_networks
        .iter()
        .any(|network| network.contains(&address))
}

pub async fn scrape(app: &App) -> ApiResult {
    let text = app.metrics.render(app).await?;
    let mut response = crate::respond::HttpResponse::new(bytes::Bytes::from(text).into());
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(CONTENT));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
