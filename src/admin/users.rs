//! /api/v1/users.

use http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::ApiResult;
use crate::app::App;
use crate::clock::rfc3339;
use crate::domain::{
    DisplayName, Email, Extension, InvalidInput, Mac, PersonName, Pin, SipPassword, SipUser,
};
use crate::error::ApiError;
use crate::hotdesk::{guard, notify, sessions};
use crate::respond;
use crate::settings::double_option;
use crate::store::{DeviceRecord, UserRecord};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// The lowest free extension of `users.extension_ranges` when not given.
    extension: Option<String>,
    /// Defaults to first and last name.
    display_name: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    /// ISO 639-1 code: the phone's language while the user is on its first line.
    language: Option<String>,
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
    #[serde(default, deserialize_with = "double_option")]
    first_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    last_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    language: Option<Option<String>>,
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
    first_name: Option<&'a PersonName>,
    last_name: Option<&'a PersonName>,
    language: Option<&'a str>,
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
        first_name: user.first_name.as_ref(),
        last_name: user.last_name.as_ref(),
        language: user.language.as_deref(),
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
    let Some(device) = app.store.device(at.mac)? else {
        return Ok(None);
    };
    let settings = crate::settings::of_device(&app.store, &device)?;
    Ok(device
        .sessions
        .get(&at.slot)
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

/// The display name given, or the one the first and last names make.
fn display_name_of(
    given: Option<&str>,
    first: Option<&PersonName>,
    last: Option<&PersonName>,
) -> Result<DisplayName, ApiError> {
    if let Some(name) = given {
        return Ok(DisplayName::parse(name)?);
    }
    let joined: Vec<&str> = [first, last]
        .into_iter()
        .flatten()
        .map(|n| n.as_str())
        .collect();
    if joined.is_empty() {
        return Err(ApiError::BadRequest(
            "display_name: give display_name, or first_name and last_name".into(),
        ));
    }
    Ok(DisplayName::parse(&joined.join(" "))?)
}

fn parse_language(code: &str) -> Result<String, InvalidInput> {
    crate::locale::language(code)
        .map(|l| l.code.to_string())
        .ok_or_else(|| {
            InvalidInput::new(
                "language",
                "must be a language code such as de; GET /api/v1/settings/choices lists them",
            )
        })
}

fn parse_name(field: &'static str, raw: Option<&str>) -> Result<Option<PersonName>, InvalidInput> {
    raw.map(|n| PersonName::parse_field(field, n)).transpose()
}

/// The lowest extension of the configured ranges that no user has.
pub fn next_free_extension(app: &App) -> Result<Extension, ApiError> {
    let taken: std::collections::HashSet<String> = app
        .store
        .users()?
        .into_iter()
        .map(|u| u.extension.to_string())
        .collect();
    app.config
        .users
        .ranges()
        .into_iter()
        .flat_map(|r| r.extensions())
        .find(|e| !taken.contains(e))
        .map(|e| Extension::parse(&e).expect("range extensions are digits"))
        .ok_or_else(|| {
            ApiError::Conflict(format!(
                "every extension of users.extension_ranges ({}) is taken; give an extension",
                app.config.users.extension_ranges.join(", ")
            ))
        })
}

pub fn next_extension(app: &App) -> ApiResult {
    let extension = next_free_extension(app)?;
    Ok(respond::json(
        StatusCode::OK,
        &json!({ "extension": extension }),
    ))
}

/// A new user checked completely and its PIN hashed, not stored yet.
pub struct PreparedUser {
    pub record: UserRecord,
    /// A generated PIN, to show once.
    pub generated_pin: Option<Pin>,
    /// The PIN given or generated, to check against the policy if the extension changes.
    pin: Option<Pin>,
    extension_given: bool,
}

/// Validates everything about a new user and hashes its PIN; writes nothing.
pub async fn prepare_new(app: &App, new: NewUser) -> Result<PreparedUser, ApiError> {
    let extension_given = new.extension.is_some();
    let extension = match &new.extension {
        Some(raw) => Extension::parse(raw)?,
        None => next_free_extension(app)?,
    };
    let first_name = parse_name("first_name", new.first_name.as_deref())?;
    let last_name = parse_name("last_name", new.last_name.as_deref())?;
    let display_name = display_name_of(
        new.display_name.as_deref(),
        first_name.as_ref(),
        last_name.as_ref(),
    )?;
    let pin = chosen_pin(app, &extension, new.pin.as_deref(), new.generate_pin)?;
    let record = UserRecord {
        display_name,
        sip_user: SipUser::parse(new.sip_user.as_deref().unwrap_or(extension.as_str()))?,
        sip_password: match &new.sip_password {
            Some(given) => SipPassword::parse(given)?,
            None => SipPassword::generate(),
        },
        created_at: app.clock.now(),
        email: new.email.as_deref().map(Email::parse).transpose()?,
        pin_hash: match &pin {
            Some((pin, _)) => Some(hash(app, pin).await?),
            None => None,
        },
        pin_change_required: new.pin_change_required,
        may_hotdesk: new.may_hotdesk.unwrap_or(true),
        locked: new.locked,
        hotdesk_at: None,
        first_name,
        last_name,
        language: new.language.as_deref().map(parse_language).transpose()?,
        extension,
    };
    Ok(PreparedUser {
        record,
        generated_pin: pin.as_ref().filter(|(_, g)| *g).map(|(p, _)| p.clone()),
        pin: pin.map(|(p, _)| p),
        extension_given,
    })
}

pub async fn create(app: &App, new: NewUser) -> ApiResult {
    let mut prepared = prepare_new(app, new).await?;
    let _guard = app.admin_writes.lock().await;
    while !app.store.insert_user(&prepared.record)? {
        if prepared.extension_given {
            return Err(ApiError::Conflict(format!(
                "a user with extension {} already exists",
                prepared.record.extension
            )));
        }
        // Another admin took the free extension meanwhile: the next one, under the lock now.
        let extension = next_free_extension(app)?;
        if let Some(pin) = &prepared.pin {
            app.config.hotdesk.pin_policy().check(pin, &extension)?;
        }
        if prepared.record.sip_user.as_str() == prepared.record.extension.as_str() {
            prepared.record.sip_user = SipUser::parse(extension.as_str())?;
        }
        prepared.record.extension = extension;
    }
    app.store.flush().await?;
    let record = &prepared.record;
    tracing::info!(target: "deskprov::audit", extension = %record.extension, "user created");
    let extras = Extras {
        with_sip_password: true,
        generated_pin: prepared.generated_pin.as_ref(),
    };
    Ok(respond::json(
        StatusCode::CREATED,
        &view(app, record, extras)?,
    ))
}

/// A change checked completely, with its PIN hashed; applied by [`apply_change`].
pub struct PreparedChange {
    display_name: Option<DisplayName>,
    first_name: Option<Option<PersonName>>,
    last_name: Option<Option<PersonName>>,
    language: Option<Option<String>>,
    sip_user: Option<SipUser>,
    sip_password: Option<crate::domain::Secret>,
    email: Option<Option<Email>>,
    pin_hash: Option<crate::domain::Secret>,
    pin_change_required: Option<bool>,
    may_hotdesk: Option<bool>,
    locked: Option<bool>,
    pub generated_pin: Option<Pin>,
    pin_changed: bool,
}

impl PreparedChange {
    pub fn apply_to(&self, u: &mut UserRecord) {
        if let Some(name) = &self.display_name {
            u.display_name = name.clone();
        }
        if let Some(name) = &self.first_name {
            u.first_name.clone_from(name);
        }
        if let Some(name) = &self.last_name {
            u.last_name.clone_from(name);
        }
        if let Some(language) = &self.language {
            u.language.clone_from(language);
        }
        if let Some(user) = &self.sip_user {
            u.sip_user = user.clone();
        }
        if let Some(password) = &self.sip_password {
            u.sip_password = password.clone();
        }
        if let Some(email) = &self.email {
            u.email.clone_from(email);
        }
        if let Some(hash) = &self.pin_hash {
            u.pin_hash = Some(hash.clone());
        }
        if let Some(required) = self.pin_change_required {
            u.pin_change_required = required;
        }
        if let Some(may) = self.may_hotdesk {
            u.may_hotdesk = may;
        }
        if let Some(locked) = self.locked {
            u.locked = locked;
        }
    }
}

fn clearable<T>(
    raw: &Option<Option<String>>,
    parse: impl Fn(&str) -> Result<T, InvalidInput>,
) -> Result<Option<Option<T>>, InvalidInput> {
    match raw {
        Some(Some(value)) => Ok(Some(Some(parse(value)?))),
        Some(None) => Ok(Some(None)),
        None => Ok(None),
    }
}

/// Validates a change of `extension` and hashes a new PIN; writes nothing.
pub async fn prepare_change(
    app: &App,
    extension: &Extension,
    patch: UserPatch,
) -> Result<PreparedChange, ApiError> {
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
    let pin = chosen_pin(app, extension, patch.pin.as_deref(), patch.generate_pin)?;
    Ok(PreparedChange {
        display_name: patch
            .display_name
            .as_deref()
            .map(DisplayName::parse)
            .transpose()?,
        first_name: clearable(&patch.first_name, |n| {
            PersonName::parse_field("first_name", n)
        })?,
        last_name: clearable(&patch.last_name, |n| {
            PersonName::parse_field("last_name", n)
        })?,
        language: clearable(&patch.language, parse_language)?,
        sip_user: patch.sip_user.as_deref().map(SipUser::parse).transpose()?,
        sip_password,
        email: clearable(&patch.email, Email::parse)?,
        pin_hash: match &pin {
            Some((pin, _)) => Some(hash(app, pin).await?),
            None => None,
        },
        pin_change_required: patch.pin_change_required,
        may_hotdesk: patch.may_hotdesk,
        locked: patch.locked,
        generated_pin: pin.as_ref().filter(|(_, g)| *g).map(|(p, _)| p.clone()),
        pin_changed: pin.is_some(),
    })
}

/// Stores the change; the caller holds the admin lock and flushes. A locked user, or one no
/// longer allowed to hot-desk, leaves the phone they are at: that phone is returned.
pub fn apply_change(
    app: &App,
    extension: &Extension,
    change: &PreparedChange,
) -> Result<(UserRecord, Option<DeviceRecord>), ApiError> {
    let (stored, ()) = app
        .store
        .update_user(extension, |u| change.apply_to(u))?
        .ok_or_else(|| ApiError::NotFound(format!("no user with extension {extension}")))?;
    let left = leave_if_barred(app, &stored)?;
    Ok((stored, left))
}

pub(crate) fn leave_if_barred(
    app: &App,
    user: &UserRecord,
) -> Result<Option<DeviceRecord>, ApiError> {
    Ok(match user.hotdesk_at {
        Some(at) if user.locked || !user.may_hotdesk => {
            sessions::end_sessions_of(app, &user.extension, at)?
        }
        _ => None,
    })
}

fn reload_left(app: &App, extension: &Extension, left: Option<&DeviceRecord>) {
    if let Some(device) = left {
        tracing::info!(target: "deskprov::audit", %extension, mac = %device.mac, reason = "locked by an admin", "hot-desk logout");
        notify::reload(app, device);
    }
}

pub async fn patch(app: &App, extension: &str, patch: UserPatch) -> ApiResult {
    let extension = parse_extension(extension)?;
    let change = prepare_change(app, &extension, patch).await?;
    let (stored, left) = {
        let _guard = app.admin_writes.lock().await;
        let applied = apply_change(app, &extension, &change)?;
        app.store.flush().await?;
        applied
    };
    reload_left(app, &extension, left.as_ref());
    tracing::info!(target: "deskprov::audit", %extension, pin_changed = change.pin_changed, "user changed");
    let extras = Extras {
        with_sip_password: change.sip_password.is_some(),
        generated_pin: change.generated_pin.as_ref(),
    };
    Ok(respond::json(StatusCode::OK, &view(app, &stored, extras)?))
}

/// Locks a user: their phones lose the account at the next fetch, logins are refused, and a
/// hot-desk login ends now.
pub async fn lock(app: &App, extension: &str) -> ApiResult {
    let extension = parse_extension(extension)?;
    let (stored, left) = {
        let _guard = app.admin_writes.lock().await;
        let applied = set_locked(app, &extension, true)?;
        app.store.flush().await?;
        applied
    };
    reload_left(app, &extension, left.as_ref());
    Ok(respond::json(
        StatusCode::OK,
        &view(app, &stored, Extras::default())?,
    ))
}

/// Unlocks a user, and clears a lockout after wrong PINs.
pub async fn unlock(app: &App, extension: &str) -> ApiResult {
    let extension = parse_extension(extension)?;
    let (stored, _) = {
        let _guard = app.admin_writes.lock().await;
        let applied = set_locked(app, &extension, false)?;
        app.store.flush().await?;
        applied
    };
    Ok(respond::json(
        StatusCode::OK,
        &view(app, &stored, Extras::default())?,
    ))
}

/// Under the admin lock: sets `locked`; unlocking also clears the failed-PIN lockout.
fn set_locked(
    app: &App,
    extension: &Extension,
    locked: bool,
) -> Result<(UserRecord, Option<DeviceRecord>), ApiError> {
    let (stored, ()) = app
        .store
        .update_user(extension, |u| u.locked = locked)?
        .ok_or_else(|| ApiError::NotFound(format!("no user with extension {extension}")))?;
    if !locked {
        let before = guard::unlock(app, extension.as_str())?;
        tracing::info!(target: "deskprov::audit", %extension, failures = before.failures, lockouts = before.lockouts, "user unlocked");
        return Ok((stored, None));
    }
    tracing::info!(target: "deskprov::audit", %extension, "user locked");
    let left = leave_if_barred(app, &stored)?;
    Ok((stored, left))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkAction {
    action: String,
    extensions: Vec<String>,
}

/// Lock, unlock or delete many users at once: all of them, or none when one is unknown.
pub async fn bulk(app: &App, body: BulkAction) -> ApiResult {
    const MAX: usize = 10_000;
    if body.extensions.is_empty() || body.extensions.len() > MAX {
        return Err(ApiError::BadRequest(format!(
            "extensions: give 1 to {MAX} extensions"
        )));
    }
    let extensions = body
        .extensions
        .iter()
        .map(|e| Extension::parse(e))
        .collect::<Result<std::collections::BTreeSet<_>, _>>()?;
    if !matches!(body.action.as_str(), "lock" | "unlock" | "delete") {
        return Err(ApiError::BadRequest(
            "action: must be lock, unlock or delete".into(),
        ));
    }
    let mut reload = Vec::new();
    {
        let _guard = app.admin_writes.lock().await;
        let mut unknown = Vec::new();
        for extension in &extensions {
            if app.store.user(extension)?.is_none() {
                unknown.push(extension.to_string());
            }
        }
        if !unknown.is_empty() {
            return Err(ApiError::NotFound(format!(
                "no user with extension {}; nothing was changed",
                unknown.join(", ")
            )));
        }
        for extension in &extensions {
            match body.action.as_str() {
                "lock" => reload.extend(set_locked(app, extension, true)?.1),
                "unlock" => {
                    set_locked(app, extension, false)?;
                }
                _ => reload.extend(remove_user(app, extension)?.1),
            }
        }
        app.store.flush().await?;
    }
    reload.iter().for_each(|d| notify::reload(app, d));
    Ok(respond::json(
        StatusCode::OK,
        &json!({ "action": body.action, "extensions": extensions }),
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
    let (freed, reload) = {
        let _guard = app.admin_writes.lock().await;
        let removed = remove_user(app, &extension)?;
        app.store.flush().await?;
        removed
    };
    reload.iter().for_each(|d| notify::reload(app, d));
    Ok(respond::json(
        StatusCode::OK,
        &json!({ "deleted": extension, "freed_lines_on": freed }),
    ))
}

/// Under the admin lock: removes the user, frees their lines, ends their login. Returns the
/// devices whose lines were freed and the phone they were logged in at.
fn remove_user(
    app: &App,
    extension: &Extension,
) -> Result<(Vec<Mac>, Option<DeviceRecord>), ApiError> {
    let user = existing(app, extension)?;
    let left = match user.hotdesk_at {
        Some(at) => sessions::end_sessions_of(app, extension, at)?,
        None => None,
    };
    let mut freed = Vec::new();
    for device in app.store.devices()? {
        if device.lines.values().any(|e| e == extension) {
            app.store
                .update_device(device.mac, |d| d.lines.retain(|_, e| e != extension))?;
            freed.push(device.mac);
        }
    }
    app.store.remove_user(extension)?;
    guard::unlock(app, extension.as_str())?;
    tracing::info!(target: "deskprov::audit", %extension, devices = freed.len(), "user deleted");
    Ok((freed, left))
}
