//! The list of devices: search and filters in the query, pages of [`PAGE_SIZE`] through the
//! store's cursor, a status readable at a glance, and the bulk actions, each behind a page that
//! names how many devices and which before anything changes.

use askama::Template;
use http::StatusCode;

use super::views::{Choice, DeviceRow, ListPage, SelectOption};
use super::{Bulk, DevicesTexts, refusal};
use crate::admin::endpoint::Access;
use crate::clock::rfc3339;
use crate::console::bulk::{Asked, Wording, confirmation, ticked};
use crate::console::form::Form;
use crate::console::reply::{bad_request, html, message, see_other};
use crate::console::{PageResult, Request, account_permits, assets};
use crate::domain::Mac;
use crate::model::DeviceRecord;
use crate::ops::device_list::{self, DeviceFilter};
use crate::ops::{OpError, devices};

pub const PAGE_SIZE: usize = 50;

/// The yes/no filters: their query names.
const FILTERS: [&str; 4] = ["never_seen", "unassigned", "hotdesk", "mismatch"];
/// The text filters: their query names.
const TEXTS: [&str; 4] = ["model", "profile", "location", "not_seen_days"];

/// What the query asks for: the filter, its values as given (to show and to carry to the next
/// page), the cursor and the notice of a change just made.
struct Query {
    filter: DeviceFilter,
    choices: [&'static str; 4],
    texts: [String; 4],
    after: Option<Mac>,
    done: Option<String>,
}

fn yes_no(value: &str) -> Option<&'static str> {
    match value {
        "" => Some(""),
        "yes" => Some("yes"),
        "no" => Some("no"),
        _ => None,
    }
}

/// `None` for a query that is not one of this page's (a bad filter value or cursor).
fn parse_query(raw: &str) -> Option<Query> {
    let mut query = Query {
        filter: DeviceFilter::default(),
        choices: [""; 4],
        texts: Default::default(),
        after: None,
        done: None,
    };
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_encoding::percent_decode_str(&value.replace('+', " "))
            .decode_utf8_lossy()
            .trim()
            .to_string();
        match key {
            "q" => query.filter = query.filter.with_search(&value),
            "after" => query.after = Some(Mac::parse(&value).ok()?),
            "done" => query.done = Some(value),
            "lang" => {}
            name => match FILTERS.iter().position(|f| *f == name) {
                Some(at) => query.choices[at] = yes_no(&value)?,
                None => {
                    let at = TEXTS.iter().position(|f| *f == name)?;
                    query.texts[at] = value.chars().take(64).collect();
                }
            },
        }
    }
    let wanted = |at: usize| (!query.choices[at].is_empty()).then(|| query.choices[at] == "yes");
    let text = |at: usize| (!query.texts[at].is_empty()).then(|| query.texts[at].clone());
    query.filter.never_seen = wanted(0);
    query.filter.unassigned = wanted(1);
    query.filter.hotdesk = wanted(2);
    query.filter.mismatch = wanted(3);
    query.filter.model = text(0);
    query.filter.profile = text(1);
    query.filter.location = text(2);
    query.filter.not_seen_days = match text(3) {
        Some(days) => Some(days.parse().ok()?),
        None => None,
    };
    Some(query)
}

