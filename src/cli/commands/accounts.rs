//! `deskprov accounts ...`: console accounts, their generated passwords shown once; and the
//! offline password reset, the way back in for an owner who lost the password.

use http::Method as M;
use serde_json::{Map, Value, json};

use super::{Answer, Request};
use crate::cli::Failure;
use crate::cli::api::{Api, encode};
use crate::cli::args::AccountCommand;
use crate::cli::output::{self, Shape};
use crate::config::Config;
use crate::domain::Username;

pub async fn run(api: &Api, command: AccountCommand) -> Answer {
    let shows_password = matches!(
        command,
        AccountCommand::Create { .. } | AccountCommand::ResetPassword { .. }
    );
    let answer = request(command).send(api).await?;
    if shows_password {
        eprintln!("The password is shown this once; it must be changed at the first login.");
    }
    Ok(answer)
}

fn path(name: &str) -> String {
    format!("/api/v1/accounts/{}", encode(name))
}

fn request(command: AccountCommand) -> Request {
    match command {
        AccountCommand::List => Request::get("/api/v1/accounts", Shape::Accounts),
        AccountCommand::Create {
            name,
            role,
            reads_secrets,
        } => Request::new(M::POST, "/api/v1/accounts", Shape::Object).with(json!({
            "username": name,
            "role": role,
            "reads_secrets": reads_secrets,
        })),
        AccountCommand::Set {
            name,
            role,
            reads_secrets,
            disabled,
        } => {
            let mut body = Map::new();
            if let Some(role) = role {
                body.insert("role".into(), Value::String(role));
            }
            if let Some(reads) = reads_secrets {
                body.insert("reads_secrets".into(), Value::Bool(reads));
            }
            if let Some(disabled) = disabled {
                body.insert("disabled".into(), Value::Bool(disabled));
            }
            Request::new(M::PATCH, path(&name), Shape::Object).with(Value::Object(body))
        }
        AccountCommand::ResetPassword { name, .. } => Request::new(
            M::POST,
            format!("{}/reset-password", path(&name)),
            Shape::Object,
        ),
        AccountCommand::Delete { name } => Request::new(M::DELETE, path(&name), Shape::Object),
    }
}

/// `accounts reset-password NAME --local`: straight in the data directory of a stopped server.
pub async fn reset_password_locally(
    config: &Config,
    name: &str,
    json_output: bool,
) -> Result<(), Failure> {
    let username = Username::parse(name).map_err(|e| Failure::Message(e.to_string()))?;
    let db = config.db_dir();
    if config.database.url.is_none() && !db.exists() {
        return Err(Failure::Message(format!(
            "{} holds no store: is --data the server's data directory?",
            db.display()
        )));
    }
    let store = crate::startup::open_store(config).await.map_err(|e| {
        Failure::Message(format!(
            "opening {}: {e} (is the server running? stop it, or reset the password through the API with an owner token)",
            db.display()
        ))
    })?;
    let now = crate::clock::Clock::System.now();
    let made = crate::ops::account_admin::reset_password_offline(&store, &username, now)
        .await
        .map_err(|e| Failure::Message(e.to_string()))?;
    if !json_output {
        eprintln!("The password is shown this once; it must be changed at the next login.");
    }
    let answer = json!({
        "username": made.record.username.as_str(),
        "role": made.record.role.as_str(),
        "password": made.password.expose(),
    });
    output::answer(json_output, Shape::Object, &answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_sends_only_what_is_given() {
        let set = request(AccountCommand::Set {
            name: "anna".into(),
            role: None,
            reads_secrets: None,
            disabled: Some(true),
        });
        assert_eq!(set.method, M::PATCH);
        assert_eq!(set.path, "/api/v1/accounts/anna");
        assert_eq!(set.body, Some(json!({ "disabled": true })));
    }
}
