//! Console accounts through the API (owner only): list, create, change, reset the password,
//! delete. A generated password is in the answer that made it, and nowhere else.

use http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::App;
use crate::clock::rfc3339;
use crate::domain::{Role, Username};
use crate::model::AccountRecord;
use crate::ops::Actor;
use crate::ops::account_admin::{self, AccountChange, NewAccount as Wanted, WithPassword};
use crate::respond;

use super::ApiResult;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    /// 1 to 64 lower-case letters, digits, '.', '_', '-' or '@'.
    username: String,
    #[schema(value_type = super::schemas::RoleName)]
    role: String,
    /// An admin account may read secrets (credentials, SIP passwords) only with this.
    #[serde(default)]
    reads_secrets: bool,
}

/// What to change; a field not given stays as it is.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountPatch {
    #[schema(value_type = Option<super::schemas::RoleName>)]
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    reads_secrets: Option<bool>,
    /// A disabled account is refused at login; disabling ends its sessions.
    #[serde(default)]
    disabled: Option<bool>,
}

/// A console account; never its password or hash.
#[derive(Serialize, ToSchema)]
pub struct AccountView {
    username: String,
    #[schema(value_type = super::schemas::RoleName)]
    role: &'static str,
    /// Whether it may read secrets (always for owners).
    reads_secrets: bool,
    disabled: bool,
    /// Its password was set by someone else and must be changed at the next login.
    password_change_required: bool,
    created_at: String,
    password_changed_at: String,
}

/// An account with the password just generated for it.
#[derive(Serialize, ToSchema)]
pub struct AccountWithPassword {
    #[serde(flatten)]
    view: AccountView,
    /// Shown this once; only its hash is stored. It must be changed at the first login.
    password: String,
}

#[derive(Serialize, ToSchema)]
pub struct DeletedAccount {
    deleted: String,
}

pub fn view(record: &AccountRecord) -> AccountView {
    AccountView {
        username: record.username.to_string(),
        role: record.role.as_str(),
        reads_secrets: record.may_read_secrets(),
        disabled: record.disabled,
        password_change_required: record.password_change_required,
        created_at: rfc3339(record.created_at),
        password_changed_at: rfc3339(record.password_changed_at),
    }
}

fn with_password(status: StatusCode, made: &WithPassword) -> ApiResult {
    Ok(respond::json(
        status,
        &AccountWithPassword {
            view: view(&made.record),
            password: made.password.expose().to_string(),
        },
    ))
}

/// Accounts in pages by name.
pub async fn list(app: &App, query: &str) -> ApiResult {
    let (page, _) = super::paging::parse(query, &[])?;
    let (accounts, next) = super::paging::of_list(
        account_admin::list(app).await?,
        |a| a.username.to_string(),
        &page,
    );
    Ok(super::paging::answer(
        accounts.iter().map(view).collect(),
        next,
    ))
}

pub async fn show(app: &App, username: &Username) -> ApiResult {
    let record = account_admin::show(app, username).await?;
    Ok(respond::json(StatusCode::OK, &view(&record)))
}

pub async fn create(app: &App, by: &Actor, new: NewAccount) -> ApiResult {
    let wanted = Wanted {
        username: Username::parse(&new.username)?,
        role: Role::parse(&new.role)?,
        reads_secrets: new.reads_secrets,
    };
    let made = account_admin::create(app, by, wanted).await?;
    with_password(StatusCode::CREATED, &made)
}

pub async fn patch(app: &App, by: &Actor, username: &Username, patch: AccountPatch) -> ApiResult {
    let change = AccountChange {
        role: patch.role.as_deref().map(Role::parse).transpose()?,
        reads_secrets: patch.reads_secrets,
        disabled: patch.disabled,
    };
    let record = account_admin::change(app, by, username, change).await?;
    Ok(respond::json(StatusCode::OK, &view(&record)))
}

/// A new generated password, in the answer only; the account's sessions end.
pub async fn reset_password(app: &App, by: &Actor, username: &Username) -> ApiResult {
    let made = account_admin::reset_password(app, by, username).await?;
    with_password(StatusCode::OK, &made)
}

pub async fn delete(app: &App, by: &Actor, username: &Username) -> ApiResult {
    account_admin::delete(app, by, username).await?;
    Ok(respond::json(
        StatusCode::OK,
        &DeletedAccount {
            deleted: username.to_string(),
        },
    ))
}
