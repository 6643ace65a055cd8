//! The operations layer: every change deskprov makes, one function each, whoever asks for it
//! (the admin API, a CSV row, a phone, the hot-desk sweeper). It knows nothing of HTTP: an
//! operation takes typed input and an [`Actor`], and answers a record or an [`OpError`].
//!
//! Writing goes through [`WriteTx`] (admin changes: the write lock, one flush before the
//! answer, the audit record, NOTIFY after) or, for the single-record writes phones cause, a
//! writer without the lock. Both need a [`Permit`], which only this module can make, so code
//! outside it cannot write to the store at all.

pub mod account_admin;
pub mod accounts;
pub mod audit;
pub mod backup;
pub mod bans;
pub mod contacts;
pub mod csv_io;
pub mod desk;
pub mod device_list;
pub mod devices;
mod error;
pub mod firmware;
pub mod guard;
pub mod import;
pub mod keys;
pub mod links;
pub mod mail;
mod mail_sender;
pub mod named;
pub mod overview;
pub mod phone;
pub mod portal;
pub mod portal_mail;
pub mod portal_password;
pub mod profiles;
pub mod restore;
pub mod sessions;
pub mod site_files;
pub mod tokens;
pub mod totp;
pub mod user_list;
pub mod users;
mod write;

use std::net::IpAddr;

use crate::domain::Role;
use crate::model::ActorKind;

pub use error::OpError;
pub use write::{Permit, WriteTx};

/// Who does something: an admin token by name, a phone, or deskprov itself; and from where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    name: String,
    kind: ActorKind,
    role: Option<Role>,
    source: Option<IpAddr>,
}

impl Actor {
    /// An admin API client, by its token's name and role.
    pub fn token(name: impl Into<String>, role: Role, source: IpAddr) -> Actor {
        Actor {
            name: name.into(),
            kind: ActorKind::Token,
            role: Some(role),
            source: Some(source),
        }
    }

    /// A console account, by its name and role.
    pub fn account(account: &crate::model::AccountRecord, source: IpAddr) -> Actor {
        Actor {
            name: account.username.to_string(),
            kind: ActorKind::Account,
            role: Some(account.role),
            source: Some(source),
        }
    }

    /// Whoever speaks on the phones' listener.
    pub fn phone(source: IpAddr) -> Actor {
        Actor {
            name: "phone".into(),
            kind: ActorKind::Phone,
            role: None,
            source: Some(source),
        }
    }

    /// A user in the self-service portal, by extension.
    pub fn user(extension: &crate::domain::Extension, source: IpAddr) -> Actor {
        Actor {
            name: extension.to_string(),
            kind: ActorKind::User,
            role: None,
            source: Some(source),
        }
    }

    /// deskprov itself: the sweeper, start-up, a command on the server's machine.
    pub fn system(name: &str) -> Actor {
        Actor {
            name: name.into(),
            kind: ActorKind::System,
            role: None,
            source: None,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn kind(&self) -> ActorKind {
        self.kind
    }

    pub fn source(&self) -> Option<IpAddr> {
        self.source
    }

    /// The role an admin token acts in; none for phones and deskprov itself.
    pub fn role(&self) -> Option<Role> {
        self.role
    }
}

/// Records a reload of the phone templates (the set in use was already swapped).
pub async fn templates_reloaded(
    app: &crate::app::App,
    by: &Actor,
    templates: usize,
    overrides: usize,
) -> Result<(), OpError> {
    let mut tx = WriteTx::begin(app, by).await;
    tx.changed(
        "templates",
        format!("reloaded: {templates} templates, {overrides} overrides"),
    );
    tx.commit().await?;
    site_files::reloaded(app).await?;
    Ok(())
}
