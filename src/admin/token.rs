//! Admin tokens: created on first start, stored only as SHA-256, compared in constant time.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use http::Request;
use http::header::AUTHORIZATION;
use subtle::ConstantTimeEq;

use crate::app::App;
use crate::domain::Secret;
use crate::error::ApiError;
use crate::store::{Store, StoreError, TokenRecord};

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("writing the admin token to {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// On a data directory that has never had one, creates the admin token and writes it to
/// `token_file` (mode 0600). Returns the file's path when a token was created.
pub fn ensure_admin_token(
    store: &Store,
    token_file: &Path,
    now: i64,
) -> Result<Option<PathBuf>, TokenError> {
    if store.has_tokens() {
        return Ok(None);
    }
    let token = Secret::generate(40);
    let write = |source| TokenError::Write {
        path: token_file.to_path_buf(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(token_file)
        .map_err(write)?;
    file.write_all(format!("{}\n", token.expose()).as_bytes())
        .map_err(write)?;
    file.sync_all().map_err(write)?;
    store.insert_token(&TokenRecord {
        name: "initial".into(),
        sha256: sha256_hex(token.expose()),
        created_at: now,
    })?;
    store.db_flush_blocking()?;
    Ok(Some(token_file.to_path_buf()))
}

pub fn authenticate<B>(app: &App, request: &Request<B>) -> Result<(), ApiError> {
    let presented = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .ok_or(ApiError::Unauthorized)?;
    let presented = sha256_hex(presented);
    let known = app.store.tokens()?;
    // Compare against every token without stopping early.
    let matched = known.iter().fold(false, |found, t| {
        found | bool::from(t.sha256.as_bytes().ct_eq(presented.as_bytes()))
    });
    if matched {
        Ok(())
    } else {
        Err(ApiError::Unauthorized)
    }
}

fn sha256_hex(value: &str) -> String {
    ring::digest::digest(&ring::digest::SHA256, value.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
