//! What an operation can refuse, in words an admin can act on; the fronts choose the status.

use crate::domain::{InvalidInput, InvalidMac};
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum OpError {
    /// The input is not acceptable as given.
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    /// The input is fine, but the state of things does not allow it now.
    #[error("{0}")]
    Conflict(String),
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Internal(String),
}

impl OpError {
    pub fn invalid(message: impl Into<String>) -> OpError {
        OpError::Invalid(message.into())
    }

    pub fn conflict(message: impl Into<String>) -> OpError {
        OpError::Conflict(message.into())
    }

    pub fn not_found(message: impl Into<String>) -> OpError {
        OpError::NotFound(message.into())
    }

    /// The status every front answers it with: a database that cannot be reached is a 503
    /// (try again), any other failure of storage a 500.
    pub fn status(&self) -> http::StatusCode {
        use http::StatusCode;
        match self {
            OpError::Invalid(_) => StatusCode::BAD_REQUEST,
            OpError::NotFound(_) => StatusCode::NOT_FOUND,
            OpError::Conflict(_) => StatusCode::CONFLICT,
            OpError::Store(StoreError::Unavailable(_)) => StatusCode::SERVICE_UNAVAILABLE,
            OpError::Store(_) | OpError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<InvalidInput> for OpError {
    fn from(e: InvalidInput) -> Self {
        OpError::Invalid(e.to_string())
    }
}

impl From<InvalidMac> for OpError {
    fn from(e: InvalidMac) -> Self {
        OpError::Invalid(e.to_string())
    }
}
