//! The console's pages: the table that gives each its access (as the API's endpoint table
//! does), and the templates they render.

use askama::Template;
use http::Method;

use super::texts::Texts;
use crate::admin::endpoint::Access;
use crate::ops::overview::Overview;

/// A page behind the login. The login page itself needs no session and is not here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    Dashboard,
    PasswordForm,
    ChangePassword,
    SetLanguage,
    LogOut,
}

pub struct PageDef {
    pub page: Page,
    pub method: Method,
    pub path: &'static str,
    /// The page's name in README's role matrix.
    pub name: &'static str,
    pub access: Access,
}

pub static PAGES: &[PageDef] = &[
    PageDef {
        page: Page::Dashboard,
        method: Method::GET,
        path: "/",
        name: "page: dashboard",
        access: Access::Read,
    },
    PageDef {
        page: Page::PasswordForm,
        method: Method::GET,
        path: "/password",
        name: "page: own password",
        access: Access::Own,
    },
    PageDef {
        page: Page::ChangePassword,
        method: Method::POST,
        path: "/password",
        name: "page: change own password",
        access: Access::Own,
    },
    PageDef {
        page: Page::SetLanguage,
        method: Method::POST,
        path: "/language",
        name: "page: own language",
        access: Access::Own,
    },
    PageDef {
        page: Page::LogOut,
        method: Method::POST,
        path: "/logout",
        name: "page: log out",
        access: Access::Own,
    },
];

impl Page {
    /// The page at `path` for `method` (HEAD as GET); `Err` with the methods it takes when
    /// the path exists for others only, `Ok(None)` when it does not exist.
    pub fn parse(method: &Method, path: &str) -> Result<Option<&'static PageDef>, &'static str> {
        let method = if method == Method::HEAD {
            &Method::GET
        } else {
            method
        };
        let mut exists = false;
        for def in PAGES.iter().filter(|d| d.path == path) {
            if def.method == *method {
                return Ok(Some(def));
            }
            exists = true;
        }
        if exists {
            return Err(match path {
                "/password" => "GET, HEAD, POST",
                _ => "POST",
            });
        }
        Ok(None)
    }

    /// Whether the page may be shown while the account must change its password first.
    pub fn before_password_change(self) -> bool {
        !matches!(self, Page::Dashboard)
    }
}

/// Who is logged in, for the header of every page.
pub struct Who {
    pub username: String,
    pub role: &'static str,
    pub csrf: String,
}

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage<'a> {
    pub t: &'a Texts,
    pub css: &'a str,
    pub who: Option<Who>,
    pub csrf: &'a str,
    pub username: &'a str,
    pub message: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "password.html")]
pub struct PasswordPage<'a> {
    pub t: &'a Texts,
    pub css: &'a str,
    pub who: Option<Who>,
    pub csrf: &'a str,
    pub required: bool,
    pub done: bool,
    pub message: Option<&'a str>,
}

/// One row of the dashboard's security events.
pub struct EventRow {
    pub at: String,
    pub kind: String,
    pub source: String,
    pub subject: String,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
pub struct DashboardPage<'a> {
    pub t: &'a Texts,
    pub css: &'a str,
    pub who: Option<Who>,
    pub overview: Overview,
    pub events: Vec<EventRow>,
}

#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage<'a> {
    pub t: &'a Texts,
    pub css: &'a str,
    pub who: Option<Who>,
    pub heading: &'a str,
    pub text: &'a str,
    pub link: &'a str,
    pub link_text: &'a str,
}
