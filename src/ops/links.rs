//! One-time links into the portal: to set a first portal password (a welcome) or a new one (a
//! reset), and with a welcome, for a user without one, a PIN.
//!
//! The token is in the link only; the store keeps its SHA-256 (`portal_links`), and the user
//! record the SHA-256 of the one link still valid for them: issuing a link replaces it (so every
//! earlier link is dead), a password change clears it, and using the link clears it in the same
//! write that sets the password. A link lives an hour. Only a POST consumes it: mail scanners
//! fetch the GET.

use super::tokens::sha256_hex;
use super::{Actor, OpError, WriteTx};
use crate::app::App;
use crate::domain::{Extension, Pin, Secret};
use crate::model::{LinkPurpose, LinkRecord, UserRecord};

/// How long a link may be used.
pub const VALID_SECS: i64 = 3600;
const TOKEN_LEN: usize = 43;

/// A link just issued: its URL (to be mailed, never logged) and when it expires.
pub struct Issued {
    pub url: Secret,
    pub expires_at: i64,
}

/// Where links point: `server.public_url`, else the phone listener's host and port.
pub fn base_url(app: &App) -> String {
    match &app.config.server.public_url {
        Some(url) => url.trim_end_matches('/').to_string(),
        None => {
            let listen = app.config.server.phone_listen;
            let host = match listen.ip() {
                ip if ip.is_unspecified() => hostname(),
                std::net::IpAddr::V6(v6) => format!("[{v6}]"),
                ip => ip.to_string(),
            };
            format!("https://{host}:{}", listen.port())
        }
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// Issues a link for `extension` and `purpose`; every earlier link of the user stops working.
pub async fn issue(
    app: &App,
    by: &Actor,
    extension: &Extension,
    purpose: LinkPurpose,
) -> Result<Issued, OpError> {
    let token = Secret::generate(TOKEN_LEN);
    let now = app.clock.now();
    let link = LinkRecord {
        token_sha256: sha256_hex(token.expose()),
        extension: extension.clone(),
        purpose,
        issued_at: now,
        expires_at: now + VALID_SECS,
    };
    let mut tx = WriteTx::begin(app, by).await;
    let (_, previous) = tx
        .update_user(extension, |u| {
            u.portal_link_sha256.replace(link.token_sha256.clone())
        })
        .await?
        .ok_or_else(|| OpError::not_found(format!("no user with extension {extension}")))?;
    if let Some(previous) = previous {
        tx.remove_link(&previous).await?;
    }
    tx.put_link(&link).await?;
    tx.changed(
        extension,
        format!(
            "one-time portal link issued ({}), valid 1 hour",
            purpose.as_str()
        ),
    );
    tx.commit().await?;
    let url = format!("{}/me/link/{}", base_url(app), token.expose());
    Ok(Issued {
        url: Secret::from_trusted(url),
        expires_at: link.expires_at,
    })
}

/// The link and its user, if the token is one still valid.
pub async fn valid(app: &App, token: &str) -> Result<Option<(LinkRecord, UserRecord)>, OpError> {
    let hash = sha256_hex(token);
    let Some(link) = app.store.link(&hash).await? else {
        return Ok(None);
    };
    if link.expires_at <= app.clock.now() {
        return Ok(None);
    }
    let user = app.store.user(&link.extension).await?;
    Ok(user
        .filter(|u| u.portal_link_sha256.as_deref() == Some(hash.as_str()) && !u.locked)
        .map(|u| (link, u)))
}

/// Whether the link's form sets a PIN too: a welcome link of a user without one.
pub fn asks_for_pin(link: &LinkRecord, user: &UserRecord) -> bool {
    link.purpose == LinkPurpose::Welcome && user.pin_hash.is_none()
}

/// Why a link's form was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkRefusal {
    /// Used, replaced by a newer one, expired, or never issued.
    Invalid,
    Password(crate::domain::PasswordProblem),
    /// The user has no PIN yet and must choose one: the PIN policy's reason in English.
    Pin(String),
}

/// Uses the link: sets the portal password and, if the user has none, the PIN. Single use:
/// the check and the clearing happen under the write lock.
pub async fn consume(
    app: &App,
    by: &Actor,
    token: &str,
    password: &str,
    pin: &str,
) -> Result<Result<Extension, LinkRefusal>, OpError> {
    let Some((link, user)) = valid(app, token).await? else {
        return Ok(Err(LinkRefusal::Invalid));
    };
    let password = match super::portal_password::check(password, &user) {
        Ok(password) => password,
        Err(problem) => return Ok(Err(LinkRefusal::Password(problem))),
    };
    let pin_hash = match asks_for_pin(&link, &user) {
        true => Some(new_pin_hash(app, &user, pin).await?),
        false => None,
    };
    let pin_hash = match pin_hash {
        Some(Err(refusal)) => return Ok(Err(refusal)),
        Some(Ok(hash)) => Some(hash),
        None => None,
    };
    let hash = super::portal_password::hash(app, &password).await?;
    let mut tx = WriteTx::begin(app, by).await;
    let (_, used) = tx
        .update_user(&link.extension, |u| {
            if u.portal_link_sha256.as_deref() != Some(link.token_sha256.as_str()) {
                return false;
            }
            u.portal_link_sha256 = None;
            u.portal_password_hash = Some(hash.clone());
            u.password_change_required = false;
            if let Some(pin_hash) = &pin_hash {
                u.pin_hash = Some(pin_hash.clone());
                u.pin_change_required = false;
            }
            true
        })
        .await?
        .ok_or_else(|| OpError::not_found("the user is gone"))?;
    tx.remove_link(&link.token_sha256).await?;
    if !used {
        tx.commit().await?;
        return Ok(Err(LinkRefusal::Invalid));
    }
    let ended = super::portal::end_sessions_of(&tx, &link.extension, None).await?;
    let and_pin = if pin_hash.is_some() { " and PIN" } else { "" };
    tx.record(
        crate::audit::Kind::PasswordChanged,
        &link.extension,
        format!(
            "portal password{and_pin} set with a one-time link ({}); {ended} portal sessions ended",
            link.purpose.as_str()
        ),
    );
    tx.commit().await?;
    Ok(Ok(link.extension))
}

async fn new_pin_hash(
    app: &App,
    user: &UserRecord,
    pin: &str,
) -> Result<Result<Secret, LinkRefusal>, OpError> {
    let pin = match Pin::parse(pin) {
        Ok(pin) => pin,
        Err(e) => return Ok(Err(LinkRefusal::Pin(e.to_string()))),
    };
    if let Err(e) = app.config.hotdesk.pin_policy().check(&pin, &user.extension) {
        return Ok(Err(LinkRefusal::Pin(e.to_string())));
    }
    let hash = app.portal_hashes.hash(&pin).await;
    Ok(Ok(hash.map_err(|e| OpError::Internal(e.to_string()))?))
}
