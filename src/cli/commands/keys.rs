//! `deskprov keys show|set|clear LAYER [NAME]`: one layer of programmable keys.

use http::Method as M;
use serde_json::Value;

use super::{Answer, Request};
use crate::cli::api::{Api, encode};
use crate::cli::args::{KeyCommand, KeyLayerName};
use crate::cli::output::Shape;

pub async fn run(api: &Api, command: KeyCommand) -> Answer {
    let request = match command {
        KeyCommand::Show { of } => Request::get(path(&of)?, Shape::Keys),
        KeyCommand::Set { of, file } => {
            Request::new(M::PUT, path(&of)?, Shape::Keys).with(read_keys(&file)?)
        }
        KeyCommand::Clear { of } => {
            Request::new(M::PUT, path(&of)?, Shape::Keys).with(Value::Array(Vec::new()))
        }
        KeyCommand::Export { .. } | KeyCommand::Import { .. } => {
            unreachable!("CSV is moved by commands::io")
        }
    };
    request.send(api).await
}

fn path(of: &KeyLayerName) -> Result<String, String> {
    let named = |prefix: &str| match &of.name {
        Some(name) => Ok(format!("/api/v1/{prefix}/{}/keys", encode(name))),
        None => Err(format!("keys {}: name the {}", of.layer, of.layer)),
    };
    match of.layer.as_str() {
        "site" if of.name.is_some() => Err("keys site: the site's layer has no name".into()),
        "site" => Ok("/api/v1/settings/keys".into()),
        "profile" => named("profiles"),
        "model" => named("models"),
        "device" => named("devices"),
        _ => named("users"),
    }
}

/// The JSON list in `file`, or on standard input for "-".
fn read_keys(file: &std::path::Path) -> Result<Value, String> {
    let text = if file.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin())
            .map_err(|e| format!("reading standard input: {e}"))?
    } else {
        std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?
    };
    serde_json::from_str(&text).map_err(|e| format!("{}: not JSON: {e}", file.display()))
}
