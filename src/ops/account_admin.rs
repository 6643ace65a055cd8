//! The owner's management of console accounts: create, change the role, let an admin read
//! secrets, disable and enable, reset the password, delete. Passwords someone else chose are
//! generated, handed out once and must be changed at the next login. No change may leave the
//! site without an enabled owner account.

use super::write::Permit;
use super::{Actor, OpError, WriteTx};
use crate::app::App;
use crate::audit::{Event, Kind};
use crate::domain::{Password, Role, Secret, Username};
use crate::model::AccountRecord;
use crate::store::{Store, Writer};

/// An account to create, as the owner asked for it.
pub struct NewAccount {
    pub username: Username,
    pub role: Role,
    /// Only for an admin account (an owner always may, the other roles never).
    pub reads_secrets: bool,
}

/// What to change of an account; `None` leaves it.
#[derive(Debug, Default, Clone, Copy)]
pub struct AccountChange {
    pub role: Option<Role>,
    pub reads_secrets: Option<bool>,
    pub disabled: Option<bool>,
}

/// An account and the password generated for it, which is shown this once.
pub struct WithPassword {
    pub record: AccountRecord,
    pub password: Secret,
}

const NO_OWNER_LEFT: &str =
    "this would leave no enabled owner account; make another account owner first";

/// Every account, by name (a site has a handful).
pub async fn list(app: &App) -> Result<Vec<AccountRecord>, OpError> {
    let mut accounts = app.store.accounts().await?;
    accounts.sort_by(|a, b| a.username.cmp(&b.username));
    Ok(accounts)
}

pub async fn show(app: &App, username: &Username) -> Result<AccountRecord, OpError> {
    app.store
        .account(username)
        .await?
        .ok_or_else(|| missing(username))
}

fn missing(username: &Username) -> OpError {
    OpError::not_found(format!("no account named {username}"))
}

/// A random password that meets the policy for `username` (it never contains the name).
fn generated_password(username: &Username) -> Password {
    loop {
        let candidate = Password::generate();
        if let Ok(password) = Password::parse(candidate.secret().expose(), username) {
            return password;
        }
    }
}

async fn hashed(app: &App, password: &Password) -> Result<Secret, OpError> {
    app.passwords
        .hash_secret(password.secret().clone())
        .await
        .map_err(|e| OpError::Internal(e.to_string()))
}

fn check_reads_secrets(role: Role, reads_secrets: bool) -> Result<(), OpError> {
    if reads_secrets && role != Role::Admin {
        return Err(OpError::invalid(format!(
            "reads_secrets: only for admin accounts (owners always read secrets, {role} accounts never)"
        )));
    }
    Ok(())
}

fn describe(record: &AccountRecord) -> String {
    let mut text = format!("role {}", record.role);
    if record.role == Role::Admin && record.reads_secrets {
        text.push_str(", reads secrets");
    }
    if record.disabled {
        text.push_str(", disabled");
    }
    text
}