/// The list's URL with the query's search and filters, on the page after `after`.
fn list_url(query: &Query, after: Option<&str>) -> String {
    let encode = |v: &str| {
        percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    let mut parts = Vec::new();
    if !query.filter.search().is_empty() {
        parts.push(format!("q={}", encode(query.filter.search())));
    }
    for (name, value) in FILTERS.iter().zip(query.choices) {
        if !value.is_empty() {
            parts.push(format!("{name}={value}"));
        }
    }
    for (name, value) in TEXTS.iter().zip(&query.texts) {
        if !value.is_empty() {
            parts.push(format!("{name}={}", encode(value)));
        }
    }
    if let Some(after) = after {
        parts.push(format!("after={}", encode(after)));
    }
    match parts.is_empty() {
        true => "/devices".to_string(),
        false => format!("/devices?{}", parts.join("&")),
    }
}

pub fn flag(d: &'static DevicesTexts, value: bool) -> &'static str {
    if value { d.yes } else { d.no }
}

/// The device's status at a glance and what it says more: seen when, from where, with which
/// firmware; else whether its claim is open and until when.
pub fn state(
    d: &'static DevicesTexts,
    device: &DeviceRecord,
    now: i64,
    window: i64,
) -> (&'static str, String) {
    if let Some(seen) = device.last_seen {
        let mut detail = rfc3339(seen);
        if let Some(address) = &device.last_address {
            detail.push_str(&format!(" {} {address}", d.from_address));
        }
        if let Some(firmware) = &device.firmware {
            detail.push_str(&format!(", {} {firmware}", d.firmware));
        }
        return (d.state_seen, detail);
    }
    if device.claimed_at.is_some() {
        return (d.state_claimed, String::new());
    }
    let claim_end = device.claim_opened_at + window;
    let detail = match now < claim_end {
        true => format!("{} {}", d.state_claim_open, rfc3339(claim_end)),
        false => d.state_claim_closed.to_string(),
    };
    (d.state_never_seen, detail)
}

fn row(d: &'static DevicesTexts, device: &DeviceRecord, now: i64, window: i64) -> DeviceRow {
    let (state, state_detail) = state(d, device, now, window);
    let text = |v: Option<&str>| v.unwrap_or("").to_string();
    let mut users: Vec<String> = device.lines.values().map(|e| e.to_string()).collect();
    users.extend(device.sessions.values().map(|s| s.extension.to_string()));
    users.dedup();
    let mut warnings = Vec::new();
    if device.model_mismatch.is_some() {
        warnings.push(d.mismatch);
    }
    if device.claim_contested.is_some() {
        warnings.push(d.contested);
    }
    DeviceRow {
        mac: device.mac.to_string(),
        model: text(device.model.as_ref().map(|m| m.as_str())),
        label: text(device.label.as_ref().map(|l| l.as_str())),
        location: text(device.location.as_ref().map(|l| l.as_str())),
        state,
        state_detail,
        users: users.join(" "),
        warnings,
    }
}

/// The notice for `?done=` after a change redirected here.
pub fn done_text(d: &'static DevicesTexts, done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "created" => d.done_created,
        "saved" => d.done_saved,
        "deleted" => d.done_deleted,
        "claim_reset" => d.done_claim_reset,
        "logged_out" => d.done_logged_out,
        "assigned" => d.done_assigned,
        "unassigned" => d.done_unassigned,
        "adopted" => d.done_adopted,
        "forgotten" => d.done_forgotten,
        _ => return None,
    })
}

/// The models of the model table, for a select.
pub fn models() -> Vec<SelectOption> {
    crate::models::all()
        .map(|row| SelectOption {
            value: row.model.to_string(),
            label: format!("{} ({})", row.model, row.vendor),
        })
        .collect()
}

pub async fn profiles(request: &Request<'_>) -> Result<Vec<SelectOption>, OpError> {
    Ok(device_list::profile_names(request.app)
        .await?
        .into_iter()
        .map(|name| SelectOption {
            label: name.clone(),
            value: name,
        })
        .collect())
}

pub async fn show(request: &Request<'_>) -> PageResult {
    let (app, visit) = (request.app, request.visit);
    let (t, d) = (visit.texts, visit.texts.device_area);
    let Some(query) = parse_query(request.query) else {
        return Ok(bad_request(t, Some(visit.who())));
    };
    let (devices, more) = device_list::page(app, &query.filter, query.after, PAGE_SIZE).await?;
    let labels = [d.never_seen, d.unassigned, d.hotdesk, d.mismatch];
    let choices = FILTERS
        .iter()
        .zip(labels)
        .zip(query.choices)
        .map(|((name, label), value)| Choice { name, label, value })
        .collect();
    let next = more
        .then(|| devices.last())
        .flatten()
        .map(|last| list_url(&query, Some(&last.mac.to_string())));
    let (now, window) = (app.clock.now(), claim_window(request));
    let page = ListPage {
        t,
        css: assets::CSS_PATH.as_str(),
        who: Some(visit.who()),
        csrf: visit.csrf(),
        search: query.filter.search(),
        choices,
        model: &query.texts[0],
        models: models(),
        profile: &query.texts[1],
        profiles: profiles(request).await?,
        location: &query.texts[2],
        not_seen_days: query.texts[3].clone(),
        rows: devices.iter().map(|x| row(d, x, now, window)).collect(),
        next,
        first: query.after.is_some().then(|| list_url(&query, None)),
        notice: done_text(d, query.done.as_deref()),
        may_change: account_permits(&visit.account, Access::Change),
        may_helpdesk: account_permits(&visit.account, Access::Helpdesk),
    };
    Ok(html(StatusCode::OK, page.render()))
}

