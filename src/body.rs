//! Request bodies within a limit, on both listeners. A body the headers already show too large is
//! refused before it is read, so no `100 Continue` goes out for it; one that grows too large
//! is read on (to a bound) and discarded before the 413, so the client sees the 413 instead of
//! a connection reset (RFC 9112 §9.6).

use std::time::Duration;

use bytes::Bytes;
use http::HeaderMap;
use http::header::{CONTENT_LENGTH, EXPECT};
use http_body_util::BodyExt;

/// Why a body was not read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("request body larger than {0} bytes")]
    TooLarge(usize),
    #[error("request body not received in time")]
    Timeout,
    #[error("reading the request body: {0}")]
    Broken(String),
}

/// How much of a body past its limit is read and thrown away so the 413 reaches the client.
const DISCARD_AT_MOST: usize = 8 * 1024 * 1024;

fn declared_length(headers: &HeaderMap) -> Option<usize> {
    headers.get(CONTENT_LENGTH)?.to_str().ok()?.parse().ok()
}

/// Reads a body of at most `limit` bytes within `timeout`.
pub async fn read<B>(
    headers: &HeaderMap,
    body: B,
    limit: usize,
    timeout: Duration,
) -> Result<Bytes, BodyError>
where
    B: hyper::body::Body<Data = Bytes> + Send,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    if declared_length(headers).is_some_and(|length| length > limit) {
        // A client waiting for 100 Continue has sent nothing, and never gets it.
        if !headers.contains_key(EXPECT) {
            let _ = tokio::time::timeout(timeout, discard(body, DISCARD_AT_MOST)).await;
        }
        return Err(BodyError::TooLarge(limit));
    }
    let mut body = std::pin::pin!(body);
    let mut seen = 0usize;
    let read = async {
        let mut collected = Vec::new();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| BodyError::Broken(e.to_string()))?;
            let Ok(data) = frame.into_data() else {
                continue;
            };
            seen += data.len();
            if seen > limit + DISCARD_AT_MOST {
                break;
            }
            if seen <= limit {
                collected.extend_from_slice(&data);
            }
        }
        if seen > limit {
            return Err(BodyError::TooLarge(limit));
        }
        Ok(Bytes::from(collected))
    };
    let outcome = tokio::time::timeout(timeout, read).await;
    match outcome {
        Ok(result) => result,
        Err(_) if seen > limit => Err(BodyError::TooLarge(limit)),
        Err(_) => Err(BodyError::Timeout),
    }
}

/// Reads and drops up to `at_most` bytes of a body.
async fn discard<B>(body: B, at_most: usize)
where
    B: hyper::body::Body<Data = Bytes> + Send,
{
    let mut body = std::pin::pin!(body);
    let mut seen = 0;
    while seen < at_most {
        match body.frame().await {
            Some(Ok(frame)) => seen += frame.data_ref().map_or(0, |d| d.len()),
            _ => return,
        }
    }
}
