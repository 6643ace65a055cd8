//! The templates of the accounts and tokens pages and the rows they show.

use askama::Template;

use crate::console::pages::Who;
use crate::console::texts::Texts;

/// A role in a select, in the page's language.
pub struct RoleOption {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

/// One account in the list, or the facts of the account page.
pub struct AccountRow {
    pub username: String,
    pub role: &'static str,
    pub reads_secrets: &'static str,
    pub disabled: bool,
    pub disabled_text: &'static str,
    pub change_required: &'static str,
    pub totp: &'static str,
    pub totp_enrolled: bool,
    pub totp_required: bool,
    pub created_at: String,
    pub password_changed_at: String,
}

#[derive(Template)]
#[template(path = "accounts/list.html")]
pub struct ListPage<'a> {
    pub t: &'a Texts,
    pub css: &'a str,
    pub who: Option<Who>,
    pub rows: Vec<AccountRow>,
    pub notice: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "accounts/new.html")]
pub struct NewPage<'a> {
    pub t: &'a Texts,
    pub css: &'a str,
    pub who: Option<Who>,
    pub csrf: &'a str,
    pub username: String,
    pub roles: Vec<RoleOption>,
    pub reads_secrets: bool,
    pub error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "accounts/detail.html")]
pub struct DetailPage<'a> {
    pub t: &'a Texts,
    pub css: &'a str,
    pub who: Option<Who>,
    pub csrf: &'a str,
    pub account: AccountRow,
    pub roles: Vec<RoleOption>,
    pub reads_secrets: bool,
    pub notice: Option<&'a str>,
    pub error: Option<&'a str>,
}

/// A password or token shown this once.
#[derive(Template)]
#[template(path = "accounts/secret.html")]
pub struct SecretPage<'a> {
    pub t: &'a Texts,
    pub css: &'a str,
    pub who: Option<Who>,
    pub heading: &'a str,
    pub note: &'a str,
    pub name_label: &'a str,
    pub name: String,
    pub secret_label: &'a str,
    pub secret: &'a str,
    pub back: String,
    pub back_text: &'a str,
}

/// The question before a deletion or revocation.
#[derive(Template)]
#[template(path = "accounts/confirm.html")]
pub struct ConfirmPage<'a> {
    pub t: &'a Texts,
    pub css: &'a str,
    pub who: Option<Who>,
    pub csrf: &'a str,
    pub heading: &'a str,
    pub question: &'a str,
    pub subject: String,
    pub action: String,
    pub back: String,
}

pub struct TokenRow {
    pub id: String,
    pub name: String,
    pub role: &'static str,
    pub reads_secrets: &'static str,
    pub created_at: String,
    pub expires: String,
    pub last_used: String,
}

#[derive(Template)]
#[template(path = "accounts/tokens.html")]
pub struct TokensPage<'a> {
    pub t: &'a Texts,
    pub css: &'a str,
    pub who: Option<Who>,
    pub csrf: &'a str,
    pub rows: Vec<TokenRow>,
    pub roles: Vec<RoleOption>,
    pub name: String,
    pub expires: String,
    pub reads_secrets: bool,
    pub notice: Option<&'a str>,
    pub error: Option<&'a str>,
}
