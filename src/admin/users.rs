//! /api/v1/users.

use http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::ApiResult;
use crate::app::App;
use crate::clock::rfc3339;
use crate::domain::{DisplayName, Extension, SipPassword, SipUser};
use crate::error::ApiError;
use crate::respond;
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
}

#[derive(Serialize)]
struct UserView<'a> {
    extension: &'a Extension,
    display_name: &'a DisplayName,
    sip_user: &'a SipUser,
    created_at: String,
    /// Only in the answer that set it: create, or a PATCH that changed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    sip_password: Option<&'a str>,
}

fn view(user: &UserRecord, with_password: bool) -> UserView<'_> {
    UserView {
        extension: &user.extension,
        display_name: &user.display_name,
        sip_user: &user.sip_user,
        created_at: rfc3339(user.created_at),
        sip_password: with_password.then(|| user.sip_password.expose()),
    }
}

fn parse_extension(raw: &str) -> Result<Extension, ApiError> {
    Ok(Extension::parse(raw)?)
}

fn existing(app: &App, extension: &Extension) -> Result<UserRecord, ApiError> {
    app.store
        .user(extension)?
        .ok_or_else(|| ApiError::NotFound(format!("no user with extension {extension}")))
}

pub fn list(app: &App) -> ApiResult {
    let users = app.store.users()?;
    let views: Vec<_> = users.iter().map(|u| view(u, false)).collect();
    Ok(respond::json(StatusCode::OK, &views))
}

pub fn show(app: &App, extension: &str) -> ApiResult {
    let user = existing(app, &parse_extension(extension)?)?;
    Ok(respond::json(StatusCode::OK, &view(&user, false)))
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
    let record = UserRecord {
        display_name: DisplayName::parse(&new.display_name)?,
        sip_user: SipUser::parse(new.sip_user.as_deref().unwrap_or(extension.as_str()))?,
        sip_password: match &new.sip_password {
            Some(given) => SipPassword::parse(given)?,
            None => SipPassword::generate(),
        },
        created_at: app.clock.now(),
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
    Ok(respond::json(StatusCode::CREATED, &view(&record, true)))
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
    let password_changed = sip_password.is_some();
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
        })?
        .ok_or_else(|| ApiError::NotFound(format!("no user with extension {extension}")))?;
    app.store.flush().await?;
    tracing::info!(target: "deskprov::audit", %extension, "user changed");
    Ok(respond::json(
        StatusCode::OK,
        &view(&stored, password_changed),
    ))
}

/// Deletes the user and frees every line they had, so no config carries their account.
pub async fn delete(app: &App, extension: &str) -> ApiResult {
    let extension = parse_extension(extension)?;
    let _guard = app.admin_writes.lock().await;
    existing(app, &extension)?;
    let mut freed = Vec::new();
    for device in app.store.devices()? {
        if device.lines.values().any(|e| *e == extension) {
            app.store
                .update_device(device.mac, |d| d.lines.retain(|_, e| *e != extension))?;
            freed.push(device.mac);
        }
    }
    app.store.remove_user(&extension)?;
    app.store.flush().await?;
    tracing::info!(target: "deskprov::audit", %extension, devices = freed.len(), "user deleted");
    Ok(respond::json(
        StatusCode::OK,
        &json!({ "deleted": extension, "freed_lines_on": freed }),
    ))
}
