//! The console's TOTP second factor (RFC 6238 as every authenticator app takes it: HMAC-SHA-1,
//! 6 digits, 30 s steps, one step of skew either way), for any account.
//!
//! Enrolment keeps a fresh secret pending on the account until the holder confirms it with
//! their password and a code; only then does it count. Each accepted code moves the account's
//! last step on, and a code of that step or an earlier one is refused, so a code seen over a
//! shoulder cannot be used again. The owner may require the factor for an account (its holder
//! then can only enrol) and reset it when an authenticator is lost.
//!
//! A login whose password was right waits for its code in [`PendingLogins`]: in memory, bound
//! to the login cookie, a few minutes long, and no session until the code is right.

use std::collections::HashMap;
use std::sync::Mutex;

use totp_rs::{Algorithm, Builder, Totp};

use super::tokens::sha256_hex;
use super::{Actor, OpError, WriteTx};
use crate::app::App;
use crate::audit::Kind;
use crate::domain::{Password, Secret, Username};
use crate::model::{AccountRecord, ConsoleSession};

/// 160 bits, as RFC 4226 recommends.
const SECRET_BYTES: usize = 20;
const DIGITS: u8 = 6;
const STEP_SECS: u64 = 30;
/// What the authenticator app shows above the account's name.
const ISSUER: &str = "deskprov";
/// How long a login with the right password waits for its code...
const PENDING_SECS: i64 = 5 * 60;
/// ...and how many wrong codes it takes before the password is asked again.
const PENDING_TRIES: u32 = 5;
/// Logins waiting at once; beyond it the oldest is dropped.
const MAX_PENDING: usize = 1024;
const PENDING_ID_LEN: usize = 43;
const CSRF_LEN: usize = 32;

/// A fresh secret, base32 (RFC 4648, no padding) as authenticator apps take it typed in.
pub fn new_secret() -> Secret {
    let bytes: [u8; SECRET_BYTES] = rand::random();
    Secret::from_trusted(totp_rs::Secret::from(bytes).to_base32())
}

fn totp(secret: &Secret, username: &str) -> Option<Totp> {
    let bytes = totp_rs::Secret::try_from_base32(secret.expose()).ok()?;
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(DIGITS)
        .with_skew(1)
        .with_step_duration(STEP_SECS)
        .with_secret(bytes)
        .with_issuer(Some(ISSUER))
        .with_account_name(username)
        .build()
        .ok()
}

/// The `otpauth://` URI the enrolment's QR code holds.
pub fn otpauth_uri(secret: &Secret, username: &Username) -> Option<String> {
    totp(secret, username.as_str())?.to_url().ok()
}

/// The time step `code` belongs to at `now` (one step of skew either way), if any. Spaces a
/// holder typed between the digits are ignored.
fn matched_step(secret: &Secret, code: &str, now: i64) -> Option<u64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != usize::from(DIGITS) || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    totp(secret, "x")?.check(&code, u64::try_from(now).ok()?)
}

/// Whether `code` is right for the account's secret and newer than the last one accepted.
pub(in crate::ops) fn fresh_step(account: &AccountRecord, code: &str, now: i64) -> Option<u64> {
    let secret = account.totp_secret.as_ref()?;
    matched_step(secret, code, now).filter(|step| *step > account.totp_last_step)
}

/// Why an own TOTP change was refused (and nothing changed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TotpRefusal {
    WrongPassword,
    WrongCode,
    /// Confirming without an enrolment begun (or after it was confirmed elsewhere).
    NothingPending,
    AlreadyEnrolled,
    NotEnrolled,
    /// The owner requires the factor: it cannot be removed by its holder.
    Required,
}

async fn account_of(tx: &WriteTx<'_>, username: &Username) -> Result<AccountRecord, OpError> {
    tx.account(username)
        .await?
        .ok_or_else(|| OpError::not_found(format!("no account named {username}")))
}

async fn password_matches(app: &App, account: &AccountRecord, password: &str) -> bool {
    let secret = Secret::from_trusted(password.chars().take(Password::MAX_CHARS).collect());
    app.passwords
        .verify_secret(secret, Some(&account.password_hash))
        .await
}