pub async fn create(app: &App, by: &Actor, new: NewAccount) -> Result<WithPassword, OpError> {
    check_reads_secrets(new.role, new.reads_secrets)?;
    let password = generated_password(&new.username);
    let now = app.clock.now();
    let record = AccountRecord {
        username: new.username,
        password_hash: hashed(app, &password).await?,
        role: new.role,
        reads_secrets: new.reads_secrets || new.role == Role::Owner,
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
    let mut tx = WriteTx::begin(app, by).await;
    if !tx.insert_account(&record).await? {
        return Err(OpError::conflict(format!(
            "an account named {} exists; choose another name",
            record.username
        )));
    }
    tx.changed(
        &record.username,
        format!(
            "account created ({}); its first password must be changed at the first login",
            describe(&record)
        ),
    );
    tx.commit().await?;
    Ok(WithPassword {
        record,
        password: password.secret().clone(),
    })
}

/// Whether an enabled owner remains once `changed` replaces (or, `None`, removes) the account
/// of its name.
async fn owner_remains(
    writer: &Writer<'_>,
    username: &Username,
    changed: Option<&AccountRecord>,
) -> Result<bool, OpError> {
    let others = writer.accounts().await?;
    let enabled_owner = |a: &AccountRecord| a.role == Role::Owner && !a.disabled;
    Ok(others
        .iter()
        .filter(|a| &a.username != username)
        .any(enabled_owner)
        || changed.is_some_and(enabled_owner))
}

/// Ends every session of the account; how many there were.
async fn end_sessions(writer: &Writer<'_>, username: &Username) -> Result<usize, OpError> {
    let sessions = writer.console_sessions_of(username).await?;
    for session in &sessions {
        writer.remove_console_session(&session.id_sha256).await?;
    }
    Ok(sessions.len())
}

/// Changes the role, the leave to read secrets, or disables (ending its sessions) or enables.
pub async fn change(
    app: &App,
    by: &Actor,
    username: &Username,
    change: AccountChange,
) -> Result<AccountRecord, OpError> {
    let mut tx = WriteTx::begin(app, by).await;
    let before = tx
        .account(username)
        .await?
        .ok_or_else(|| missing(username))?;
    let mut after = before.clone();
    after.role = change.role.unwrap_or(before.role);
    if let Some(reads) = change.reads_secrets {
        check_reads_secrets(after.role, reads)?;
        after.reads_secrets = reads;
    }
    after.reads_secrets = match after.role {
        Role::Owner => true,
        Role::Admin => after.reads_secrets,
        _ => false,
    };
    after.disabled = change.disabled.unwrap_or(before.disabled);
    if after == before {
        return Ok(after);
    }
    if !owner_remains(&tx, username, Some(&after)).await? {
        return Err(OpError::conflict(NO_OWNER_LEFT));
    }
    tx.replace_account(&after).await?;
    let mut detail = format!("account changed: {}", describe(&after));
    if after.disabled && !before.disabled {
        let ended = end_sessions(&tx, username).await?;
        detail.push_str(&format!("; {ended} sessions ended"));
    }
    tx.changed(username, detail);
    tx.commit().await?;
    Ok(after)
}

/// A new generated password, to be changed at the next login; the account's sessions end.
pub async fn reset_password(
    app: &App,
    by: &Actor,
    username: &Username,
) -> Result<WithPassword, OpError> {
    let password = generated_password(username);
    let hash = hashed(app, &password).await?;
    let mut tx = WriteTx::begin(app, by).await;
    let mut record = tx
        .account(username)
        .await?
        .ok_or_else(|| missing(username))?;
    reset(&mut record, hash, app.clock.now());
    tx.replace_account(&record).await?;
    let ended = end_sessions(&tx, username).await?;
    tx.record(
        Kind::PasswordChanged,
        username,
        format!("console password reset; to be changed at the next login; {ended} sessions ended"),
    );
    tx.commit().await?;
    Ok(WithPassword {
        record,
        password: password.secret().clone(),
    })
}

fn reset(record: &mut AccountRecord, hash: Secret, now: i64) {
    record.password_hash = hash;
    record.password_change_required = true;
    record.password_changed_at = now;
}

/// Removes the account and ends its sessions.
pub async fn delete(app: &App, by: &Actor, username: &Username) -> Result<AccountRecord, OpError> {
    let mut tx = WriteTx::begin(app, by).await;
    let record = tx
        .account(username)
        .await?
        .ok_or_else(|| missing(username))?;
    if !owner_remains(&tx, username, None).await? {
        return Err(OpError::conflict(NO_OWNER_LEFT));
    }
    let ended = end_sessions(&tx, username).await?;
    tx.remove_account(username).await?;
    tx.changed(
        username,
        format!(
            "account deleted ({}); {ended} sessions ended",
            describe(&record)
        ),
    );
    tx.commit().await?;
    Ok(record)
}

/// The way back in for an owner who lost the password, in a store no server has open
/// (`deskprov accounts reset-password NAME --data DIR`): a generated password, to be changed
/// at the next login; the account is enabled again. Recorded as done by `local`.
pub async fn reset_password_offline(
    store: &Store,
    username: &Username,
    now: i64,
) -> Result<WithPassword, OpError> {
    let password = generated_password(username);
    let hash = super::accounts::hash_now(password.secret().clone())
        .await
        .map_err(|e| OpError::Internal(e.to_string()))?;
    let writer = store.begin(Permit::new()).await;
    let mut record = writer
        .account(username)
        .await?
        .ok_or_else(|| missing(username))?;
    reset(&mut record, hash, now);
    record.disabled = false;
    writer.replace_account(&record).await?;
    end_sessions(&writer, username).await?;
    let event = Event::by(
        Kind::PasswordChanged,
        "local",
        "console password reset on the server's machine; to be changed at the next login",
    )
    .subject(username);
    writer.append_audit(event.to_record(now)).await?;
    writer.flush().await?;
    event.log();
    Ok(WithPassword {
        record,
        password: password.secret().clone(),
    })
}
