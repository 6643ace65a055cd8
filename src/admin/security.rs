//! The audit trail and source bans, as the admin sees them.

use http::StatusCode;

use super::schemas::{AuditView, Lifted, TokenBlockView};
use super::{ApiResult, paging};
use crate::app::App;
use crate::audit::{self, Kind, Query};
use crate::clock::rfc3339;
use crate::error::ApiError;
use crate::ops::Actor;
use crate::respond;

/// `GET /audit?kind=&subject=&source=&actor=&since=&until=`: newest first, in pages (`after`:
/// a record's id).
pub async fn audit(app: &App, query: &str) -> ApiResult {
    let filters = &["kind", "subject", "source", "actor", "since", "until"];
    let (page, filters) = paging::parse(query, filters)?;
    let wanted = parse_query(&filters)?;
    let before = super::paging::id_cursor(&page)?;
    let (records, more) = audit::query(app, &wanted, before, page.limit).await?;
    let next = paging::next_of(&records, more, |r| r.id.to_string());
    let views: Vec<AuditView> = records
        .into_iter()
        .map(|r| AuditView {
            id: r.id,
            at: rfc3339(r.at),
            kind: r.kind,
            actor: r.actor,
            actor_kind: r.actor_kind.map(crate::model::ActorKind::as_str),
            actor_role: r.actor_role.map(crate::domain::Role::as_str),
            source: r.source,
            subject: r.subject,
            detail: r.detail,
        })
        .collect();
    Ok(paging::answer(views, next))
}

fn parse_query(filters: &[(String, String)]) -> Result<Query, ApiError> {
    let mut wanted = Query::default();
    for (key, value) in filters {
        match key.as_str() {
            "kind" => {
                wanted.kind = Some(Kind::parse(value).ok_or_else(|| {
                    let known: Vec<_> = Kind::ALL.iter().map(|k| k.as_str()).collect();
                    ApiError::BadRequest(format!(
                        "kind: unknown kind {value:?}; one of {}",
                        known.join(", ")
                    ))
                })?)
            }
            "since" => wanted.since = Some(parse_time("since", value)?),
            "until" => wanted.until = Some(parse_time("until", value)?),
            "subject" => wanted.subject = Some(audit::canonical_subject(value)),
            "actor" => wanted.actor = Some(value.clone()),
            _ => wanted.source = Some(value.clone()),
        }
    }
    Ok(wanted)
}

/// An RFC 3339 time (`2026-11-22T08:00:00Z`) as Unix seconds.
fn parse_time(field: &'static str, raw: &str) -> Result<i64, ApiError> {
    Ok(crate::clock::parse_rfc3339(field, raw)?)
}

/// `GET /bans`: banned sources and those counting towards a ban.
pub async fn bans(app: &App, query: &str) -> ApiResult {
    let (page, _) = paging::parse(query, &[])?;
    let sources = crate::ops::bans::list(app, app.clock.now()).await?;
    let (sources, next) = paging::of_list(sources, |s| s.source.clone(), &page);
    Ok(paging::answer(sources, next))
}

/// `DELETE /bans/{address}`: lifts the ban on the address's source and forgets its counts.
pub async fn lift_ban(app: &App, by: &Actor, raw: &str) -> ApiResult {
    let key = crate::ops::bans::parse_source(raw).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "source: {raw:?} is not an IP address (or an IPv6 /64 like 2001:db8:1:2::/64)"
        ))
    })?;
    crate::ops::bans::lift(app, by, &key).await?;
    Ok(respond::json(StatusCode::OK, &Lifted { lifted: key }))
}

/// `GET /token-blocks`: sources that sent wrong admin tokens, blocked or counting.
pub async fn token_blocks(app: &App, query: &str) -> ApiResult {
    let (page, _) = paging::parse(query, &[])?;
    let now = app.clock.now();
    let views: Vec<TokenBlockView> = crate::ops::tokens::blocks(app)
        .await?
        .into_iter()
        .map(|(source, g)| TokenBlockView {
            source,
            blocked: g.locked_until > now,
            blocked_until: (g.locked_until > now).then(|| rfc3339(g.locked_until)),
            failures: g.failures,
            blocks: g.lockouts,
        })
        .collect();
    let (views, next) = paging::of_list(views, |v| v.source.clone(), &page);
    Ok(paging::answer(views, next))
}

/// `DELETE /token-blocks/{address}`: lifts an address's block for wrong admin tokens.
pub async fn lift_token_block(app: &App, by: &Actor, raw: &str) -> ApiResult {
    let key = crate::ops::bans::parse_source(raw).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "source: {raw:?} is not an IP address (or an IPv6 /64 like 2001:db8:1:2::/64)"
        ))
    })?;
    crate::ops::tokens::lift_block(app, by, &key).await?;
    Ok(respond::json(StatusCode::OK, &Lifted { lifted: key }))
}
