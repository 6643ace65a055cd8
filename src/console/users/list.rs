//! The list of users: search and filters in the query, pages of [`PAGE_SIZE`] through the
//! store's cursor, and the bulk actions, each behind a page that names how many users and which
//! it concerns before anything changes.

use askama::Template;
use http::StatusCode;

use super::views::{Choice, ListPage, UserRow};
use super::{Bulk, UsersTexts, refusal};
use crate::admin::endpoint::Access;
use crate::console::bulk::{Asked, Wording, confirmation, ticked};
use crate::console::form::Form;
use crate::console::reply::{bad_request, html, message, see_other};
use crate::console::{PageResult, Request, account_permits, assets};
use crate::domain::Extension;
use crate::model::{LinkPurpose, UserRecord};
use crate::ops::portal_mail;
use crate::ops::user_list::{self, UserFilter};
use crate::ops::users::{self, BulkAction};

pub const PAGE_SIZE: usize = 50;

/// The yes/no filters: their query names, each with the text of its label.
const FILTERS: [&str; 4] = ["locked", "pin", "login", "hotdesk"];

/// What the query asks for: the filter, its values as given (to show and to carry to the next
/// page), the cursor and the notice of a change just made.
struct Query {
    filter: UserFilter,
    choices: [&'static str; 4],
    after: Option<Extension>,
    done: Option<String>,
}

fn yes_no(value: &str) -> Option<Option<&'static str>> {
    match value {
        "" => Some(None),
        "yes" => Some(Some("yes")),
        "no" => Some(Some("no")),
        _ => None,
    }
}

/// `None` for a query that is not one of this page's (a bad filter value or cursor).
fn parse_query(raw: &str) -> Option<Query> {
    let mut query = Query {
        filter: UserFilter::default(),
        choices: [""; 4],
        after: None,
        done: None,
    };
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_encoding::percent_decode_str(&value.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned();
        match key {
            "q" => query.filter = query.filter.with_search(&value),
            "after" => query.after = Some(Extension::parse(&value).ok()?),
            "done" => query.done = Some(value),
            "lang" => {}
            name => {
                let at = FILTERS.iter().position(|f| *f == name)?;
                query.choices[at] = yes_no(&value)?.unwrap_or("");
            }
        }
    }
    let wanted = |at: usize| (!query.choices[at].is_empty()).then(|| query.choices[at] == "yes");
    query.filter.locked = wanted(0);
    query.filter.has_pin = wanted(1);
    query.filter.logged_in = wanted(2);
    query.filter.may_hotdesk = wanted(3);
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
    if let Some(after) = after {
        parts.push(format!("after={}", encode(after)));
    }
    match parts.is_empty() {
        true => "/users".to_string(),
        false => format!("/users?{}", parts.join("&")),
    }
}

pub fn flag(u: &'static UsersTexts, value: bool) -> &'static str {
    if value { u.yes } else { u.no }
}

fn row(u: &'static UsersTexts, user: &UserRecord) -> UserRow {
    UserRow {
        extension: user.extension.to_string(),
        display_name: user.display_name.to_string(),
        email: user
            .email
            .as_ref()
            .map(|e| e.to_string())
            .unwrap_or_default(),
        state: if user.locked {
            u.state_locked
        } else {
            u.state_active
        },
        has_pin: flag(u, user.pin_hash.is_some()),
        may_hotdesk: flag(u, user.may_hotdesk),
        logged_in: flag(u, user.hotdesk_at.is_some()),
    }
}

/// The notice for `?done=` after a change redirected here.
pub fn done_text(u: &'static UsersTexts, done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "created" => u.done_created,
        "saved" => u.done_saved,
        "locked" => u.done_locked,
        "unlocked" => u.done_unlocked,
        "logged_out" => u.done_logged_out,
        "deleted" => u.done_deleted,
        "mailed" => u.done_mailed,
        _ => return None,
    })
}

pub async fn show(request: &Request<'_>) -> PageResult {
    let visit = request.visit;
    let (t, u) = (visit.texts, visit.texts.users);
    let Some(query) = parse_query(request.query) else {
        return Ok(bad_request(t, Some(visit.who())));
    };
    let (users, more) =
        user_list::page(request.app, &query.filter, query.after.as_ref(), PAGE_SIZE).await?;
    let labels = [u.locked, u.with_pin, u.logged_in, u.may_hotdesk];
    let choices = FILTERS
        .iter()
        .zip(labels)
        .zip(query.choices)
        .map(|((name, label), value)| Choice { name, label, value })
        .collect();
    let next = more
        .then(|| users.last())
        .flatten()
        .map(|last| list_url(&query, Some(last.extension.as_str())));
    let page = ListPage {
        t,
        css: assets::CSS_PATH.as_str(),
        who: Some(visit.who()),
        csrf: visit.csrf(),
        search: query.filter.search(),
        choices,
        rows: users.iter().map(|user| row(u, user)).collect(),
        next,
        first: query.after.is_some().then(|| list_url(&query, None)),
        notice: done_text(u, query.done.as_deref()),
        may_change: account_permits(&visit.account, Access::Change),
        may_helpdesk: account_permits(&visit.account, Access::Helpdesk),
        mail_configured: request.app.config.mail.is_some(),
    };
    Ok(html(StatusCode::OK, page.render()))
}

