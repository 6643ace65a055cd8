//! Creating, changing, locking and deleting users.
//!
//! A user who is locked or barred from hot-desking leaves the phone they are logged in at in
//! the same change; a deleted user leaves every line they had.

use std::collections::{BTreeSet, HashSet};

use super::{Actor, OpError, WriteTx, guard, sessions};
use crate::app::App;
use crate::domain::{
    DisplayName, Email, Extension, Mac, PersonName, Pin, Secret, SipPassword, SipUser,
};
use crate::model::{DeviceRecord, UserRecord};
use crate::store::{Reads, StoreError, Writer};

/// What to do with a user's hot-desk PIN.
#[derive(Debug, Clone, Default)]
pub enum PinChoice {
    #[default]
    Keep,
    Set(Pin),
    /// A random PIN, answered once.
    Generate,
}

/// A user to create; what is not given is generated or derived.
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    /// The lowest free extension of `users.extension_ranges` when not given.
    pub extension: Option<Extension>,
    /// Defaults to first and last name.
    pub display_name: Option<DisplayName>,
    pub first_name: Option<PersonName>,
    pub last_name: Option<PersonName>,
    /// ISO 639-1 code, one of `locale::LANGUAGES`.
    pub language: Option<String>,
    /// Defaults to the extension.
    pub sip_user: Option<SipUser>,
    /// Generated when not given.
    pub sip_password: Option<Secret>,
    pub email: Option<Email>,
    pub pin: PinChoice,
    pub pin_change_required: bool,
    pub may_hotdesk: Option<bool>,
    pub locked: bool,
    pub phonebook_hidden: bool,
}

/// A change of a user: `None` leaves a field, `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct UserChange {
    pub display_name: Option<DisplayName>,
    pub first_name: Option<Option<PersonName>>,
    pub last_name: Option<Option<PersonName>>,
    pub language: Option<Option<String>>,
    pub sip_user: Option<SipUser>,
    pub sip_password: Option<Secret>,
    pub regenerate_sip_password: bool,
    pub email: Option<Option<Email>>,
    pub pin: PinChoice,
    pub pin_change_required: Option<bool>,
    pub may_hotdesk: Option<bool>,
    pub locked: Option<bool>,
    pub phonebook_hidden: Option<bool>,
}

pub async fn existing(store: &dyn Reads, extension: &Extension) -> Result<UserRecord, OpError> {
    store
        .user(extension)
        .await?
        .ok_or_else(|| OpError::not_found(format!("no user with extension {extension}")))
}

/// The PIN to set after the policy accepted it, and whether it was generated.
fn chosen_pin(
    app: &App,
    extension: &Extension,
    choice: &PinChoice,
) -> Result<Option<(Pin, bool)>, OpError> {
    let policy = app.config.hotdesk.pin_policy();
    Ok(match choice {
        PinChoice::Keep => None,
        PinChoice::Set(pin) => {
            policy.check(pin, extension)?;
            Some((pin.clone(), false))
        }
        PinChoice::Generate => Some((policy.generate(extension), true)),
    })
}

async fn hash(app: &App, pin: &Pin) -> Result<Secret, OpError> {
    app.pins
        .hash(pin)
        .await
        .map_err(|e| OpError::Internal(e.to_string()))
}

/// The display name given, or the one the first and last names make.
fn display_name_of(
    given: Option<&DisplayName>,
    first: Option<&PersonName>,
    last: Option<&PersonName>,
) -> Result<DisplayName, OpError> {
    if let Some(name) = given {
        return Ok(name.clone());
    }
    let joined: Vec<&str> = [first, last]
        .into_iter()
        .flatten()
        .map(|n| n.as_str())
        .collect();
    if joined.is_empty() {
        return Err(OpError::invalid(
            "display_name: give display_name, or first_name and last_name",
        ));
    }
    Ok(DisplayName::parse(&joined.join(" "))?)
}

/// The lowest extension of the configured ranges that no user has.
pub async fn next_free_extension(app: &App, store: &dyn Reads) -> Result<Extension, OpError> {
    let taken: HashSet<String> = store
        .users()
        .await?
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
            OpError::conflict(format!(
                "extension: every extension of users.extension_ranges ({}) is taken; give an extension",
                app.config.users.extension_ranges.join(", ")
            ))
        })
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

impl PreparedUser {
    /// The extension that was given, not chosen as the next free one.
    pub fn given_extension(&self) -> Option<&Extension> {
        self.extension_given.then_some(&self.record.extension)
    }
}

