//! Who is logged in where, and the login token that goes with it.
//!
//! The device record's `sessions` are the truth. The user's `hotdesk_at` pointer finds their
//! phone without a scan and is always checked against that phone before it is acted on, so a
//! stale pointer (a crash between the two writes) is harmless. Writes are ordered so that a
//! crash between them leaves fewer bindings, never two: a session is removed before a pointer
//! moves, and a pointer moves before a new session is written.
//!
//! Every change runs in a [`WriteTx`] (the write lock), so logins, logouts and admin edits of
//! the same user or phone cannot interleave: of 100 simultaneous logins of one user, exactly one
//! binding is left. The helpers that admin changes call take the [`Writer`] of their change.

use std::collections::BTreeSet;

use super::write::single_writes;
use super::{Actor, WriteTx};
use crate::app::App;
use crate::audit::Kind;
use crate::config::MultipleLogins;
use crate::domain::{Extension, Mac, Secret};
use crate::model::{DeviceRecord, Session, SessionRef};
use crate::models::{self, ModelRow};
use crate::settings::{self, Settings};
use crate::store::{StoreError, Writer};

pub(in crate::ops) const LOGIN_TOKEN_LEN: usize = 32;

/// Whether a session is still in force: the maximum login time and the daily logout end it.
pub fn is_live(session: &Session, settings: &Settings, now: i64) -> bool {
    settings
        .hotdesk_login_ends(session.since)
        .is_none_or(|end| now < end)
}

/// The slots of a hot-desk device that logins use: line 1 of a desk phone, and every handset
/// slot of a DECT base that the admin has not given a fixed user.
pub fn hotdesk_slots(device: &DeviceRecord) -> BTreeSet<u16> {
    if !device.hotdesk {
        return BTreeSet::new();
    }
    match model_row(device) {
        Some(row) if row.is_dect() => (1..=row.lines())
            .filter(|slot| !device.lines.contains_key(slot))
            .collect(),
        _ => BTreeSet::from([1]),
    }
}

pub fn model_row(device: &DeviceRecord) -> Option<&'static ModelRow> {
    models::of_device(device)
}

/// The device's login token, created the first time a hot-desk config is rendered.
pub(in crate::ops) async fn ensure_login_token(
    app: &App,
    device: &DeviceRecord,
) -> Result<Secret, StoreError> {
    if let Some(token) = &device.login_token {
        return Ok(token.clone());
    }
    let store = single_writes(app);
    let fresh = Secret::generate(LOGIN_TOKEN_LEN);
    store.index_login_token(&fresh, device.mac).await?;
    let updated = store
        .update_device(device.mac, |d| {
            d.login_token.get_or_insert_with(|| fresh.clone()).clone()
        })
        .await?;
    match updated {
        Some((_, token)) => {
            if token != fresh {
                store.unindex_login_token(&fresh).await?;
            }
            Ok(token)
        }
        None => {
            store.unindex_login_token(&fresh).await?;
            Ok(fresh)
        }
    }
}

/// A fresh login token for a hot-desk device record that has none, indexed before the record
/// carrying it is stored (a crash in between leaves a harmless extra index entry).
pub(in crate::ops) async fn issue_token_if_missing(
    store: &Writer<'_>,
    record: &mut DeviceRecord,
) -> Result<(), StoreError> {
    if record.hotdesk && record.login_token.is_none() {
        let fresh = Secret::generate(LOGIN_TOKEN_LEN);
        store.index_login_token(&fresh, record.mac).await?;
        record.login_token = Some(fresh);
    }
    Ok(())
}

/// What a login attempt with a correct PIN came to.
#[derive(Debug)]
pub enum LoginResult {
    LoggedIn {
        device: Box<DeviceRecord>,
        /// The phone the user was logged in at before, now logged out.
        moved_from: Option<Box<DeviceRecord>>,
    },
    /// The token changed since the phone showed its login screen (a login or logout raced).
    StaleToken,
    /// The user is logged in elsewhere and the policy refuses a second login.
    LoggedInElsewhere,
    /// This handset slot has a fixed user, or the device is no longer a hot-desk phone.
    NotHotdesk,
    /// The user was locked, barred from hot-desking or told to change their PIN meanwhile.
    NotPermitted,
}