fn path_of(action: Bulk) -> &'static str {
    match action {
        Bulk::Lock => "/users/bulk/lock",
        Bulk::Unlock => "/users/bulk/unlock",
        Bulk::Delete => "/users/bulk/delete",
        Bulk::ResetPin => "/users/bulk/reset-pin",
        Bulk::LogOut => "/users/bulk/logout",
        Bulk::Mail(LinkPurpose::Welcome) => "/users/bulk/mail-welcome",
        Bulk::Mail(LinkPurpose::Reset) => "/users/bulk/mail-reset",
    }
}

fn name_of(u: &'static UsersTexts, action: Bulk) -> &'static str {
    match action {
        Bulk::Lock => u.lock,
        Bulk::Unlock => u.unlock,
        Bulk::Delete => u.delete,
        Bulk::ResetPin => u.reset_pin,
        Bulk::LogOut => u.log_out,
        Bulk::Mail(LinkPurpose::Welcome) => u.mail_welcome,
        Bulk::Mail(LinkPurpose::Reset) => u.mail_reset,
    }
}

/// Without `confirmed`, the page that asks; with it, the action for all ticked users or none.
pub async fn bulk(request: &Request<'_>, action: Bulk, form: &Form) -> PageResult {
    let visit = request.visit;
    let (t, u) = (visit.texts, visit.texts.users);
    let Some(extensions) = ticked(form, |raw| Extension::parse(raw).ok()) else {
        return Ok(bad_request(t, Some(visit.who())));
    };
    if extensions.is_empty() {
        return Ok(message(
            t,
            Some(visit.who()),
            StatusCode::BAD_REQUEST,
            u.none_selected,
        ));
    }
    if form.get("confirmed") != "yes" {
        let wording = Wording {
            heading: u.confirm_heading,
            question: u.confirm_question,
            counted: u.users_counted,
            confirm: u.confirm,
            all_or_none: u.confirm_all_or_none,
            cancel: u.cancel,
        };
        let asked = Asked {
            action: path_of(action),
            action_name: name_of(u, action),
            rows: extensions.iter().map(|e| e.to_string()).collect(),
            back: "/users",
            list_id: "confirm-extensions",
        };
        return Ok(confirmation(request, &wording, asked));
    }
    let (app, by) = (request.app, &visit.actor);
    let done = match action {
        Bulk::Lock => users::bulk(app, by, BulkAction::Lock, &extensions).await,
        Bulk::Unlock => users::bulk(app, by, BulkAction::Unlock, &extensions).await,
        Bulk::Delete => users::bulk(app, by, BulkAction::Delete, &extensions).await,
        Bulk::LogOut => users::log_out_many(app, by, &extensions).await,
        Bulk::Mail(purpose) => {
            return match portal_mail::send(app, by, purpose, &extensions).await {
                Ok(_) => Ok(see_other("/users?done=mailed")),
                Err(e) => refusal::mail_answer(visit, e),
            };
        }
        Bulk::ResetPin => {
            return match users::reset_pins(app, by, &extensions).await {
                Ok(pins) => super::detail::pins_page(request, pins, u.pins_heading, None).await,
                Err(e) => refusal::answer(visit, e, None),
            };
        }
    };
    let (notice, not_possible) = match action {
        Bulk::Lock => ("locked", None),
        Bulk::Unlock => ("unlocked", None),
        Bulk::Delete => ("deleted", None),
        Bulk::LogOut => ("logged_out", Some(u.error_not_logged_in)),
        Bulk::ResetPin | Bulk::Mail(_) => unreachable!("answered above"),
    };
    match done {
        Ok(()) => Ok(see_other(&format!("/users?done={notice}"))),
        Err(e) => refusal::answer(visit, e, not_possible),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_gives_the_filter_and_the_next_pages_url_keeps_it() {
        let query = parse_query("q=M%C3%BCller+A&locked=yes&login=no&after=1049").unwrap();
        assert_eq!(query.filter.search(), "müller a");
        assert_eq!(query.filter.locked, Some(true));
        assert_eq!(query.filter.logged_in, Some(false));
        assert_eq!(query.filter.has_pin, None);
        assert_eq!(
            list_url(&query, Some("1099")),
            "/users?q=m%C3%BCller%20a&locked=yes&login=no&after=1099"
        );
        assert_eq!(list_url(&parse_query("").unwrap(), None), "/users");
        assert!(parse_query("locked=maybe").is_none());
        assert!(parse_query("after=abc").is_none());
        assert!(parse_query("sort=name").is_none());
    }
}
