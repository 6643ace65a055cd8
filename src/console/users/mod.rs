//! The users pages: the list with its search, filters and pages and its bulk actions behind a
//! confirmation (`list.rs`), creating a user with an optional desk phone and editing one
//! (`editing.rs`), the detail page with its actions (`detail.rs`), the pages' templates
//! (`views.rs`), and OpError kinds in the page's words (`refusal.rs`).

mod detail;
mod editing;
mod list;
mod refusal;
pub mod texts;
mod views;

use http::Method;

use super::form::Form;
use super::pages::{Page, PageDef};
use super::{PageResult, Request};
use crate::admin::endpoint::Access;
use crate::model::LinkPurpose;

pub use texts::UsersTexts;

/// A bulk action of the list, each at its own URL so the page table gives it its access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bulk {
    Lock,
    Unlock,
    Delete,
    ResetPin,
    LogOut,
    /// A welcome or reset mail with a one-time link.
    Mail(LinkPurpose),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsersPage {
    List,
    NewForm,
    Create,
    Bulk(Bulk),
    Detail,
    EditForm,
    Edit,
    SipPassword,
    Lock,
    Unlock,
    ResetPin,
    LogOut,
    PortalPassword,
    Mail(LinkPurpose),
}

const fn def(
    page: UsersPage,
    method: Method,
    path: &'static str,
    name: &'static str,
    access: Access,
) -> PageDef {
    PageDef {
        page: Page::Users(page),
        method,
        path,
        name,
        access,
    }
}

/// Literal paths come before the `{ext}` ones they would otherwise match.
pub static PAGES: &[PageDef] = &[
    def(
        UsersPage::List,
        Method::GET,
        "/users",
        "page: users",
        Access::Read,
    ),
    def(
        UsersPage::NewForm,
        Method::GET,
        "/users/new",
        "page: new user",
        Access::Change,
    ),
    def(
        UsersPage::Create,
        Method::POST,
        "/users/new",
        "page: create user",
        Access::Change,
    ),
    def(
        UsersPage::Bulk(Bulk::Lock),
        Method::POST,
        "/users/bulk/lock",
        "page: lock users",
        Access::Change,
    ),
    def(
        UsersPage::Bulk(Bulk::Unlock),
        Method::POST,
        "/users/bulk/unlock",
        "page: unlock users",
        Access::Helpdesk,
    ),
    def(
        UsersPage::Bulk(Bulk::Delete),
        Method::POST,
        "/users/bulk/delete",
        "page: delete users",
        Access::Change,
    ),
    def(
        UsersPage::Bulk(Bulk::ResetPin),
        Method::POST,
        "/users/bulk/reset-pin",
        "page: reset users' PINs",
        Access::Helpdesk,
    ),
    def(
        UsersPage::Bulk(Bulk::LogOut),
        Method::POST,
        "/users/bulk/logout",
        "page: log users out",
        Access::Helpdesk,
    ),
    def(
        UsersPage::Bulk(Bulk::Mail(LinkPurpose::Welcome)),
        Method::POST,
        "/users/bulk/mail-welcome",
        "page: mail users a welcome",
        Access::Change,
    ),
    def(
        UsersPage::Bulk(Bulk::Mail(LinkPurpose::Reset)),
        Method::POST,
        "/users/bulk/mail-reset",
        "page: mail users a reset link",
        Access::Helpdesk,
    ),
    def(
        UsersPage::Detail,
        Method::GET,
        "/users/{ext}",
        "page: user",
        Access::Read,
    ),
    def(
        UsersPage::EditForm,
        Method::GET,
        "/users/{ext}/edit",
        "page: edit user",
        Access::Change,
    ),
    def(
        UsersPage::Edit,
        Method::POST,
        "/users/{ext}/edit",
        "page: change user",
        Access::Change,
    ),
    def(
        UsersPage::SipPassword,
        Method::GET,
        "/users/{ext}/sip-password",
        "page: user's SIP password",
        Access::Secrets,
    ),
    def(
        UsersPage::Lock,
        Method::POST,
        "/users/{ext}/lock",
        "page: lock user",
        Access::Change,
    ),
    def(
        UsersPage::Unlock,
        Method::POST,
        "/users/{ext}/unlock",
        "page: unlock user",
        Access::Helpdesk,
    ),
    def(
        UsersPage::ResetPin,
        Method::POST,
        "/users/{ext}/reset-pin",
        "page: reset user's PIN",
        Access::Helpdesk,
    ),
    def(
        UsersPage::PortalPassword,
        Method::POST,
        "/users/{ext}/portal-password",
        "page: set user's portal password",
        Access::Change,
    ),
    def(
        UsersPage::Mail(LinkPurpose::Welcome),
        Method::POST,
        "/users/{ext}/mail-welcome",
        "page: mail user a welcome",
        Access::Change,
    ),
    def(
        UsersPage::Mail(LinkPurpose::Reset),
        Method::POST,
        "/users/{ext}/mail-reset",
        "page: mail user a reset link",
        Access::Helpdesk,
    ),
    def(
        UsersPage::LogOut,
        Method::POST,
        "/users/{ext}/logout",
        "page: log user out",
        Access::Helpdesk,
    ),
];

pub async fn show(request: &Request<'_>, page: UsersPage) -> PageResult {
    match page {
        UsersPage::List => list::show(request).await,
        UsersPage::NewForm => editing::new_form(request).await,
        UsersPage::Detail => detail::show(request).await,
        UsersPage::EditForm => editing::edit_form(request).await,
        UsersPage::SipPassword => detail::sip_password(request).await,
        _ => Ok(super::method_not_allowed("POST")),
    }
}

pub async fn submit(request: &Request<'_>, page: UsersPage, form: &Form) -> PageResult {
    match page {
        UsersPage::Create => editing::create(request, form).await,
        UsersPage::Edit => editing::edit(request, form).await,
        UsersPage::Bulk(action) => list::bulk(request, action, form).await,
        UsersPage::Lock => detail::lock(request, true).await,
        UsersPage::Unlock => detail::lock(request, false).await,
        UsersPage::ResetPin => detail::reset_pin(request).await,
        UsersPage::LogOut => detail::log_out(request).await,
        UsersPage::PortalPassword => detail::portal_password(request).await,
        UsersPage::Mail(purpose) => detail::mail(request, purpose).await,
        _ => Ok(super::method_not_allowed("GET, HEAD")),
    }
}
