//! The admin API's one error type: each variant maps to a status, and the JSON body
//! `{"error": "..."}` says what was wrong. Internal errors are logged in full and answered
//! without detail.

use http::StatusCode;

use crate::domain::{InvalidInput, InvalidMac};
use crate::respond::{self, HttpResponse};
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("missing or invalid admin token")]
    Unauthorized,
    /// The token is valid but its role may not do this.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// The methods the path takes, for the `Allow` header.
    #[error("method not allowed; this path takes {0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    Conflict(String),
    #[error("request body larger than {0} bytes")]
    TooLarge(usize),
    #[error("request body not received in time")]
    Timeout,
    /// Too many wrong admin tokens from this address; seconds until it may try again.
    #[error("too many failed attempts from this address; try again in {0} s")]
    TooManyRequests(i64),
    /// The database cannot be reached: nothing was changed; try again later.
    #[error("the database is unavailable; nothing was changed, try again shortly")]
    Unavailable,
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Timeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn into_response(self) -> HttpResponse {
        if let ApiError::Internal(detail) = &self {
            tracing::error!(error = %detail, "admin request failed");
        }
        let mut response = respond::json(
            self.status(),
            &serde_json::json!({ "error": self.to_string() }),
        );
        if matches!(self, ApiError::Unavailable) {
            tracing::warn!("admin request refused: the database is unavailable");
            response.headers_mut().insert(
                http::header::RETRY_AFTER,
                http::HeaderValue::from_static(crate::respond::RETRY_UNAVAILABLE_SECS),
            );
        }
        if let ApiError::TooManyRequests(secs) = &self {
            response.headers_mut().insert(
                http::header::RETRY_AFTER,
                http::HeaderValue::from((*secs).max(1)),
            );
        }
        if let ApiError::MethodNotAllowed(allowed) = &self
            && let Ok(value) = http::HeaderValue::from_str(allowed)
        {
            response.headers_mut().insert(http::header::ALLOW, value);
        }
        if matches!(self, ApiError::TooLarge(_)) {
            response.headers_mut().insert(
                http::header::CONNECTION,
                http::HeaderValue::from_static("close"),
            );
        }
        if matches!(self, ApiError::Unauthorized) {
            response.headers_mut().insert(
                http::header::WWW_AUTHENTICATE,
                http::HeaderValue::from_static("Bearer realm=\"deskprov-admin\""),
            );
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(_) => ApiError::Unavailable,
            e => ApiError::Internal(e.to_string()),
        }
    }
}

impl From<InvalidInput> for ApiError {
    fn from(e: InvalidInput) -> Self {
        ApiError::BadRequest(e.to_string())
    }
}

impl From<InvalidMac> for ApiError {
    fn from(e: InvalidMac) -> Self {
        ApiError::BadRequest(e.to_string())
    }
}

impl From<crate::render::RenderFailure> for ApiError {
    fn from(e: crate::render::RenderFailure) -> Self {
        match e {
            crate::render::RenderFailure::NoLoginToken(_) => ApiError::Conflict(e.to_string()),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

/// The one place an operation's refusal becomes a status code.
impl From<crate::ops::OpError> for ApiError {
    fn from(e: crate::ops::OpError) -> Self {
        use crate::ops::OpError;
        match e {
            OpError::Invalid(message) => ApiError::BadRequest(message),
            OpError::NotFound(message) => ApiError::NotFound(message),
            OpError::Conflict(message) => ApiError::Conflict(message),
            OpError::Store(e) => ApiError::from(e),
            OpError::Internal(message) => ApiError::Internal(message),
        }
    }
}

impl From<crate::firmware::UploadError> for ApiError {
    fn from(e: crate::firmware::UploadError) -> Self {
        use crate::firmware::UploadError;
        match e {
            UploadError::TooLarge(limit) => {
                ApiError::TooLarge(usize::try_from(limit).unwrap_or(usize::MAX))
            }
            UploadError::Stalled(_) => ApiError::Timeout,
            UploadError::Broken(_) => ApiError::BadRequest(e.to_string()),
            UploadError::Store(e) => ApiError::from(e),
            UploadError::Disk(_) => ApiError::Internal(e.to_string()),
        }
    }
}

impl From<crate::body::BodyError> for ApiError {
    fn from(e: crate::body::BodyError) -> Self {
        use crate::body::BodyError;
        match e {
            BodyError::TooLarge(limit) => ApiError::TooLarge(limit),
            BodyError::Timeout => ApiError::Timeout,
            BodyError::Broken(_) => ApiError::BadRequest(e.to_string()),
        }
    }
}
