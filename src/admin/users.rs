//! /api/v1/users.

use http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use std::collections::BTreeSet;

use super::{ApiResult, paging};
use crate::app::App;
use crate::clock::rfc3339;
use crate::domain::{
    DisplayName, Email, Extension, InvalidInput, Mac, PersonName, Pin, SipPassword, SipUser,
};
use crate::error::ApiError;
use crate::model::UserRecord;
use crate::ops::users::{self, PinChoice, UserChange};
use crate::ops::{Actor, guard, user_list};
use crate::respond;
use crate::settings::double_option;

/// A user to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// The lowest free extension of `users.extension_ranges` when not given.
    #[schema(value_type = Option<Extension>)]
    extension: Option<String>,
    /// Defaults to first and last name.
    #[schema(value_type = Option<DisplayName>)]
    display_name: Option<String>,
    #[schema(value_type = Option<PersonName>)]
    first_name: Option<String>,
    #[schema(value_type = Option<PersonName>)]
    last_name: Option<String>,
    /// ISO 639-1 code: the phone's language while the user is on its first line.
    language: Option<String>,
    /// Defaults to the extension.
    #[schema(value_type = Option<SipUser>)]
    sip_user: Option<String>,
    /// Generated (20 random letters and digits) when not given.
    #[schema(value_type = Option<SipPassword>)]
    sip_password: Option<String>,
    #[schema(value_type = Option<Email>)]
    email: Option<String>,
    /// The hot-desk PIN (write-only): checked against the PIN policy.
    #[schema(value_type = Option<Pin>)]
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
    /// Left out of the company phonebook.
    #[serde(default)]
    phonebook_hidden: bool,
}

/// What to change; `null` clears a field.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    #[schema(value_type = Option<DisplayName>)]
    display_name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<PersonName>)]
    first_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<PersonName>)]
    last_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    language: Option<Option<String>>,
    #[schema(value_type = Option<SipUser>)]
    sip_user: Option<String>,
    #[schema(value_type = Option<SipPassword>)]
    sip_password: Option<String>,
    /// Replace the SIP password by a new random one (returned in the response).
    #[serde(default)]
    regenerate_sip_password: bool,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Email>)]
    email: Option<Option<String>>,
    #[schema(value_type = Option<Pin>)]
    pin: Option<String>,
    #[serde(default)]
    generate_pin: bool,
    pin_change_required: Option<bool>,
    may_hotdesk: Option<bool>,
    locked: Option<bool>,
    phonebook_hidden: Option<bool>,
}

/// Where the user is logged in.
#[derive(Serialize, ToSchema)]
pub struct LoginView {
    mac: Mac,
    line: u16,
    since: String,
}

/// Failed PIN logins since the last success, and a lockout in force.
#[derive(Serialize, ToSchema)]
pub struct LockoutView {
    failures: u32,
    locked_until: Option<String>,
    lockouts: u32,
}

/// A user.
#[derive(Serialize, ToSchema)]
pub struct UserView<'a> {
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
    /// Left out of the company phonebook.
    phonebook_hidden: bool,
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
    /// The user has a password for the self-service portal.
    has_portal_password: bool,
    /// The user must choose a new portal password at the next portal login.
    password_change_required: bool,
    /// A generated portal password, only in the answer that generated it.
    #[serde(skip_serializing_if = "Option::is_none")]
    portal_password: Option<&'a str>,
}

/// What the view shows beyond the record, and the secrets this answer may carry.
#[derive(Default)]
struct Extras<'a> {
    with_sip_password: bool,
    generated_pin: Option<&'a Pin>,
    generated_password: Option<&'a crate::domain::Secret>,
}

async fn view<'a>(
    app: &App,
    user: &'a UserRecord,
    extras: Extras<'a>,
) -> Result<UserView<'a>, ApiError> {
    let now = app.clock.now();
    let guard = guard::extension_state(app, user.extension.as_str()).await?;
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
        phonebook_hidden: user.phonebook_hidden,
        logged_in_at: logged_in_at(app, user).await?,
        login_failures: LockoutView {
            failures: guard.failures,
            locked_until: (guard.locked_until > now).then(|| rfc3339(guard.locked_until)),
            lockouts: guard.lockouts,
        },
        created_at: rfc3339(user.created_at),
        sip_password: extras.with_sip_password.then(|| user.sip_password.expose()),
        pin: extras.generated_pin.map(Pin::expose),
        has_portal_password: user.portal_password_hash.is_some(),
        password_change_required: user.password_change_required,
        portal_password: extras.generated_password.map(|p| p.expose()),
    })
}

/// The user's pointer, confirmed by the device's live session.
async fn logged_in_at(app: &App, user: &UserRecord) -> Result<Option<LoginView>, ApiError> {
    Ok(user_list::login_of(app, user)
        .await?
        .map(|login| LoginView {
            mac: login.mac,
            line: login.slot,
            since: rfc3339(login.since),
        }))
}

