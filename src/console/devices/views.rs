//! The templates of the devices pages and the rows they show.

use askama::Template;

use crate::console::pages::Who;
use crate::console::texts::Texts;

/// One device in the list, its status readable at a glance.
pub struct DeviceRow {
    pub mac: String,
    pub model: String,
    pub label: String,
    pub location: String,
    pub state: &'static str,
    /// When, from where and with which firmware; or until when the claim is open.
    pub state_detail: String,
    /// The extensions on its lines and logged in, space-separated.
    pub users: String,
    /// Warnings: a model mismatch, a contested claim.
    pub warnings: Vec<&'static str>,
}

/// A yes/no/any filter's choices, with the one in force.
pub struct Choice {
    pub name: &'static str,
    pub label: &'static str,
    pub value: &'static str,
}

/// An option of a select: its value and what it shows.
pub struct SelectOption {
    pub value: String,
    pub label: String,
}

#[derive(Template)]
#[template(path = "devices/list.html")]
pub struct ListPage<'a> {
    pub t: &'a Texts,
    pub css: &'a str,
    pub who: Option<Who>,
    pub csrf: &'a str,
    pub search: &'a str,
    pub choices: Vec<Choice>,
    pub model: &'a str,
    pub models: Vec<SelectOption>,
    pub profile: &'a str,
    pub profiles: Vec<SelectOption>,
    pub location: &'a str,
    pub not_seen_days: String,
    pub rows: Vec<DeviceRow>,
    /// The next page's URL while more remain.
    pub next: Option<String>,
    /// The first page's URL when this is a later one.
    pub first: Option<String>,
    pub notice: Option<&'a str>,
    pub may_change: bool,
    pub may_helpdesk: bool,
}

/// What a device form holds, as typed.
#[derive(Default)]
pub struct DeviceFields {
    pub mac: String,
    pub model: String,
    pub label: String,
    pub location: String,
    pub profile: String,
    pub hotdesk: bool,
    pub certificate_required: bool,
    pub expansion_modules: String,
}

#[derive(Template)]
#[template(path = "devices/form.html")]
pub struct FormPage<'a> {
    pub t: &'a Texts,
    pub css: &'a str,
    pub who: Option<Who>,
    pub csrf: &'a str,
    /// The device's MAC when editing; `None` for a new device.
    pub editing: Option<String>,
    pub action: String,
    pub fields: DeviceFields,
    pub error: Option<&'a str>,
    pub models: Vec<SelectOption>,
    pub profiles: Vec<SelectOption>,
}

/// What the detail page says of a device.
pub struct DeviceDetail {
    pub mac: String,
    pub vendor: String,
    pub model: String,
    pub firmware: String,
    pub label: String,
    pub location: String,
    pub profile: String,
    pub hotdesk: &'static str,
    pub state: &'static str,
    pub state_detail: String,
    pub registered_at: String,
    pub first_seen: String,
    pub last_seen: String,
    pub last_address: String,
    pub adopted: bool,
    /// When and from where the claim was contested.
    pub contested: Option<String>,
    /// The model the phone reports instead, when and from where.
    pub mismatch: Option<String>,
}

/// A line or DECT handset slot: who is on it, who is logged in there.
pub struct LineRow {
    pub line: u16,
    pub user: String,
    pub login: String,
}

pub struct LoginRow {
    pub line: u16,
    pub user: String,
    pub since: String,
}

pub struct EventRow {
    pub at: String,
    pub count: u64,
    pub kind: &'static str,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "devices/detail.html")]
pub struct DetailPage<'a> {
    pub t: &'a Texts,
    pub css: &'a str,
    pub who: Option<Who>,
    pub csrf: &'a str,
    pub device: DeviceDetail,
    /// Every line of its model; `None` while the model is not known.
    pub lines: Option<Vec<LineRow>>,
    pub logins: Vec<LoginRow>,
    pub events: Vec<EventRow>,
    pub notice: Option<&'a str>,
    pub may_change: bool,
    pub may_helpdesk: bool,
    pub may_read_secrets: bool,
}

#[derive(Template)]
#[template(path = "devices/credentials.html")]
pub struct CredentialsPage<'a> {
    pub t: &'a Texts,
    pub css: &'a str,
    pub who: Option<Who>,
    pub mac: String,
    pub username: &'a str,
    pub password: &'a str,
    pub phone_admin_password: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "devices/preview.html")]
pub struct PreviewPage<'a> {
    pub t: &'a Texts,
    pub css: &'a str,
    pub who: Option<Who>,
    pub mac: String,
    /// The masked config; `None` while the vendor is not known.
    pub config: Option<String>,
}

pub struct UnregisteredRow {
    pub mac: String,
    pub vendor: String,
    pub model: String,
    pub firmware: String,
    pub first_seen: String,
    pub last_seen: String,
    pub last_address: String,
    pub requests: u64,
}

#[derive(Template)]
#[template(path = "devices/unregistered.html")]
pub struct UnregisteredPage<'a> {
    pub t: &'a Texts,
    pub css: &'a str,
    pub who: Option<Who>,
    pub csrf: &'a str,
    pub rows: Vec<UnregisteredRow>,
    pub next: Option<String>,
    pub first: Option<String>,
    pub notice: Option<&'a str>,
    pub may_change: bool,
}
