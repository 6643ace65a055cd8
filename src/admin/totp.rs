//! The owner's hold on console accounts' TOTP second factor: require it, and reset one whose
//! authenticator was lost. The answer says only whether an account has the factor, never its
//! secret.

use http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ApiResult;
use crate::app::App;
use crate::domain::Username;
use crate::error::ApiError;
use crate::model::AccountRecord;
use crate::ops::{Actor, totp};
use crate::respond;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpRequirement {
    /// Whether the account must log in with a TOTP code; without one set up, its holder can
    /// then only set one up.
    pub required: bool,
}

/// An account's second factor, as the owner sees it.
#[derive(Serialize, ToSchema)]
pub struct AccountTotpView {
    username: String,
    /// Whether a TOTP second factor is set up (confirmed).
    totp_enrolled: bool,
    totp_required: bool,
}

fn view(account: &AccountRecord) -> AccountTotpView {
    AccountTotpView {
        username: account.username.to_string(),
        totp_enrolled: account.totp_secret.is_some(),
        totp_required: account.totp_required,
    }
}

fn username(raw: &str) -> Result<Username, ApiError> {
    Username::parse(raw).map_err(|_| ApiError::NotFound(format!("no account named {raw:?}")))
}

pub async fn require(app: &App, by: &Actor, raw: &str, body: TotpRequirement) -> ApiResult {
    let account = totp::set_required(app, by, &username(raw)?, body.required).await?;
    Ok(respond::json(StatusCode::OK, &view(&account)))
}

pub async fn reset(app: &App, by: &Actor, raw: &str) -> ApiResult {
    let account = totp::reset(app, by, &username(raw)?).await?;
    Ok(respond::json(StatusCode::OK, &view(&account)))
}
