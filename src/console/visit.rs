//! Who is visiting: the session a request's cookie resumes, its account, the language its
//! pages speak and the actor its changes are audited as.

use std::net::IpAddr;

use http::header::{self, HeaderMap};
use http::request::Parts;

use super::LANGUAGES;
use super::pages::Who;
use super::session::{self, SESSION_COOKIE};
use super::texts::{self, Texts};
use crate::app::App;
use crate::model::{AccountRecord, ConsoleSession};
use crate::ops::Actor;
use crate::ops::accounts;

/// A logged-in request: its session, account, language and who acts.
#[derive(Clone)]
pub struct Visit {
    pub session: ConsoleSession,
    pub account: AccountRecord,
    pub texts: &'static Texts,
    pub actor: Actor,
}

impl Visit {
    pub async fn of(
        app: &App,
        parts: &Parts,
        address: IpAddr,
    ) -> Result<Option<Visit>, crate::store::StoreError> {
        let Some(cookie) = session::cookie(&parts.headers, SESSION_COOKIE) else {
            return Ok(None);
        };
        let Some((session, account)) = accounts::resume(app, cookie).await? else {
            return Ok(None);
        };
        Ok(Some(Visit {
            texts: texts_for(account.language.as_deref(), &parts.headers, ""),
            actor: Actor::account(&account, address),
            session,
            account,
        }))
    }

    /// The session's CSRF token, which every form of the page repeats.
    pub fn csrf(&self) -> &str {
        self.session.csrf.expose()
    }

    pub fn who(&self) -> Who {
        Who {
            username: self.account.username.to_string(),
            reads: super::account_permits(&self.account, crate::admin::endpoint::Access::Read),
            changes: super::account_permits(&self.account, crate::admin::endpoint::Access::Change),
            manages: super::account_permits(
                &self.account,
                crate::admin::endpoint::Access::Security,
            ),
            role: self.account.role.as_str(),
            csrf: self.session.csrf.expose().to_string(),
        }
    }
}

/// The account's language, else `?lang=` of the query, else the browser's.
pub fn texts_for(chosen: Option<&str>, headers: &HeaderMap, query: &str) -> &'static Texts {
    let asked = super::form::query_value(query, "lang").filter(|lang| LANGUAGES.contains(lang));
    let header = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    texts::of(
        chosen
            .or(asked)
            .unwrap_or_else(|| texts::from_accept_language(header)),
    )
}
