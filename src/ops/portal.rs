//! The users' self-service portal: logging in with extension or e-mail address and portal
//! password, its sessions, and what a user changes of their own (PIN, portal password).
//!
//! Its brakes have the hot-desk PINs' numbers (`hotdesk.user_max_failures`,
//! `user_lockout_secs` doubling up to `user_lockout_max_secs`; `device_max_failures` within
//! `device_window_secs` throttle a source for `device_throttle_secs`) but counters of their own
//! (`portal:` guards): guessing here never locks the phone login, never counts towards the
//! site-wide pause or the phone listener's source bans. Each attempt is charged before its
//! password is checked, so concurrent guesses cannot all slip past the limit, and refunded when
//! it was right. A name that is no user is charged the same and checked against a dummy hash,
//! so the answer and its time do not tell users apart.

use std::net::IpAddr;

use super::tokens::sha256_hex;
use super::write::single_writes;
use super::{Actor, OpError, WriteTx, guard};
use crate::app::App;
use crate::audit::{Event, Kind};
use crate::domain::{Extension, Password, PasswordProblem, Pin, Secret};
use crate::model::{GuardRecord, PortalSession, UserRecord};
use crate::store::{StoreError, Writer};

pub use super::accounts::{IDLE_SECS, MAX_AGE_SECS};

const SEEN_RESOLUTION_SECS: i64 = 60;
const SESSION_ID_LEN: usize = 43;
const CSRF_LEN: usize = 32;
/// Sessions one user may hold at once; a new login ends the oldest beyond it.
const MAX_SESSIONS_PER_USER: usize = 10;
/// Longest login name looked at: an e-mail address.
const MAX_LOGIN_CHARS: usize = 254;

/// What a portal login came to.
pub enum LoginOutcome {
    LoggedIn {
        cookie: Secret,
        user: Box<UserRecord>,
    },
    /// A wrong name or password: the same answer, in the same time, for both.
    Refused,
    /// This source or this name failed too often; seconds until it may try again.
    Throttled(i64),
}

fn user_guard(login: &str) -> String {
    format!("portal:user:{login}")
}

fn source_guard(address: IpAddr) -> String {
    format!("portal:source:{}", super::bans::source_key(address))
}

/// What a login name's counters are kept under: a known user's extension whichever name they
/// typed; an unknown name its own.
pub(in crate::ops) fn login_key(login: &str, user: Option<&UserRecord>) -> String {
    match user {
        Some(u) => u.extension.to_string(),
        None => login
            .trim()
            .to_lowercase()
            .chars()
            .take(MAX_LOGIN_CHARS)
            .collect(),
    }
}

/// The user a login name means: an extension, else an e-mail address (any case).
pub async fn find_user(app: &App, login: &str) -> Result<Option<UserRecord>, StoreError> {
    let login = login.trim();
    if let Ok(extension) = Extension::parse(login) {
        return app.store.user(&extension).await;
    }
    if !login.contains('@') {
        return Ok(None);
    }
    let wanted = login.to_lowercase();
    let keep = |u: &UserRecord| {
        u.email
            .as_ref()
            .is_some_and(|e| e.as_str().to_lowercase() == wanted)
    };
    let (found, _) = app.store.users_page(None, 1, &keep).await?;
    Ok(found.into_iter().next())
}

/// Checks a login; on success opens a new session (a fresh id: nothing the browser brought is
/// kept).
pub async fn log_in(
    app: &App,
    login: &str,
    password: &str,
    source: IpAddr,
) -> Result<LoginOutcome, OpError> {
    let now = app.clock.now();
    let user = find_user(app, login).await?;
    let key = user_guard(&login_key(login, user.as_ref()));
    let charge = match charge(app, &key, source, now).await? {
        Ok(charge) => charge,
        Err(until) => return Ok(LoginOutcome::Throttled(until - now)),
    };
    let usable = user.as_ref().filter(|u| !u.locked);
    let secret = Secret::from_trusted(password.chars().take(Password::MAX_CHARS).collect());
    let stored = usable.and_then(|u| u.portal_password_hash.as_ref());
    let matched = app.portal_hashes.verify_secret(secret, stored).await;
    let Some(user) = usable.filter(|_| matched).cloned() else {
        failed(app, &charge, login, source).await;
        return Ok(LoginOutcome::Refused);
    };
    refund(app, &key, source).await?;
    let cookie = open_session(app, &user, now).await?;
    super::audit::record(
        app,
        Event::of(
            Kind::PortalLogin,
            &Actor::user(&user.extension, source),
            "logged in to the portal",
        )
        .subject(&user.extension),
    )
    .await;
    Ok(LoginOutcome::LoggedIn {
        cookie,
        user: Box::new(user),
    })
}

/// An attempt charged before its check, and the locks the charge set.
struct Charge {
    user_locked_until: Option<i64>,
    source_throttled_until: Option<i64>,
}