/// Begins (or begins again) the holder's enrolment: a new pending secret, shown to them.
pub async fn start_enrolment(
    app: &App,
    by: &Actor,
    username: &Username,
) -> Result<Result<Secret, TotpRefusal>, OpError> {
    let tx = WriteTx::begin(app, by).await;
    let mut account = account_of(&tx, username).await?;
    if account.totp_secret.is_some() {
        return Ok(Err(TotpRefusal::AlreadyEnrolled));
    }
    let secret = new_secret();
    account.totp_pending = Some(secret.clone());
    tx.replace_account(&account).await?;
    tx.commit().await?;
    Ok(Ok(secret))
}

/// Confirms the pending secret with the password and a code from the app: from now on a
/// login needs a code. Every other session of the account ends.
pub async fn confirm_enrolment(
    app: &App,
    by: &Actor,
    session: &ConsoleSession,
    password: &str,
    code: &str,
) -> Result<Result<(), TotpRefusal>, OpError> {
    let username = &session.username;
    let Some(account) = app.store.account(username).await? else {
        return Err(OpError::not_found(format!("no account named {username}")));
    };
    let password_ok = password_matches(app, &account, password).await;
    let mut tx = WriteTx::begin(app, by).await;
    let mut account = account_of(&tx, username).await?;
    let Some(pending) = account.totp_pending.clone() else {
        return Ok(Err(TotpRefusal::NothingPending));
    };
    let step = matched_step(&pending, code, app.clock.now());
    let Some(step) = step.filter(|_| password_ok) else {
        let refusal = refusal(password_ok);
        tx.record(Kind::TotpFailed, username, failure_text(refusal, "set-up"));
        tx.commit().await?;
        return Ok(Err(refusal));
    };
    account.totp_secret = Some(pending);
    account.totp_pending = None;
    account.totp_last_step = step;
    tx.replace_account(&account).await?;
    let ended = end_other_sessions(&tx, session).await?;
    tx.record(
        Kind::TotpEnrolled,
        username,
        format!("TOTP second factor set up; {ended} other sessions ended"),
    );
    tx.commit().await?;
    Ok(Ok(()))
}

fn refusal(password_ok: bool) -> TotpRefusal {
    match password_ok {
        true => TotpRefusal::WrongCode,
        false => TotpRefusal::WrongPassword,
    }
}

fn failure_text(refusal: TotpRefusal, what: &str) -> String {
    match refusal {
        TotpRefusal::WrongPassword => format!("wrong password at the TOTP {what}"),
        _ => format!("wrong TOTP code at the TOTP {what}"),
    }
}

async fn end_other_sessions(tx: &WriteTx<'_>, session: &ConsoleSession) -> Result<usize, OpError> {
    let mut ended = 0;
    for other in tx.console_sessions_of(&session.username).await? {
        if other.id_sha256 != session.id_sha256 {
            tx.remove_console_session(&other.id_sha256).await?;
            ended += 1;
        }
    }
    Ok(ended)
}

/// The holder removes their second factor, with their password and a current code; refused
/// while the owner requires it.
pub async fn remove_own(
    app: &App,
    by: &Actor,
    session: &ConsoleSession,
    password: &str,
    code: &str,
) -> Result<Result<(), TotpRefusal>, OpError> {
    let username = &session.username;
    let Some(account) = app.store.account(username).await? else {
        return Err(OpError::not_found(format!("no account named {username}")));
    };
    if account.totp_secret.is_none() {
        return Ok(Err(TotpRefusal::NotEnrolled));
    }
    if account.totp_required {
        return Ok(Err(TotpRefusal::Required));
    }
    let password_ok = password_matches(app, &account, password).await;
    let mut tx = WriteTx::begin(app, by).await;
    let mut account = account_of(&tx, username).await?;
    if account.totp_required {
        return Ok(Err(TotpRefusal::Required));
    }
    let fresh = fresh_step(&account, code, app.clock.now());
    if fresh.is_none() || !password_ok {
        let refusal = refusal(password_ok);
        tx.record(Kind::TotpFailed, username, failure_text(refusal, "removal"));
        tx.commit().await?;
        return Ok(Err(refusal));
    }
    clear(&mut account);
    tx.replace_account(&account).await?;
    tx.record(
        Kind::TotpRemoved,
        username,
        "TOTP second factor removed by its holder",
    );
    tx.commit().await?;
    Ok(Ok(()))
}

fn clear(account: &mut AccountRecord) {
    account.totp_secret = None;
    account.totp_pending = None;
    account.totp_last_step = 0;
}

