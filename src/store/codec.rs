//! How the persistent backends (sled and PostgreSQL) lay records out: JSON bytes under keys
//! made the same way, so that a record reads alike in both and a backup of one restores into
//! the other unchanged.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Result, StoreError};
use crate::domain::Mac;

/// A token's record is kept under the SHA-256 of the token, never under the token.
pub(super) fn token_key(token: &str) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, token.as_bytes())
        .as_ref()
        .to_vec()
}

/// A phone's upload: its MAC's octets, then the file's name.
pub(super) fn upload_key(mac: Mac, name: &str) -> Vec<u8> {
    let mut key = mac.octets().to_vec();
    key.extend_from_slice(name.as_bytes());
    key
}

pub(super) fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("records serialise to JSON")
}

pub(super) fn decode<T: DeserializeOwned>(key: &[u8], bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|source| StoreError::Decode {
        key: String::from_utf8_lossy(key).into_owned(),
        source,
    })
}
