//! /api/v1/users.

use http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::ApiResult;
use crate::app::App;
use crate::clock::rfc3339;
use crate::domain::{DisplayName, Email, Extension, Mac, Pin, SipPassword, SipUser};
use crate::error::ApiError;
use crate::hotdesk::{guard, notify, sessions};
use crate::respond;
use crate::settings::double_option;
use crate::store::UserRecord;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    extension: String,
    display_name: String,
    /// Defaults to the extension.
    sip_user: Option<String>,
    /// Generated (20 random letters and digits) when not given.
    sip_password: Option<String>,
    email: Option<String>,
    /// The hot-desk PIN (write-only): checked against the PIN policy.
    pin: Option<String>,
    /// Generate a random PIN and return it once.
    #[serde(default)]
    generate_pin: bool,
    /// The user must choose their own PIN at the first login.
    #[serde(default)]
    pin_change_required: bool,
    may_hotdesk: Option<bool>,
    #[serde(default)]
    locked: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    display_name: Option<String>,
    sip_user: Option<String>,
    sip_password: Option<String>,
    /// Replace the SIP password by a new random one (returned in the response).
    #[serde(default)]
    regenerate_sip_password: bool,
    #[serde(default, deserialize_with = "double_option")]
    email: Option<Option<String>>,
    pin: Option<String>,
    #[serde(default)]
    generate_pin: bool,
    pin_change_required: Option<bool>,
    may_hotdesk: Option<bool>,
    locked: Option<bool>,
}

#[derive(Serialize)]
struct LoginView {
    mac: Mac,
    line: u16,
    since: String,
}

#[derive(Serialize)]
struct LockoutView {
    failures: u32,
    locked_until: Option<String>,
    lockouts: u32,
}

#[derive(Serialize)]
struct UserView<'a> {
    extension: &'a Extension,
    display_name: &'a DisplayName,
    sip_user: &'a SipUser,
    email: Option<&'a str>,
    has_pin: bool,
    pin_change_required: bool,
    may_hotdesk: bool,
    locked: bool,
    /// Where the user is logged in at a hot-desk phone.
    logged_in_at: Option<LoginView>,
    /// Failed PIN logins since the last success, and a lockout in force.
    login_failures: LockoutView,
    created_at: String,
    /// Only in the answer that set it: create, or a PATCH that changed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    sip_password: Option<&'a str>,
    /// A generated PIN, only in the answer that generated it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pin: Option<&'a str>,
}

/// What the view shows beyond the record, and the secrets this answer may carry.
#[derive(Default)]
struct Extras<'a> {
    with_sip_password: bool,
    generated_pin: Option<&'a Pin>,
}

fn view<'a>(app: &App, user: &'a UserRecord, extras: Extras<'a>) -> Result<UserView<'a>, ApiError> {
    let now = app.clock.now();
    let guard = guard::extension_state(app, user.extension.as_str())?;
    Ok(UserView {
        extension: &user.extension,
        display_name: &user.display_name,
        sip_user: &user.sip_user,
        email: user.email.as_ref().map(Email::as_str),
        has_pin: user.pin_hash.is_some(),
        pin_change_required: user.pin_change_required,
        may_hotdesk: user.may_hotdesk,
        locked: user.locked,
        logged_in_at: logged_in_at(app, user, now)?,
        login_failures: LockoutView {
            failures: guard.failures,
            locked_until: (guard.locked_until > now).then(|| rfc3339(guard.locked_until)),
            lockouts: guard.lockouts,
        },
        created_at: rfc3339(user.created_at),
        sip_password: extras.with_sip_password.then(|| user.sip_password.expose()),
        pin: extras.generated_pin.map(Pin::expose),
    })
}

/// The user's pointer, confirmed by the device's live session.
fn logged_in_at(app: &App, user: &UserRecord, now: i64) -> Result<Option<LoginView>, ApiError> {
    let Some(at) = user.hotdesk_at else {
        return Ok(None);
    };
    let settings = app.store.settings()?;
    let session = app
        .store
        .device(at.mac)?
        .and_then(|d| d.sessions.get(&at.slot).cloned());
    Ok(session
        .filter(|s| s.extension == user.extension && sessions::is_live(s, &settings, now))
        .map(|s| LoginView {
            mac: at.mac,
            line: at.slot,
            since: rfc3339(s.since),
        }))
}

fn parse_extension(raw: &str) -> Result<Extension, ApiError> {
    Ok(Extension::parse(raw)?)
}