/// Binds `extension` to (`mac`, `slot`), replacing whoever was there.
pub async fn log_in(
    app: &App,
    actor: &Actor,
    mac: Mac,
    slot: u16,
    presented_token: &str,
    extension: &Extension,
    now: i64,
) -> Result<LoginResult, StoreError> {
    let mut tx = WriteTx::begin(app, actor).await;
    let Some(device) = tx.device(mac).await? else {
        return Ok(LoginResult::StaleToken);
    };
    if !device
        .login_token
        .as_ref()
        .is_some_and(|t| t.matches(presented_token))
    {
        return Ok(LoginResult::StaleToken);
    }
    if !hotdesk_slots(&device).contains(&slot) {
        return Ok(LoginResult::NotHotdesk);
    }
    let Some(user) = tx.user(extension).await? else {
        return Ok(LoginResult::StaleToken);
    };
    if user.locked || !user.may_hotdesk || user.pin_change_required {
        return Ok(LoginResult::NotPermitted);
    }
    let here = SessionRef { mac, slot };
    let mut moved_from = None;
    if let Some(there) = user.hotdesk_at.filter(|at| *at != here) {
        let live_there = match tx.device(there.mac).await? {
            Some(old) => {
                let settings = settings::of_device(tx.reads(), &old).await?;
                old.sessions
                    .get(&there.slot)
                    .is_some_and(|s| s.extension == *extension && is_live(s, &settings, now))
            }
            None => false,
        };
        if live_there && app.config.hotdesk.multiple_logins == MultipleLogins::Refuse {
            return Ok(LoginResult::LoggedInElsewhere);
        }
        // Ended whether or not its time is up: a later change of the limits must not revive it.
        moved_from = end_sessions_of(&tx, extension, there).await?;
    }
    tx.update_user(extension, |u| u.hotdesk_at = Some(here))
        .await?;
    let fresh = Secret::generate(LOGIN_TOKEN_LEN);
    tx.index_login_token(&fresh, mac).await?;
    let (device, (replaced, previous_token)) = tx
        .update_device(mac, |d| {
            let replaced = d.sessions.insert(
                slot,
                Session {
                    extension: extension.clone(),
                    since: now,
                },
            );
            (replaced, d.login_token.replace(fresh.clone()))
        })
        .await?
        .expect("the device was read under the lock");
    // The token the phone used, and the one a move within this device set meanwhile.
    tx.unindex_login_token(&Secret::from_trusted(presented_token.to_string()))
        .await?;
    if let Some(previous) = &previous_token {
        tx.unindex_login_token(previous).await?;
    }
    if let Some(previous) = replaced.filter(|s| s.extension != *extension) {
        clear_pointer(&tx, &previous.extension, here).await?;
        tx.record(
            Kind::HotdeskLogout,
            mac,
            format!(
                "{}: another user logged in on line {slot}",
                previous.extension
            ),
        );
    }
    let moved = moved_from
        .as_ref()
        .map(|d| format!(", moved from {}", d.mac))
        .unwrap_or_default();
    tx.record(
        Kind::HotdeskLogin,
        mac,
        format!("{extension}: logged in on line {slot}{moved}"),
    );
    tx.commit().await?;
    Ok(LoginResult::LoggedIn {
        device: Box::new(device),
        moved_from: moved_from.map(Box::new),
    })
}

/// Logs out the given slot (or every slot) of a device; the users logged out, with the device
/// as it is afterwards. `None` if there is no such device, or (`presented_token`, from a phone)
/// the token changed meanwhile.
pub async fn log_out(
    app: &App,
    actor: &Actor,
    mac: Mac,
    slot: Option<u16>,
    presented_token: Option<&str>,
    reason: &str,
) -> Result<Option<(DeviceRecord, Vec<Extension>)>, StoreError> {
    let mut tx = WriteTx::begin(app, actor).await;
    let Some(before) = tx.device(mac).await? else {
        return Ok(None);
    };
    if let Some(presented) = presented_token
        && !before
            .login_token
            .as_ref()
            .is_some_and(|t| t.matches(presented))
    {
        return Ok(None);
    }
    let leaving: Vec<Extension> = before
        .sessions
        .iter()
        .filter(|(s, _)| slot.is_none_or(|only| only == **s))
        .map(|(_, session)| session.extension.clone())
        .collect();
    let after = end_sessions(&tx, mac, slot).await?.unwrap_or(before);
    for extension in &leaving {
        tx.record(Kind::HotdeskLogout, mac, format!("{extension}: {reason}"));
    }
    tx.commit().await?;
    Ok(Some((after, leaving)))
}

/// Logs the user out wherever they are logged in; the phone they left, if any.
pub async fn log_out_user(
    app: &App,
    actor: &Actor,
    extension: &Extension,
    reason: &str,
) -> Result<Option<DeviceRecord>, StoreError> {
    let mut tx = WriteTx::begin(app, actor).await;
    let Some(at) = tx.user(extension).await?.and_then(|u| u.hotdesk_at) else {
        return Ok(None);
    };
    let left = end_sessions_of(&tx, extension, at).await?;
    if left.is_some() {
        tx.record(
            Kind::HotdeskLogout,
            at.mac,
            format!("{extension}: {reason}"),
        );
    }
    tx.commit().await?;
    Ok(left)
}

