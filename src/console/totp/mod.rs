//! The TOTP second factor in the console: the holder's own page with enrolment (QR code and
//! secret, confirmed with password and code) and removal (`own.rs`), the owner's actions
//! (require it for an account, reset a lost one: `owner.rs`), the login's second step
//! (`login.rs`), and the pages' templates (`views.rs`).

mod login;
mod own;
mod owner;
pub mod texts;
mod views;

use http::Method;

use super::form::Form;
use super::pages::{Page, PageDef};
use super::{PageResult, Request};
use crate::admin::endpoint::Access;

pub use login::{code_page, second_step};
pub use texts::TotpTexts;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TotpPage {
    Status,
    Enrol,
    Confirm,
    Remove,
    Require,
    Reset,
}

impl TotpPage {
    /// The holder's own pages, which an account that must enrol may still open.
    pub fn own(self) -> bool {
        matches!(
            self,
            TotpPage::Status | TotpPage::Enrol | TotpPage::Confirm | TotpPage::Remove
        )
    }
}

const fn def(
    page: TotpPage,
    method: Method,
    path: &'static str,
    name: &'static str,
    access: Access,
) -> PageDef {
    PageDef {
        page: Page::Totp(page),
        method,
        path,
        name,
        access,
    }
}

pub static PAGES: &[PageDef] = &[
    def(
        TotpPage::Status,
        Method::GET,
        "/totp",
        "page: own second factor",
        Access::Own,
    ),
    def(
        TotpPage::Enrol,
        Method::POST,
        "/totp/enrol",
        "page: set up own second factor",
        Access::Own,
    ),
    def(
        TotpPage::Confirm,
        Method::POST,
        "/totp/confirm",
        "page: confirm own second factor",
        Access::Own,
    ),
    def(
        TotpPage::Remove,
        Method::POST,
        "/totp/remove",
        "page: remove own second factor",
        Access::Own,
    ),
    def(
        TotpPage::Require,
        Method::POST,
        "/accounts/{username}/require-totp",
        "page: require an account's second factor",
        Access::Security,
    ),
    def(
        TotpPage::Reset,
        Method::POST,
        "/accounts/{username}/reset-totp",
        "page: reset an account's second factor",
        Access::Security,
    ),
];

pub async fn show(request: &Request<'_>, page: TotpPage) -> PageResult {
    match page {
        TotpPage::Status => own::status(request).await,
        _ => Ok(super::method_not_allowed("POST")),
    }
}

pub async fn submit(request: &Request<'_>, page: TotpPage, form: &Form) -> PageResult {
    match page {
        TotpPage::Enrol => own::enrol(request).await,
        TotpPage::Confirm => own::confirm(request, form).await,
        TotpPage::Remove => own::remove(request, form).await,
        TotpPage::Require => owner::require(request, form).await,
        TotpPage::Reset => owner::reset(request).await,
        TotpPage::Status => Ok(super::method_not_allowed("GET, HEAD")),
    }
}