pub fn claim_window(request: &Request<'_>) -> i64 {
    request.app.config.provisioning.claim_window_secs as i64
}

fn path_of(action: Bulk) -> &'static str {
    match action {
        Bulk::Delete => "/devices/bulk/delete",
        Bulk::ResetClaim => "/devices/bulk/reset-claim",
        Bulk::LogOut => "/devices/bulk/logout",
    }
}

fn name_of(d: &'static DevicesTexts, action: Bulk) -> &'static str {
    match action {
        Bulk::Delete => d.delete,
        Bulk::ResetClaim => d.reset_claim,
        Bulk::LogOut => d.log_out,
    }
}

/// Without `confirmed`, the page that asks; with it, the action for the ticked devices.
pub async fn bulk(request: &Request<'_>, action: Bulk, form: &Form) -> PageResult {
    let visit = request.visit;
    let (t, d) = (visit.texts, visit.texts.device_area);
    let Some(macs) = ticked(form, |raw| Mac::parse(raw).ok()) else {
        return Ok(bad_request(t, Some(visit.who())));
    };
    if macs.is_empty() {
        return Ok(message(
            t,
            Some(visit.who()),
            StatusCode::BAD_REQUEST,
            d.none_selected,
        ));
    }
    if form.get("confirmed") != "yes" {
        let wording = Wording {
            heading: d.confirm_heading,
            question: d.confirm_question,
            counted: d.devices_counted,
            confirm: d.confirm,
            all_or_none: d.confirm_all_or_none,
            cancel: d.cancel,
        };
        let asked = Asked {
            action: path_of(action),
            action_name: name_of(d, action),
            rows: macs.iter().map(|m| m.to_string()).collect(),
            back: "/devices",
            list_id: "confirm-macs",
        };
        return Ok(confirmation(request, &wording, asked));
    }
    let macs: Vec<Mac> = macs.into_iter().collect();
    let (app, by) = (request.app, &visit.actor);
    let (done, notice) = match action {
        Bulk::Delete => (devices::delete_many(app, by, &macs).await, "deleted"),
        Bulk::ResetClaim => (devices::reset_claims(app, by, &macs).await, "claim_reset"),
        Bulk::LogOut => (
            devices::logout_many(app, by, &macs).await.map(|_| ()),
            "logged_out",
        ),
    };
    match done {
        Ok(()) => Ok(see_other(&format!("/devices?done={notice}"))),
        Err(e) => refusal::answer(visit, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_gives_the_filter_and_the_next_pages_url_keeps_it() {
        let raw = "q=Empfang+2&never_seen=yes&model=T46S&not_seen_days=30&after=001565000010";
        let query = parse_query(raw).unwrap();
        assert_eq!(query.filter.search(), "empfang 2");
        assert_eq!(query.filter.never_seen, Some(true));
        assert_eq!(query.filter.model.as_deref(), Some("T46S"));
        assert_eq!(query.filter.not_seen_days, Some(30));
        assert_eq!(query.after, Some(Mac::parse("001565000010").unwrap()));
        assert_eq!(
            list_url(&query, Some("001565000060")),
            "/devices?q=empfang%202&never_seen=yes&model=T46S&not_seen_days=30&after=001565000060"
        );
        assert_eq!(list_url(&parse_query("").unwrap(), None), "/devices");
        assert!(parse_query("hotdesk=maybe").is_none());
        assert!(parse_query("not_seen_days=many").is_none());
        assert!(parse_query("after=xyz").is_none());
        assert!(parse_query("sort=mac").is_none());
    }
}