/// The owner requires the second factor for an account, or stops requiring it. An account
/// required to have one and without it can only open the enrolment page, from its next request.
pub async fn set_required(
    app: &App,
    by: &Actor,
    username: &Username,
    required: bool,
) -> Result<AccountRecord, OpError> {
    let mut tx = WriteTx::begin(app, by).await;
    let mut account = account_of(&tx, username).await?;
    if account.totp_required != required {
        account.totp_required = required;
        tx.replace_account(&account).await?;
        let detail = match required {
            true => "TOTP second factor required",
            false => "TOTP second factor no longer required",
        };
        tx.changed(username, detail);
    }
    tx.commit().await?;
    Ok(account)
}

/// The owner removes an account's second factor (its authenticator was lost); the holder
/// logs in with the password alone, and enrols again where the factor is required.
pub async fn reset(app: &App, by: &Actor, username: &Username) -> Result<AccountRecord, OpError> {
    let mut tx = WriteTx::begin(app, by).await;
    let mut account = account_of(&tx, username).await?;
    if account.totp_secret.is_none() && account.totp_pending.is_none() {
        return Err(OpError::conflict(format!(
            "totp: {username} has no TOTP second factor"
        )));
    }
    clear(&mut account);
    tx.replace_account(&account).await?;
    tx.record(
        Kind::TotpRemoved,
        username,
        "TOTP second factor reset by the owner",
    );
    tx.commit().await?;
    Ok(account)
}

/// Logins whose password was right, waiting for their code; by the SHA-256 of the login
/// cookie that names them.
#[derive(Default)]
pub struct PendingLogins {
    waiting: Mutex<HashMap<String, PendingLogin>>,
}

#[derive(Clone)]
pub struct PendingLogin {
    pub username: Username,
    /// The code form repeats it.
    pub csrf: Secret,
    created_at: i64,
    tries: u32,
}

impl PendingLogins {
    fn waiting(&self) -> std::sync::MutexGuard<'_, HashMap<String, PendingLogin>> {
        self.waiting.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new waiting login; the login cookie's value that names it.
    pub fn open(&self, username: &Username, now: i64) -> (Secret, PendingLogin) {
        let cookie = Secret::generate(PENDING_ID_LEN);
        let pending = PendingLogin {
            username: username.clone(),
            csrf: Secret::generate(CSRF_LEN),
            created_at: now,
            tries: 0,
        };
        let mut waiting = self.waiting();
        waiting.retain(|_, p| now - p.created_at < PENDING_SECS);
        if waiting.len() >= MAX_PENDING
            && let Some(oldest) = waiting
                .iter()
                .min_by_key(|(_, p)| p.created_at)
                .map(|(k, _)| k.clone())
        {
            waiting.remove(&oldest);
        }
        waiting.insert(sha256_hex(cookie.expose()), pending.clone());
        (cookie, pending)
    }

    /// The login `cookie` names, while it is young enough.
    pub fn get(&self, cookie: &str, now: i64) -> Option<PendingLogin> {
        let key = sha256_hex(cookie);
        let mut waiting = self.waiting();
        let alive = waiting
            .get(&key)
            .is_some_and(|p| now - p.created_at < PENDING_SECS);
        if !alive {
            waiting.remove(&key);
            return None;
        }
        waiting.get(&key).cloned()
    }

    /// Counts a wrong code; whether the login may still try.
    fn charge(&self, cookie: &str) -> bool {
        let key = sha256_hex(cookie);
        let mut waiting = self.waiting();
        let Some(pending) = waiting.get_mut(&key) else {
            return false;
        };
        pending.tries += 1;
        if pending.tries >= PENDING_TRIES {
            waiting.remove(&key);
            return false;
        }
        true
    }

    fn end(&self, cookie: &str) {
        self.waiting().remove(&sha256_hex(cookie));
    }
}

/// What the second step of a login came to.
pub enum CodeOutcome {
    /// The code was right: the new session's cookie, as at a login without the factor.
    LoggedIn {
        cookie: Secret,
        account: Box<AccountRecord>,
    },
    /// A wrong (or replayed) code; `true` while the same login may try again.
    Wrong(bool),
    /// No such login waiting (expired, or its account changed): the password again.
    Gone,
    Throttled(i64),
}

