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
