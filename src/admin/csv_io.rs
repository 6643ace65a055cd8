//! The API's CSV export and import handlers (/api/v1/export/..., /api/v1/import/...,
//! /api/v1/imports): the query and the answer; the import itself is `ops::csv_io`'s.

use std::sync::Arc;

use http::StatusCode;

use super::ApiResult;
use crate::app::App;
use crate::error::ApiError;
use crate::ops::csv_io::{self, ImportJob};
use crate::ops::{Actor, import};
use crate::respond;

/// `GET /export/{users|devices|contacts|keys}`: every record as CSV, in the columns import reads. SIP
/// passwords only with `?secrets=true`; PINs never (only their hashes are stored).
pub async fn export(app: &App, subject: &str, query: &str) -> ApiResult {
    let subject = csv_io::subject(subject)?;
    let (page, pairs) = super::paging::parse(query, &["secrets"])?;
    if page != super::paging::Page::default() {
        return Err(ApiError::BadRequest(
            "an export takes only secrets=true or secrets=false".into(),
        ));
    }
    let secrets = match pairs.first() {
        Some((_, value)) => {
            super::query_flag(&format!("secrets={value}"), "secrets")?.unwrap_or(false)
        }
        None => false,
    };
    let bytes = csv_io::export(app, subject, secrets).await?;
    let mut response = respond::HttpResponse::new(bytes.into());
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    Ok(response)
}

pub async fn show_import(app: &App, id: &str) -> ApiResult {
    let not_found = || {
        ApiError::NotFound(format!(
            "no import {id} (the last {} are kept)",
            import::KEPT_RECORDS
        ))
    };
    let id = id.parse::<u64>().map_err(|_| not_found())?;
    let job = csv_io::job(app, id).await?.ok_or_else(not_found)?;
    Ok(respond::json(StatusCode::OK, &job))
}

/// Imports newest first, in pages (`after`: an import's id), as the store keeps them.
pub async fn list_imports(app: &App, query: &str) -> ApiResult {
    let (page, _) = super::paging::parse(query, &[])?;
    let before = super::paging::id_cursor(&page)?;
    let (views, more) = csv_io::jobs(app, before, page.limit).await?;
    let next: Option<String> = views.last().filter(|_| more).map(|last| last.id.clone());
    Ok(super::paging::answer::<ImportJob>(views, next))
}

/// `POST /import/{users|devices|contacts|keys}[?dry_run=true]`: checks the file's shape at once (400), then
/// checks and applies its rows in the background; 202 with the job to follow. The job's
/// record is durable before the 202: after a crash it shows as interrupted.
pub async fn start_import(
    app: &Arc<App>,
    subject: &str,
    query: &str,
    body: &[u8],
    by: &Actor,
) -> ApiResult {
    let subject = csv_io::subject(subject)?;
    let dry_run = import_options(query)?;
    let view = csv_io::start(app, by, subject, dry_run, body).await?;
    Ok(respond::json(StatusCode::ACCEPTED, &view))
}

/// `?dry_run=true|false`, nothing else: a typo must not import for real.
fn import_options(query: &str) -> Result<bool, ApiError> {
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let key = pair.split_once('=').map_or(pair, |(k, _)| k);
        if key != "dry_run" {
            return Err(ApiError::BadRequest(format!(
                "unknown parameter {key:?}; an import takes only dry_run=true or dry_run=false"
            )));
        }
        if !pair.contains('=') {
            return Err(ApiError::BadRequest(
                "dry_run: must be true or false".into(),
            ));
        }
    }
    Ok(super::query_flag(query, "dry_run")?.unwrap_or(false))
}
