//! Mails that bring users into the portal: the welcome and reset mails an admin sends to one
//! or many users, and the reset a user asks for on the portal's "forgot password" page.
//!
//! Each mail is queued in the write that records it; its one-time link is issued by the
//! sender when it sends (`ops::mail_sender`), so the token is never stored, and the hour it is
//! valid starts when the mail leaves, not when it was queued behind 499 others.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::time::Duration;

use super::mail::{Outgoing, queue};
use super::write::single_writes;
use super::{Actor, OpError, WriteTx, guard, links, portal, users};
use crate::app::App;
use crate::domain::Extension;
use crate::model::{LinkPurpose, UserRecord};

/// How a refusal for users without an e-mail address begins.
pub const NO_ADDRESS: &str = "no e-mail address";

/// A "forgot password" answer never comes sooner, so that the work for a known address (a
/// mail queued and flushed) does not tell it from an unknown one.
const FORGOT_ANSWER_AFTER: Duration = Duration::from_millis(400);
/// Reset mails one user gets from the page within [`PER_USER_WINDOW_SECS`]; more are not sent
/// (the page answers the same).
const PER_USER_MAX: u32 = 3;
const PER_USER_WINDOW_SECS: u64 = 3600;
/// Requests one source makes within [`PER_SOURCE_WINDOW_SECS`] before it is refused as long.
const PER_SOURCE_MAX: u32 = 20;
const PER_SOURCE_WINDOW_SECS: u64 = 900;

/// Queues a welcome or reset mail for each user: all of them, or none when one is unknown,
/// locked or has no e-mail address. The mails' ids.
pub async fn send(
    app: &App,
    by: &Actor,
    purpose: LinkPurpose,
    extensions: &BTreeSet<Extension>,
) -> Result<Vec<u64>, OpError> {
    super::mail::config(app)?;
    if extensions.is_empty() || extensions.len() > users::MAX_BULK {
        return Err(OpError::invalid(format!(
            "extensions: give 1 to {} extensions",
            users::MAX_BULK
        )));
    }
    let mut tx = WriteTx::begin(app, by).await;
    let recipients = recipients(&tx, extensions).await?;
    let mut ids = Vec::with_capacity(recipients.len());
    for user in &recipients {
        ids.push(queue_link_mail(&mut tx, user, purpose).await?);
    }
    tx.commit().await?;
    Ok(ids)
}

/// The users, if every one of them can get a mail; else what stops it, naming them all.
async fn recipients(
    tx: &WriteTx<'_>,
    extensions: &BTreeSet<Extension>,
) -> Result<Vec<UserRecord>, OpError> {
    let (mut found, mut unknown, mut locked, mut no_address) = (vec![], vec![], vec![], vec![]);
    for extension in extensions {
        match tx.user(extension).await? {
            None => unknown.push(extension.to_string()),
            Some(u) if u.locked => locked.push(extension.to_string()),
            Some(u) if u.email.is_none() => no_address.push(extension.to_string()),
            Some(u) => found.push(u),
        }
    }
    let refusal =
        |names: Vec<String>, what: &str| format!("{what}: {}; no mail was sent", names.join(", "));
    if !unknown.is_empty() {
        return Err(OpError::not_found(refusal(unknown, "no such user")));
    }
    if !locked.is_empty() {
        return Err(OpError::conflict(refusal(locked, "locked users")));
    }
    if !no_address.is_empty() {
        return Err(OpError::invalid(refusal(no_address, NO_ADDRESS)));
    }
    Ok(found)
}

async fn queue_link_mail(
    tx: &mut WriteTx<'_>,
    user: &UserRecord,
    purpose: LinkPurpose,
) -> Result<u64, OpError> {
    let recipient = user.email.as_ref().expect("checked").to_string();
    let portal = format!("{}/me/", links::base_url(tx.app()));
    let name = user.display_name.to_string();
    let extension = user.extension.to_string();
    let outgoing = Outgoing {
        kind: purpose.as_str(),
        recipient: &recipient,
        user: Some(user.extension.clone()),
        language: user.language.as_deref(),
        values: &[
            ("name", &name),
            ("extension", &extension),
            ("portal", &portal),
        ],
        link: Some(purpose),
    };
    queue(tx, outgoing).await
}

/// What the "forgot password" page answers.
#[derive(Debug, PartialEq, Eq)]
pub enum Forgot {
    /// The same for a known and an unknown name: a link is on its way if it is a user's.
    Accepted,
    /// This source asked too often; seconds until it may again.
    Throttled(i64),
}

/// A user asks for a reset link by extension or e-mail address. Known or not, the answer is
/// the same and comes after the same time; each user gets at most [`PER_USER_MAX`] such mails
/// an hour, and each source may ask [`PER_SOURCE_MAX`] times in a quarter of an hour.
pub async fn forgot(app: &App, login: &str, source: IpAddr) -> Result<Forgot, OpError> {
    let answer_at = tokio::time::Instant::now() + FORGOT_ANSWER_AFTER;
    let outcome = ask_for_reset(app, login, source).await;
    tokio::time::sleep_until(answer_at).await;
    outcome
}

async fn ask_for_reset(app: &App, login: &str, source: IpAddr) -> Result<Forgot, OpError> {
    let now = app.clock.now();
    let by_source = format!("portal-forgot:source:{}", super::bans::source_key(source));
    if let Some(until) =
        counted(app, &by_source, now, PER_SOURCE_MAX, PER_SOURCE_WINDOW_SECS).await?
    {
        return Ok(Forgot::Throttled(until - now));
    }
    let user = portal::find_user(app, login).await?;
    let by_user = format!(
        "portal-forgot:user:{}",
        portal::login_key(login, user.as_ref())
    );
    let over = counted(app, &by_user, now, PER_USER_MAX, PER_USER_WINDOW_SECS).await?;
    let Some(user) = user.filter(|u| !u.locked && u.email.is_some() && over.is_none()) else {
        return Ok(Forgot::Accepted);
    };
    if app.config.mail.is_none() {
        tracing::warn!("portal: a reset link was asked for, but mail is not configured");
        return Ok(Forgot::Accepted);
    }
    let actor = Actor::user(&user.extension, source);
    let mut tx = WriteTx::begin(app, &actor).await;
    queue_link_mail(&mut tx, &user, LinkPurpose::Reset).await?;
    tx.commit().await?;
    Ok(Forgot::Accepted)
}

/// Counts a request against `key`; `Some(until)` when the key was already over its limit
/// (then nothing is counted).
async fn counted(
    app: &App,
    key: &str,
    now: i64,
    max: u32,
    window_secs: u64,
) -> Result<Option<i64>, OpError> {
    let locked_until = app.store.guard(key).await?.locked_until;
    if locked_until > now {
        return Ok(Some(locked_until));
    }
    let store = single_writes(app);
    store
        .update_guard(key, |g| {
            guard::count_in_window(g, now, max, window_secs, window_secs)
        })
        .await?;
    Ok(None)
}