/// Removes sessions and rotates the token, then clears the users' pointers, as part of the
/// change `store` writes. `None` if the device does not exist.
pub async fn end_sessions(
    store: &Writer<'_>,
    mac: Mac,
    slot: Option<u16>,
) -> Result<Option<DeviceRecord>, StoreError> {
    let fresh = Secret::generate(LOGIN_TOKEN_LEN);
    // Indexed before it is stored: a crash in between leaves a harmless extra entry, never a
    // token the phone has but the index lacks.
    store.index_login_token(&fresh, mac).await?;
    let mut old_token = None;
    let updated = store
        .update_device(mac, |d| {
            let mut ended = Vec::new();
            d.sessions.retain(|s, session| {
                let ends = slot.is_none_or(|only| only == *s);
                if ends {
                    ended.push((*s, session.extension.clone()));
                }
                !ends
            });
            if d.hotdesk {
                old_token = d.login_token.replace(fresh.clone());
            }
            ended
        })
        .await?;
    let Some((device, ended)) = updated else {
        store.unindex_login_token(&fresh).await?;
        return Ok(None);
    };
    if device.login_token.as_ref() != Some(&fresh) {
        store.unindex_login_token(&fresh).await?;
    }
    if let Some(old) = &old_token {
        store.unindex_login_token(old).await?;
    }
    for (s, extension) in ended {
        clear_pointer(store, &extension, SessionRef { mac, slot: s }).await?;
    }
    Ok(Some(device))
}

/// Ends the user's session at `at` if it is still theirs (else just clears the stale pointer);
/// the device if a session ended.
pub async fn end_sessions_of(
    store: &Writer<'_>,
    extension: &Extension,
    at: SessionRef,
) -> Result<Option<DeviceRecord>, StoreError> {
    let theirs = store.device(at.mac).await?.is_some_and(|d| {
        d.sessions
            .get(&at.slot)
            .is_some_and(|s| s.extension == *extension)
    });
    if theirs {
        return end_sessions(store, at.mac, Some(at.slot)).await;
    }
    clear_pointer(store, extension, at).await?;
    Ok(None)
}

/// Clears the user's pointer if it still points at `at`.
async fn clear_pointer(
    store: &Writer<'_>,
    extension: &Extension,
    at: SessionRef,
) -> Result<(), StoreError> {
    store
        .update_user(extension, |u| {
            if u.hotdesk_at == Some(at) {
                u.hotdesk_at = None;
            }
        })
        .await?;
    Ok(())
}

/// Logs out every session whose time is up; the devices to tell to reload, as they were
/// before (a NOTIFY is answered with the account the phone still has).
pub async fn sweep_expired(app: &App, now: i64) -> Result<Vec<DeviceRecord>, StoreError> {
    let mut changed = Vec::new();
    let mut live = 0;
    for device in app.store.devices_with_sessions().await? {
        let settings = settings::of_device(app.store.reads(), &device).await?;
        for (slot, session) in &device.sessions {
            if is_live(session, &settings, now) {
                live += 1;
                continue;
            }
            if end_if_unchanged(app, device.mac, *slot, session, now)
                .await?
                .is_some()
                && !changed.iter().any(|d: &DeviceRecord| d.mac == device.mac)
            {
                changed.push(device.clone());
            }
        }
    }
    app.metrics.hotdesk_sessions(live);
    Ok(changed)
}

/// Ends the session the sweeper saw, if it is still there and still expired: a user who logged
/// in meanwhile keeps their login.
async fn end_if_unchanged(
    app: &App,
    mac: Mac,
    slot: u16,
    seen: &Session,
    now: i64,
) -> Result<Option<DeviceRecord>, StoreError> {
    let actor = Actor::system("hot-desk expiry");
    let mut tx = WriteTx::begin(app, &actor).await;
    let still = match tx.device(mac).await? {
        Some(d) => {
            let settings = settings::of_device(tx.reads(), &d).await?;
            d.sessions
                .get(&slot)
                .is_some_and(|s| s == seen && !is_live(s, &settings, now))
        }
        None => false,
    };
    if !still {
        return Ok(None);
    }
    let after = end_sessions(&tx, mac, Some(slot)).await?;
    tx.record(
        Kind::HotdeskLogout,
        mac,
        format!("{}: login time is up on line {slot}", seen.extension),
    );
    tx.commit().await?;
    Ok(after)
}

/// Hashes and stores a new PIN for the user; `false` if there is no such user.
/// `require_change`: the user must choose their own PIN at the next login.
pub async fn set_pin(
    app: &App,
    actor: &Actor,
    extension: &Extension,
    pin: &crate::domain::Pin,
    require_change: bool,
) -> Result<bool, crate::hotdesk::HotdeskError> {
    let hash = app.pins.hash(pin).await?;
    let tx = WriteTx::begin(app, actor).await;
    let updated = tx
        .update_user(extension, |u| {
            u.pin_hash = Some(hash.clone());
            u.pin_change_required = require_change;
        })
        .await?;
    tx.commit().await?;
    Ok(updated.is_some())
}
