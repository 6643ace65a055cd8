//! Console accounts: the first owner account, logging in with its brake, sessions that expire,
//! password changes, the holder's language. Passwords are argon2id hashes on threads of their
//! own (`App::passwords`); session cookies are stored only as their SHA-256.
//!
//! The brake never locks an account, so nobody can lock the owner out by guessing: failures
//! against an account slow every attempt at it (at most [`MAX_ACCOUNT_DELAY_MS`]), and a source
//! that keeps failing is throttled (429) for a while, as wrong admin tokens are.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::tokens::sha256_hex;
use super::write::{Permit, single_writes};
use super::{Actor, OpError, WriteTx};
use crate::app::App;
use crate::audit::{Event, Kind};
use crate::domain::{Password, PasswordProblem, Role, Secret, Username};
use crate::model::{AccountRecord, ActorKind, ConsoleSession};
use crate::store::{Store, StoreError};

/// A session ends after this long without a request...
pub const IDLE_SECS: i64 = 30 * 60;
/// ...and this long after the login, whatever happens.
pub const MAX_AGE_SECS: i64 = 12 * 3600;
/// How stale a session's `last_seen_at` may get before a request writes it again.
const SEEN_RESOLUTION_SECS: i64 = 60;
/// Sessions one account may hold at once; a new login ends the oldest beyond it.
const MAX_SESSIONS_PER_ACCOUNT: usize = 10;

/// Failures against one account before each attempt at it is slowed.
const ACCOUNT_FREE_FAILURES: u32 = 5;
const MAX_ACCOUNT_DELAY_MS: u64 = 2000;
/// Failures from one source within the window before it is throttled.
const SOURCE_MAX_FAILURES: u32 = 10;
const SOURCE_WINDOW_SECS: i64 = 15 * 60;
const SOURCE_THROTTLE_SECS: i64 = 5 * 60;
/// How long an account's failures keep slowing its logins.
const ACCOUNT_WINDOW_SECS: i64 = 15 * 60;

const SESSION_ID_LEN: usize = 43;
const CSRF_LEN: usize = 32;
/// The name of the account made on a first start.
const FIRST_OWNER: &str = "admin";

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("writing the owner's first password to {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("hashing the owner's first password: {0}")]
    Hash(String),
}

/// Whenever no owner account is enabled (a first start, an upgraded site, the last owner
/// disabled by hand), creates one with a random password written to `password_file` (mode
/// 0600), to be changed at the first login. Returns the account's name and the file's path.
/// Runs at start-up, before anything else can write.
pub async fn ensure_owner_account(
    store: &Store,
    password_file: &Path,
    now: i64,
) -> Result<Option<(Username, PathBuf)>, AccountError> {
    // Checked under the write lock: nodes starting together on one database make one owner.
    let writer = store.begin(Permit::new()).await;
    let accounts = writer.accounts().await?;
    if accounts
        .iter()
        .any(|a| a.role == Role::Owner && !a.disabled)
    {
        return Ok(None);
    }
    let username = free_name(&accounts);
    let password = Password::generate();
    write_private(password_file, password.secret())?;
    let hash = hash_now(password.secret().clone()).await?;
    let record = AccountRecord {
        username: username.clone(),
        password_hash: hash,
        role: Role::Owner,
        reads_secrets: true,
        disabled: false,
        password_change_required: true,
        language: None,
        created_at: now,
        password_changed_at: now,
        totp_secret: None,
        totp_pending: None,
        totp_last_step: 0,
        totp_required: false,
    };
    writer.insert_account(&record).await?;
    let event = Event::by(
        Kind::AdminChange,
        "deskprov",
        "owner account created; its first password is in the password file",
    )
    .actor_kind(ActorKind::System)
    .subject(&username);
    writer.append_audit(event.to_record(now)).await?;
    writer.flush().await?;
    event.log();
    Ok(Some((username, password_file.to_path_buf())))
}

