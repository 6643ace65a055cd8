//! Admin tokens: created on first start and through the API, stored only as SHA-256, compared
//! in constant time, listed by id and revoked. Wrong tokens from one address are counted, and
//! after `admin_max_failures` within the window further wrong ones get 429 for a while: a
//! guessing script is slowed and recorded, and the admin's valid token still works.

use std::net::IpAddr;

use http::header::AUTHORIZATION;
use http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use utoipa::ToSchema;

use crate::app::App;
use crate::clock::rfc3339;
use crate::domain::{Label, Role};
use crate::error::ApiError;
use crate::model::TokenRecord;
use crate::ops::{Actor, tokens};
use crate::respond;
use crate::store::StoreError;

use super::ApiResult;

/// The token the request carries. A valid token always passes: a neighbour on the same
/// address must not be able to lock the admin out. A wrong, expired or missing one counts
/// against the address, and while it is blocked, wrong tokens get 429 without being counted.
pub async fn authenticate(
    app: &App,
    headers: &HeaderMap,
    address: IpAddr,
) -> Result<TokenRecord, ApiError> {
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
        Some(token) => matching_token(app, token).await?,
        None => None,
    };
    if let Some(record) = matched.filter(|r| !r.expired(now)) {
        tokens::note_use(app, &record, now).await?;
        return Ok(record);
    }
    let guard = app.store.guard(&tokens::guard_key(address)).await?;
    if guard.locked_until > now {
        return Err(ApiError::TooManyRequests(guard.locked_until - now));
    }
    tokens::charge_failure(app, address, now).await?;
    Err(ApiError::Unauthorized)
}

/// Compares against every token without stopping early.
async fn matching_token(app: &App, presented: &str) -> Result<Option<TokenRecord>, StoreError> {
    let presented = tokens::sha256_hex(presented);
    let mut found = None;
    for record in app.store.tokens().await? {
        if bool::from(record.sha256.as_bytes().ct_eq(presented.as_bytes())) {
            found = Some(record);
        }
    }
    Ok(found)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// What the token is for (the audit trail names its changes by it).
    #[schema(value_type = Label)]
    name: String,
    /// What it may do; owner when not given.
    #[schema(value_type = Option<super::schemas::RoleName>)]
    #[serde(default)]
    role: Option<String>,
    /// An admin token may read secrets (credentials, SIP passwords) only with this.
    #[serde(default)]
    reads_secrets: bool,
    /// Refused from this time on (RFC 3339, in the future); never when not given.
    #[serde(default)]
    expires_at: Option<String>,
}

/// An admin token, by its id (the start of its hash) and name; never the token itself.
#[derive(Serialize, ToSchema)]
pub struct TokenView {
    id: String,
    name: String,
    #[schema(value_type = super::schemas::RoleName)]
    role: &'static str,
    /// Whether it may read secrets (always for owner tokens).
    reads_secrets: bool,
    created_at: String,
    expires_at: Option<String>,
    /// When it last authorized a request, to the minute.
    last_used_at: Option<String>,
}

fn view(record: &TokenRecord) -> TokenView {
    TokenView {
        id: tokens::id_of(record).to_string(),
        name: record.name.clone(),
        role: record.role.as_str(),
        reads_secrets: record.may_read_secrets(),
        created_at: rfc3339(record.created_at),
        expires_at: record.expires_at.map(rfc3339),
        last_used_at: record.last_used_at.map(rfc3339),
    }
}

/// Tokens in pages by name.
pub async fn list(app: &App, query: &str) -> ApiResult {
    let (page, _) = super::paging::parse(query, &[])?;
    let (tokens, next) =
        super::paging::of_list(app.store.tokens().await?, |t| t.name.clone(), &page);
    Ok(super::paging::answer(
        tokens.iter().map(view).collect(),
        next,
    ))
}

/// Creates a token; the answer is the only place it is ever shown.
pub async fn create(app: &App, by: &Actor, new: NewToken) -> ApiResult {
    let wanted = tokens::NewToken {
        name: Label::parse_field("name", &new.name)?,
        role: match &new.role {
            Some(role) => Role::parse(role)?,
            None => Role::Owner,
        },
        reads_secrets: new.reads_secrets,
        expires_at: new
            .expires_at
            .as_deref()
            .map(|at| crate::clock::parse_rfc3339("expires_at", at))
            .transpose()?,
    };
    let created = tokens::create(app, by, wanted).await?;
    Ok(respond::json(
        StatusCode::CREATED,
        &super::schemas::CreatedToken {
            view: view(&created.record),
            token: created.token.expose().to_string(),
        },
    ))
}

/// Revokes by id or name (`?force=true` revokes the token the request itself uses).
pub async fn revoke(app: &App, by: &Actor, which: &str, force: bool) -> ApiResult {
    let record = tokens::revoke(app, by, which, force).await?;
    Ok(respond::json(StatusCode::OK, &view(&record)))
}
