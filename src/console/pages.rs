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
    Audit(super::audit::AuditPage),
    Devices(super::devices::DevicesPage),
    Import(super::import::ImportPage),
    Settings(super::settings::SettingsPage),
    Users(super::users::UsersPage),
    Totp(super::totp::TotpPage),
    Accounts(super::account_pages::AccountsPage),
    Mail(super::mail::MailPage),
    Keys(super::keys::KeysPage),
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

/// Every page: the core pages above, then each area's own table.
pub fn all() -> impl Iterator<Item = &'static PageDef> {
    PAGES
        .iter()
        .chain(super::audit::PAGES)
        // Before the areas whose walk deletes the records these pages name.
        .chain(super::keys::PAGES)
        .chain(super::devices::PAGES)
        .chain(super::import::PAGES)
        .chain(super::settings::PAGES)
        .chain(super::users::PAGES)
        .chain(super::totp::PAGES)
        .chain(super::account_pages::PAGES)
        .chain(super::mail::PAGES)
}

/// A page a request names, with the values of its path's `{...}` segments in order.
pub struct Matched {
    pub def: &'static PageDef,
    pub params: Vec<String>,
}

impl Page {
    /// The page at `path` for `method` (HEAD as GET); `Err` with the methods it takes when
    /// the path exists for others only, `Ok(None)` when it does not exist. A `{name}` segment
    /// of a page's path matches one non-empty segment, percent-decoded once.
    pub fn parse(method: &Method, path: &str) -> Result<Option<Matched>, String> {
        let method = if method == Method::HEAD {
            &Method::GET
        } else {
            method
        };
        let mut allowed: Vec<&str> = Vec::new();
        for def in all() {
            let Some(params) = match_path(def.path, path) else {
                continue;
            };
            if def.method == *method {
                return Ok(Some(Matched { def, params }));
            }
            allowed.push(def.method.as_str());
        }
        if allowed.is_empty() {
            return Ok(None);
        }
        if allowed.contains(&"GET") {
            allowed.push("HEAD");
        }
        allowed.sort_unstable();
        allowed.dedup();
        Err(allowed.join(", "))
    }

    /// Whether the page may be shown while the account must change its password first.
    pub fn before_password_change(self) -> bool {
        matches!(
            self,
            Page::PasswordForm | Page::ChangePassword | Page::SetLanguage | Page::LogOut
        )
    }

    /// Whether the page may be shown while the account must set up its second factor first.
    pub fn before_totp_enrolment(self) -> bool {
        match self {
            Page::Totp(page) => page.own(),
            page => page.before_password_change(),
        }
    }
}

fn match_path(pattern: &str, path: &str) -> Option<Vec<String>> {
    let mut params = Vec::new();
    let mut given = path.split('/');
    for expected in pattern.split('/') {
        let segment = given.next()?;
        if expected.starts_with('{') && expected.ends_with('}') {
            let value = percent_encoding::percent_decode_str(segment)
                .decode_utf8()
                .ok()?;
            if value.is_empty() {
                return None;
            }
            params.push(value.into_owned());
        } else if expected != segment {
            return None;
        }
    }
    given.next().is_none().then_some(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_segment_in_braces_matches_one_segment_decoded_once() {
        assert_eq!(
            match_path("/users/{ext}", "/users/1001"),
            Some(vec!["1001".into()])
        );
        assert_eq!(
            match_path("/users/{ext}/edit", "/users/a%2520b/edit"),
            Some(vec!["a%20b".into()])
        );
        assert_eq!(match_path("/users/{ext}", "/users/"), None);
        assert_eq!(match_path("/users/{ext}", "/users/1/2"), None);
        assert_eq!(match_path("/", "/"), Some(vec![]));
        assert_eq!(match_path("/password", "/passwords"), None);
    }

    #[test]
    fn a_path_of_other_methods_names_them() {
        assert_eq!(
            Page::parse(&Method::PUT, "/password").err().as_deref(),
            Some("GET, HEAD, POST")
        );
        assert_eq!(
            Page::parse(&Method::GET, "/logout").err().as_deref(),
            Some("POST")
        );
        assert!(Page::parse(&Method::GET, "/nowhere").unwrap().is_none());
    }
}

/// Who is logged in, for the header of every page.
pub struct Who {
    pub username: String,
    /// Whether the role may read the site (the menu's lists).
    pub reads: bool,
    /// Whether the role may change it (the menu's import).
    pub changes: bool,
    /// Whether the role may manage accounts and tokens (the menu's links to them).
    pub manages: bool,
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
