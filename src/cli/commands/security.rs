//! `deskprov bans ...` and `deskprov audit`: sources banned for sweeping MACs, and the audit
//! trail.

use http::Method as M;

use super::{Answer, Request};
use crate::cli::api::{Api, encode, query_string};
use crate::cli::args::{AuditFilter, BanCommand};
use crate::cli::output::Shape;

pub async fn bans(api: &Api, command: BanCommand) -> Answer {
    let request = match command {
        BanCommand::List => Request::get("/api/v1/bans", Shape::Bans),
        BanCommand::Lift { address } => {
            let path = format!("/api/v1/bans/{}", encode(&address));
            Request::new(M::DELETE, path, Shape::Object)
        }
    };
    request.send(api).await
}

pub async fn audit(api: &Api, filter: AuditFilter) -> Answer {
    let query = query_string(&[
        ("kind", filter.kind),
        ("subject", filter.subject),
        ("source", filter.source),
        ("actor", filter.actor),
        ("since", filter.since),
        ("until", filter.until),
        ("limit", filter.limit.map(|l| l.to_string())),
    ]);
    Request::get(format!("/api/v1/audit{query}"), Shape::Audit)
        .send(api)
        .await
}
