//! The templates of the users pages and the rows they show.

use askama::Template;

use crate::console::pages::Who;
use crate::console::texts::Texts;

/// One user in the list.
pub struct UserRow {
    pub extension: String,
    pub display_name: String,
    pub email: String,
    pub state: &'static str,
    pub has_pin: &'static str,
    pub may_hotdesk: &'static str,
    pub logged_in: &'static str,
}

/// A yes/no/any filter's choices, with the one in force.
pub struct Choice {
    pub name: &'static str,
    pub label: &'static str,
    pub value: &'static str,
}

#[derive(Template)]
#[template(path = "users_list.html")]
pub struct ListPage<'a> {
    pub t: &'a Texts,
    pub css: &'a str,
    pub who: Option<Who>,
    pub csrf: &'a str,
    pub search: &'a str,
    pub choices: Vec<Choice>,
    pub rows: Vec<UserRow>,
    /// The next page's URL while more remain.
    pub next: Option<String>,
    /// The first page's URL when this is a later one.
    pub first: Option<String>,
    pub notice: Option<&'a str>,
    pub may_change: bool,
    pub may_helpdesk: bool,
    pub mail_configured: bool,
}

/// What a user form holds, as typed.
#[derive(Default)]
pub struct UserFields {
    pub extension: String,
    pub first_name: String,
    pub last_name: String,
    pub display_name: String,
    pub email: String,
    pub language: String,
    pub generate_pin: bool,
    pub pin_change_required: bool,
    pub may_hotdesk: bool,
    pub phonebook_hidden: bool,
    pub mac: String,
    pub model: String,
}

/// An option of a select: its value and what it shows.
pub struct SelectOption {
    pub value: String,
    pub label: String,
}

#[derive(Template)]
#[template(path = "user_form.html")]
pub struct FormPage<'a> {
    pub t: &'a Texts,
    pub css: &'a str,
    pub who: Option<Who>,
    pub csrf: &'a str,
    /// The user's extension when editing; `None` for a new user.
    pub editing: Option<String>,
    pub action: String,
    pub fields: UserFields,
    pub error: Option<&'a str>,
    pub languages: Vec<SelectOption>,
    pub models: Vec<SelectOption>,
}

pub struct PhoneRow {
    pub line: u16,
    pub mac: String,
    pub model: String,
    pub label: String,
}

pub struct LoginRow {
    pub mac: String,
    pub line: u16,
    pub since: String,
}

/// What the detail page says of a user.
pub struct UserDetail {
    pub extension: String,
    pub display_name: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub language: String,
    pub has_pin: &'static str,
    pub pin_change_required: &'static str,
    pub may_hotdesk: &'static str,
    pub phonebook_hidden: &'static str,
    pub locked: bool,
    pub state: &'static str,
    pub created_at: String,
    pub failures: u32,
    pub lockouts: u32,
    pub locked_until: Option<String>,
}

#[derive(Template)]
#[template(path = "user_detail.html")]
pub struct DetailPage<'a> {
    pub t: &'a Texts,
    pub css: &'a str,
    pub who: Option<Who>,
    pub csrf: &'a str,
    pub user: UserDetail,
    pub phones: Vec<PhoneRow>,
    pub login: Option<LoginRow>,
    pub notice: Option<&'a str>,
    pub may_change: bool,
    pub may_helpdesk: bool,
    pub may_read_secrets: bool,
    /// `None` without `[mail]`.
    pub mails: Option<Vec<MailRow>>,
    pub has_email: bool,
}

/// A mail about the user, newest first.
pub struct MailRow {
    pub kind: &'static str,
    pub state: &'static str,
    pub failed: bool,
    pub queued_at: String,
    pub attempts: u32,
    pub answer: String,
}

pub struct PinRow {
    pub extension: String,
    pub display_name: String,
    pub pin: String,
}

#[derive(Template)]
#[template(path = "users_pins.html")]
pub struct PinsPage<'a> {
    pub t: &'a Texts,
    pub css: &'a str,
    pub who: Option<Who>,
    pub heading: &'a str,
    pub rows: Vec<PinRow>,
    pub back: String,
    pub back_text: &'a str,
}

#[derive(Template)]
#[template(path = "user_sip_password.html")]
pub struct SipPasswordPage<'a> {
    pub t: &'a Texts,
    pub css: &'a str,
    pub who: Option<Who>,
    pub extension: String,
    pub display_name: String,
    pub password: &'a str,
}
