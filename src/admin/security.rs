//! The audit trail and source bans, as the admin sees them.

use http::StatusCode;
use serde_json::json;

use super::{ApiResult, query_value};
use crate::app::App;
use crate::audit::{self, Kind, Query};
use crate::clock::rfc3339;
use crate::error::ApiError;
use crate::ops::Actor;
use crate::respond;

const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 1000;

/// `GET /audit?kind=&subject=&source=&since=&limit=`: newest first.
pub fn audit(app: &App, query: &str) -> ApiResult {
    let wanted = parse_query(query)?;
    let records: Vec<_> = audit::query(app, &wanted)?
        .into_iter()
        .map(|r| {
            json!({
                "id": r.id,
                "at": rfc3339(r.at),
                "kind": r.kind,
                "actor": r.actor,
                "source": r.source,
                "subject": r.subject,
                "detail": r.detail,
            })
        })
        .collect();
    Ok(respond::json(StatusCode::OK, &records))
}

fn parse_query(query: &str) -> Result<Query, ApiError> {
    let kind = match query_value(query, "kind") {
        Some(raw) => Some(Kind::parse(&raw).ok_or_else(|| {
            let known: Vec<_> = Kind::ALL.iter().map(|k| k.as_str()).collect();
            ApiError::BadRequest(format!(
                "kind: unknown kind {raw:?}; one of {}",
                known.join(", ")
            ))
        })?),
        None => None,
    };
    let since = match query_value(query, "since") {
        Some(raw) => Some(parse_time(&raw)?),
        None => None,
    };
    let limit = match query_value(query, "limit") {
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                ApiError::BadRequest(format!("limit: must be a number from 1 to {MAX_LIMIT}"))
            })?,
        None => DEFAULT_LIMIT,
    };
    Ok(Query {
        kind,
        subject: query_value(query, "subject"),
        source: query_value(query, "source"),
        since,
        limit,
    })
}

/// An RFC 3339 time (`2026-11-22T08:00:00Z`) as Unix seconds.
fn parse_time(raw: &str) -> Result<i64, ApiError> {
    time::OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc3339)
        .map(|t| t.unix_timestamp())
        .map_err(|_| {
            ApiError::BadRequest(format!(
                "since: {raw:?} is not an RFC 3339 time like 2026-11-22T08:00:00Z"
            ))
        })
}

/// `GET /bans`: banned sources and those counting towards a ban.
pub fn bans(app: &App) -> ApiResult {
    let sources = crate::ops::bans::list(app, app.clock.now())?;
    Ok(respond::json(StatusCode::OK, &sources))
}

/// `DELETE /bans/{address}`: lifts the ban on the address's source and forgets its counts.
pub async fn lift_ban(app: &App, by: &Actor, raw: &str) -> ApiResult {
    let key = crate::ops::bans::parse_source(raw).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "source: {raw:?} is not an IP address (or an IPv6 /64 like 2001:db8:1:2::/64)"
        ))
    })?;
    crate::ops::bans::lift(app, by, &key).await?;
    Ok(respond::json(StatusCode::OK, &json!({ "lifted": key })))
}
