//! `deskprov profiles ...`: named sets of settings that devices inherit from.

use http::Method as M;
use serde_json::{Map, Value};

use super::{Answer, Request, put, put_clearable, settings_patch};
use crate::cli::api::{Api, encode};
use crate::cli::args::ProfileCommand;
use crate::cli::output::Shape;

pub async fn run(api: &Api, command: ProfileCommand) -> Answer {
    request(command)?.send(api).await
}

fn profile(name: &str) -> String {
    format!("/api/v1/profiles/{}", encode(name))
}

fn request(command: ProfileCommand) -> Result<Request, String> {
    use Shape::Object;
    Ok(match command {
        ProfileCommand::List => Request::get("/api/v1/profiles", Shape::Profiles),
        ProfileCommand::Show { name } => Request::get(profile(&name), Object),
        ProfileCommand::Add {
            name,
            description,
            pairs,
        } => {
            let mut body = Map::new();
            body.insert("name".into(), Value::String(name));
            put(&mut body, "description", description);
            add_settings(&mut body, &pairs)?;
            Request::new(M::POST, "/api/v1/profiles", Object).with(Value::Object(body))
        }
        ProfileCommand::Edit {
            name,
            description,
            pairs,
        } => {
            let mut body = Map::new();
            put_clearable(&mut body, "description", description);
            add_settings(&mut body, &pairs)?;
            if body.is_empty() {
                return Err("give --description or KEY=VALUE settings".into());
            }
            Request::new(M::PATCH, profile(&name), Object).with(Value::Object(body))
        }
        ProfileCommand::Remove { name } => Request::new(M::DELETE, profile(&name), Object),
    })
}

/// The KEY=VALUE pairs, if any, as the profile's `settings`.
fn add_settings(body: &mut Map<String, Value>, pairs: &[String]) -> Result<(), String> {
    if !pairs.is_empty() {
        body.insert("settings".into(), settings_patch(pairs)?);
    }
    Ok(())
}
