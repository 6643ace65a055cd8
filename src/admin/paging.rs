//! One paging shape for every list: `?limit=` (default 100, at most 1000) and `&after=CURSOR`
//! (the `next` of the page before), a stable order per list, and `next` in the answer while
//! more remain: `{"items": [...], "next": "..."}`.

use http::StatusCode;
use serde::Serialize;

use crate::error::ApiError;
use crate::respond::{self, HttpResponse};

pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 1000;

/// Which page a request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub limit: usize,
    /// The cursor: the key of the last item of the page before.
    pub after: Option<String>,
}

impl Default for Page {
    fn default() -> Page {
        Page {
            limit: DEFAULT_LIMIT,
            after: None,
        }
    }
}

/// The query's page and its other parameters, each percent-decoded once. Parameters other
/// than `limit`, `after` and the list's `filters` are refused, and so is any given twice.
pub fn parse(query: &str, filters: &[&str]) -> Result<(Page, Vec<(String, String)>), ApiError> {
    let mut page = Page::default();
    let mut rest: Vec<(String, String)> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, raw) = pair.split_once('=').unwrap_or((pair, ""));
        let key = decode(key);
        let value = decode(raw);
        if seen.contains(&key) {
            return Err(ApiError::BadRequest(format!("{key}: given more than once")));
        }
        seen.push(key.clone());
        match key.as_str() {
            "limit" => page.limit = parse_limit(&value)?,
            "after" if value.is_empty() => {
                return Err(ApiError::BadRequest(
                    "after: give the next of the page before".into(),
                ));
            }
            "after" => page.after = Some(value),
            other if filters.contains(&other) => rest.push((key, value)),
            other => return Err(unknown(other, filters)),
        }
    }
    Ok((page, rest))
}

fn decode(text: &str) -> String {
    percent_encoding::percent_decode_str(&text.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

fn parse_limit(raw: &str) -> Result<usize, ApiError> {
    raw.parse::<usize>()
        .ok()
        .filter(|n| (1..=MAX_LIMIT).contains(n))
        .ok_or_else(|| {
            ApiError::BadRequest(format!("limit: must be a number from 1 to {MAX_LIMIT}"))
        })
}

fn unknown(key: &str, filters: &[&str]) -> ApiError {
    let mut known = vec!["limit", "after"];
    known.extend_from_slice(filters);
    ApiError::BadRequest(format!(
        "unknown parameter {key:?}; this list takes {}",
        known.join(", ")
    ))
}

#[derive(Serialize)]
struct Answer<T> {
    items: Vec<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next: Option<String>,
}

/// The page as the API answers it; `next` is the cursor of the following page, if any.
pub fn answer<T: Serialize>(items: Vec<T>, next: Option<String>) -> HttpResponse {
    respond::json(StatusCode::OK, &Answer { items, next })
}

/// The page of a list held in memory, ordered by `key` (unique per item).
pub fn of_list<T>(
    mut items: Vec<T>,
    key: impl Fn(&T) -> String,
    page: &Page,
) -> (Vec<T>, Option<String>) {
    items.sort_by_key(|item| key(item));
    if let Some(after) = &page.after {
        items.retain(|item| key(item) > *after);
    }
    let more = items.len() > page.limit;
    items.truncate(page.limit);
    let next = more.then(|| items.last().map(&key)).flatten();
    (items, next)
}

/// `next` of a page read from the store: the last item's key while more remain.
pub fn next_of<T>(items: &[T], more: bool, key: impl Fn(&T) -> String) -> Option<String> {
    more.then(|| items.last().map(key)).flatten()
}

fn bad_cursor() -> ApiError {
    ApiError::BadRequest("after: give the next of the page before".into())
}

/// The cursor of a list ordered by numeric id (the audit trail, imports).
pub fn id_cursor(page: &Page) -> Result<Option<u64>, ApiError> {
    page.after
        .as_deref()
        .map(|raw| raw.parse::<u64>().map_err(|_| bad_cursor()))
        .transpose()
}

/// The cursor of a list ordered by MAC.
pub fn mac_cursor(page: &Page) -> Result<Option<crate::domain::Mac>, ApiError> {
    page.after
        .as_deref()
        .map(|raw| crate::domain::Mac::parse(raw).map_err(|_| bad_cursor()))
        .transpose()
}