/// Validates everything about a new user and hashes its PIN; writes nothing.
pub async fn prepare_new(app: &App, new: &NewUser) -> Result<PreparedUser, OpError> {
    let extension = match &new.extension {
        Some(given) => given.clone(),
        None => next_free_extension(app, app.store.reads()).await?,
    };
    let display_name = display_name_of(
        new.display_name.as_ref(),
        new.first_name.as_ref(),
        new.last_name.as_ref(),
    )?;
    let pin = chosen_pin(app, &extension, &new.pin)?;
    let record = UserRecord {
        display_name,
        sip_user: match &new.sip_user {
            Some(user) => user.clone(),
            None => SipUser::parse(extension.as_str())?,
        },
        sip_password: new
            .sip_password
            .clone()
            .unwrap_or_else(SipPassword::generate),
        created_at: app.clock.now(),
        email: new.email.clone(),
        pin_hash: match &pin {
            Some((pin, _)) => Some(hash(app, pin).await?),
            None => None,
        },
        pin_change_required: new.pin_change_required,
        may_hotdesk: new.may_hotdesk.unwrap_or(true),
        locked: new.locked,
        hotdesk_at: None,
        first_name: new.first_name.clone(),
        last_name: new.last_name.clone(),
        language: new.language.clone(),
        keys: Default::default(),
        phonebook_hidden: new.phonebook_hidden,
        portal_password_hash: None,
        password_change_required: false,
        portal_link_sha256: None,
        extension,
    };
    Ok(PreparedUser {
        record,
        generated_pin: pin.as_ref().filter(|(_, g)| *g).map(|(p, _)| p.clone()),
        pin: pin.map(|(p, _)| p),
        extension_given: new.extension.is_some(),
    })
}

fn created_detail(record: &UserRecord, pin_set: bool) -> String {
    let name = Some(record.display_name.to_string());
    super::audit::describe(
        "created",
        &[
            ("display_name", name),
            ("sip_user", Some(record.sip_user.to_string())),
            ("sip_password", Some(crate::settings::SET.into())),
            ("pin", pin_set.then(|| crate::settings::SET.into())),
            ("locked", record.locked.then(|| "true".into())),
        ],
    )
}

/// A user created, with the PIN that was generated for them (shown once).
pub struct Created {
    pub record: UserRecord,
    pub generated_pin: Option<Pin>,
}

pub async fn create(app: &App, by: &Actor, new: &NewUser) -> Result<Created, OpError> {
    let prepared = prepare_new(app, new).await?;
    let mut tx = WriteTx::begin(app, by).await;
    let created = insert_new(&mut tx, prepared).await?;
    tx.commit().await?;
    Ok(created)
}

/// Stores a prepared user in the change `tx` makes: under the lock now, a free extension that
/// another admin took meanwhile is replaced by the next one; a given one that is taken is refused.
pub(super) async fn insert_new(
    tx: &mut WriteTx<'_>,
    mut prepared: PreparedUser,
) -> Result<Created, OpError> {
    let app = tx.app();
    while !tx.insert_user(&prepared.record).await? {
        if prepared.extension_given {
            return Err(extension_taken(&prepared.record.extension));
        }
        let extension = next_free_extension(app, tx.reads()).await?;
        if let Some(pin) = &prepared.pin {
            app.config.hotdesk.pin_policy().check(pin, &extension)?;
        }
        if prepared.record.sip_user.as_str() == prepared.record.extension.as_str() {
            prepared.record.sip_user = SipUser::parse(extension.as_str())?;
        }
        prepared.record.extension = extension;
    }
    let record = prepared.record;
    tx.changed(
        &record.extension,
        created_detail(&record, prepared.pin.is_some()),
    );
    Ok(Created {
        record,
        generated_pin: prepared.generated_pin,
    })
}

pub(super) fn extension_taken(extension: &Extension) -> OpError {
    OpError::conflict(format!(
        "extension: a user with extension {extension} already exists"
    ))
}

/// A change checked completely, with its PIN hashed; applied by [`PreparedChange::apply_to`].
pub struct PreparedChange {
    change: UserChange,
    sip_password: Option<Secret>,
    pin_hash: Option<Secret>,
    pub generated_pin: Option<Pin>,
}