/// Checks the code of the login `cookie` names; a wrong one counts against the account's and
/// the source's brakes as a wrong password does.
pub async fn log_in_with_code(
    app: &App,
    cookie: &str,
    code: &str,
    source: std::net::IpAddr,
) -> Result<CodeOutcome, OpError> {
    let now = app.clock.now();
    let Some(pending) = app.pending_logins.get(cookie, now) else {
        return Ok(CodeOutcome::Gone);
    };
    if let Some(seconds) = super::accounts::throttled(app, source, now).await? {
        return Ok(CodeOutcome::Throttled(seconds));
    }
    super::accounts::slow_down(app, pending.username.as_str(), now).await?;
    let Some(account) = accept_code(app, &pending.username, code, now).await? else {
        let username = pending.username.as_str();
        let failure = super::accounts::Failure::Code;
        super::accounts::charge_failure(app, username, source, now, failure).await?;
        return Ok(CodeOutcome::Wrong(app.pending_logins.charge(cookie)));
    };
    app.pending_logins.end(cookie);
    let how = "logged in with password and TOTP code";
    let cookie = super::accounts::logged_in(app, &account, source, now, how).await?;
    Ok(CodeOutcome::LoggedIn {
        cookie,
        account: Box::new(account),
    })
}

/// Under the write lock, so two logins cannot both spend one code: the account if the code is
/// fresh (its step then spent), else `None`. A disabled account, or one whose factor was reset
/// meanwhile, takes no code.
async fn accept_code(
    app: &App,
    username: &Username,
    code: &str,
    now: i64,
) -> Result<Option<AccountRecord>, OpError> {
    let actor = Actor::system("console");
    let tx = WriteTx::begin(app, &actor).await;
    let Some(mut account) = tx.account(username).await?.filter(|a| !a.disabled) else {
        return Ok(None);
    };
    let Some(step) = fresh_step(&account, code, now) else {
        return Ok(None);
    };
    account.totp_last_step = step;
    tx.replace_account(&account).await?;
    tx.commit().await?;
    Ok(Some(account))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The code for `secret` at `now`, as the holder's app shows it.
    fn code_at(secret: &str, now: i64) -> Option<String> {
        let totp = totp(&Secret::from_trusted(secret.to_string()), "x")?;
        Some(totp.generate(u64::try_from(now).ok()?).to_string())
    }

    /// RFC 6238, appendix B: the SHA-1 test secret "12345678901234567890" at T = 59 s gives
    /// 94287082 as 8 digits, so 287082 as 6.
    #[test]
    fn codes_follow_rfc_6238() {
        let secret = totp_rs::Secret::from(b"12345678901234567890".to_vec()).to_base32();
        assert_eq!(code_at(&secret, 59).as_deref(), Some("287082"));
        let secret = Secret::from_trusted(secret);
        assert_eq!(matched_step(&secret, "287082", 59), Some(1));
        assert_eq!(
            matched_step(&secret, "287 082", 89),
            Some(1),
            "one step late"
        );
        assert_eq!(matched_step(&secret, "287082", 150), None, "too late");
        assert_eq!(matched_step(&secret, "28708", 59), None);
        assert_eq!(matched_step(&secret, "28708x", 59), None);
    }

    #[test]
    fn a_spent_step_is_refused_again() {
        let secret = new_secret();
        assert_eq!(secret.expose().len(), 32, "20 bytes in base32");
        let now = 1_800_000_000;
        let code = code_at(secret.expose(), now).unwrap();
        let mut account: AccountRecord = serde_json::from_value(serde_json::json!({
            "username": "anna", "password_hash": "x", "role": "owner",
            "created_at": 0, "password_changed_at": 0,
        }))
        .unwrap();
        assert!(fresh_step(&account, &code, now).is_none(), "no secret yet");
        account.totp_secret = Some(secret);
        let step = fresh_step(&account, &code, now).unwrap();
        account.totp_last_step = step;
        assert!(fresh_step(&account, &code, now).is_none(), "replayed");
        let later = code_at(account.totp_secret.as_ref().unwrap().expose(), now + 30).unwrap();
        assert!(fresh_step(&account, &later, now + 30).is_some());
    }

    #[test]
    fn a_pending_login_expires_and_takes_few_tries() {
        let logins = PendingLogins::default();
        let name = Username::parse("anna").unwrap();
        let (cookie, _) = logins.open(&name, 100);
        assert!(
            logins
                .get(cookie.expose(), 100 + PENDING_SECS - 1)
                .is_some()
        );
        for _ in 1..PENDING_TRIES {
            assert!(logins.charge(cookie.expose()));
        }
        assert!(!logins.charge(cookie.expose()));
        assert!(logins.get(cookie.expose(), 101).is_none());
        let (cookie, _) = logins.open(&name, 100);
        assert!(logins.get(cookie.expose(), 100 + PENDING_SECS).is_none());
    }
}