/// `admin`, or `admin-2`, `admin-3`... when that name is taken by an account that is not an
/// enabled owner.
fn free_name(accounts: &[AccountRecord]) -> Username {
    let taken = |name: &str| accounts.iter().any(|a| a.username.as_str() == name);
    let name = std::iter::once(FIRST_OWNER.to_string())
        .chain((2..).map(|n| format!("{FIRST_OWNER}-{n}")))
        .find(|name| !taken(name))
        .expect("some name is free");
    Username::parse(&name).expect("a valid name")
}

fn write_private(path: &Path, secret: &Secret) -> Result<(), AccountError> {
    super::tokens::write_secret_file(path, secret).map_err(|source| AccountError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// One hash at start-up (or offline), before (without) the hashing threads.
pub(super) async fn hash_now(secret: Secret) -> Result<Secret, AccountError> {
    tokio::task::spawn_blocking(move || {
        use argon2::password_hash::PasswordHasher;
        argon2::Argon2::default()
            .hash_password(secret.expose().as_bytes())
            .map(|h| Secret::from_trusted(h.to_string()))
            .map_err(|e| AccountError::Hash(e.to_string()))
    })
    .await
    .map_err(|e| AccountError::Hash(e.to_string()))?
}

/// What a login attempt came to.
pub enum LoginOutcome {
    /// The cookie's value (shown to the browser only) and the session it names.
    LoggedIn {
        cookie: Secret,
        account: AccountRecord,
    },
    /// The password was right and the account has a second factor: the login waits for its
    /// code under the login cookie's new value (no session yet).
    CodeNeeded {
        cookie: Secret,
        pending: super::totp::PendingLogin,
    },
    /// A wrong name or password: the same answer, in the same time, for both.
    Refused,
    /// This source failed too often; seconds until it may try again.
    Throttled(i64),
}

fn account_guard(username: &str) -> String {
    format!("console:account:{username}")
}

fn source_guard(address: IpAddr) -> String {
    format!("console:source:{}", super::bans::source_key(address))
}

/// Checks a login; on success opens a new session (a fresh id: nothing the browser brought
/// before is kept).
pub async fn log_in(
    app: &App,
    username: &str,
    password: &str,
    source: IpAddr,
) -> Result<LoginOutcome, OpError> {
    let now = app.clock.now();
    if let Some(seconds) = throttled(app, source, now).await? {
        return Ok(LoginOutcome::Throttled(seconds));
    }
    let name = Username::parse(username).ok();
    let account = match &name {
        Some(name) => app.store.account(name).await?,
        None => None,
    };
    slow_down(app, username, now).await?;
    let usable = account.as_ref().filter(|a| !a.disabled);
    let secret = Secret::from_trusted(password.chars().take(Password::MAX_CHARS).collect());
    let matched = app
        .passwords
        .verify_secret(secret, usable.map(|a| &a.password_hash))
        .await;
    let Some(account) = usable.filter(|_| matched).cloned() else {
        charge_failure(app, username, source, now, Failure::Password).await?;
        return Ok(LoginOutcome::Refused);
    };
    if account.totp_secret.is_some() {
        let (cookie, pending) = app.pending_logins.open(&account.username, now);
        return Ok(LoginOutcome::CodeNeeded { cookie, pending });
    }
    let cookie = logged_in(app, &account, source, now, "logged in").await?;
    Ok(LoginOutcome::LoggedIn { cookie, account })
}

/// Seconds this source must still wait after failing too often, if it must.
pub(in crate::ops) async fn throttled(
    app: &App,
    source: IpAddr,
    now: i64,
) -> Result<Option<i64>, StoreError> {
    let throttle = app.store.guard(&source_guard(source)).await?;
    Ok((throttle.locked_until > now).then(|| throttle.locked_until - now))
}

/// A login that passed every check: the account's failures forgotten, a new session (a fresh
/// id: nothing the browser brought before is kept), recorded as `how`; the session's cookie.
pub(in crate::ops) async fn logged_in(
    app: &App,
    account: &AccountRecord,
    source: IpAddr,
    now: i64,
    how: &str,
) -> Result<Secret, OpError> {
    single_writes(app)
        .remove_guard(&account_guard(account.username.as_str()))
        .await?;
    let (cookie, _) = open_session(app, account, now).await?;
    super::audit::record(
        app,
        Event::of(Kind::ConsoleLogin, &Actor::account(account, source), how)
            .subject(&account.username),
    )
    .await;
    Ok(cookie)
}

/// Every failure against the name past the free ones doubles the wait before the check.
pub(in crate::ops) async fn slow_down(
    app: &App,
    username: &str,
    now: i64,
) -> Result<(), StoreError> {
    let key = account_guard(
        &username
            .chars()
            .take(Username::MAX_CHARS)
            .collect::<String>(),
    );
    let guard = app.store.guard(&key).await?;
    if now - guard.window_start >= ACCOUNT_WINDOW_SECS || guard.failures < ACCOUNT_FREE_FAILURES {
        return Ok(());
    }
    let doublings = (guard.failures - ACCOUNT_FREE_FAILURES).min(8);
    let delay = (200u64 << doublings).min(MAX_ACCOUNT_DELAY_MS);
    tokio::time::sleep(Duration::from_millis(delay)).await;
    Ok(())
}

/// What a failed login got wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::ops) enum Failure {
    Password,
    /// The second step: a wrong or replayed TOTP code after the right password.
    Code,
}

pub(in crate::ops) async fn charge_failure(
    app: &App,
    username: &str,
    source: IpAddr,
    now: i64,
    failure: Failure,
) -> Result<(), StoreError> {
    let writer = single_writes(app);
    let name: String = username.chars().take(Username::MAX_CHARS).collect();
    writer
        .update_guard(&account_guard(&name), |g| {
            if now - g.window_start >= ACCOUNT_WINDOW_SECS {
                g.failures = 0;
                g.window_start = now;
            }
            g.failures = g.failures.saturating_add(1);
        })
        .await?;
    let (_, throttled) = writer
        .update_guard(&source_guard(source), |g| {
            if now - g.window_start >= SOURCE_WINDOW_SECS {
                g.failures = 0;
                g.window_start = now;
            }
            g.failures += 1;
            if g.failures < SOURCE_MAX_FAILURES {
                return false;
            }
            g.failures = 0;
            g.lockouts += 1;
            g.locked_until = now + SOURCE_THROTTLE_SECS;
            true
        })
        .await?;
    let shown =
        Username::parse(&name).map_or_else(|_| "(not a user name)".to_string(), |n| n.to_string());
    let failure = match failure {
        Failure::Password => Event::by(
            Kind::ConsoleLoginFailure,
            "unknown",
            "wrong user name or password",
        ),
        Failure::Code => Event::by(
            Kind::TotpFailed,
            &name,
            "wrong or reused TOTP code at login",
        ),
    }
    .source(source)
    .subject(shown);
    super::audit::record(app, failure).await;
    if throttled {
        let event = Event::by(
            Kind::ConsoleThrottled,
            "unknown",
            format!(
                "{SOURCE_MAX_FAILURES} failed console logins within {SOURCE_WINDOW_SECS} s; logins from the address refused for {SOURCE_THROTTLE_SECS} s"
            ),
        )
        .source(source);
        super::audit::record(app, event).await;
    }
    Ok(())
}

async fn open_session(
    app: &App,
    account: &AccountRecord,
    now: i64,
) -> Result<(Secret, ConsoleSession), StoreError> {
    let cookie = Secret::generate(SESSION_ID_LEN);
    let session = ConsoleSession {
        id_sha256: sha256_hex(cookie.expose()),
        username: account.username.clone(),
        csrf: Secret::generate(CSRF_LEN),
        created_at: now,
        last_seen_at: now,
    };
    let writer = app.store.begin(Permit::new()).await;
    writer.put_console_session(&session).await?;
    let mut held = writer.console_sessions_of(&account.username).await?;
    while held.len() > MAX_SESSIONS_PER_ACCOUNT {
        let oldest = held.remove(0);
        writer.remove_console_session(&oldest.id_sha256).await?;
    }
    writer.flush().await?;
    Ok((cookie, session))
}

/// The session and account a cookie names, if the session is still alive and its account
/// enabled; notes the request (at most once a minute). An expired session is removed.
pub async fn resume(
    app: &App,
    cookie: &str,
) -> Result<Option<(ConsoleSession, AccountRecord)>, StoreError> {
    let now = app.clock.now();
    let Some(mut session) = app.store.console_session(&sha256_hex(cookie)).await? else {
        return Ok(None);
    };
    let expired =
        now - session.last_seen_at >= IDLE_SECS || now - session.created_at >= MAX_AGE_SECS;
    let account = app.store.account(&session.username).await?;
    let Some(account) = account.filter(|a| !a.disabled && !expired) else {
        single_writes(app)
            .remove_console_session(&session.id_sha256)
            .await?;
        return Ok(None);
    };
    if now - session.last_seen_at >= SEEN_RESOLUTION_SECS {
        session.last_seen_at = now;
        single_writes(app).put_console_session(&session).await?;
    }
    Ok(Some((session, account)))
}

/// Ends the session.
pub async fn log_out(app: &App, session: &ConsoleSession, source: IpAddr) -> Result<(), OpError> {
    let writer = app.store.begin(Permit::new()).await;
    writer.remove_console_session(&session.id_sha256).await?;
    writer.flush().await?;
    drop(writer);
    super::audit::record(
        app,
        Event::by(Kind::ConsoleLogout, session.username.as_str(), "logged out")
            .actor_kind(ActorKind::Account)
            .source(source)
            .subject(&session.username),
    )
    .await;
    Ok(())
}

/// Why a password change was refused (and nothing changed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordRefusal {
    WrongCurrent,
    Unchanged,
    Problem(PasswordProblem),
}

