//! The admin commands: each group's module turns its arguments into API requests and says
//! how the answer is shown; `execute` dispatches and prints.

pub mod accounts;
pub mod backup;
mod contacts;
pub mod database;
mod devices;
mod firmware;
mod io;
mod keys;
mod mail;
mod profiles;
mod security;
mod settings;
pub mod templates;
pub mod tokens;
mod totp;
mod users;

use http::Method;
use serde_json::{Map, Value};

use super::Failure;
use super::api::Api;
use super::args::{Command, ContactCommand, KeyCommand, TemplateCommand};
use super::output::{self, Shape};
use crate::client::Reply;

/// What most commands answer: the API's reply and how to show it.
type Answer = Result<(Reply, Shape), String>;

/// The one API request of most commands, and how its answer is shown.
struct Request {
    method: Method,
    path: String,
    body: Option<Value>,
    shape: Shape,
}

impl Request {
    fn new(method: Method, path: impl Into<String>, shape: Shape) -> Request {
        Request {
            method,
            path: path.into(),
            body: None,
            shape,
        }
    }

    fn get(path: impl Into<String>, shape: Shape) -> Request {
        Request::new(Method::GET, path, shape)
    }

    fn with(mut self, body: Value) -> Request {
        self.body = Some(body);
        self
    }

    async fn send(self, api: &Api) -> Answer {
        let reply = api.call(self.method, &self.path, self.body).await?;
        Ok((reply, self.shape))
    }
}

pub async fn execute(api: &Api, json_output: bool, command: Command) -> Result<(), Failure> {
    let (reply, shape) = match command {
        Command::Serve { .. } => unreachable!("serve is handled before"),
        Command::Man { .. } => unreachable!("the man page is written without a server"),
        Command::Templates(TemplateCommand::Check) => unreachable!("checked without a server"),
        Command::Restore { .. } => unreachable!("restored without a server"),
        Command::Migrate | Command::MigrateStore { .. } => {
            unreachable!("the database is migrated without a server")
        }
        Command::Backup {
            file,
            passphrase_file,
        } => return backup::take(api, &file, passphrase_file.as_deref()).await,
        Command::Devices(command) => devices::run(api, command).await?,
        Command::Users(command) => users::run(api, command).await?,
        Command::Settings(command) => settings::run(api, command).await?,
        Command::Contacts(ContactCommand::Export { file }) => {
            return io::export(api, "contacts", false, file.as_deref()).await;
        }
        Command::Contacts(ContactCommand::Import { file, dry_run }) => {
            return io::import(api, json_output, "contacts", &file, dry_run).await;
        }
        Command::Keys(KeyCommand::Export { file }) => {
            return io::export(api, "keys", false, file.as_deref()).await;
        }
        Command::Keys(KeyCommand::Import { file, dry_run }) => {
            return io::import(api, json_output, "keys", &file, dry_run).await;
        }
        Command::Keys(command) => keys::run(api, command).await?,
        Command::Contacts(command) => contacts::run(api, command).await?,
        Command::Models { command } => settings::models(api, command).await?,
        Command::Profiles(command) => profiles::run(api, command).await?,
        Command::Templates(command) => templates::run(api, command).await?,
        Command::Mail(command) => mail::run(api, command).await?,
        Command::Tokens(command) => tokens::run(api, command).await?,
        Command::Totp(command) => totp::run(api, command).await?,
        Command::Accounts(command) => accounts::run(api, command).await?,
        Command::Firmware(command) => firmware::run(api, command).await?,
        Command::Bans(command) => security::bans(api, command).await?,
        Command::Audit(filter) => security::audit(api, filter).await?,
        Command::Imports { id } => io::imports(api, id).await?,
        Command::Export {
            subject,
            secrets,
            output,
        } => return io::export(api, &subject, secrets, output.as_deref()).await,
        Command::Import {
            subject,
            file,
            dry_run,
        } => return io::import(api, json_output, &subject, &file, dry_run).await,
        Command::Openapi => return io::openapi(api).await,
        Command::Status => return status(api, json_output).await,
        Command::Render { mac, file, host } => return io::render(api, &mac, file, host).await,
    };
    output::answer(json_output, shape, &reply.json())
}

/// `deskprov status`: the warnings first, then the certificates as a table.
async fn status(api: &Api, json_output: bool) -> Result<(), Failure> {
    let status = api.call(Method::GET, "/api/v1/status", None).await?.json();
    if json_output {
        return output::answer(true, Shape::Object, &status);
    }
    output::to_stdout(|out| {
        writeln!(out, "version  {}", status["version"].as_str().unwrap_or(""))?;
        for warning in status["warnings"].as_array().into_iter().flatten() {
            writeln!(out, "warning  {}", warning.as_str().unwrap_or(""))?;
        }
        writeln!(out)?;
        output::table_of(out, Shape::Certificates, &status["certificates"])
    })
}

/// Puts `value` under `key` unless it is `None`; an empty string becomes `null` (clear).
fn put_clearable(body: &mut Map<String, Value>, key: &str, value: Option<String>) {
    if let Some(v) = value {
        let value = if v.is_empty() {
            Value::Null
        } else {
            Value::String(v)
        };
        body.insert(key.into(), value);
    }
}

fn put(body: &mut Map<String, Value>, key: &str, value: Option<String>) {
    if let Some(v) = value {
        body.insert(key.into(), Value::String(v));
    }
}

/// Puts `true` under `key` when `on`.
fn put_flag(body: &mut Map<String, Value>, key: &str, on: bool) {
    if on {
        body.insert(key.into(), Value::Bool(true));
    }
}

fn put_bool(body: &mut Map<String, Value>, key: &str, value: Option<bool>) {
    if let Some(value) = value {
        body.insert(key.into(), Value::Bool(value));
    }
}

/// KEY=VALUE pairs as a settings patch: `KEY=` clears, numbers where the API wants them.
fn settings_patch(pairs: &[String]) -> Result<Value, String> {
    let mut body = Map::new();
    for pair in pairs {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| format!("{pair:?}: expected KEY=VALUE"))?;
        body.insert(key.to_string(), setting_value(key, value)?);
    }
    if body.is_empty() {
        return Err("give at least one KEY=VALUE".into());
    }
    Ok(Value::Object(body))
}

fn setting_value(key: &str, value: &str) -> Result<Value, String> {
    Ok(match (key, value) {
        (_, "") => Value::Null,
        ("sip_port", v) => Value::from(
            v.parse::<u16>()
                .map_err(|_| format!("sip_port: {v:?} is not a port number"))?,
        ),
        (key @ ("hotdesk_max_login_minutes" | "resync_minutes"), v) => Value::from(
            v.parse::<u32>()
                .map_err(|_| format!("{key}: {v:?} is not a number of minutes"))?,
        ),
        // A certificate is long and spans lines: `ca_certificate=@ca.pem` reads it from a file.
        ("ca_certificate", v) if v.starts_with('@') => Value::String(
            std::fs::read_to_string(&v[1..])
                .map_err(|e| format!("ca_certificate: {}: {e}", &v[1..]))?,
        ),
        (_, v) => Value::String(v.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn settings_pairs_become_a_patch() {
        let pairs = ["sip_port=5061", "ntp_server=", "language=de"].map(String::from);
        assert_eq!(
            settings_patch(&pairs).unwrap(),
            json!({"sip_port": 5061, "ntp_server": null, "language": "de"})
        );
        assert!(settings_patch(&["sip_port=x".into()]).is_err());
        assert!(settings_patch(&["language".into()]).is_err());
        assert!(settings_patch(&[]).is_err());
    }
}
