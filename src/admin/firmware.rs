//! /api/v1/firmware: the files phones upgrade from, uploaded as a stream.

use bytes::Bytes;
use http::header::CONTENT_LENGTH;
use http::{HeaderMap, StatusCode};

use super::ApiResult;
use crate::app::App;
use crate::firmware::parse_name;
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
    let file = ops::firmware::upload(app, by, &name, declared, body).await?;
    Ok(respond::json(StatusCode::CREATED, &file))
}

pub async fn remove(app: &App, by: &Actor, name: &str) -> ApiResult {
    let name = parse_name("file", name)?;
    let file = ops::firmware::remove(app, by, &name).await?;
    Ok(respond::json(StatusCode::OK, &file))
}
