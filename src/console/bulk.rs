//! A bulk action of a list (users, devices): the ticked rows, parsed, and the page that names
//! how many before anything happens.

use std::collections::BTreeSet;

use askama::Template;
use http::StatusCode;

use super::form::Form;
use super::pages::Who;
use super::reply::html;
use super::texts::Texts;
use super::{Request, assets};
use crate::respond::HttpResponse;

/// The ticked rows, each parsed; `None` if one does not parse.
pub fn ticked<T: Ord>(form: &Form, parse: impl Fn(&str) -> Option<T>) -> Option<BTreeSet<T>> {
    form.selected().iter().map(|raw| parse(raw)).collect()
}

/// An area's words for the confirmation.
pub struct Wording {
    pub heading: &'static str,
    /// Before the count: "Lock: this concerns 3 users".
    pub question: &'static str,
    /// After the count: "users", "devices".
    pub counted: &'static str,
    pub confirm: &'static str,
    pub all_or_none: &'static str,
    pub cancel: &'static str,
}

/// What is asked: the action's path and name, the ticked rows, where "cancel" leads, and the
/// id of the list of rows.
pub struct Asked<'a> {
    pub action: &'a str,
    pub action_name: &'a str,
    pub rows: Vec<String>,
    pub back: &'a str,
    pub list_id: &'a str,
}

#[derive(Template)]
#[template(path = "bulk_confirm.html")]
struct ConfirmPage<'a> {
    t: &'a Texts,
    css: &'a str,
    who: Option<Who>,
    csrf: &'a str,
    w: &'a Wording,
    asked: Asked<'a>,
}

/// The page that asks before the action runs; its form posts the rows again with
/// `confirmed=yes`.
pub fn confirmation(request: &Request<'_>, w: &Wording, asked: Asked<'_>) -> HttpResponse {
    let visit = request.visit;
    let page = ConfirmPage {
        t: visit.texts,
        css: assets::CSS_PATH.as_str(),
        who: Some(visit.who()),
        csrf: visit.csrf(),
        w,
        asked,
    };
    html(StatusCode::OK, page.render())
}