/// The account holder's own password change: the current one is asked again; every other
/// session of the account ends.
pub async fn change_own_password(
    app: &App,
    by: &Actor,
    session: &ConsoleSession,
    current: &str,
    new: &str,
) -> Result<Result<(), PasswordRefusal>, OpError> {
    let username = &session.username;
    let Some(account) = app.store.account(username).await? else {
        return Err(OpError::not_found(format!("no account named {username}")));
    };
    let current_secret = Secret::from_trusted(current.chars().take(Password::MAX_CHARS).collect());
    if !app
        .passwords
        .verify_secret(current_secret, Some(&account.password_hash))
        .await
    {
        return Ok(Err(PasswordRefusal::WrongCurrent));
    }
    let password = match Password::parse(new, username) {
        Ok(password) => password,
        Err(problem) => return Ok(Err(PasswordRefusal::Problem(problem))),
    };
    if new == current {
        return Ok(Err(PasswordRefusal::Unchanged));
    }
    let hash = app
        .passwords
        .hash_secret(password.secret().clone())
        .await
        .map_err(|e| OpError::Internal(e.to_string()))?;
    let mut tx = WriteTx::begin(app, by).await;
    let mut changed = tx
        .account(username)
        .await?
        .ok_or_else(|| OpError::not_found(format!("no account named {username}")))?;
    changed.password_hash = hash;
    changed.password_change_required = false;
    changed.password_changed_at = app.clock.now();
    tx.replace_account(&changed).await?;
    let others = tx.console_sessions_of(username).await?;
    let mut ended = 0;
    for other in others.iter().filter(|s| s.id_sha256 != session.id_sha256) {
        tx.remove_console_session(&other.id_sha256).await?;
        ended += 1;
    }
    tx.record(
        Kind::PasswordChanged,
        username,
        format!("console password changed; {ended} other sessions ended"),
    );
    tx.commit().await?;
    Ok(Ok(()))
}

/// The language the holder chose for the console (`de` or `en`).
pub async fn set_language(
    app: &App,
    by: &Actor,
    username: &Username,
    language: &str,
) -> Result<(), OpError> {
    if !crate::console::LANGUAGES.contains(&language) {
        return Err(OpError::invalid("language: must be de or en"));
    }
    let mut tx = WriteTx::begin(app, by).await;
    let mut account = tx
        .account(username)
        .await?
        .ok_or_else(|| OpError::not_found(format!("no account named {username}")))?;
    account.language = Some(language.to_string());
    tx.replace_account(&account).await?;
    tx.changed(username, format!("console language set to {language}"));
    tx.commit().await?;
    Ok(())
}
