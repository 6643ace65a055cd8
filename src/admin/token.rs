//! Admin tokens: created on first start and through the API, stored only as SHA-256, compared
//! in constant time, listed by id and revoked. Wrong tokens from one address are counted, and
//! after `admin_max_failures` within the window further wrong ones get 429 for a while: a
//! guessing script is slowed and recorded, and the admin's valid token still works.

use std::io::Write;
use std::net::IpAddr;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use http::header::AUTHORIZATION;
use http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::app::App;
use crate::audit::{self, Event, Kind};
use crate::clock::rfc3339;
use crate::domain::{Label, Secret};
use crate::error::ApiError;
use crate::respond;
use crate::store::{Store, StoreError, TokenRecord};

use super::ApiResult;

const TOKEN_LEN: usize = 40;
/// Hex digits of the token's SHA-256 that name it in lists and revocations.
const ID_LEN: usize = 12;

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
    let token = Secret::generate(TOKEN_LEN);
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

/// The name of the token the request carries. A valid token always passes: a neighbour on the
/// same address must not be able to lock the admin out. A wrong or missing one counts against
/// the address, and while it is blocked, wrong tokens get 429 without being counted.
pub fn authenticate(app: &App, headers: &HeaderMap, address: IpAddr) -> Result<String, ApiError> {
    let now = app.clock.now();
    let presented = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    let matched = match presented {
        Some(token) => matching_token(app, token)?,
        None => None,
    };
    if let Some(record) = matched {
        return Ok(record.name);
    }
    let key = guard_key(address);
    let guard = app.store.guard(&key)?;
    if guard.locked_until > now {
        return Err(ApiError::TooManyRequests(guard.locked_until - now));
    }
    charge_failure(app, &key, address, now)?;
    Err(ApiError::Unauthorized)
}

/// Compares against every token without stopping early.
fn matching_token(app: &App, presented: &str) -> Result<Option<TokenRecord>, StoreError> {
    let presented = sha256_hex(presented);
    let mut found = None;
    for record in app.store.tokens()? {
        if bool::from(record.sha256.as_bytes().ct_eq(presented.as_bytes())) {
            found = Some(record);
        }
    }
    Ok(found)
}

fn guard_key(address: IpAddr) -> String {
    format!("admin:{}", crate::sources::source_key(address))
}

fn charge_failure(app: &App, key: &str, address: IpAddr, now: i64) -> Result<(), StoreError> {
    let policy = &app.config.security;
    let window = policy.admin_failure_window_secs as i64;
    let (_, blocked) = app.store.update_guard(key, |g| {
        if now - g.window_start >= window {
            g.failures = 0;
            g.window_start = now;
        }
        g.failures += 1;
        if g.failures < policy.admin_max_failures {
            return false;
        }
        g.failures = 0;
        g.lockouts += 1;
        g.locked_until = now + policy.admin_block_secs as i64;
        true
    })?;
    audit::record(
        app,
        Event::by(
            Kind::AdminAuthFailure,
            "unknown",
            "missing or wrong admin token",
        )
        .source(address),
    );
    if blocked {
        audit::record(
            app,
            Event::by(
                Kind::AdminBlocked,
                "unknown",
                format!(
                    "{} wrong admin tokens within {} s; address refused for {} s",
                    policy.admin_max_failures,
                    policy.admin_failure_window_secs,
                    policy.admin_block_secs
                ),
            )
            .source(address),
        );
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    name: String,
}

#[derive(Serialize)]
struct TokenView {
    id: String,
    name: String,
    created_at: String,
}

fn view(record: &TokenRecord) -> TokenView {
    TokenView {
        id: record.sha256[..ID_LEN].to_string(),
        name: record.name.clone(),
        created_at: rfc3339(record.created_at),
    }
}

pub fn list(app: &App) -> ApiResult {
    let views: Vec<_> = app.store.tokens()?.iter().map(view).collect();
    Ok(respond::json(StatusCode::OK, &views))
}

/// Creates a token; the answer is the only place it is ever shown.
pub async fn create(app: &App, new: NewToken) -> ApiResult {
    let name = Label::parse(&new.name).map_err(|e| ApiError::BadRequest(format!("name: {e}")))?;
    let token = Secret::generate(TOKEN_LEN);
    let record = TokenRecord {
        name: name.as_str().to_string(),
        sha256: sha256_hex(token.expose()),
        created_at: app.clock.now(),
    };
    let _guard = app.admin_writes.lock().await;
    if !app.store.insert_token(&record)? {
        return Err(ApiError::Conflict(format!(
            "a token named {:?} exists; revoke it or choose another name",
            record.name
        )));
    }
    app.store.flush().await?;
    let v = view(&record);
    Ok(respond::json(
        StatusCode::CREATED,
        &serde_json::json!({ "id": v.id, "name": v.name, "created_at": v.created_at, "token": token.expose() }),
    ))
}

/// Revokes by id or name. The last token cannot go: nobody could then reach the API.
pub async fn revoke(app: &App, which: &str) -> ApiResult {
    let which = percent_encoding::percent_decode_str(which).decode_utf8_lossy();
    let _guard = app.admin_writes.lock().await;
    let tokens = app.store.tokens()?;
    let record = tokens
        .iter()
        .find(|t| t.sha256[..ID_LEN] == *which || t.name == *which)
        .ok_or_else(|| ApiError::NotFound(format!("no token with id or name {which:?}")))?;
    if tokens.len() == 1 {
        return Err(ApiError::Conflict(
            "this is the last admin token; create another before revoking it".into(),
        ));
    }
    app.store.remove_token(&record.name)?;
    app.store.flush().await?;
    Ok(respond::json(StatusCode::OK, &view(record)))
}

fn sha256_hex(value: &str) -> String {
    ring::digest::digest(&ring::digest::SHA256, value.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
