//! The audit trail page: every record, newest first, filtered by kind, subject, actor, source
//! and time, in pages of [`PAGE_SIZE`] through the store's cursor.

pub mod texts;

use askama::Template;
use http::{Method, StatusCode};

pub use texts::AuditTexts;

use super::pages::{Page, PageDef, Who};
use super::reply::html;
use super::{PageResult, Request, assets};
use crate::admin::endpoint::Access;
use crate::audit::{self, Kind, Query};
use crate::clock::rfc3339;
use crate::model::{ActorKind, AuditRecord};

const PAGE_SIZE: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditPage {
    Trail,
}

pub static PAGES: &[PageDef] = &[PageDef {
    page: Page::Audit(AuditPage::Trail),
    method: Method::GET,
    path: "/audit",
    name: "page: audit trail",
    access: Access::Read,
}];

pub async fn show(request: &Request<'_>, page: AuditPage) -> PageResult {
    match page {
        AuditPage::Trail => trail(request).await,
    }
}

/// The filters as the form sent them, shown again in its fields.
#[derive(Default)]
struct Filters {
    kind: String,
    subject: String,
    actor: String,
    source: String,
    since: String,
    until: String,
    /// The id of the last record of the page before.
    after: Option<u64>,
}

/// Why the filters were refused, in the page's language.
enum Refusal {
    UnknownKind,
    Time,
    Cursor,
}

impl Filters {
    fn parse(query: &str) -> Filters {
        let mut filters = Filters::default();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, raw) = pair.split_once('=').unwrap_or((pair, ""));
            let value = decode(raw);
            let field = match key {
                "kind" => &mut filters.kind,
                "subject" => &mut filters.subject,
                "actor" => &mut filters.actor,
                "source" => &mut filters.source,
                "since" => &mut filters.since,
                "until" => &mut filters.until,
                "after" => {
                    filters.after = Some(value.parse().unwrap_or(0));
                    continue;
                }
                _ => continue,
            };
            *field = value.trim().chars().take(200).collect();
        }
        filters
    }

    fn query(&self) -> Result<Query, Refusal> {
        let kind = match self.kind.as_str() {
            "" => None,
            name => Some(Kind::parse(name).ok_or(Refusal::UnknownKind)?),
        };
        if self.after == Some(0) {
            return Err(Refusal::Cursor);
        }
        Ok(Query {
            kind,
            subject: given(&self.subject).map(audit::canonical_subject),
            source: given(&self.source).map(str::to_string),
            actor: given(&self.actor).map(str::to_string),
            since: time_of(&self.since)?,
            until: time_of(&self.until)?,
        })
    }

    /// The query string of the next page: these filters and the cursor.
    fn next_page(&self, last: u64) -> String {
        let mut pairs: Vec<String> = [
            ("kind", &self.kind),
            ("subject", &self.subject),
            ("actor", &self.actor),
            ("source", &self.source),
            ("since", &self.since),
            ("until", &self.until),
        ]
        .into_iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(key, value)| format!("{key}={}", encode(value)))
        .collect();
        pairs.push(format!("after={last}"));
        format!("/audit?{}", pairs.join("&"))
    }
}

fn given(value: &str) -> Option<&str> {
    (!value.is_empty()).then_some(value)
}

/// A time from the form's `datetime-local` field (`2026-12-02T10:30`, taken as UTC) or in
/// RFC 3339.
fn time_of(value: &str) -> Result<Option<i64>, Refusal> {
    if value.is_empty() {
        return Ok(None);
    }
    let full = match value.len() {
        16 => format!("{value}:00Z"),
        19 => format!("{value}Z"),
        _ => value.to_string(),
    };
    crate::clock::parse_rfc3339("time", &full)
        .map(Some)
        .map_err(|_| Refusal::Time)
}