fn existing(app: &App, extension: &Extension) -> Result<UserRecord, ApiError> {
    app.store
        .user(extension)?
        .ok_or_else(|| ApiError::NotFound(format!("no user with extension {extension}")))
}

/// The PIN to set: the one given (if the policy accepts it), a generated one, or none.
fn chosen_pin(
    app: &App,
    extension: &Extension,
    given: Option<&str>,
    generate: bool,
) -> Result<Option<(Pin, bool)>, ApiError> {
    match (given, generate) {
        (Some(_), true) => Err(ApiError::BadRequest(
            "give pin or generate_pin, not both".into(),
        )),
        (Some(raw), false) => {
            let pin = Pin::parse(raw)?;
            app.config.hotdesk.pin_policy().check(&pin, extension)?;
            Ok(Some((pin, false)))
        }
        (None, true) => Ok(Some((
            app.config.hotdesk.pin_policy().generate(extension),
            true,
        ))),
        (None, false) => Ok(None),
    }
}

async fn hash(app: &App, pin: &Pin) -> Result<crate::domain::Secret, ApiError> {
    app.pins
        .hash(pin)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))
}

pub fn list(app: &App) -> ApiResult {
    let users = app.store.users()?;
    let views = users
        .iter()
        .map(|u| view(app, u, Extras::default()))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(respond::json(StatusCode::OK, &views))
}

pub fn show(app: &App, extension: &str) -> ApiResult {
    let user = existing(app, &parse_extension(extension)?)?;
    Ok(respond::json(
        StatusCode::OK,
        &view(app, &user, Extras::default())?,
    ))
}

pub fn sip_password(app: &App, extension: &str) -> ApiResult {
    let user = existing(app, &parse_extension(extension)?)?;
    Ok(respond::json(
        StatusCode::OK,
        &json!({ "sip_password": user.sip_password.expose() }),
    ))
}

pub async fn create(app: &App, new: NewUser) -> ApiResult {
    let extension = Extension::parse(&new.extension)?;
    let pin = chosen_pin(app, &extension, new.pin.as_deref(), new.generate_pin)?;
    let pin_hash = match &pin {
        Some((pin, _)) => Some(hash(app, pin).await?),
        None => None,
    };
    let record = UserRecord {
        display_name: DisplayName::parse(&new.display_name)?,
        sip_user: SipUser::parse(new.sip_user.as_deref().unwrap_or(extension.as_str()))?,
        sip_password: match &new.sip_password {
            Some(given) => SipPassword::parse(given)?,
            None => SipPassword::generate(),
        },
        created_at: app.clock.now(),
        email: new.email.as_deref().map(Email::parse).transpose()?,
        pin_hash,
        pin_change_required: new.pin_change_required,
        may_hotdesk: new.may_hotdesk.unwrap_or(true),
        locked: new.locked,
        hotdesk_at: None,
        extension,
    };
    let _guard = app.admin_writes.lock().await;
    if !app.store.insert_user(&record)? {
        return Err(ApiError::Conflict(format!(
            "a user with extension {} already exists",
            record.extension
        )));
    }
    app.store.flush().await?;
    tracing::info!(target: "deskprov::audit", extension = %record.extension, "user created");
    let extras = Extras {
        with_sip_password: true,
        generated_pin: pin
            .as_ref()
            .filter(|(_, generated)| *generated)
            .map(|(p, _)| p),
    };
    Ok(respond::json(
        StatusCode::CREATED,
        &view(app, &record, extras)?,
    ))
}