async fn existing(app: &App, extension: &Extension) -> Result<UserRecord, ApiError> {
    Ok(users::existing(app.store.reads(), extension).await?)
}

/// Users in pages by extension.
pub async fn list(app: &App, query: &str) -> ApiResult {
    let (page, _) = paging::parse(query, &[])?;
    let after = page
        .after
        .as_deref()
        .map(|raw| Extension::parse_field("after", raw))
        .transpose()?;
    let every = user_list::UserFilter::default();
    let (users, more) = user_list::page(app, &every, after.as_ref(), page.limit).await?;
    let mut views = Vec::with_capacity(users.len());
    for user in &users {
        views.push(view(app, user, Extras::default()).await?);
    }
    Ok(paging::answer(
        views,
        paging::next_of(&users, more, |u| u.extension.to_string()),
    ))
}

pub async fn show(app: &App, extension: &Extension) -> ApiResult {
    let user = existing(app, extension).await?;
    Ok(respond::json(
        StatusCode::OK,
        &view(app, &user, Extras::default()).await?,
    ))
}

pub async fn sip_password(app: &App, extension: &Extension) -> ApiResult {
    let user = existing(app, extension).await?;
    Ok(respond::json(
        StatusCode::OK,
        &super::schemas::SipPasswordView {
            sip_password: user.sip_password.expose().to_string(),
        },
    ))
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

fn pin_choice(given: Option<&str>, generate: bool) -> Result<PinChoice, ApiError> {
    match (given, generate) {
        (Some(_), true) => Err(ApiError::BadRequest(
            "give pin or generate_pin, not both".into(),
        )),
        (Some(raw), false) => Ok(PinChoice::Set(Pin::parse(raw)?)),
        (None, true) => Ok(PinChoice::Generate),
        (None, false) => Ok(PinChoice::Keep),
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

impl NewUser {
    /// The body as the operation's typed input.
    pub(crate) fn typed(&self) -> Result<users::NewUser, ApiError> {
        Ok(users::NewUser {
            extension: self
                .extension
                .as_deref()
                .map(Extension::parse)
                .transpose()?,
            display_name: self
                .display_name
                .as_deref()
                .map(DisplayName::parse)
                .transpose()?,
            first_name: parse_name("first_name", self.first_name.as_deref())?,
            last_name: parse_name("last_name", self.last_name.as_deref())?,
            language: self.language.as_deref().map(parse_language).transpose()?,
            sip_user: self.sip_user.as_deref().map(SipUser::parse).transpose()?,
            sip_password: self
                .sip_password
                .as_deref()
                .map(SipPassword::parse)
                .transpose()?,
            email: self.email.as_deref().map(Email::parse).transpose()?,
            pin: pin_choice(self.pin.as_deref(), self.generate_pin)?,
            pin_change_required: self.pin_change_required,
            may_hotdesk: self.may_hotdesk,
            locked: self.locked,
            phonebook_hidden: self.phonebook_hidden,
        })
    }
}

impl UserPatch {
    pub(crate) fn typed(&self) -> Result<UserChange, ApiError> {
        Ok(UserChange {
            display_name: self
                .display_name
                .as_deref()
                .map(DisplayName::parse)
                .transpose()?,
            first_name: clearable(&self.first_name, |n| {
                PersonName::parse_field("first_name", n)
            })?,
            last_name: clearable(&self.last_name, |n| PersonName::parse_field("last_name", n))?,
            language: clearable(&self.language, parse_language)?,
            sip_user: self.sip_user.as_deref().map(SipUser::parse).transpose()?,
            sip_password: self
                .sip_password
                .as_deref()
                .map(SipPassword::parse)
                .transpose()?,
            regenerate_sip_password: self.regenerate_sip_password,
            email: clearable(&self.email, Email::parse)?,
            pin: pin_choice(self.pin.as_deref(), self.generate_pin)?,
            pin_change_required: self.pin_change_required,
            may_hotdesk: self.may_hotdesk,
            locked: self.locked,
            phonebook_hidden: self.phonebook_hidden,
        })
    }
}

pub async fn next_extension(app: &App) -> ApiResult {
    let extension = users::next_free_extension(app, app.store.reads()).await?;
    Ok(respond::json(
        StatusCode::OK,
        &super::schemas::NextExtension { extension },
    ))
}

pub async fn create(app: &App, by: &Actor, new: NewUser) -> ApiResult {
    let created = users::create(app, by, &new.typed()?).await?;
    let extras = Extras {
        with_sip_password: true,
        generated_pin: created.generated_pin.as_ref(),
        generated_password: None,
    };
    Ok(respond::json(
        StatusCode::CREATED,
        &view(app, &created.record, extras).await?,
    ))
}

pub async fn patch(app: &App, by: &Actor, extension: &Extension, patch: UserPatch) -> ApiResult {
    let changed = users::change(app, by, extension, patch.typed()?).await?;
    let extras = Extras {
        with_sip_password: changed.sip_password_set,
        generated_pin: changed.generated_pin.as_ref(),
        generated_password: None,
    };
    Ok(respond::json(
        StatusCode::OK,
        &view(app, &changed.record, extras).await?,
    ))
}

/// A new random PIN for the user, shown once in the answer (the helpdesk's reset).
pub async fn reset_pin(app: &App, by: &Actor, extension: &Extension) -> ApiResult {
    let change = UserChange {
        pin: PinChoice::Generate,
        ..UserChange::default()
    };
    let changed = users::change(app, by, extension, change).await?;
    let extras = Extras {
        with_sip_password: false,
        generated_pin: changed.generated_pin.as_ref(),
        generated_password: None,
    };
    Ok(respond::json(
        StatusCode::OK,
        &view(app, &changed.record, extras).await?,
    ))
}

/// How an admin sets a user's portal password.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PortalPassword {
    /// 12 to 128 characters, not containing the extension or the user's first or last name.
    #[schema(min_length = 12, max_length = 128)]
    password: Option<String>,
    /// A random password instead, in the answer's `portal_password` this once.
    #[serde(default)]
    generate: bool,
    /// The user must choose their own at the next portal login.
    require_change: Option<bool>,
}

/// Sets or generates a user's portal password and/or requires a change at the next login.
pub async fn set_portal_password(
    app: &App,
    by: &Actor,
    extension: &Extension,
    body: PortalPassword,
) -> ApiResult {
    use crate::ops::portal_password::{self as portal, PasswordChoice};
    let choice = match (body.password, body.generate) {
        (Some(_), true) => {
            return Err(ApiError::BadRequest(
                "give password or generate, not both".into(),
            ));
        }
        (Some(given), false) => PasswordChoice::Set(crate::domain::Secret::from_trusted(given)),
        (None, true) => PasswordChoice::Generate,
        (None, false) => PasswordChoice::Keep,
    };
    let set = portal::set(app, by, extension, choice, body.require_change).await?;
    let extras = Extras {
        generated_password: set.generated.as_ref(),
        ..Extras::default()
    };
    Ok(respond::json(
        StatusCode::OK,
        &view(app, &set.record, extras).await?,
    ))
}

/// Locks a user: their phones lose the account at the next fetch, logins are refused, and a
/// hot-desk login ends now. Unlocking also clears a lockout after wrong PINs.
pub async fn set_lock(app: &App, by: &Actor, extension: &Extension, locked: bool) -> ApiResult {
    let stored = users::set_lock(app, by, extension, locked).await?;
    Ok(respond::json(
        StatusCode::OK,
        &view(app, &stored, Extras::default()).await?,
    ))
}

/// One action for many users.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkAction {
    /// lock, unlock or delete.
    #[schema(pattern = "^(lock|unlock|delete)$")]
    action: String,
    #[schema(value_type = Vec<Extension>, min_items = 1, max_items = 10000)]
    extensions: Vec<String>,
}

/// Lock, unlock or delete many users at once: all of them, or none when one is unknown.
pub async fn bulk(app: &App, by: &Actor, body: BulkAction) -> ApiResult {
    if body.extensions.is_empty() || body.extensions.len() > users::MAX_BULK {
        return Err(ApiError::BadRequest(format!(
            "extensions: give 1 to {} extensions",
            users::MAX_BULK
        )));
    }
    let extensions = body
        .extensions
        .iter()
        .map(|e| Extension::parse(e))
        .collect::<Result<BTreeSet<_>, _>>()?;
    let action = users::BulkAction::parse(&body.action)?;
    users::bulk(app, by, action, &extensions).await?;
    Ok(respond::json(
        StatusCode::OK,
        &super::schemas::BulkResult {
            action: action.as_str().to_string(),
            extensions: extensions.into_iter().collect(),
        },
    ))
}

/// Logs the user out of the hot-desk phone they are at.
pub async fn logout(app: &App, by: &Actor, extension: &Extension) -> ApiResult {
    let user = users::logout(app, by, extension).await?;
    Ok(respond::json(
        StatusCode::OK,
        &view(app, &user, Extras::default()).await?,
    ))
}

/// Deletes the user, frees every line they had and logs them out.
pub async fn delete(app: &App, by: &Actor, extension: &Extension) -> ApiResult {
    let freed = users::delete(app, by, extension).await?;
    Ok(respond::json(
        StatusCode::OK,
        &super::schemas::DeletedUser {
            deleted: extension.clone(),
            freed_lines_on: freed,
        },
    ))
}