/// Charges an attempt to the name and the source; `Err(until)` if either is locked now (then
/// nothing is counted).
async fn charge(
    app: &App,
    key: &str,
    source: IpAddr,
    now: i64,
) -> Result<Result<Charge, i64>, StoreError> {
    let store = single_writes(app);
    let (by_source, by_user) = (
        app.store.guard(&source_guard(source)).await?,
        app.store.guard(key).await?,
    );
    let until = by_source.locked_until.max(by_user.locked_until);
    if until > now {
        return Ok(Err(until));
    }
    let policy = &app.config.hotdesk;
    let (user, user_locked) = store
        .update_guard(key, |g| {
            g.locked_until <= now && guard::count_lockout(g, policy.user_max_failures, policy, now)
        })
        .await?;
    let (throttle, source_throttled) = store
        .update_guard(&source_guard(source), |g| {
            g.locked_until <= now
                && guard::count_in_window(
                    g,
                    now,
                    policy.device_max_failures,
                    policy.device_window_secs,
                    policy.device_throttle_secs,
                )
        })
        .await?;
    Ok(Ok(Charge {
        user_locked_until: user_locked.then_some(user.locked_until),
        source_throttled_until: source_throttled.then_some(throttle.locked_until),
    }))
}

/// The password was wrong: the charge stands; the failure and any lock it set are recorded.
async fn failed(app: &App, charge: &Charge, login: &str, source: IpAddr) {
    let shown: String = login.trim().chars().take(64).collect();
    let event = Event::by(
        Kind::PortalLoginFailure,
        "unknown",
        "wrong login or portal password",
    )
    .actor_kind(crate::model::ActorKind::User)
    .source(source)
    .subject(if shown.is_empty() {
        "(empty)".into()
    } else {
        shown
    });
    super::audit::record(app, event).await;
    let locks = [
        charge.user_locked_until.map(|until| format!("portal logins of one name locked until {} after repeated wrong passwords", crate::clock::rfc3339(until))),
        charge.source_throttled_until.map(|until| format!("portal logins from the address refused until {}: too many failures (password spray?)", crate::clock::rfc3339(until))),
    ];
    for detail in locks.into_iter().flatten() {
        let event = Event::by(Kind::PortalLockout, "unknown", detail)
            .actor_kind(crate::model::ActorKind::User)
            .source(source);
        super::audit::record(app, event).await;
    }
}

/// The password was right: the name's failures are forgotten and the source gets its attempt
/// back.
async fn refund(app: &App, key: &str, source: IpAddr) -> Result<(), StoreError> {
    let store = single_writes(app);
    store.remove_guard(key).await?;
    store
        .update_guard(&source_guard(source), |g: &mut GuardRecord| {
            g.failures = g.failures.saturating_sub(1);
        })
        .await?;
    Ok(())
}

async fn open_session(app: &App, user: &UserRecord, now: i64) -> Result<Secret, StoreError> {
    let cookie = Secret::generate(SESSION_ID_LEN);
    let session = PortalSession {
        id_sha256: sha256_hex(cookie.expose()),
        extension: user.extension.clone(),
        csrf: Secret::generate(CSRF_LEN),
        language: None,
        created_at: now,
        last_seen_at: now,
    };
    let writer = single_writes(app);
    writer.put_portal_session(&session).await?;
    let mut held = writer.portal_sessions_of(&user.extension).await?;
    while held.len() > MAX_SESSIONS_PER_USER {
        let oldest = held.remove(0);
        writer.remove_portal_session(&oldest.id_sha256).await?;
    }
    writer.flush().await?;
    Ok(cookie)
}

/// The session and user a cookie names, if the session is alive and the user exists and is
/// not locked; notes the request (at most once a minute). An expired session is removed.
pub async fn resume(
    app: &App,
    cookie: &str,
) -> Result<Option<(PortalSession, UserRecord)>, StoreError> {
    let now = app.clock.now();
    let Some(mut session) = app.store.portal_session(&sha256_hex(cookie)).await? else {
        return Ok(None);
    };
    let expired =
        now - session.last_seen_at >= IDLE_SECS || now - session.created_at >= MAX_AGE_SECS;
    let user = app.store.user(&session.extension).await?;
    let Some(user) = user.filter(|u| !u.locked && !expired) else {
        single_writes(app)
            .remove_portal_session(&session.id_sha256)
            .await?;
        return Ok(None);
    };
    if now - session.last_seen_at >= SEEN_RESOLUTION_SECS {
        session.last_seen_at = now;
        single_writes(app).put_portal_session(&session).await?;
    }
    Ok(Some((session, user)))
}

/// Ends the session.
pub async fn log_out(app: &App, session: &PortalSession, source: IpAddr) -> Result<(), OpError> {
    let writer = single_writes(app);
    writer.remove_portal_session(&session.id_sha256).await?;
    writer.flush().await?;
    let actor = Actor::user(&session.extension, source);
    let event = Event::of(Kind::PortalLogout, &actor, "logged out of the portal");
    super::audit::record(app, event.subject(&session.extension)).await;
    Ok(())
}