pub async fn patch(app: &App, extension: &str, patch: UserPatch) -> ApiResult {
    let extension = parse_extension(extension)?;
    let display_name = patch
        .display_name
        .as_deref()
        .map(DisplayName::parse)
        .transpose()?;
    let sip_user = patch.sip_user.as_deref().map(SipUser::parse).transpose()?;
    let mut sip_password = patch
        .sip_password
        .as_deref()
        .map(SipPassword::parse)
        .transpose()?;
    if patch.regenerate_sip_password {
        if sip_password.is_some() {
            return Err(ApiError::BadRequest(
                "give sip_password or regenerate_sip_password, not both".into(),
            ));
        }
        sip_password = Some(SipPassword::generate());
    }
    let email = match &patch.email {
        Some(Some(raw)) => Some(Some(Email::parse(raw)?)),
        Some(None) => Some(None),
        None => None,
    };
    let pin = chosen_pin(app, &extension, patch.pin.as_deref(), patch.generate_pin)?;
    let pin_hash = match &pin {
        Some((pin, _)) => Some(hash(app, pin).await?),
        None => None,
    };
    let password_changed = sip_password.is_some();
    let (stored, left) = {
        let _guard = app.admin_writes.lock().await;
        let (stored, ()) = app
            .store
            .update_user(&extension, |u| {
                if let Some(name) = &display_name {
                    u.display_name = name.clone();
                }
                if let Some(user) = &sip_user {
                    u.sip_user = user.clone();
                }
                if let Some(password) = &sip_password {
                    u.sip_password = password.clone();
                }
                if let Some(email) = &email {
                    u.email.clone_from(email);
                }
                if let Some(hash) = &pin_hash {
                    u.pin_hash = Some(hash.clone());
                }
                if let Some(required) = patch.pin_change_required {
                    u.pin_change_required = required;
                }
                if let Some(may) = patch.may_hotdesk {
                    u.may_hotdesk = may;
                }
                if let Some(locked) = patch.locked {
                    u.locked = locked;
                }
            })?
            .ok_or_else(|| ApiError::NotFound(format!("no user with extension {extension}")))?;
        // A locked user, or one no longer allowed to hot-desk, leaves the phone they are at.
        let left = match stored.hotdesk_at {
            Some(at) if stored.locked || !stored.may_hotdesk => {
                sessions::end_sessions_of(app, &extension, at)?
            }
            _ => None,
        };
        app.store.flush().await?;
        (stored, left)
    };
    if let Some(device) = &left {
        tracing::info!(target: "deskprov::audit", %extension, mac = %device.mac, reason = "locked by an admin", "hot-desk logout");
        notify::reload(app, device);
    }
    tracing::info!(target: "deskprov::audit", %extension, pin_changed = pin.is_some(), "user changed");
    let extras = Extras {
        with_sip_password: password_changed,
        generated_pin: pin
            .as_ref()
            .filter(|(_, generated)| *generated)
            .map(|(p, _)| p),
    };
    Ok(respond::json(StatusCode::OK, &view(app, &stored, extras)?))
}

/// Clears the extension's failed-login lockout.
pub async fn unlock(app: &App, extension: &str) -> ApiResult {
    let extension = parse_extension(extension)?;
    let user = existing(app, &extension)?;
    let _guard = app.admin_writes.lock().await;
    let before = guard::unlock(app, extension.as_str())?;
    app.store.flush().await?;
    tracing::info!(target: "deskprov::audit", %extension, failures = before.failures, lockouts = before.lockouts, "hot-desk lockout cleared by an admin");
    Ok(respond::json(
        StatusCode::OK,
        &view(app, &user, Extras::default())?,
    ))
}

/// Logs the user out of the hot-desk phone they are at.
pub async fn logout(app: &App, extension: &str) -> ApiResult {
    let extension = parse_extension(extension)?;
    existing(app, &extension)?;
    match sessions::log_out_user(app, &extension, "logged out by an admin").await? {
        Some(device) => notify::reload(app, &device),
        None => {
            return Err(ApiError::Conflict(format!(
                "{extension} is not logged in at any hot-desk phone"
            )));
        }
    }
    let user = existing(app, &extension)?;
    Ok(respond::json(
        StatusCode::OK,
        &view(app, &user, Extras::default())?,
    ))
}

/// Deletes the user, frees every line they had and logs them out, so no config carries their
/// account.
pub async fn delete(app: &App, extension: &str) -> ApiResult {
    let extension = parse_extension(extension)?;
    let mut reload = Vec::new();
    let freed = {
        let _guard = app.admin_writes.lock().await;
        let user = existing(app, &extension)?;
        if let Some(at) = user.hotdesk_at
            && let Some(device) = sessions::end_sessions_of(app, &extension, at)?
        {
            reload.push(device);
        }
        let mut freed = Vec::new();
        for device in app.store.devices()? {
            if device.lines.values().any(|e| *e == extension) {
                app.store
                    .update_device(device.mac, |d| d.lines.retain(|_, e| *e != extension))?;
                freed.push(device.mac);
            }
        }
        app.store.remove_user(&extension)?;
        guard::unlock(app, extension.as_str())?;
        app.store.flush().await?;
        freed
    };
    reload.iter().for_each(|d| notify::reload(app, d));
    tracing::info!(target: "deskprov::audit", %extension, devices = freed.len(), "user deleted");
    Ok(respond::json(
        StatusCode::OK,
        &json!({ "deleted": extension, "freed_lines_on": freed }),
    ))
}
