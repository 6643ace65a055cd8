//! /api/v1/backup: the whole site as one backup file (`deskprov backup FILE` writes it).

use http::HeaderValue;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};

use super::ApiResult;
use crate::app::App;
use crate::error::ApiError;
use crate::ops::{self, Actor};
use crate::respond;

/// Read under the write lock, compressed after it is released.
pub async fn take(app: &App, by: &Actor) -> ApiResult {
    let (snapshot, _) = ops::backup::take(app, by).await?;
    let now = app.clock.now();
    let file = tokio::task::spawn_blocking(move || crate::backup::format::encode(&snapshot, now))
        .await
        .map_err(|e| ApiError::Internal(format!("encoding the backup: {e}")))?;
    let mut response = respond::HttpResponse::new(file.into());
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/gzip"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
