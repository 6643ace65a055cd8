//! /api/v1/firmware: the files phones upgrade from, uploaded as a stream.

use bytes::Bytes;
use http::header::CONTENT_LENGTH;
use http::{HeaderMap, StatusCode};

use super::ApiResult;
use crate::app::App;
use crate::error::ApiError;
use crate::firmware::{UploadError, parse_name};
use crate::ops::{self, Actor};
use crate::respond;

pub async fn list(app: &App) -> ApiResult {
    let files = ops::firmware::list(app).await?;
    Ok(respond::json(StatusCode::OK, &files))
}

/// Streams the body to the firmware directory as `name`; never whole in memory.
pub async fn upload<B>(app: &App, by: &Actor, name: &str, headers: &HeaderMap, body: B) -> ApiResult
where
    B: hyper::body::Body<Data = Bytes> + Send,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let name = parse_name("file", name)?;
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    match ops::firmware::upload(app, by, &name, declared, body).await {
        Ok(file) => Ok(respond::json(StatusCode::CREATED, &file)),
        Err(UploadError::TooLarge(limit)) => Err(ApiError::TooLarge(
            usize::try_from(limit).unwrap_or(usize::MAX),
        )),
        Err(UploadError::Stalled(_)) => Err(ApiError::Timeout),
        Err(e @ UploadError::Broken(_)) => Err(ApiError::BadRequest(e.to_string())),
        Err(e @ UploadError::Disk(_)) => Err(ApiError::Internal(e.to_string())),
    }
}

pub async fn remove(app: &App, by: &Actor, name: &str) -> ApiResult {
    let name = parse_name("file", name)?;
    let file = ops::firmware::remove(app, by, &name).await?;
    Ok(respond::json(StatusCode::OK, &file))
}
