//! The devices pages: the list with its search, filters, pages and bulk actions behind a
//! confirmation (`list.rs`), creating and editing a device (`editing.rs`), the detail page with
//! its lines, handsets, hot-desk login, events and actions, the credentials and the masked
//! config preview (`detail.rs`), the unregistered list with adopt and forget
//! (`unregistered.rs`), the templates (`views.rs`) and refusals in the page's words
//! (`refusal.rs`). A device's own settings are the settings area's `/devices/{mac}/settings`.

mod detail;
mod editing;
mod list;
mod refusal;
pub mod texts;
mod unregistered;
mod views;

use http::Method;

use super::form::Form;
use super::pages::{Page, PageDef};
use super::{PageResult, Request};
use crate::admin::endpoint::Access;

pub use texts::DevicesTexts;

/// A bulk action of the list, each at its own URL so the page table gives it its access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bulk {
    Delete,
    ResetClaim,
    LogOut,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DevicesPage {
    List,
    NewForm,
    Create,
    Bulk(Bulk),
    Detail,
    EditForm,
    Edit,
    Assign,
    Unassign,
    ResetClaim,
    LogOut,
    Credentials,
    Preview,
    Unregistered,
    Adopt,
    Forget,
}

const fn def(
    page: DevicesPage,
    method: Method,
    path: &'static str,
    name: &'static str,
    access: Access,
) -> PageDef {
    PageDef {
        page: Page::Devices(page),
        method,
        path,
        name,
        access,
    }
}

use DevicesPage as D;
use Method as M;

/// Literal paths come before the `{mac}` ones they would otherwise match.
pub static PAGES: &[PageDef] = &[
    def(D::List, M::GET, "/devices", "page: devices", Access::Read),
    def(
        D::NewForm,
        M::GET,
        "/devices/new",
        "page: new device",
        Access::Change,
    ),
    def(
        D::Create,
        M::POST,
        "/devices/new",
        "page: create device",
        Access::Change,
    ),
    def(
        D::Bulk(Bulk::Delete),
        M::POST,
        "/devices/bulk/delete",
        "page: delete devices",
        Access::Change,
    ),
    def(
        D::Bulk(Bulk::ResetClaim),
        M::POST,
        "/devices/bulk/reset-claim",
        "page: reset devices' claims",
        Access::Helpdesk,
    ),
    def(
        D::Bulk(Bulk::LogOut),
        M::POST,
        "/devices/bulk/logout",
        "page: log out at devices",
        Access::Helpdesk,
    ),
    def(
        D::Detail,
        M::GET,
        "/devices/{mac}",
        "page: device",
        Access::Read,
    ),
    def(
        D::EditForm,
        M::GET,
        "/devices/{mac}/edit",
        "page: edit device",
        Access::Change,
    ),
    def(
        D::Edit,
        M::POST,
        "/devices/{mac}/edit",
        "page: change device",
        Access::Change,
    ),
    def(
        D::Assign,
        M::POST,
        "/devices/{mac}/lines",
        "page: assign line",
        Access::Change,
    ),
    def(
        D::Unassign,
        M::POST,
        "/devices/{mac}/lines/{line}/unassign",
        "page: unassign line",
        Access::Change,
    ),
    def(
        D::ResetClaim,
        M::POST,
        "/devices/{mac}/reset-claim",
        "page: reset device's claim",
        Access::Helpdesk,
    ),
    def(
        D::LogOut,
        M::POST,
        "/devices/{mac}/logout",
        "page: log out at device",
        Access::Helpdesk,
    ),
    def(
        D::Credentials,
        M::GET,
        "/devices/{mac}/credentials",
        "page: device credentials",
        Access::Secrets,
    ),
    def(
        D::Preview,
        M::GET,
        "/devices/{mac}/preview",
        "page: device config preview",
        Access::Read,
    ),
    def(
        D::Unregistered,
        M::GET,
        "/unregistered",
        "page: unregistered devices",
        Access::Read,
    ),
    def(
        D::Adopt,
        M::POST,
        "/unregistered/{mac}/adopt",
        "page: adopt device",
        Access::Change,
    ),
    def(
        D::Forget,
        M::POST,
        "/unregistered/{mac}/forget",
        "page: forget unregistered device",
        Access::Change,
    ),
];

pub async fn show(request: &Request<'_>, page: DevicesPage) -> PageResult {
    match page {
        D::List => list::show(request).await,
        D::NewForm => editing::new_form(request).await,
        D::Detail => detail::show(request).await,
        D::EditForm => editing::edit_form(request).await,
        D::Credentials => detail::credentials(request).await,
        D::Preview => detail::preview(request).await,
        D::Unregistered => unregistered::show(request).await,
        _ => Ok(super::method_not_allowed("POST")),
    }
}

pub async fn submit(request: &Request<'_>, page: DevicesPage, form: &Form) -> PageResult {
    match page {
        D::Create => editing::create(request, form).await,
        D::Edit => editing::edit(request, form).await,
        D::Bulk(action) => list::bulk(request, action, form).await,
        D::Assign => detail::assign(request, form).await,
        D::Unassign => detail::unassign(request).await,
        D::ResetClaim => detail::reset_claim(request).await,
        D::LogOut => detail::log_out(request).await,
        D::Adopt => unregistered::adopt(request, form).await,
        D::Forget => unregistered::forget(request).await,
        _ => Ok(super::method_not_allowed("GET, HEAD")),
    }
}