impl PreparedChange {
    pub fn apply_to(&self, u: &mut UserRecord) {
        let c = &self.change;
        if let Some(name) = &c.display_name {
            u.display_name = name.clone();
        }
        if let Some(name) = &c.first_name {
            u.first_name.clone_from(name);
        }
        if let Some(name) = &c.last_name {
            u.last_name.clone_from(name);
        }
        if let Some(language) = &c.language {
            u.language.clone_from(language);
        }
        if let Some(user) = &c.sip_user {
            u.sip_user = user.clone();
        }
        if let Some(password) = &self.sip_password {
            u.sip_password = password.clone();
        }
        if let Some(email) = &c.email {
            u.email.clone_from(email);
        }
        if let Some(hash) = &self.pin_hash {
            u.pin_hash = Some(hash.clone());
        }
        if let Some(required) = c.pin_change_required {
            u.pin_change_required = required;
        }
        if let Some(may) = c.may_hotdesk {
            u.may_hotdesk = may;
        }
        if let Some(locked) = c.locked {
            u.locked = locked;
        }
        if let Some(hidden) = c.phonebook_hidden {
            u.phonebook_hidden = hidden;
        }
    }

    /// Whether the answer carries the (new) SIP password.
    pub fn sets_sip_password(&self) -> bool {
        self.sip_password.is_some()
    }

    fn detail(&self) -> String {
        let c = &self.change;
        let set = |given: bool| given.then(|| crate::settings::SET.to_string());
        let shown = super::devices::shown;
        let flag = |b: Option<bool>| b.map(|b| b.to_string());
        super::audit::describe(
            "changed",
            &[
                (
                    "display_name",
                    c.display_name.as_ref().map(|n| n.to_string()),
                ),
                ("first_name", shown(&c.first_name)),
                ("last_name", shown(&c.last_name)),
                ("language", super::devices::shown(&c.language)),
                ("sip_user", c.sip_user.as_ref().map(|u| u.to_string())),
                ("sip_password", set(self.sip_password.is_some())),
                ("email", super::devices::shown(&c.email)),
                ("pin", set(self.pin_hash.is_some())),
                ("pin_change_required", flag(c.pin_change_required)),
                ("may_hotdesk", flag(c.may_hotdesk)),
                ("locked", flag(c.locked)),
                ("phonebook_hidden", flag(c.phonebook_hidden)),
            ],
        )
    }
}

/// Validates a change of `extension` and hashes a new PIN; writes nothing.
pub async fn prepare_change(
    app: &App,
    extension: &Extension,
    change: UserChange,
) -> Result<PreparedChange, OpError> {
    let sip_password = match (&change.sip_password, change.regenerate_sip_password) {
        (Some(_), true) => {
            return Err(OpError::invalid(
                "give sip_password or regenerate_sip_password, not both",
            ));
        }
        (Some(given), false) => Some(given.clone()),
        (None, true) => Some(SipPassword::generate()),
        (None, false) => None,
    };
    let pin = chosen_pin(app, extension, &change.pin)?;
    Ok(PreparedChange {
        sip_password,
        pin_hash: match &pin {
            Some((pin, _)) => Some(hash(app, pin).await?),
            None => None,
        },
        generated_pin: pin.as_ref().filter(|(_, g)| *g).map(|(p, _)| p.clone()),
        change,
    })
}

/// A user who may no longer be logged in (locked, or barred from hot-desking) leaves the phone
/// they are at, in the change `store` writes; that phone is returned.
pub async fn leave_if_barred(
    store: &Writer<'_>,
    user: &UserRecord,
) -> Result<Option<DeviceRecord>, StoreError> {
    Ok(match user.hotdesk_at {
        Some(at) if user.locked || !user.may_hotdesk => {
            sessions::end_sessions_of(store, &user.extension, at).await?
        }
        _ => None,
    })
}

fn left_because(tx: &mut WriteTx<'_>, user: &Extension, left: Option<DeviceRecord>, reason: &str) {
    if let Some(device) = left {
        tx.record(
            crate::audit::Kind::HotdeskLogout,
            device.mac,
            format!("{user}: {reason}"),
        );
        tx.reload(device);
    }
}

/// A user changed, with the PIN generated for them (shown once) and whether the answer may
/// show the SIP password that was set.
pub struct Changed {
    pub record: UserRecord,
    pub generated_pin: Option<Pin>,
    pub sip_password_set: bool,
}