/// The language the user chose in the portal, remembered on their record: the portal's
/// pages and their mails are in it from then on (their phone's too, while they are on its
/// first line).
pub async fn set_language(
    app: &App,
    by: &Actor,
    extension: &Extension,
    language: &str,
) -> Result<(), OpError> {
    if !crate::console::LANGUAGES.contains(&language) {
        return Err(OpError::invalid("language: must be de or en"));
    }
    let mut tx = WriteTx::begin(app, by).await;
    let (_, before) = tx
        .update_user(extension, |u| u.language.replace(language.to_string()))
        .await?
        .ok_or_else(|| OpError::not_found(format!("no user with extension {extension}")))?;
    if before.as_deref() != Some(language) {
        tx.changed(
            extension,
            format!("language set to {language} in the portal"),
        );
    }
    tx.commit().await?;
    Ok(())
}

/// Ends the user's portal sessions but `except` in the change `store` writes; how many ended.
pub(in crate::ops) async fn end_sessions_of(
    store: &Writer<'_>,
    extension: &Extension,
    except: Option<&str>,
) -> Result<usize, StoreError> {
    let mut ended = 0;
    for session in store.portal_sessions_of(extension).await? {
        if Some(session.id_sha256.as_str()) != except {
            store.remove_portal_session(&session.id_sha256).await?;
            ended += 1;
        }
    }
    Ok(ended)
}

/// Why a change of one's own PIN or portal password was refused (and nothing changed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    WrongPassword,
    Unchanged,
    Password(PasswordProblem),
    /// The PIN policy's reason, in English (the page says it in its own words).
    Pin(String),
}

async fn password_matches(app: &App, user: &UserRecord, given: &str) -> bool {
    let secret = Secret::from_trusted(given.chars().take(Password::MAX_CHARS).collect());
    app.portal_hashes
        .verify_secret(secret, user.portal_password_hash.as_ref())
        .await
}

/// The user's own portal password change: the current one is asked again; every other portal
/// session ends, and any one-time link is invalidated.
pub async fn change_password(
    app: &App,
    by: &Actor,
    session: &PortalSession,
    current: &str,
    new: &str,
) -> Result<Result<(), Refusal>, OpError> {
    let user = super::users::existing(app.store.reads(), &session.extension).await?;
    if !password_matches(app, &user, current).await {
        return Ok(Err(Refusal::WrongPassword));
    }
    let password = match super::portal_password::check(new, &user) {
        Ok(password) => password,
        Err(problem) => return Ok(Err(Refusal::Password(problem))),
    };
    if new == current {
        return Ok(Err(Refusal::Unchanged));
    }
    let hash = super::portal_password::hash(app, &password).await?;
    let mut tx = WriteTx::begin(app, by).await;
    tx.update_user(&session.extension, |u| {
        u.portal_password_hash = Some(hash.clone());
        u.password_change_required = false;
        u.portal_link_sha256 = None;
    })
    .await?
    .ok_or_else(|| OpError::not_found("the user is gone"))?;
    let ended = end_sessions_of(&tx, &session.extension, Some(&session.id_sha256)).await?;
    tx.record(
        Kind::PasswordChanged,
        &session.extension,
        format!("portal password changed by the user; {ended} other portal sessions ended"),
    );
    tx.commit().await?;
    Ok(Ok(()))
}

/// The user's own PIN change: the portal password is asked again, the PIN policy applies.
pub async fn change_pin(
    app: &App,
    by: &Actor,
    session: &PortalSession,
    password: &str,
    new_pin: &str,
) -> Result<Result<(), Refusal>, OpError> {
    let user = super::users::existing(app.store.reads(), &session.extension).await?;
    if !password_matches(app, &user, password).await {
        return Ok(Err(Refusal::WrongPassword));
    }
    let pin = match Pin::parse(new_pin) {
        Ok(pin) => pin,
        Err(e) => return Ok(Err(Refusal::Pin(e.to_string()))),
    };
    if let Err(e) = app.config.hotdesk.pin_policy().check(&pin, &user.extension) {
        return Ok(Err(Refusal::Pin(e.to_string())));
    }
    // On the portal's own hashing thread: the hot-desk logins' permits stay theirs.
    let hash = app
        .portal_hashes
        .hash(&pin)
        .await
        .map_err(|e| OpError::Internal(e.to_string()))?;
    let mut tx = WriteTx::begin(app, by).await;
    tx.update_user(&session.extension, |u| {
        u.pin_hash = Some(hash.clone());
        u.pin_change_required = false;
    })
    .await?
    .ok_or_else(|| OpError::not_found("the user is gone"))?;
    tx.record(
        Kind::PinChanged,
        &session.extension,
        "PIN changed by the user in the portal",
    );
    tx.commit().await?;
    Ok(Ok(()))
}

/// Logs the user out of the hot-desk phone they are at; whether they were logged in.
pub async fn log_out_hotdesk(
    app: &App,
    by: &Actor,
    extension: &Extension,
) -> Result<bool, OpError> {
    let left =
        super::sessions::log_out_user(app, by, extension, "logged out remotely in the portal")
            .await?;
    if let Some(device) = &left {
        crate::notify::reload(app, device);
    }
    Ok(left.is_some())
}