fn decode(raw: &str) -> String {
    percent_encoding::percent_decode_str(&raw.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

fn encode(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// One record as the page shows it.
struct Row {
    at: String,
    kind: String,
    actor: String,
    role: String,
    source: String,
    subject: String,
    detail: String,
}

/// One choice of the kind filter.
struct KindChoice {
    name: &'static str,
    text: &'static str,
    selected: bool,
}

#[derive(Template)]
#[template(path = "audit/trail.html")]
struct TrailPage<'a> {
    t: &'a super::texts::Texts,
    a: &'a AuditTexts,
    css: &'a str,
    who: Option<Who>,
    kinds: Vec<KindChoice>,
    filters: &'a Filters,
    rows: Vec<Row>,
    next: Option<String>,
    message: Option<&'a str>,
}

async fn trail(request: &Request<'_>) -> PageResult {
    let t = request.visit.texts;
    let filters = Filters::parse(request.query);
    let (status, rows, next, message) = match filters.query() {
        Ok(query) => {
            let (records, more) =
                audit::query(request.app, &query, filters.after, PAGE_SIZE).await?;
            let next = more
                .then(|| records.last().map(|r| filters.next_page(r.id)))
                .flatten();
            let rows = records.into_iter().map(|r| row(t, r)).collect();
            (StatusCode::OK, rows, next, None)
        }
        Err(refusal) => {
            let message = match refusal {
                Refusal::UnknownKind => t.audit.unknown_kind,
                Refusal::Time => t.audit.bad_time,
                Refusal::Cursor => t.bad_request,
            };
            (StatusCode::BAD_REQUEST, Vec::new(), None, Some(message))
        }
    };
    let page = TrailPage {
        t,
        a: t.audit,
        css: assets::CSS_PATH.as_str(),
        who: Some(request.visit.who()),
        kinds: kind_choices(t, &filters.kind),
        filters: &filters,
        rows,
        next,
        message,
    };
    Ok(html(status, page.render()))
}

fn kind_choices(t: &super::texts::Texts, chosen: &str) -> Vec<KindChoice> {
    Kind::ALL
        .iter()
        .map(|kind| KindChoice {
            name: kind.as_str(),
            text: t.event_kind(kind.as_str()),
            selected: kind.as_str() == chosen,
        })
        .collect()
}

fn row(t: &super::texts::Texts, r: AuditRecord) -> Row {
    Row {
        at: rfc3339(r.at),
        kind: t.event_kind(&r.kind).to_string(),
        role: who_acted(t, &r),
        actor: r.actor,
        source: r.source.unwrap_or_default(),
        subject: r.subject.unwrap_or_default(),
        detail: r.detail,
    }
}

/// "account, admin" or "API token, owner": what the actor is and its role, where known.
fn who_acted(t: &super::texts::Texts, r: &AuditRecord) -> String {
    let kind = match r.actor_kind {
        Some(ActorKind::Account) => Some(t.audit.an_account),
        Some(ActorKind::Token) => Some(t.audit.a_token),
        _ => None,
    };
    let role = r.actor_role.map(|role| role.as_str());
    [kind, role]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_s_times_are_utc_minutes_or_rfc_3339() {
        assert_eq!(time_of("1970-01-01T00:01").ok(), Some(Some(60)));
        assert_eq!(time_of("1970-01-01T00:01:30").ok(), Some(Some(90)));
        assert_eq!(time_of("1970-01-01T01:00:00+01:00").ok(), Some(Some(0)));
        assert_eq!(time_of("").ok(), Some(None));
        assert!(time_of("gestern").is_err());
    }

    #[test]
    fn the_next_page_keeps_the_filters() {
        let filters = Filters::parse("kind=admin_change&subject=a+b&after=7&junk=1");
        assert_eq!(filters.subject, "a b");
        assert_eq!(filters.after, Some(7));
        assert_eq!(
            filters.next_page(3),
            "/audit?kind=admin%5Fchange&subject=a%20b&after=3"
        );
        assert!(Filters::parse("kind=nonsense").query().is_err());
        assert!(Filters::parse("after=x").query().is_err());
    }
}