pub async fn change(
    app: &App,
    by: &Actor,
    extension: &Extension,
    change: UserChange,
) -> Result<Changed, OpError> {
    let prepared = prepare_change(app, extension, change).await?;
    let mut tx = WriteTx::begin(app, by).await;
    let (stored, ()) = tx
        .update_user(extension, |u| prepared.apply_to(u))
        .await?
        .ok_or_else(|| OpError::not_found(format!("no user with extension {extension}")))?;
    let left = leave_if_barred(&tx, &stored).await?;
    left_because(&mut tx, extension, left, "locked by an admin");
    tx.changed(extension, prepared.detail());
    tx.commit().await?;
    Ok(Changed {
        record: stored,
        sip_password_set: prepared.sets_sip_password(),
        generated_pin: prepared.generated_pin,
    })
}

/// Sets `locked` in the change `tx` makes; unlocking also clears the failed-PIN lockout, and
/// locking ends a hot-desk login.
async fn set_locked(
    tx: &mut WriteTx<'_>,
    extension: &Extension,
    locked: bool,
) -> Result<UserRecord, OpError> {
    let (stored, ()) = tx
        .update_user(extension, |u| u.locked = locked)
        .await?
        .ok_or_else(|| OpError::not_found(format!("no user with extension {extension}")))?;
    if locked {
        tx.changed(extension, "locked");
        let left = leave_if_barred(tx, &stored).await?;
        left_because(tx, extension, left, "locked by an admin");
    } else {
        let before = guard::unlock(tx, extension.as_str()).await?;
        tx.changed(
            extension,
            format!(
                "unlocked (failures={}, lockouts={})",
                before.failures, before.lockouts
            ),
        );
    }
    Ok(stored)
}

/// Locks a user: their phones lose the account at the next fetch, logins are refused, and a
/// hot-desk login ends now. Unlocking also clears a lockout after wrong PINs.
pub async fn set_lock(
    app: &App,
    by: &Actor,
    extension: &Extension,
    locked: bool,
) -> Result<UserRecord, OpError> {
    let mut tx = WriteTx::begin(app, by).await;
    let stored = set_locked(&mut tx, extension, locked).await?;
    tx.commit().await?;
    Ok(stored)
}

/// What a bulk action does to each user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkAction {
    Lock,
    Unlock,
    Delete,
}

