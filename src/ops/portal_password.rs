//! Users' self-service portal passwords: the policy (that of console passwords: 12 to 128
//! characters, not the user's extension or name) and the admin's set, generate and
//! require-a-change. A password is hashed on the portal's own hashing thread and stored only
//! as its argon2id hash; a generated one is answered once and never logged or audited.

use super::{Actor, OpError, WriteTx};
use crate::app::App;
use crate::domain::{Password, PasswordProblem, Secret, Username};
use crate::model::UserRecord;

/// What the admin does with a user's portal password.
#[derive(Debug, Clone, Default)]
pub enum PasswordChoice {
    /// Only the require-a-change flag changes.
    #[default]
    Keep,
    Set(Secret),
    /// A random password, answered once.
    Generate,
}

/// What an admin's password change did: the user as stored, and the generated password.
pub struct PasswordSet {
    pub record: UserRecord,
    pub generated: Option<Secret>,
}

/// Whether `value` is good enough as `user`'s portal password.
pub fn check(value: &str, user: &UserRecord) -> Result<Password, PasswordProblem> {
    let extension = Username::parse(user.extension.as_str()).map_err(|_| PasswordProblem::Length);
    let password = Password::parse(value, &extension?)?;
    let lower = value.to_lowercase();
    let names = [
        user.first_name.as_ref().map(|n| n.as_str().to_lowercase()),
        user.last_name.as_ref().map(|n| n.as_str().to_lowercase()),
    ];
    if names
        .iter()
        .flatten()
        .any(|name| name.chars().count() >= 3 && lower.contains(name.as_str()))
    {
        return Err(PasswordProblem::ContainsName);
    }
    Ok(password)
}

/// The hash of a password for the portal, on the portal's own hashing thread.
pub(in crate::ops) async fn hash(app: &App, password: &Password) -> Result<Secret, OpError> {
    app.portal_hashes
        .hash_secret(password.secret().clone())
        .await
        .map_err(|e| OpError::Internal(e.to_string()))
}

/// The admin sets or generates a user's portal password and/or requires a change at the next
/// portal login. A new password invalidates any one-time link and ends the user's portal
/// sessions.
pub async fn set(
    app: &App,
    by: &Actor,
    extension: &crate::domain::Extension,
    choice: PasswordChoice,
    require_change: Option<bool>,
) -> Result<PasswordSet, OpError> {
    let user = super::users::existing(app.store.reads(), extension).await?;
    let (password, generated) = match choice {
        PasswordChoice::Keep => (None, None),
        PasswordChoice::Set(given) => {
            let password = check(given.expose(), &user)
                .map_err(|p| OpError::Invalid(crate::domain::InvalidInput::from(p).to_string()))?;
            (Some(password), None)
        }
        PasswordChoice::Generate => {
            let password = Password::generate();
            let shown = password.secret().clone();
            (Some(password), Some(shown))
        }
    };
    if password.is_none() && require_change.is_none() {
        return Err(OpError::invalid(
            "give a password, generate one, or say whether a change is required",
        ));
    }
    let hash = match &password {
        Some(p) => Some(hash(app, p).await?),
        None => None,
    };
    let mut tx = WriteTx::begin(app, by).await;
    let (record, ()) = tx
        .update_user(extension, |u| {
            if let Some(hash) = &hash {
                u.portal_password_hash = Some(hash.clone());
                u.portal_link_sha256 = None;
            }
            if let Some(required) = require_change {
                u.password_change_required = required;
            }
        })
        .await?
        .ok_or_else(|| OpError::not_found(format!("no user with extension {extension}")))?;
    let mut ended = 0;
    if hash.is_some() {
        ended = super::portal::end_sessions_of(&tx, extension, None).await?;
    }
    let what = match (&hash, generated.is_some()) {
        (Some(_), true) => "portal password generated",
        (Some(_), false) => "portal password set",
        (None, _) => "portal password kept",
    };
    let required =
        require_change.map_or(String::new(), |r| format!(", password_change_required={r}"));
    tx.changed(
        extension,
        format!("{what}{required}; {ended} portal sessions ended"),
    );
    tx.commit().await?;
    Ok(PasswordSet { record, generated })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> UserRecord {
        serde_json::from_value(serde_json::json!({
            "extension": "4711",
            "display_name": "Anna Schmidt",
            "first_name": "Anna",
            "last_name": "Schmidt",
            "sip_user": "4711",
            "sip_password": "secret-secret-1234",
            "created_at": 0,
        }))
        .unwrap()
    }

    #[test]
    fn the_policy_refuses_short_passwords_and_the_users_names() {
        let anna = user();
        assert!(check("correct horse battery", &anna).is_ok());
        for (bad, problem) in [
            ("short-one", PasswordProblem::Length),
            ("my-4711-password", PasswordProblem::ContainsName),
            ("i-am-SCHMIDT-really", PasswordProblem::ContainsName),
            ("anna-loves-coffee", PasswordProblem::ContainsName),
        ] {
            assert_eq!(check(bad, &anna).err(), Some(problem), "{bad}");
        }
    }
}