impl BulkAction {
    pub fn parse(text: &str) -> Result<BulkAction, OpError> {
        match text {
            "lock" => Ok(BulkAction::Lock),
            "unlock" => Ok(BulkAction::Unlock),
            "delete" => Ok(BulkAction::Delete),
            _ => Err(OpError::invalid("action: must be lock, unlock or delete")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            BulkAction::Lock => "lock",
            BulkAction::Unlock => "unlock",
            BulkAction::Delete => "delete",
        }
    }
}

/// Most users one bulk action takes.
pub const MAX_BULK: usize = 10_000;

/// Lock, unlock or delete many users at once: all of them, or none when one is unknown.
pub async fn bulk(
    app: &App,
    by: &Actor,
    action: BulkAction,
    extensions: &BTreeSet<Extension>,
) -> Result<(), OpError> {
    let mut tx = WriteTx::begin(app, by).await;
    check_bulk(&tx, extensions).await?;
    for extension in extensions {
        match action {
            BulkAction::Lock => {
                set_locked(&mut tx, extension, true).await?;
            }
            BulkAction::Unlock => {
                set_locked(&mut tx, extension, false).await?;
            }
            BulkAction::Delete => {
                remove(&mut tx, extension).await?;
            }
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Logs the user out of the hot-desk phone they are at; the user afterwards.
pub async fn logout(app: &App, by: &Actor, extension: &Extension) -> Result<UserRecord, OpError> {
    existing(app.store.reads(), extension).await?;
    match sessions::log_out_user(app, by, extension, "logged out by an admin").await? {
        Some(device) => crate::notify::reload(app, &device),
        None => {
            return Err(OpError::conflict(format!(
                "{extension} is not logged in at any hot-desk phone"
            )));
        }
    }
    existing(app.store.reads(), extension).await
}

/// Deletes the user, frees every line they had and logs them out, so no config carries their
/// account. The devices whose lines were freed.
pub async fn delete(app: &App, by: &Actor, extension: &Extension) -> Result<Vec<Mac>, OpError> {
    let mut tx = WriteTx::begin(app, by).await;
    let freed = remove(&mut tx, extension).await?;
    tx.commit().await?;
    Ok(freed)
}

/// Removes the user in the change `tx` makes: frees their lines, ends their login.
async fn remove(tx: &mut WriteTx<'_>, extension: &Extension) -> Result<Vec<Mac>, OpError> {
    let user = existing(tx.reads(), extension).await?;
    if let Some(at) = user.hotdesk_at {
        let left = sessions::end_sessions_of(tx, extension, at).await?;
        left_because(tx, extension, left, "deleted by an admin");
    }
    let mut freed = Vec::new();
    for device in tx.devices().await? {
        if device.lines.values().any(|e| e == extension) {
            tx.update_device(device.mac, |d| d.lines.retain(|_, e| e != extension))
                .await?;
            freed.push(device.mac);
        }
    }
    tx.remove_user(extension).await?;
    guard::unlock(tx, extension.as_str()).await?;
    tx.changed(
        extension,
        format!("deleted; lines freed on {} devices", freed.len()),
    );
    Ok(freed)
}

/// Refuses a bulk action unless it names 1 to [`MAX_BULK`] users who all exist.
async fn check_bulk(tx: &WriteTx<'_>, extensions: &BTreeSet<Extension>) -> Result<(), OpError> {
    if extensions.is_empty() || extensions.len() > MAX_BULK {
        return Err(OpError::invalid(format!(
            "extensions: give 1 to {MAX_BULK} extensions"
        )));
    }
    let mut unknown = Vec::new();
    for extension in extensions {
        if tx.user(extension).await?.is_none() {
            unknown.push(extension.to_string());
        }
    }
    if !unknown.is_empty() {
        return Err(OpError::not_found(format!(
            "no user with extension {}; nothing was changed",
            unknown.join(", ")
        )));
    }
    Ok(())
}

/// A new random PIN for each user, all of them or none; the PINs, to show once, by extension.
pub async fn reset_pins(
    app: &App,
    by: &Actor,
    extensions: &BTreeSet<Extension>,
) -> Result<Vec<(Extension, Pin)>, OpError> {
    if extensions.len() > MAX_BULK {
        return Err(OpError::invalid(format!(
            "extensions: give 1 to {MAX_BULK} extensions"
        )));
    }
    let mut prepared = Vec::with_capacity(extensions.len());
    for extension in extensions {
        let change = UserChange {
            pin: PinChoice::Generate,
            ..UserChange::default()
        };
        prepared.push((extension, prepare_change(app, extension, change).await?));
    }
    let mut tx = WriteTx::begin(app, by).await;
    check_bulk(&tx, extensions).await?;
    let mut pins = Vec::with_capacity(prepared.len());
    for (extension, change) in prepared {
        tx.update_user(extension, |u| change.apply_to(u)).await?;
        tx.changed(extension, change.detail());
        let pin = change.generated_pin.expect("a generated PIN");
        pins.push((extension.clone(), pin));
    }
    tx.commit().await?;
    Ok(pins)
}

/// Logs every user out of the hot-desk phone they are at: all of them, or none when one is
/// unknown or not logged in.
pub async fn log_out_many(
    app: &App,
    by: &Actor,
    extensions: &BTreeSet<Extension>,
) -> Result<(), OpError> {
    let mut tx = WriteTx::begin(app, by).await;
    check_bulk(&tx, extensions).await?;
    let mut at = Vec::with_capacity(extensions.len());
    let mut absent = Vec::new();
    for extension in extensions {
        let user = existing(tx.reads(), extension).await?;
        match user.hotdesk_at {
            Some(pointer) if is_session_of(&tx, extension, pointer).await? => {
                at.push((extension, pointer));
            }
            _ => absent.push(extension.to_string()),
        }
    }
    if !absent.is_empty() {
        return Err(OpError::conflict(format!(
            "{} not logged in at any hot-desk phone; nothing was changed",
            absent.join(", ")
        )));
    }
    for (extension, pointer) in at {
        let left = sessions::end_sessions_of(&tx, extension, pointer).await?;
        left_because(&mut tx, extension, left, "logged out by an admin");
    }
    tx.commit().await?;
    Ok(())
}

async fn is_session_of(
    tx: &WriteTx<'_>,
    extension: &Extension,
    at: crate::model::SessionRef,
) -> Result<bool, StoreError> {
    Ok(tx
        .device(at.mac)
        .await?
        .and_then(|d| d.sessions.get(&at.slot).cloned())
        .is_some_and(|s| &s.extension == extension))
}
